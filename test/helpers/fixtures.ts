// Loads the PyTorch golden fixtures written by test/fixtures/make_fixtures.py (see its header for
// the JSON layout and how to regenerate them).
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

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
      `  ${row.padEnd(28)} ${worst.toExponential(2)}  at ${where}`);
    console.log(`${this.title}\n${lines.join('\n')}`);
  }
}
