// Test cases for the sequence layers: the PyTorch golden fixtures written by
// test/fixtures/make_fixtures.py (see its header for the JSON layout and how to regenerate them),
// random cases, and runners that put a case through the float64 reference or the package.
// Only a *type* comes from the package here, so tests of the reference alone never load the addon.
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type * as Rnnkit from '../../src/index.js';
import {
  gateCount, referenceBackward, referenceForward, type RefCell, type RefOptions, type RefWeights,
} from './reference.js';

export const FIXTURE_DIR = fileURLToPath(new URL('../fixtures/', import.meta.url));

interface TensorEntry {
  shape: number[];
  data: number[];
}

interface FixtureJson {
  name: string;
  cell: 'rnn' | 'lstm' | 'gru';
  nonlinearity: 'tanh' | 'relu';
  steps: number;
  batch: number;
  inputSize: number;
  hiddenSize: number;
  projSize: number;
  bias: boolean;
  reverse: boolean;
  lengths: number[] | null;
  tensors: Record<string, TensorEntry>;
}

export class Fixture {
  readonly name: string;
  readonly cell: 'rnn' | 'lstm' | 'gru';
  readonly nonlinearity: 'tanh' | 'relu';
  readonly steps: number;
  readonly batch: number;
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly projSize: number;
  readonly bias: boolean;
  readonly reverse: boolean;
  readonly lengths: number[] | null;
  private readonly tensors: Record<string, TensorEntry>;

  constructor(json: FixtureJson) {
    this.name = json.name;
    this.cell = json.cell;
    this.nonlinearity = json.nonlinearity;
    this.steps = json.steps;
    this.batch = json.batch;
    this.inputSize = json.inputSize;
    this.hiddenSize = json.hiddenSize;
    this.projSize = json.projSize;
    this.bias = json.bias;
    this.reverse = json.reverse;
    this.lengths = json.lengths;
    this.tensors = json.tensors;
  }

  /** Width of h and of the output: projSize when set, else hiddenSize. */
  get stateSize(): number {
    return this.projSize > 0 ? this.projSize : this.hiddenSize;
  }

  has(name: string): boolean {
    return name in this.tensors;
  }

  shape(name: string): number[] {
    return this.entry(name).shape;
  }

  /** A float32 tensor, bit-exact (the file stores shortest round-trip decimals). */
  f32(name: string): Float32Array {
    return Float32Array.from(this.entry(name).data);
  }

  /** A float32 tensor or null when the fixture does not have it (e.g. biases of bias=False). */
  f32OrNull(name: string): Float32Array | null {
    return this.has(name) ? this.f32(name) : null;
  }

  /**
   * A tensor as float64: the `*_f64` results as stored; any float32 tensor (inputs, weights) as its
   * exact float32 values widened — not the shorter decimal in the file, which is a different double.
   */
  f64(name: string): Float64Array {
    return name.endsWith('_f64') ? Float64Array.from(this.entry(name).data) : Float64Array.from(this.f32(name));
  }

  f64OrNull(name: string): Float64Array | null {
    return this.has(name) ? this.f64(name) : null;
  }

  private entry(name: string): TensorEntry {
    const entry = this.tensors[name];
    if (!entry) throw new Error(`fixture ${this.name} has no tensor ${name}`);
    return entry;
  }
}

export function fixtureNames(): string[] {
  return readdirSync(FIXTURE_DIR)
    .filter((file) => file.endsWith('.json'))
    .map((file) => file.slice(0, -'.json'.length))
    .sort();
}

export function loadFixture(name: string): Fixture {
  const text = readFileSync(path.join(FIXTURE_DIR, `${name}.json`), 'utf8');
  return new Fixture(JSON.parse(text) as FixtureJson);
}

export function loadAllFixtures(): Fixture[] {
  return fixtureNames().map(loadFixture);
}

// ---- comparison -------------------------------------------------------------------------------

export interface Mismatch {
  /** max over k of |actual[k] − expected[k]| / max(1, |expected[k]|): the mixed abs/rel error. */
  worst: number;
  index: number;
  actual: number;
  expected: number;
}

/** Worst mixed error of `actual` against `expected` (NaN anywhere counts as infinitely wrong). */
export function worstError(actual: ArrayLike<number>, expected: ArrayLike<number>): Mismatch {
  if (actual.length !== expected.length) {
    throw new Error(`length ${actual.length} but expected ${expected.length}`);
  }
  const result: Mismatch = { worst: 0, index: -1, actual: 0, expected: 0 };
  for (let k = 0; k < actual.length; k++) {
    const error = Math.abs(actual[k] - expected[k]) / Math.max(1, Math.abs(expected[k]));
    if (!(error <= result.worst)) {
      Object.assign(result, { worst: Number.isNaN(error) ? Infinity : error, index: k,
        actual: actual[k], expected: expected[k] });
      if (Number.isNaN(error)) break;
    }
  }
  return result;
}

/** Describes a mismatch for an assertion message: "lstm_h0 dx[17]: 0.123 vs 0.124 (err 1e-3)". */
export function describeMismatch(label: string, m: Mismatch): string {
  return `${label}[${m.index}]: got ${m.actual}, want ${m.expected} (mixed error ${m.worst.toExponential(2)})`;
}

/**
 * Worst errors seen per row (e.g. per cell), printed by `print()` when RNNKIT_TEST_REPORT is set, so
 * the measured margins behind each tolerance can be read off a test run.
 */
export class WorstTable {
  private readonly rows = new Map<string, { worst: number; where: string }>();

  constructor(private readonly title: string) {}

  add(row: string, where: string, m: Mismatch): void {
    const current = this.rows.get(row);
    if (!current || m.worst > current.worst) this.rows.set(row, { worst: m.worst, where: `${where}[${m.index}]` });
  }

  print(): void {
    if (!process.env.RNNKIT_TEST_REPORT) return;
    const lines = [...this.rows].map(([row, { worst, where }]) =>
      `  ${row.padEnd(28)} ${worst === 0 ? 'bitwise equal' : `${worst.toExponential(2)}  at ${where}`}`);
    console.log(`${this.title}\n${lines.join('\n')}`);
  }
}

// ---- cases: one sequence problem, from a fixture or random, run by the reference or the package ----

/** Deterministic uniform numbers in [-scale, scale) (mulberry32), as float64. */
export function randomArray(length: number, seed: number, scale = 1): Float64Array {
  let state = seed >>> 0;
  const out = new Float64Array(length);
  for (let k = 0; k < length; k++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[k] = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

/** Everything one sequence forward + backward needs, in float32 (the package's precision). */
export interface SequenceCase {
  name: string;
  cell: RefCell;
  steps: number; // T
  batch: number; // B
  inputSize: number; // I
  hiddenSize: number; // H
  projSize: number; // P, 0 = none (LSTM only)
  reverse: boolean;
  lengths: number[] | null; // [B]
  weightIh: Float32Array; // [G·H, I]
  weightHh: Float32Array; // [G·H, S]
  biasIh: Float32Array | null; // [G·H]
  biasHh: Float32Array | null; // [G·H]
  weightHr: Float32Array | null; // [P, H]
  x: Float32Array; // [T, B, I]
  h0: Float32Array | null; // [B, S]
  c0: Float32Array | null; // [B, H]
  dOutput: Float32Array; // [T, B, S]
  dhN: Float32Array; // [B, S]
  dcN: Float32Array | null; // [B, H]
}

/** The fields compared between implementations, named as in the fixtures. */
export const RESULT_NAMES = ['output', 'hN', 'cN', 'dx', 'dh0', 'dc0', 'dweight_ih', 'dweight_hh', 'dbias_ih',
  'dbias_hh', 'dweight_hr'] as const;
export type ResultName = (typeof RESULT_NAMES)[number];
export type SequenceResults<A extends ArrayLike<number>> = Record<ResultName, A | null>;

export function refCellOf(fx: Fixture): RefCell {
  return fx.cell === 'rnn' ? (fx.nonlinearity === 'relu' ? 'rnn_relu' : 'rnn_tanh') : fx.cell;
}

export function caseFromFixture(fx: Fixture): SequenceCase {
  return {
    name: fx.name, cell: refCellOf(fx), steps: fx.steps, batch: fx.batch, inputSize: fx.inputSize,
    hiddenSize: fx.hiddenSize, projSize: fx.projSize, reverse: fx.reverse, lengths: fx.lengths,
    weightIh: fx.f32('weight_ih'), weightHh: fx.f32('weight_hh'), biasIh: fx.f32OrNull('bias_ih'),
    biasHh: fx.f32OrNull('bias_hh'), weightHr: fx.f32OrNull('weight_hr'),
    x: fx.f32('x'), h0: fx.f32OrNull('h0'), c0: fx.f32OrNull('c0'),
    dOutput: fx.f32('dOutput'), dhN: fx.f32('dhN'), dcN: fx.f32OrNull('dcN'),
  };
}

/** PyTorch's float32 goldens of a fixture, by result name (null where the cell has none). */
export function fixtureGoldens(fx: Fixture, suffix: '' | '_f64' = ''): SequenceResults<Float64Array> {
  const out = {} as SequenceResults<Float64Array>;
  for (const name of RESULT_NAMES) out[name] = fx.f64OrNull(name + suffix);
  return out;
}

export interface RandomCaseSpec {
  cell: RefCell;
  steps: number;
  batch: number;
  inputSize: number;
  hiddenSize: number;
  projSize?: number;
  reverse?: boolean;
  lengths?: number[] | null;
  bias?: boolean; // default true
  states?: boolean; // give h0 / c0 (default true)
}

/** A random case with PyTorch-like scales: weights U(±1/√H), x and upstream U(±1), states U(±0.8). */
export function randomCase(spec: RandomCaseSpec, seed: number): SequenceCase {
  const { cell, steps: T, batch: B, inputSize: I, hiddenSize: H } = spec;
  const P = cell === 'lstm' ? spec.projSize ?? 0 : 0;
  const S = P || H;
  const G = gateCount(cell);
  const isLstm = cell === 'lstm';
  const bias = spec.bias ?? true;
  const states = spec.states ?? true;
  const scale = 1 / Math.sqrt(H);
  const f32 = (length: number, k: number, s = 1) => Float32Array.from(randomArray(length, seed * 131 + k, s));
  const lengthsText = spec.lengths ? ` lengths=[${spec.lengths.join(',')}]` : '';
  return {
    name: `${cell} T=${T} B=${B} I=${I} H=${H}${P ? ` P=${P}` : ''}${spec.reverse ? ' reverse' : ''}` +
      `${bias ? '' : ' nobias'}${lengthsText}`,
    cell, steps: T, batch: B, inputSize: I, hiddenSize: H, projSize: P, reverse: spec.reverse ?? false,
    lengths: spec.lengths ?? null,
    weightIh: f32(G * H * I, 1, scale), weightHh: f32(G * H * S, 2, scale),
    biasIh: bias ? f32(G * H, 3, scale) : null, biasHh: bias ? f32(G * H, 4, scale) : null,
    weightHr: P ? f32(P * H, 5, scale) : null,
    x: f32(T * B * I, 6), h0: states ? f32(B * S, 7, 0.8) : null, c0: states && isLstm ? f32(B * H, 8, 1.5) : null,
    dOutput: f32(T * B * S, 9), dhN: f32(B * S, 10), dcN: isLstm ? f32(B * H, 11) : null,
  };
}

/** The float64 reference on a case (inputs widened exactly). */
export function runReference(c: SequenceCase): SequenceResults<Float64Array> {
  const opts: RefOptions = {
    cell: c.cell, steps: c.steps, batch: c.batch, inputSize: c.inputSize, hiddenSize: c.hiddenSize,
    projSize: c.projSize, reverse: c.reverse, lengths: c.lengths,
  };
  const w: RefWeights = { weightIh: c.weightIh, weightHh: c.weightHh, biasIh: c.biasIh, biasHh: c.biasHh,
    weightHr: c.weightHr };
  const fwd = referenceForward(opts, w, c.x, c.h0, c.c0);
  const bwd = referenceBackward(opts, w, c.x, fwd, { dOutput: c.dOutput, dhN: c.dhN, dcN: c.dcN });
  return {
    output: fwd.output, hN: fwd.hN, cN: fwd.cN, dx: bwd.dx, dh0: bwd.dh0, dc0: bwd.dc0,
    dweight_ih: bwd.grads.weightIh, dweight_hh: bwd.grads.weightHh, dbias_ih: bwd.grads.biasIh,
    dbias_hh: bwd.grads.biasHh, dweight_hr: bwd.grads.weightHr,
  };
}

/** The package's low-level API as far as these tests use it (see sequence-parity.test.ts). */
export type SequenceApi = typeof Rnnkit;

export interface PackageRunOptions {
  async?: boolean; // use the *Async twins
  /** Initial contents of the weight-gradient buffers (backward adds into them); default zeros. */
  gradsStart?: Partial<Record<'weightIh' | 'weightHh' | 'biasIh' | 'biasHh' | 'weightHr', Float32Array>>;
}

/** Training-mode forward, then backward, through the package; returns every result in float32. */
export async function runPackage(api: SequenceApi, c: SequenceCase,
                                 run: PackageRunOptions = {}): Promise<SequenceResults<Float32Array>> {
  const sizes = { steps: c.steps, batch: c.batch, inputSize: c.inputSize, hiddenSize: c.hiddenSize,
    reverse: c.reverse, lengths: c.lengths };
  const w = { weightIh: c.weightIh, weightHh: c.weightHh, biasIh: c.biasIh, biasHh: c.biasHh, weightHr: c.weightHr };
  const start = run.gradsStart ?? {};
  const buffer = (source: Float32Array | null, key: keyof NonNullable<PackageRunOptions['gradsStart']>) =>
    source ? Float32Array.from(start[key] ?? new Float32Array(source.length)) : null;
  const grads = {
    weightIh: buffer(c.weightIh, 'weightIh')!, weightHh: buffer(c.weightHh, 'weightHh')!,
    biasIh: buffer(c.biasIh, 'biasIh'), biasHh: buffer(c.biasHh, 'biasHh'), weightHr: buffer(c.weightHr, 'weightHr'),
  };
  const state = { h0: c.h0 ?? undefined, c0: c.c0 ?? undefined, training: true };
  const up = { dOutput: c.dOutput, dhN: c.dhN, dcN: c.dcN ?? undefined };
  let fwd: Rnnkit.ForwardResult;
  let bwd: Rnnkit.BackwardResult;
  if (c.cell === 'lstm') {
    const opts = { ...sizes, projSize: c.projSize };
    fwd = run.async ? await api.lstmForwardAsync(opts, w, c.x, state) : api.lstmForward(opts, w, c.x, state);
    const cache = nonNullCache(fwd);
    bwd = run.async ? await api.lstmBackwardAsync(opts, w, c.x, cache, grads, up)
      : api.lstmBackward(opts, w, c.x, cache, grads, up);
  } else if (c.cell === 'gru') {
    fwd = run.async ? await api.gruForwardAsync(sizes, w, c.x, state) : api.gruForward(sizes, w, c.x, state);
    const cache = nonNullCache(fwd);
    bwd = run.async ? await api.gruBackwardAsync(sizes, w, c.x, cache, grads, up)
      : api.gruBackward(sizes, w, c.x, cache, grads, up);
  } else {
    const opts = { ...sizes, nonlinearity: c.cell === 'rnn_relu' ? 'relu' as const : 'tanh' as const };
    fwd = run.async ? await api.rnnForwardAsync(opts, w, c.x, state) : api.rnnForward(opts, w, c.x, state);
    const cache = nonNullCache(fwd);
    bwd = run.async ? await api.rnnBackwardAsync(opts, w, c.x, cache, grads, up)
      : api.rnnBackward(opts, w, c.x, cache, grads, up);
  }
  const isLstm = c.cell === 'lstm';
  return {
    output: fwd.output, hN: fwd.hN, cN: isLstm ? fwd.cN ?? null : null, dx: bwd.dInput, dh0: bwd.dh0,
    dc0: isLstm ? bwd.dc0 ?? null : null, dweight_ih: grads.weightIh, dweight_hh: grads.weightHh,
    dbias_ih: grads.biasIh, dbias_hh: grads.biasHh, dweight_hr: grads.weightHr,
  };
}

function nonNullCache(fwd: Rnnkit.ForwardResult): Rnnkit.SequenceCache {
  if (!fwd.cache) throw new Error('training-mode forward returned no cache');
  return fwd.cache;
}

/** Compares every result present in `expected`; `actual` must have exactly the same fields. */
export function compareResults(actual: SequenceResults<ArrayLike<number>>,
                               expected: SequenceResults<ArrayLike<number>>): Map<ResultName, Mismatch> {
  const out = new Map<ResultName, Mismatch>();
  for (const name of RESULT_NAMES) {
    const want = expected[name];
    const got = actual[name];
    if (!want && !got) continue;
    if (!want || !got) throw new Error(`${name}: ${got ? 'unexpected' : 'missing'} result`);
    out.set(name, worstError(got, want));
  }
  return out;
}

/** Index of the first element that differs bitwise (Object.is), or -1. */
export function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let k = 0; k < a.length; k++) if (!Object.is(a[k], b[k])) return k;
  return -1;
}
