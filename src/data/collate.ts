/**
 * Collate functions: turn the items of one batch into batch tensors.
 *
 * - {@link defaultCollate} (PyTorch `default_collate`): an item that is an array is a tuple and
 *   an object a record, collated field by field; inside them Tensors are stacked (`[B, …]`),
 *   numbers become a `[B]` tensor, number arrays / typed arrays / nested number arrays become rows.
 * - {@link padCollate}: variable-length sequences padded to the longest one, with their `lengths`
 *   (what the recurrent layers' `{ lengths }` option and the packed kernels take).
 * @module
 */
import { types } from 'node:util';
import { Tensor } from '../tensor/tensor.js';
import { checkOptions, describe, optionalBool } from '../validate.js';

/** A collate function: the items of one batch → the batch. */
export type Collate<T = unknown, B = unknown> = (items: T[]) => B;

/**
 * What {@link defaultCollate} makes of items of type T: a tuple or a record of stacked Tensors,
 * field by field, or one stacked Tensor (a Tensor, number or typed-array item). `unknown` stays
 * `unknown`.
 */
export type Collated<T> = unknown extends T ? unknown
  : T extends readonly unknown[] ? { -readonly [K in keyof T]: Tensor }
    : T extends Tensor | number | boolean | ArrayBufferView ? Tensor
      : T extends object ? { [K in keyof T]: Tensor }
        : Tensor;

/** What {@link padCollate} returns. */
export interface PaddedBatch {
  /** `[B, Tmax, …]` (time-major `[Tmax, B, …]` with `batchFirst: false`), zero past each length. */
  input: Tensor;
  /** Class labels `[B]` (or stacked fixed-size targets), or per-step targets padded like `input`. */
  target?: Tensor;
  /** Valid steps of each sequence. */
  lengths: Int32Array;
}

const shapeText = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

// A data leaf (not a tuple/record): its values and shape, without copying Float32Arrays.
function leafOf(value: unknown, where: string): { data: ArrayLike<number>; shape: number[] } {
  if (value instanceof Tensor) return { data: value.data, shape: [...value.shape] };
  if (typeof value === 'number') return { data: [value], shape: [] };
  if (typeof value === 'boolean') return { data: [value ? 1 : 0], shape: [] };
  if (types.isTypedArray(value) && !types.isBigInt64Array(value) && !types.isBigUint64Array(value)) {
    return { data: value as unknown as ArrayLike<number>, shape: [(value as unknown as ArrayLike<number>).length] };
  }
  if (Array.isArray(value)) return nestedLeaf(value, where);
  throw new TypeError(`Expected Tensor, number, typed array or array of numbers for ${where} but received ${describe(value)}`);
}

// [[1, 2], [3, 4]] → data [1, 2, 3, 4], shape [2, 2] (rectangular only).
function nestedLeaf(value: unknown[], where: string): { data: number[]; shape: number[] } {
  const shape: number[] = [];
  let probe: unknown = value;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
  }
  const data: number[] = [];
  const visit = (node: unknown, dim: number): void => {
    if (dim === shape.length) {
      if (typeof node !== 'number') throw new TypeError(`Expected number inside ${where} but received ${describe(node)}`);
      data.push(node);
      return;
    }
    if (!Array.isArray(node) || node.length !== shape[dim]) {
      throw new RangeError(`Expected a rectangular nested array for ${where} (size ${shape[dim]} at depth ${dim}) but received ${describe(node)}`);
    }
    for (const child of node) visit(child, dim + 1);
  };
  visit(value, 0);
  return { data, shape };
}

/** Stacks equally shaped leaves into `[B, …]` (one copy). */
export function stackLeaves(values: readonly unknown[], where = 'item'): Tensor {
  const leaves = values.map((v, i) => leafOf(v, `${where} ${i}`));
  const shape = leaves[0]?.shape ?? [];
  leaves.forEach((leaf, i) => {
    if (leaf.shape.length !== shape.length || leaf.shape.some((d, k) => d !== shape[k])) {
      throw new RangeError(`stack expects each tensor to be equal size, but got ${shapeText(shape)} at entry 0 and `
        + `${shapeText(leaf.shape)} at entry ${i} (use padCollate() for variable-length sequences)`);
    }
  });
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(values.length * size);
  leaves.forEach((leaf, i) => {
    if (leaf.data instanceof Float32Array || Array.isArray(leaf.data)) out.set(leaf.data as ArrayLike<number>, i * size);
    else for (let k = 0; k < size; k++) out[i * size + k] = leaf.data[k];
  });
  return new Tensor(out, [values.length, ...shape]);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Tensor)
    && !types.isTypedArray(value);
}

/**
 * PyTorch's `default_collate`: items that are arrays are tuples (`[x, y]` → `[X, Y]`), objects
 * are records (`{ input, target }` → `{ input: X, target: Y }`); the values inside are stacked.
 * @throws RangeError `stack expects each tensor to be equal size, but got [3] at entry 0 and [5] at entry 1 …`
 */
export function defaultCollate<T>(items: readonly T[]): Collated<T>;
export function defaultCollate(items: readonly unknown[]): unknown {
  if (items.length === 0) throw new RangeError('Expected at least one item to collate but received none');
  const first = items[0];
  if (Array.isArray(first)) {
    return first.map((_, k) => {
      items.forEach((item, i) => {
        if (!Array.isArray(item) || item.length !== first.length) {
          throw new RangeError(`Expected every item of the batch to be an Array of length ${first.length} but item ${i} is ${describe(item)}`);
        }
      });
      return stackLeaves(items.map((item) => (item as unknown[])[k]), `field ${k} of item`);
    });
  }
  if (isRecord(first)) {
    const result: Record<string, unknown> = {};
    for (const key of Object.keys(first)) result[key] = stackLeaves(items.map((item) => (item as Record<string, unknown>)[key]), `field ${key} of item`);
    return result;
  }
  return stackLeaves(items);
}

/** Options of {@link padCollate}. */
export interface PadCollateOptions {
  /** `[B, T, …]` (default true) or time-major `[T, B, …]`. */
  batchFirst?: boolean;
  /** Value of the input past each length (default 0). */
  paddingValue?: number;
  /**
   * Value of per-step targets past each length (default −100, crossEntropy's default ignoreIndex,
   * so padded steps do not count in the loss or the accuracy).
   */
  targetPaddingValue?: number;
}

// Splits an item into its sequence and optional target. A 2-element Array whose first element is
// not a number is a [sequence, target] tuple; a bare sequence given as nested arrays must
// therefore be wrapped ({ input: rows }).
function sequenceAndTarget(item: unknown): [unknown, unknown] {
  if (Array.isArray(item) && item.length === 2 && typeof item[0] !== 'number') return [item[0], item[1]];
  if (isRecord(item) && 'input' in item) return [item.input, item.target];
  return [item, undefined];
}

/** The number of steps of a sequence item (dim 0): what {@link padCollate} pads and `bucketBy` can sort by. */
export function sequenceLength(item: unknown): number {
  const [sequence] = sequenceAndTarget(item);
  return leafOf(sequence, 'sequence').shape[0] ?? 0;
}

// Pads leaves (time on dim 0) into [B, Tmax, …] or [Tmax, B, …].
function padLeaves(leaves: { data: ArrayLike<number>; shape: number[] }[], lengths: Int32Array, batchFirst: boolean,
  value: number, where: string): Tensor {
  const featureShape = leaves[0].shape.slice(1);
  const feature = featureShape.reduce((a, b) => a * b, 1);
  leaves.forEach((leaf, i) => {
    const rest = leaf.shape.slice(1);
    if (rest.length !== featureShape.length || rest.some((d, k) => d !== featureShape[k])) {
      throw new RangeError(`Expected every ${where} to have per-step shape ${shapeText(featureShape)} but item ${i} has ${shapeText(rest)}`);
    }
  });
  const steps = Math.max(0, ...lengths);
  const batch = leaves.length;
  const out = new Float32Array(batch * steps * feature).fill(value);
  leaves.forEach((leaf, b) => {
    const src = leaf.data;
    for (let t = 0; t < lengths[b]; t++) {
      const dst = (batchFirst ? b * steps + t : t * batch + b) * feature;
      for (let k = 0; k < feature; k++) out[dst + k] = src[t * feature + k];
    }
  });
  return new Tensor(out, batchFirst ? [batch, steps, ...featureShape] : [steps, batch, ...featureShape]);
}

/**
 * A collate for variable-length sequences. Items are `[sequence, target]`, `{ input, target }` or
 * a bare sequence; a sequence has time on dim 0 (a Tensor `[Ti, …]`, a number array or typed array
 * of `Ti` steps such as token ids, or `Ti` rows of features). Sequences are padded to the longest
 * one; targets are padded the same way when each has its sequence's length (per-step targets, e.g.
 * next tokens), stacked otherwise (one label per sequence).
 * @returns `{ input, target, lengths }` ({@link PaddedBatch}).
 */
export function padCollate(options?: PadCollateOptions): Collate<unknown, PaddedBatch> {
  const opts = checkOptions(options, 'padCollate', ['batchFirst', 'paddingValue', 'targetPaddingValue']);
  const batchFirst = optionalBool(opts.batchFirst, 'batchFirst', true);
  const paddingValue = numberOption(opts.paddingValue, 'paddingValue', 0);
  const targetPaddingValue = numberOption(opts.targetPaddingValue, 'targetPaddingValue', -100);
  return (items) => {
    if (items.length === 0) throw new RangeError('Expected at least one item to collate but received none');
    const pairs = items.map((item) => sequenceAndTarget(item));
    const leaves = pairs.map(([sequence], i) => {
      const leaf = leafOf(sequence, `sequence of item ${i}`);
      if (leaf.shape.length === 0) throw new RangeError(`Expected a sequence (at least 1-D) for item ${i} but received a number`);
      return leaf;
    });
    const lengths = Int32Array.from(leaves, (leaf) => leaf.shape[0]);
    const batch: PaddedBatch = { input: padLeaves(leaves, lengths, batchFirst, paddingValue, 'sequence'), lengths };
    if (pairs.every(([, target]) => target === undefined)) return batch;
    const targets = pairs.map(([, target], i) => leafOf(target, `target of item ${i}`));
    // Per-step targets (each as long as its sequence) are padded like the input; others stacked.
    const perStep = targets.every((t, i) => t.shape.length > 0 && t.shape[0] === lengths[i]);
    batch.target = perStep ? padLeaves(targets, lengths, batchFirst, targetPaddingValue, 'target')
      : stackLeaves(pairs.map(([, target]) => target), 'target of item');
    return batch;
  };
}

function numberOption(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value)) throw new TypeError(`Expected number for ${name} but received ${describe(value)}`);
  return value;
}
