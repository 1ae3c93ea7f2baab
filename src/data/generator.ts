/**
 * A small seeded generator for data order (shuffles, splits, bucket order). Loaders own one per
 * epoch instead of drawing every index from the global RNG: an epoch's order is then a pure
 * function of one 32-bit seed, so a run can resume in the middle of an epoch from that number.
 * Unseeded loaders take that seed from the global RNG (src/tensor/random.ts), so `manualSeed`
 * still makes everything reproducible.
 * @module
 */
import { randomUniform } from '../tensor/random.js';

// splitmix32 finalizer: spreads nearby seeds (epoch 0, 1, 2 …) over unrelated states.
function mix32(x: number): number {
  let z = (x + 0x9e3779b9) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** Folds a user seed (any finite number) and a stream number (e.g. the epoch) into 32 bits. */
export function deriveSeed(seed: number, stream = 0): number {
  const low = Math.trunc(seed) >>> 0;
  const high = Math.trunc(seed / 2 ** 32) >>> 0;
  return mix32(mix32(low ^ mix32(high)) ^ mix32(stream + 0x632be5ab));
}

/** A 32-bit seed drawn from the global RNG. */
export function globalSeed(): number {
  return Math.floor(randomUniform() * 2 ** 32) >>> 0;
}

/** sfc32: 128 bits of state, passes PractRand far beyond what a shuffle needs. */
export class SeededGenerator {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed32: number) {
    this.a = mix32(seed32);
    this.b = mix32(this.a ^ 0x1b873593);
    this.c = mix32(this.b ^ 0xcc9e2d51);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** The next 32 random bits, as an unsigned integer. */
  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform integer in [0, n) (n ≤ 2³², multiply-shift; bias < n / 2³², irrelevant for orders). */
  int(n: number): number {
    return Math.floor((this.nextUint32() / 2 ** 32) * n);
  }

  /** Fisher–Yates shuffle of `values` in place; returns it. */
  shuffle<T>(values: T[]): T[] {
    for (let i = values.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = values[i];
      values[i] = values[j];
      values[j] = tmp;
    }
    return values;
  }

  /** A random permutation of 0 … n−1. */
  permutation(n: number): number[] {
    return this.shuffle(Array.from({ length: n }, (_, i) => i));
  }
}
