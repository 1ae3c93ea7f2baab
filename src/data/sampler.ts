/**
 * Batch samplers: the item indices of each batch of one epoch, as a pure function of the epoch's
 * 32-bit seed (so an epoch can be replayed, e.g. to resume in its middle).
 * @module
 */
import { SeededGenerator } from './generator.js';

/** Produces the batches (lists of item indices) of one epoch. */
export interface BatchSampler {
  /** Number of batches per epoch. */
  readonly length: number;
  /** The batches of the epoch whose order seed is `seed` (ignored when not shuffling). */
  batches(seed: number): number[][];
}

/** Options shared by the samplers. */
export interface SamplerOptions {
  /** Indices per batch. */
  batchSize: number;
  /** Whether each epoch draws a new random order. */
  shuffle: boolean;
  /** Whether a last batch of fewer than `batchSize` indices is dropped. */
  dropLast: boolean;
}

function chunk(order: readonly number[], size: number, dropLast: boolean): number[][] {
  const result: number[][] = [];
  for (let start = 0; start < order.length; start += size) {
    const batch = order.slice(start, start + size);
    if (batch.length < size && dropLast) break;
    result.push(batch);
  }
  return result;
}

const batchCount = (n: number, size: number, dropLast: boolean): number => (dropLast ? Math.floor(n / size) : Math.ceil(n / size));

/** In order, or a random permutation, cut into batches (PyTorch's RandomSampler + BatchSampler). */
export class RandomBatchSampler implements BatchSampler {
  constructor(private readonly size: number, private readonly options: SamplerOptions) {}

  get length(): number {
    return batchCount(this.size, this.options.batchSize, this.options.dropLast);
  }

  batches(seed: number): number[][] {
    const order = this.options.shuffle ? new SeededGenerator(seed).permutation(this.size)
      : Array.from({ length: this.size }, (_, i) => i);
    return chunk(order, this.options.batchSize, this.options.dropLast);
  }
}

/**
 * Groups items of similar length (`keys[i]`, e.g. sequence length) into the same batch to cut
 * padding. Shuffled: a random permutation is cut into pools of `poolBatches` batches, each pool is
 * sorted by key and cut into batches, and the batch order is shuffled (torchtext's BucketIterator).
 * Not shuffled: all items sorted by key (stable), shortest first.
 */
export class BucketBatchSampler implements BatchSampler {
  constructor(private readonly keys: readonly number[], private readonly options: SamplerOptions & { poolBatches: number }) {}

  get length(): number {
    return batchCount(this.keys.length, this.options.batchSize, this.options.dropLast);
  }

  batches(seed: number): number[][] {
    const { batchSize, shuffle, dropLast, poolBatches } = this.options;
    const byKey = (a: number, b: number): number => this.keys[a] - this.keys[b] || a - b;
    if (!shuffle) return chunk(Array.from({ length: this.keys.length }, (_, i) => i).sort(byKey), batchSize, dropLast);
    const generator = new SeededGenerator(seed);
    const order = generator.permutation(this.keys.length);
    const poolSize = batchSize * poolBatches; // a multiple of batchSize: only the last pool has a partial batch
    const sorted: number[] = [];
    for (let start = 0; start < order.length; start += poolSize) {
      for (const index of order.slice(start, start + poolSize).sort((a, b) => this.keys[a] - this.keys[b])) sorted.push(index);
    }
    return generator.shuffle(chunk(sorted, batchSize, dropLast));
  }
}
