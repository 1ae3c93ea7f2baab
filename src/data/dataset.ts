/**
 * Datasets: map-style (`length` + `get(i)`, like PyTorch's `Dataset`) and iterable (streams).
 * None of them copies its source: `TensorDataset` hands out row VIEWS of its tensors, `ArrayDataset`
 * the array's own items, `IterableDataset` items as they arrive. The only copy is the batch the
 * collate function builds.
 * @module
 */
import { types } from 'node:util';
import { Tensor } from '../tensor/tensor.js';
import { describe, isNullish, optionalObject } from '../validate.js';
import { deriveSeed, globalSeed, SeededGenerator } from './generator.js';

/** A map-style dataset (PyTorch `Dataset` with `__len__` / `__getitem__`). */
export interface Dataset<T = unknown> {
  /** Number of items. */
  readonly length: number;
  /** Item `index` (0 ≤ index < length). */
  get(index: number): T;
}

/** Whether `value` is a map-style dataset (has a numeric `length` and a `get` method). */
export function isDataset(value: unknown): value is Dataset {
  return typeof value === 'object' && value !== null && typeof (value as Dataset).get === 'function'
    && Number.isInteger((value as Dataset).length);
}

/** What `TensorDataset` accepts per column: a Tensor `[N, …]`, or numbers (`[N]`, e.g. labels). */
export type TensorSource = Tensor | readonly number[] | Float32Array | Int32Array | Uint8Array | Uint16Array
  | Int16Array | Int8Array | Uint32Array | Float64Array;

function toTensor(source: unknown, index: number): Tensor {
  if (source instanceof Tensor) {
    if (source.ndim === 0) throw new RangeError(`Expected Tensor with at least one dimension for tensors[${index}] but received a 0-d Tensor`);
    return source;
  }
  if (types.isFloat32Array(source)) return new Tensor(source, [source.length]);
  if (Array.isArray(source) || types.isTypedArray(source)) {
    const values = source as ArrayLike<unknown>;
    const data = new Float32Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (typeof v !== 'number' && typeof v !== 'bigint') {
        throw new TypeError(`Expected number for tensors[${index}][${i}] but received ${describe(v)}`);
      }
      data[i] = Number(v);
    }
    return new Tensor(data, [values.length]);
  }
  throw new TypeError(`Expected Tensor, array or typed array for tensors[${index}] but received ${describe(source)}`);
}

/**
 * Rows of equally long tensors (PyTorch `TensorDataset`): item i is `[t0[i], t1[i], …]`, each a
 * Tensor view sharing the source's memory (no copy). A Float32Array column is used as is; other
 * arrays (labels) are converted to float32 once.
 * @throws RangeError `Expected 100 rows (size of dim 0 of tensors[0]) for tensors[1] but received 90`
 *   when the first dimensions differ; TypeError / RangeError for no tensors or a non-tensor column.
 */
export class TensorDataset implements Dataset<Tensor[]> {
  /** The columns, as given (views, not copies). */
  readonly tensors: readonly Tensor[];
  readonly length: number;
  private readonly rowSizes: number[];

  constructor(...tensors: TensorSource[]) {
    if (tensors.length === 0) throw new RangeError('Expected at least one tensor for TensorDataset but received none');
    this.tensors = tensors.map(toTensor);
    this.length = this.tensors[0].shape[0];
    this.tensors.forEach((t, i) => {
      if (t.shape[0] !== this.length) {
        throw new RangeError(`Expected ${this.length} rows (size of dim 0 of tensors[0]) for tensors[${i}] but received ${t.shape[0]}`);
      }
    });
    this.rowSizes = this.tensors.map((t) => t.numel / Math.max(t.shape[0], 1));
  }

  /** `[t0[index], t1[index], …]`: views of one row each (shape without dim 0). */
  get(index: number): Tensor[] {
    checkIndex(index, this.length);
    return this.tensors.map((t, k) => {
      const size = this.rowSizes[k];
      return new Tensor(t.data.subarray(index * size, (index + 1) * size), t.shape.slice(1));
    });
  }

  /**
   * The rows at `indices` already stacked, one copy per column (`[B, …]`): what the default collate
   * would build from `get`, without the per-row views. DataLoader uses it with the default collate.
   */
  getBatch(indices: readonly number[]): Tensor[] {
    return this.tensors.map((t, k) => {
      const size = this.rowSizes[k];
      const out = new Float32Array(indices.length * size);
      indices.forEach((index, row) => {
        checkIndex(index, this.length);
        out.set(t.data.subarray(index * size, (index + 1) * size), row * size);
      });
      return new Tensor(out, [indices.length, ...t.shape.slice(1)]);
    });
  }
}

function checkIndex(index: number, length: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= length) {
    throw new RangeError(`Expected integer between 0 and ${length - 1} for index but received ${describe(index)}`);
  }
}

/**
 * A dataset over a JS array (or any array-like) of items, e.g. variable-length sequences
 * `[[tokens…], label]`: items are returned as stored, never copied.
 */
export class ArrayDataset<T> implements Dataset<T> {
  /** @param items The items, returned as stored. */
  constructor(readonly items: ArrayLike<T>) {
    if (isNullish(items) || typeof items !== 'object' || !Number.isInteger((items as ArrayLike<T>).length)) {
      throw new TypeError(`Expected array for items but received ${describe(items)}`);
    }
  }

  get length(): number {
    return this.items.length;
  }

  get(index: number): T {
    checkIndex(index, this.items.length);
    return this.items[index];
  }
}

/** The items of `dataset` at `indices` (PyTorch `Subset`); what {@link randomSplit} returns. */
export class Subset<T> implements Dataset<T> {
  /**
   * @param dataset The dataset the items come from.
   * @param indices The indices of the items in `dataset`, in the subset's order.
   */
  constructor(readonly dataset: Dataset<T>, readonly indices: readonly number[]) {}

  get length(): number {
    return this.indices.length;
  }

  get(index: number): T {
    checkIndex(index, this.indices.length);
    return this.dataset.get(this.indices[index]);
  }
}

/** A source of items read in order: an iterable, an async iterable (a Readable stream in object mode, a generator), or a function returning a fresh one per epoch. */
export type ItemSource<T> = Iterable<T> | AsyncIterable<T> | (() => Iterable<T> | AsyncIterable<T>);

/**
 * A dataset read in order from an iterable, an async iterable (e.g. a Readable stream in object
 * mode, an async generator parsing a file) or a function returning a fresh one each epoch (PyTorch
 * `IterableDataset`). Items are consumed as the loader needs them: only one batch is held.
 * A plain (async) iterable can be read once unless it is re-iterable (an Array, a Set); pass a
 * function for several epochs.
 */
export class IterableDataset<T> {
  private used = false;

  constructor(private readonly source: ItemSource<T>) {
    const ok = typeof source === 'function' || (typeof source === 'object' && source !== null
      && (Symbol.iterator in source || Symbol.asyncIterator in source));
    if (!ok) throw new TypeError(`Expected iterable, async iterable or function for source but received ${describe(source)}`);
  }

  /** Whether the source is synchronous (so the loader can be iterated with `for … of`). */
  get isSync(): boolean {
    return typeof this.source !== 'function' && Symbol.iterator in this.source && !(Symbol.asyncIterator in this.source);
  }

  /** The items of one pass. */
  open(): Iterator<T> | AsyncIterator<T> {
    const source = typeof this.source === 'function' ? this.source() : this.source;
    const reusable = typeof this.source === 'function' || Array.isArray(source) || source instanceof Set;
    if (!reusable) {
      if (this.used) {
        throw new Error('This IterableDataset was built from a one-shot iterable and has been read already; '
          + 'pass a function that returns a fresh iterable (e.g. () => createReadStream(…)) to read it every epoch');
      }
      this.used = true;
    }
    if (Symbol.asyncIterator in Object(source)) return (source as AsyncIterable<T>)[Symbol.asyncIterator]();
    if (Symbol.iterator in Object(source)) return (source as Iterable<T>)[Symbol.iterator]();
    throw new TypeError(`Expected iterable or async iterable from the source function but received ${describe(source)}`);
  }
}

/** Options of {@link randomSplit}. */
export interface RandomSplitOptions {
  /** Seed of the permutation; default: drawn from the global RNG (`manualSeed`). */
  seed?: number;
}

/**
 * Splits a dataset into non-overlapping random subsets (PyTorch `random_split`). `lengths` are item
 * counts summing to `dataset.length`, or fractions summing to 1: each gets ⌊f·n⌋ and the remainder
 * is dealt one by one round-robin, as PyTorch does.
 * @throws RangeError `Sum of input lengths does not equal the length of the input dataset!`
 */
export function randomSplit<T>(dataset: Dataset<T>, lengths: readonly number[], options?: RandomSplitOptions): Subset<T>[] {
  if (!isDataset(dataset)) throw new TypeError(`Expected dataset (with length and get) for dataset but received ${describe(dataset)}`);
  if (!Array.isArray(lengths) || lengths.length === 0 || !lengths.every((v) => typeof v === 'number' && v >= 0 && Number.isFinite(v))) {
    throw new TypeError(`Expected non-empty array of non-negative numbers for lengths but received ${describe(lengths)}`);
  }
  const opts = optionalObject(options, 'options');
  if (opts.seed !== undefined && (typeof opts.seed !== 'number' || !Number.isFinite(opts.seed))) {
    throw new TypeError(`Expected finite number for seed but received ${describe(opts.seed)}`);
  }
  const n = dataset.length;
  const counts = splitCounts(lengths, n);
  const seed = opts.seed === undefined ? globalSeed() : deriveSeed(opts.seed);
  const order = new SeededGenerator(seed).permutation(n);
  let offset = 0;
  return counts.map((count) => {
    const subset = new Subset(dataset, order.slice(offset, offset + count));
    offset += count;
    return subset;
  });
}

function splitCounts(lengths: readonly number[], n: number): number[] {
  const sum = lengths.reduce((a, b) => a + b, 0);
  const fractional = Math.abs(sum - 1) <= 1e-9 && sum <= 1; // PyTorch: math.isclose(sum, 1) and sum <= 1
  if (!fractional) {
    if (!lengths.every(Number.isInteger) || sum !== n) {
      throw new RangeError('Sum of input lengths does not equal the length of the input dataset!');
    }
    return [...lengths];
  }
  const counts = lengths.map((f) => Math.floor(n * f));
  const remainder = n - counts.reduce((a, b) => a + b, 0);
  for (let i = 0; i < remainder; i++) counts[i % counts.length]++;
  counts.forEach((c, i) => {
    if (c === 0) process.emitWarning(`Length of split at index ${i} is 0. This might result in an empty dataset.`);
  });
  return counts;
}
