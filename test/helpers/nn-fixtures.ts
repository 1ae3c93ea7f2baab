// Loading the nn goldens of test/fixtures/nn/make_nn.py (see its header for the layout) and
// comparing tensors with the mixed error |got − want| / max(1, |want|).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Tensor } from '../../src/tensor/tensor.js';

export interface Entry {
  shape: number[];
  data: number[];
}

export interface FixtureCase {
  name: string;
  tensors: Record<string, Entry>;
  [key: string]: unknown;
}

export function loadNnFixture<T = { cases: FixtureCase[] }>(file: string): T {
  return JSON.parse(readFileSync(fileURLToPath(new URL(`../fixtures/nn/${file}`, import.meta.url)), 'utf8')) as T;
}

export function toTensor(entry: Entry, requiresGrad = false): Tensor {
  return new Tensor(Float32Array.from(entry.data), entry.shape, requiresGrad);
}

/** The `state.*` tensors of a case as a state dict. */
export function stateDictOf(c: FixtureCase): Record<string, Tensor> {
  const dict: Record<string, Tensor> = {};
  for (const [key, entry] of Object.entries(c.tensors)) {
    if (key.startsWith('state.')) dict[key.slice('state.'.length)] = toTensor(entry);
  }
  return dict;
}

/** Worst mixed error; throws on a shape mismatch (a shape bug is not a tolerance question). */
export function mixedError(got: Tensor | null | undefined, want: Entry, what: string): number {
  if (!got) throw new Error(`${what}: missing (expected shape [${want.shape.join(', ')}])`);
  if (got.shape.length !== want.shape.length || got.shape.some((d, i) => d !== want.shape[i])) {
    throw new Error(`${what}: shape [${got.shape.join(', ')}], expected [${want.shape.join(', ')}]`);
  }
  let worst = 0;
  for (let i = 0; i < want.data.length; i++) {
    const expected = Math.fround(want.data[i]); // the float32 torch wrote
    const error = Math.abs(got.data[i] - expected) / Math.max(1, Math.abs(expected));
    if (!(error <= worst)) worst = Number.isNaN(error) ? Infinity : error;
  }
  return worst;
}

/** Records the worst error per group for a closing printout. */
export class WorstErrors {
  private readonly rows = new Map<string, { error: number; where: string }>();

  constructor(private readonly title: string) {}

  add(group: string, error: number, where: string): void {
    const row = this.rows.get(group);
    if (!row || error > row.error) this.rows.set(group, { error, where });
  }

  print(): void {
    const lines = [...this.rows].map(([group, { error, where }]) => `  ${group.padEnd(28)} ${error.toExponential(2)}  (${where})`);
    console.log(`${this.title}\n${lines.join('\n')}`);
  }
}
