// ONNX Runtime (onnxruntime-node, a dev dependency) for the ONNX tests: run an exported model and
// compare its outputs with rnnkit's.
import { expect } from 'vitest';
import * as ort from 'onnxruntime-node';
import type { Tensor } from '../../src/index.js';

/** The tolerance of the issue: max |ort − rnnkit| ≤ 1e-5 × max(1, max |rnnkit|) (relative to the output's scale). */
export const RELATIVE_TOLERANCE = 1e-5;

/** What an ONNX Runtime input can be given as. */
export type Feed = Tensor | { int64: ArrayLike<number>; shape: number[] } | { int32: ArrayLike<number>; shape: number[] };

function ortTensor(feed: Feed): ort.Tensor {
  if ('int64' in feed) return new ort.Tensor('int64', BigInt64Array.from(Array.from(feed.int64), (v) => BigInt(v)), feed.shape);
  if ('int32' in feed) return new ort.Tensor('int32', Int32Array.from(feed.int32), feed.shape);
  return new ort.Tensor('float32', feed.data, [...feed.shape]);
}

/** A session on `bytes` (one intra-op thread: the tests share two cores). */
export async function session(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
}

/** Runs `model` on `feeds`: each output's data and dims. */
export async function run(model: ort.InferenceSession, feeds: Record<string, Feed>): Promise<Record<string, { data: Float32Array; dims: number[] }>> {
  const results = await model.run(Object.fromEntries(Object.entries(feeds).map(([name, feed]) => [name, ortTensor(feed)])));
  return Object.fromEntries(Object.entries(results).map(([name, t]) => [name, { data: t.data as Float32Array, dims: [...t.dims] }]));
}

/** The largest |a − b| over max(1, max |b|) — the error the tolerance bounds. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let error = 0, scale = 1;
  for (let i = 0; i < expected.length; i++) {
    const difference = Math.abs(actual[i] - expected[i]);
    error = Number.isNaN(difference) ? Infinity : Math.max(error, difference);
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return error / scale;
}

/** Asserts an ONNX Runtime output equals rnnkit's tensor: same shape, values within {@link RELATIVE_TOLERANCE}. */
export function expectMatches(output: { data: Float32Array; dims: number[] } | undefined, expected: Tensor, what: string): number {
  expect(output, what).toBeDefined();
  expect(output!.dims, `${what} shape`).toEqual([...expected.shape]);
  const error = relativeError(output!.data, expected.data);
  expect(error, `${what}: relative error ${error}`).toBeLessThanOrEqual(RELATIVE_TOLERANCE);
  return error;
}
