/**
 * Variable-length batches (PyTorch `nn.utils.rnn`). rnnkit's kernels take padded time-major data
 * plus one length per item, so a `PackedSequence` here keeps exactly that — `padded [T, B, *]` and
 * `lengths` — and derives PyTorch's `data` / `batchSizes` / `sortedIndices` / `unsortedIndices`
 * views on demand. RNN/LSTM/GRU accept one as input and return one as output, with PyTorch's
 * semantics (items in their original order; outputs past an item's length are zero).
 * @module
 */
import { Tensor, fromOp, narrow, transpose } from '../tensor/index.js';
import { describe, isNullish, optionalBool, optionalObject } from '../validate.js';
import { expectTensor } from '../tensor/tensor.js';

/** Lengths as PyTorch takes them: a 1-D Tensor of integers, an array or an Int32Array. */
export type Lengths = Tensor | ArrayLike<number>;

/** Reads per-item lengths (integers) into an Int32Array. */
export function readLengths(lengths: unknown, name = 'lengths'): Int32Array {
  const values: ArrayLike<unknown> | null = lengths instanceof Tensor ? lengths.data
    : Array.isArray(lengths) || ArrayBuffer.isView(lengths) ? lengths as unknown as ArrayLike<unknown> : null;
  if (values === null) {
    throw new TypeError(`Expected Tensor or array of integers for ${name} but received ${describe(lengths)}`);
  }
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      throw new TypeError(`Expected integer for ${name}[${i}] but received ${describe(v)}`);
    }
    out[i] = v;
  }
  return out;
}

/** A padded time-major batch with per-item lengths (see the module comment). */
export class PackedSequence {
  /** `[T, B, *]`, time-major, T = the longest length; values past an item's length are ignored. */
  readonly padded: Tensor;
  /** `[B]` valid steps per item, in the batch's original order. */
  readonly lengths: Int32Array;

  constructor(padded: Tensor, lengths: Int32Array) {
    this.padded = padded;
    this.lengths = lengths;
  }

  /** Items by decreasing length (stable), PyTorch's `sorted_indices`. */
  get sortedIndices(): Int32Array {
    const order = Array.from(this.lengths.keys()).sort((a, b) => this.lengths[b] - this.lengths[a] || a - b);
    return Int32Array.from(order);
  }

  /** The inverse permutation of {@link sortedIndices}. */
  get unsortedIndices(): Int32Array {
    const sorted = this.sortedIndices;
    const inverse = new Int32Array(sorted.length);
    sorted.forEach((item, position) => {
      inverse[item] = position;
    });
    return inverse;
  }

  /** Items still running at each step: `batchSizes[t]` = #{b : lengths[b] > t}. */
  get batchSizes(): Int32Array {
    const steps = this.padded.shape[0];
    const sizes = new Int32Array(steps);
    for (let t = 0; t < steps; t++) sizes[t] = this.lengths.reduce((n, length) => n + (length > t ? 1 : 0), 0);
    return sizes;
  }

  /** PyTorch's packed rows `[sum(lengths), *]`: step by step, items by decreasing length (differentiable). */
  get data(): Tensor {
    const [steps, batch] = this.padded.shape;
    const feature = batch === 0 ? 0 : this.padded.numel / (steps * batch);
    const sorted = this.sortedIndices;
    const rows: number[] = [];
    for (let t = 0; t < steps; t++) {
      for (const b of sorted) if (this.lengths[b] > t) rows.push(t * batch + b);
    }
    const source = this.padded;
    const out = new Float32Array(rows.length * feature);
    rows.forEach((row, i) => out.set(source.data.subarray(row * feature, (row + 1) * feature), i * feature));
    return fromOp('packedData', out, [rows.length, ...source.shape.slice(2)], [source], (g) => {
      const gx = new Float32Array(source.numel);
      rows.forEach((row, i) => gx.set(g.subarray(i * feature, (i + 1) * feature), row * feature));
      return [gx];
    });
  }
}

/**
 * Packs a padded batch (PyTorch `pack_padded_sequence`): input `[T, B, *]` (`[B, T, *]` with
 * batchFirst), one length per item, each in [1, T].
 * @param options.enforceSorted require decreasing lengths, as PyTorch does by default (true).
 */
export function packPaddedSequence(input: Tensor, lengths: Lengths,
  options?: { batchFirst?: boolean; enforceSorted?: boolean }): PackedSequence {
  const opts = optionalObject(options, 'options');
  const batchFirst = optionalBool(opts.batchFirst, 'batchFirst', false);
  const enforceSorted = optionalBool(opts.enforceSorted, 'enforceSorted', true);
  expectTensor(input, 'input');
  if (input.ndim < 2) throw new RangeError(`Expected input of at least 2 dimensions but received ${input.ndim}-D`);
  const timeMajor = batchFirst ? transpose(input, 0, 1) : input;
  const [steps, batch] = timeMajor.shape;
  const list = readLengths(lengths);
  if (list.length !== batch) {
    throw new RangeError(`Expected \`len(lengths)\` to be equal to batch_size, but got ${list.length} (batch_size=${batch})`);
  }
  if (list.some((length) => length <= 0)) {
    throw new RangeError("Length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0");
  }
  if (enforceSorted && list.some((length, i) => i > 0 && length > list[i - 1])) {
    throw new RangeError('`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You can pass '
      + '`enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep this requirement if you do not need ONNX exportability.');
  }
  const longest = Math.max(...list);
  if (longest > steps) {
    throw new RangeError(`Expected lengths of at most ${steps} (the input's steps) but received ${longest}`);
  }
  return new PackedSequence(longest < steps ? narrow(timeMajor, 0, 0, longest) : timeMajor, list);
}

/**
 * Unpacks (PyTorch `pad_packed_sequence`): `[totalLength, B, *]` (`[B, totalLength, *]` with
 * batchFirst) with `paddingValue` past each item's length, and the lengths.
 * @param options.totalLength pad to this many steps (default: the longest length).
 */
export function padPackedSequence(sequence: PackedSequence,
  options?: { batchFirst?: boolean; paddingValue?: number; totalLength?: number | null }): [Tensor, Int32Array] {
  if (!(sequence instanceof PackedSequence)) {
    throw new TypeError(`Expected PackedSequence for sequence but received ${describe(sequence)}`);
  }
  const opts = optionalObject(options, 'options');
  const batchFirst = optionalBool(opts.batchFirst, 'batchFirst', false);
  const paddingValue = opts.paddingValue === undefined ? 0 : Number(opts.paddingValue);
  const source = sequence.padded;
  const [steps, batch] = source.shape;
  const longest = sequence.lengths.length === 0 ? 0 : Math.max(...sequence.lengths);
  const total = isNullish(opts.totalLength) ? longest : opts.totalLength as number;
  if (!Number.isInteger(total) || total < longest) {
    throw new RangeError('Expected total_length to be at least the length of the longest sequence in input, but got '
      + `total_length=${String(total)} and max sequence length being ${longest}`);
  }
  const row = batch === 0 ? 0 : source.numel / (steps * batch);
  const out = new Float32Array(total * batch * row).fill(paddingValue);
  const valid = (t: number, b: number): boolean => t < steps && t < sequence.lengths[b];
  forEachValidRow(total, batch, valid, (offset) => out.set(source.data.subarray(offset * row, (offset + 1) * row), offset * row));
  const padded = fromOp('padPacked', out, [total, batch, ...source.shape.slice(2)], [source], (g) => {
    const gx = new Float32Array(source.numel);
    forEachValidRow(total, batch, valid, (offset) => gx.set(g.subarray(offset * row, (offset + 1) * row), offset * row));
    return [gx];
  });
  return [batchFirst ? transpose(padded, 0, 1) : padded, sequence.lengths.slice()];
}

// Calls fn(t·B + b) for every valid (t, b); time-major row offsets coincide in source and result.
function forEachValidRow(steps: number, batch: number, valid: (t: number, b: number) => boolean, fn: (offset: number) => void): void {
  for (let t = 0; t < steps; t++) {
    for (let b = 0; b < batch; b++) if (valid(t, b)) fn(t * batch + b);
  }
}

/**
 * Pads a list of `[L_i, *]` tensors to `[max L, B, *]` (`[B, max L, *]` with batchFirst), PyTorch
 * `pad_sequence`.
 */
export function padSequence(sequences: readonly Tensor[], options?: { batchFirst?: boolean; paddingValue?: number }): Tensor {
  const opts = optionalObject(options, 'options');
  const batchFirst = optionalBool(opts.batchFirst, 'batchFirst', false);
  const paddingValue = opts.paddingValue === undefined ? 0 : Number(opts.paddingValue);
  const items: unknown = sequences;
  if (!Array.isArray(items) || items.length === 0 || !items.every((s) => s instanceof Tensor && s.ndim >= 1)) {
    throw new TypeError('Expected a non-empty array of Tensors (each at least 1-D) for sequences');
  }
  const trailing = sequences[0].shape.slice(1);
  const rowSize = trailing.reduce((a, b) => a * b, 1);
  const batch = sequences.length;
  const longest = Math.max(...sequences.map((s) => s.shape[0]));
  sequences.forEach((s, i) => {
    if (s.shape.length !== trailing.length + 1 || s.shape.slice(1).some((d, j) => d !== trailing[j])) {
      throw new RangeError(`Expected every sequence to have trailing shape [${trailing.join(', ')}] but sequence ${i} has shape [${s.shape.join(', ')}]`);
    }
  });
  const out = new Float32Array(longest * batch * rowSize).fill(paddingValue);
  sequences.forEach((s, b) => {
    for (let t = 0; t < s.shape[0]; t++) out.set(s.data.subarray(t * rowSize, (t + 1) * rowSize), (t * batch + b) * rowSize);
  });
  const padded = fromOp('padSequence', out, [longest, batch, ...trailing], sequences, (g) => sequences.map((s, b) => {
    const gs = new Float32Array(s.numel);
    for (let t = 0; t < s.shape[0]; t++) gs.set(g.subarray((t * batch + b) * rowSize, (t * batch + b + 1) * rowSize), t * rowSize);
    return gs;
  }));
  return batchFirst ? transpose(padded, 0, 1) : padded;
}

/** Packs a list of `[L_i, *]` tensors (PyTorch `pack_sequence`). */
export function packSequence(sequences: readonly Tensor[], options?: { enforceSorted?: boolean }): PackedSequence {
  const enforceSorted = optionalBool(optionalObject(options, 'options').enforceSorted, 'enforceSorted', true);
  const lengths = Int32Array.from(sequences.map((s) => s.shape[0]));
  return packPaddedSequence(padSequence(sequences), lengths, { enforceSorted });
}
