/**
 * `DataLoader`: batches of a dataset, iterable with `for … of` and `for await … of`.
 *
 * Order is reproducible: with `seed`, epoch e's order depends only on (seed, e) — `setEpoch(e)`
 * replays it; without, each shuffled epoch draws one 32-bit seed from the global RNG, so
 * `manualSeed` fixes it too. Either way an epoch is a pure function of one number
 * ({@link DataLoader.nextEpochSeed}), which is how `fit` resumes in the middle of an epoch.
 * @module
 */
import { checkKnownKeys, describe, isNullish, optionalBool, positiveInt } from '../validate.js';
import { defaultCollate, type Collate, type Collated } from './collate.js';
import { ArrayDataset, IterableDataset, isDataset, type Dataset } from './dataset.js';
import { deriveSeed, globalSeed } from './generator.js';
import { BucketBatchSampler, RandomBatchSampler, type BatchSampler } from './sampler.js';

/** Options of {@link DataLoader}. */
export interface DataLoaderOptions<T = unknown, B = Collated<Awaited<T>>> {
  /** Items per batch (default 1, as PyTorch). */
  batchSize?: number;
  /** A new random order every epoch (default false). Map-style datasets only. */
  shuffle?: boolean;
  /** Seed of the shuffle order (epoch e uses (seed, e)); default: drawn from the global RNG. */
  seed?: number;
  /** Drop the last batch when it is smaller than batchSize (default false). */
  dropLast?: boolean;
  /** Items → batch (default {@link defaultCollate}; {@link padCollate} for variable-length sequences). */
  collate?: Collate<T, B>;
  /**
   * Bucketing: a key per item (e.g. `sequenceLength`) read once; batches then hold items of similar
   * keys, cutting the padding of variable-length batches (see {@link BucketBatchSampler}).
   */
  bucketBy?: (item: T, index: number) => number;
  /** Batches per bucketing pool when shuffling (default 50): larger = less padding, less randomness. */
  bucketPoolBatches?: number;
}

const OPTION_KEYS = ['batchSize', 'shuffle', 'seed', 'dropLast', 'collate', 'bucketBy', 'bucketPoolBatches'];

/** What a DataLoader reads: a map-style dataset, an array of items, an IterableDataset, or an (async) iterable / a function returning one. */
export type DataSource<T> = Dataset<T> | readonly T[] | IterableDataset<T> | Iterable<T> | AsyncIterable<T>
  | (() => Iterable<T> | AsyncIterable<T>);

function toDataset<T>(source: DataSource<T>): Dataset<T> | IterableDataset<T> {
  if (source instanceof IterableDataset || isDataset(source)) return source as Dataset<T> | IterableDataset<T>;
  if (Array.isArray(source)) return new ArrayDataset(source as readonly T[]);
  if (typeof source === 'function' || (typeof source === 'object' && source !== null
    && (Symbol.iterator in source || Symbol.asyncIterator in source))) {
    return new IterableDataset(source as Iterable<T>);
  }
  throw new TypeError(`Expected dataset, array, iterable or async iterable for dataset but received ${describe(source)}`);
}

type BatchGetter = (indices: number[]) => unknown;

/**
 * Batches of a dataset. `T` is the dataset's item type, `B` the batch type: what `collate` returns,
 * by default {@link Collated}`<T>` (of the awaited items) (a TensorDataset's loader yields `Tensor[]` batches).
 */
export class DataLoader<T = unknown, B = Collated<Awaited<T>>> implements Iterable<B>, AsyncIterable<B> {
  /** What the batches are drawn from. */
  readonly dataset: Dataset<T> | IterableDataset<T>;
  /** Items per batch (the last batch may have fewer, unless `dropLast`). */
  readonly batchSize: number;
  /** Whether each epoch visits the items in a new random order. */
  readonly shuffle: boolean;
  /** Whether a last batch of fewer than `batchSize` items is dropped. */
  readonly dropLast: boolean;
  /** The shuffle seed, if given. */
  readonly seed: number | undefined;
  /** Makes a batch of the items (default: {@link defaultCollate}). */
  readonly collate: Collate<T, B>;
  /** The epoch whose order the next iteration uses (counts up; set with {@link setEpoch}). */
  epoch = 0;
  private readonly sampler: BatchSampler | null;

  /**
   * @throws RangeError `Expected positive integer for batchSize but received 0 of type number`;
   *   TypeError for an unknown option, or shuffle / bucketBy on an iterable (stream) dataset.
   */
  constructor(dataset: DataSource<T>, options: DataLoaderOptions<T, B> = {}) {
    if (isNullish(options) || typeof options !== 'object') throw new TypeError(`Expected object for options but received ${describe(options)}`);
    checkKnownKeys(options, 'DataLoader', OPTION_KEYS);
    this.dataset = toDataset(dataset);
    this.batchSize = options.batchSize === undefined ? 1 : positiveInt(options.batchSize, 'batchSize');
    this.shuffle = optionalBool(options.shuffle, 'shuffle', false);
    this.dropLast = optionalBool(options.dropLast, 'dropLast', false);
    if (options.seed !== undefined && (typeof options.seed !== 'number' || !Number.isFinite(options.seed))) {
      throw new TypeError(`Expected finite number for seed but received ${describe(options.seed)}`);
    }
    this.seed = options.seed;
    if (options.collate !== undefined && typeof options.collate !== 'function') {
      throw new TypeError(`Expected function for collate but received ${describe(options.collate)}`);
    }
    this.collate = options.collate ?? (defaultCollate as Collate<T, B>);
    if (options.bucketBy !== undefined && typeof options.bucketBy !== 'function') {
      throw new TypeError(`Expected function for bucketBy but received ${describe(options.bucketBy)}`);
    }
    const poolBatches = options.bucketPoolBatches === undefined ? 50 : positiveInt(options.bucketPoolBatches, 'bucketPoolBatches');
    this.sampler = this.makeSampler(options.bucketBy, poolBatches);
  }

  private makeSampler(bucketBy: DataLoaderOptions<T, B>['bucketBy'], poolBatches: number): BatchSampler | null {
    const samplerOptions = { batchSize: this.batchSize, shuffle: this.shuffle, dropLast: this.dropLast };
    const dataset = this.dataset;
    if (dataset instanceof IterableDataset) {
      if (this.shuffle) throw new TypeError('Expected shuffle: false for an iterable dataset (a stream is read in order) but received true');
      if (bucketBy) throw new TypeError('Expected no bucketBy for an iterable dataset (bucketing needs every item\'s key up front)');
      return null;
    }
    if (!bucketBy) return new RandomBatchSampler(dataset.length, samplerOptions);
    const keys = Array.from({ length: dataset.length }, (_, i) => {
      const key = bucketBy(dataset.get(i), i);
      if (typeof key !== 'number' || Number.isNaN(key)) throw new TypeError(`Expected number from bucketBy for item ${i} but received ${describe(key)}`);
      return key;
    });
    return new BucketBatchSampler(keys, { ...samplerOptions, poolBatches });
  }

  /** Batches per epoch; undefined for an iterable (stream) dataset. */
  get length(): number | undefined {
    return this.sampler?.length;
  }

  /** Makes the next iteration use epoch `epoch`'s order (like DistributedSampler.set_epoch). */
  setEpoch(epoch: number): void {
    this.epoch = positiveIntOrZero(epoch, 'epoch');
  }

  /**
   * The order seed of the next epoch, advancing `epoch`: derived from (seed, epoch) when seeded,
   * drawn from the global RNG when shuffling without a seed, 0 otherwise (nothing random).
   */
  nextEpochSeed(): number {
    const epoch = this.epoch++;
    if (!this.shuffle) return 0;
    return this.seed === undefined ? globalSeed() : deriveSeed(this.seed, epoch);
  }

  /** The batch index lists of the epoch with order seed `seed` (map-style datasets). */
  batchIndices(seed: number): number[][] {
    if (!this.sampler) throw new TypeError('Expected a map-style dataset for batchIndices but this DataLoader reads a stream');
    return this.sampler.batches(seed);
  }

  /**
   * The batches of the epoch with order seed `seed` (from {@link nextEpochSeed}), starting at batch
   * `start` (earlier ones are skipped without being loaded; a stream's are read and dropped).
   */
  async *epochBatches(seed: number, start = 0): AsyncGenerator<B> {
    if (this.dataset instanceof IterableDataset) {
      let index = 0;
      for await (const items of streamChunks(this.dataset, this.batchSize, this.dropLast)) {
        if (index++ >= start) yield this.collate(items);
      }
      return;
    }
    const dataset = this.dataset;
    for (const indices of this.batchIndices(seed).slice(start)) {
      const fetched = this.fetch(dataset, indices);
      yield 'batch' in fetched ? fetched.batch : this.collate(await Promise.all(fetched.items as (T | Promise<T>)[]));
    }
  }

  /** Synchronous twin of {@link epochBatches} (map-style datasets and synchronous iterables). */
  *epochBatchesSync(seed: number, start = 0): Generator<B> {
    if (this.dataset instanceof IterableDataset) {
      if (!this.dataset.isSync) {
        throw new TypeError('This DataLoader reads an async source: iterate it with for await (const batch of loader)');
      }
      let index = 0;
      for (const items of syncChunks(this.dataset.open() as Iterator<T>, this.batchSize, this.dropLast)) {
        if (index++ >= start) yield this.collate(items);
      }
      return;
    }
    for (const indices of this.batchIndices(seed).slice(start)) {
      const fetched = this.fetch(this.dataset, indices);
      yield 'batch' in fetched ? fetched.batch : this.collate(fetched.items);
    }
  }

  // The items of a batch, or the batch itself when the dataset can stack it directly.
  private fetch(dataset: Dataset<T>, indices: number[]): { items: T[] } | { batch: B } {
    const getBatch = (dataset as unknown as { getBatch?: BatchGetter }).getBatch;
    if (this.collate === defaultCollate && typeof getBatch === 'function') return { batch: getBatch.call(dataset, indices) as B };
    return { items: indices.map((i) => dataset.get(i)) };
  }

  /** The next epoch's batches, in order; items of an async dataset are awaited. */
  [Symbol.asyncIterator](): AsyncIterator<B> {
    return this.epochBatches(this.nextEpochSeed());
  }

  /** The next epoch's batches (a synchronous dataset only: an async one throws TypeError). */
  [Symbol.iterator](): Iterator<B> {
    if (this.dataset instanceof IterableDataset && !this.dataset.isSync) {
      throw new TypeError('This DataLoader reads an async source: iterate it with for await (const batch of loader)');
    }
    return this.epochBatchesSync(this.nextEpochSeed());
  }
}

function positiveIntOrZero(value: unknown, name: string): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  const message = `Expected non-negative integer for ${name} but received ${describe(value)}`;
  throw typeof value === 'number' ? new RangeError(message) : new TypeError(message);
}

function* syncChunks<T>(iterator: Iterator<T>, size: number, dropLast: boolean): Generator<T[]> {
  let items: T[] = [];
  for (let next = iterator.next(); !next.done; next = iterator.next()) {
    items.push(next.value);
    if (items.length === size) {
      yield items;
      items = [];
    }
  }
  if (items.length > 0 && !dropLast) yield items;
}

async function* streamChunks<T>(dataset: IterableDataset<T>, size: number, dropLast: boolean): AsyncGenerator<T[]> {
  const iterator = dataset.open();
  let items: T[] = [];
  try {
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      items.push(next.value);
      if (items.length === size) {
        yield items;
        items = [];
      }
    }
    if (items.length > 0 && !dropLast) yield items;
  } finally {
    await iterator.return?.();
  }
}
