/**
 * Pooling a recurrent layer's output over time, over each item's VALID steps only (a padded batch
 * with `lengths`): 'last' (the state after the last valid step; for a bidirectional output the
 * forward half at step length−1 and the reverse half at step 0, i.e. each direction's final
 * state), 'mean' (the average over the valid steps) or 'max' (the elementwise maximum over them).
 * Padding never leaks in: a zero output at a padded step is not averaged, nor taken as a maximum.
 * One autograd node; an item of length 0 pools to zeros (and gets no gradient).
 * @module
 */
import { Tensor, fromOp } from '../tensor/index.js';
import { choice, isNullish, optionalBool, optionalObject } from '../validate.js';
import { readLengths, type Lengths } from './packed.js';
import { expectTensor } from '../tensor/tensor.js';

/** How {@link poolSequence} summarizes the steps. */
export type PoolingMode = 'last' | 'mean' | 'max';

/** Options of {@link poolSequence}. */
export interface PoolingOptions {
  /** The output is `[B, T, F]` (true) or time-major `[T, B, F]` (default false, as nn.LSTM's default). */
  batchFirst?: boolean;
  /** The output concatenates [forward, reverse] halves (a bidirectional layer): 'last' takes the reverse half at step 0. Default false. */
  bidirectional?: boolean;
}

// Where item b's step t, feature f lives in the data.
function indexer(T: number, B: number, F: number, batchFirst: boolean): (b: number, t: number) => number {
  return batchFirst ? (b, t) => (b * T + t) * F : (b, t) => (t * B + b) * F;
}

/**
 * Pools `output` (`[T, B, F]`, or `[B, T, F]` with batchFirst) over each item's valid steps → `[B, F]`.
 * @param lengths valid steps per item (each in [0, T]); null = all T.
 * @throws TypeError / RangeError for a non-3-D output, bad lengths or mode, or an odd F with bidirectional.
 */
export function poolSequence(output: Tensor, lengths: Lengths | null, mode: PoolingMode, options: PoolingOptions = {}): Tensor {
  expectTensor(output, 'output');
  if (output.ndim !== 3) throw new RangeError(`Expected a 3-D output ([T, B, F] or [B, T, F]) for output but received ${output.ndim}-D`);
  const pool = choice(mode, 'mode', ['last', 'mean', 'max'] as const);
  const o = optionalObject(options, 'options');
  const batchFirst = optionalBool(o.batchFirst, 'batchFirst', false);
  const bidirectional = optionalBool(o.bidirectional, 'bidirectional', false);
  const [T, B] = batchFirst ? [output.shape[1], output.shape[0]] : [output.shape[0], output.shape[1]];
  const F = output.shape[2];
  if (bidirectional && F % 2 !== 0) throw new RangeError(`Expected an even feature size (two directions) for output but received ${F}`);
  const lens = isNullish(lengths) ? new Int32Array(B).fill(T) : readLengths(lengths);
  if (lens.length !== B) throw new RangeError(`Expected ${B} lengths (batch = ${B}) for lengths but received ${lens.length}`);
  lens.forEach((n, b) => {
    if (n < 0 || n > T) throw new RangeError(`Expected integer between 0 and ${T} for lengths[${b}] but received ${n} of type number`);
  });
  const at = indexer(T, B, F, batchFirst);
  const x = output.data;
  const out = new Float32Array(B * F);
  // For 'last' and 'max': the flat index each pooled value came from (−1: none).
  const source = pool === 'mean' ? null : new Int32Array(B * F).fill(-1);
  const half = bidirectional ? F / 2 : F;
  for (let b = 0; b < B; b++) {
    const n = lens[b];
    if (n === 0) continue;
    const row = out.subarray(b * F, (b + 1) * F);
    if (pool === 'last') {
      for (let f = 0; f < F; f++) source![b * F + f] = at(b, f < half ? n - 1 : 0) + f;
      for (let f = 0; f < F; f++) row[f] = x[source![b * F + f]];
    } else if (pool === 'mean') {
      for (let t = 0; t < n; t++) for (let f = 0, base = at(b, t); f < F; f++) row[f] += x[base + f];
      for (let f = 0; f < F; f++) row[f] /= n;
    } else {
      for (let f = 0, base = at(b, 0); f < F; f++) { row[f] = x[base + f]; source![b * F + f] = base + f; }
      for (let t = 1; t < n; t++) {
        for (let f = 0, base = at(b, t); f < F; f++) {
          if (x[base + f] > row[f] || Number.isNaN(x[base + f])) { row[f] = x[base + f]; source![b * F + f] = base + f; }
        }
      }
    }
  }
  return fromOp(`pool_${pool}`, out, [B, F], [output], (g) => {
    const dx = new Float32Array(x.length);
    for (let b = 0; b < B; b++) {
      const n = lens[b];
      if (n === 0) continue;
      if (source) {
        for (let f = 0; f < F; f++) dx[source[b * F + f]] += g[b * F + f];
      } else {
        for (let t = 0; t < n; t++) for (let f = 0, base = at(b, t); f < F; f++) dx[base + f] += g[b * F + f] / n;
      }
    }
    return [dx];
  });
}
