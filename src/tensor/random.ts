/**
 * The seeded global random generator every random thing in rnnkit draws from (weight init, dropout,
 * shuffling), so `manualSeed(n)` makes a whole run reproducible.
 * @module
 */

// xoshiro128** (32-bit state words): fast, small, good statistical quality.
let state = new Uint32Array(4);

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

function nextUint32(): number {
  const s = state;
  const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
  const t = (s[1] << 9) >>> 0;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 11);
  return result;
}

/** Seeds the global generator (any finite number; the same seed gives the same stream). */
export function manualSeed(seed: number): void {
  if (typeof seed !== 'number' || !Number.isFinite(seed)) {
    throw new TypeError(`Expected finite number for seed but received ${String(seed)} of type ${typeof seed}`);
  }
  // splitmix32 expands the seed into four non-zero state words.
  let x = (Math.trunc(seed) ^ Math.trunc(seed / 2 ** 32)) >>> 0;
  for (let i = 0; i < 4; i++) {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    state[i] = (z ^ (z >>> 16)) >>> 0;
  }
}

/** Uniform in [0, 1) with 32 random bits. */
export function randomUniform(): number {
  return nextUint32() / 4294967296;
}

/** Standard normal (Box–Muller). */
export function randomNormal(): number {
  let u = randomUniform();
  while (u === 0) u = randomUniform();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * randomUniform());
}

/** Uniform integer in [0, n). */
export function randomInt(n: number): number {
  return Math.floor(randomUniform() * n);
}

/** The generator's state, for checkpoints. */
export function getRngState(): number[] {
  return Array.from(state);
}

/** Restores a state from getRngState(). */
export function setRngState(saved: readonly number[]): void {
  if (!Array.isArray(saved) || saved.length !== 4 || !saved.every((v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32)) {
    throw new TypeError('Expected an array of 4 unsigned 32-bit integers for rng state');
  }
  state = Uint32Array.from(saved);
}

manualSeed(0);
