// Data loading: TensorDataset views, DataLoader batching / seeded shuffling / bucketing, collate
// functions (stacking, padding with lengths), randomSplit, streams, and exact error messages.
import { describe, expect, it } from 'vitest';
import {
  ArrayDataset, DataLoader, IterableDataset, TensorDataset, defaultCollate, manualSeed, padCollate, randomSplit,
  sequenceLength, tensor, Tensor, type PaddedBatch,
} from '../src/index.js';

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const flat = (batches: number[][]): number[] => batches.flat();
const sorted = (values: number[]): number[] => [...values].sort((a, b) => a - b);

// A dataset whose items are their own index (to read orders back).
const indexDataset = (n: number): TensorDataset => new TensorDataset(Float32Array.from(range(n)));
const orderOf = (loader: Iterable<unknown>): number[] => [...loader].flatMap((batch) => Array.from((batch as Tensor[])[0].data));

describe('TensorDataset', () => {
  it('hands out row views of its tensors (no copy) and stacks batches', () => {
    const x = tensor(range(12), [4, 3]);
    const data = new TensorDataset(x, [10, 11, 12, 13]);
    expect(data.length).toBe(4);
    const [row, label] = data.get(2);
    expect(row.shape).toEqual([3]);
    expect(Array.from(row.data)).toEqual([6, 7, 8]);
    expect(row.data.buffer).toBe(x.data.buffer); // a view
    expect(label.shape).toEqual([]);
    expect(label.item()).toBe(12);
    const [bx, by] = data.getBatch([3, 0]);
    expect(bx.shape).toEqual([2, 3]);
    expect(Array.from(bx.data)).toEqual([9, 10, 11, 0, 1, 2]);
    expect(Array.from(by.data)).toEqual([13, 10]);
  });

  it('rejects mismatched lengths and bad indices with exact messages', () => {
    expect(() => new TensorDataset(tensor(range(6), [3, 2]), [1, 2])).toThrow(
      new RangeError('Expected 3 rows (size of dim 0 of tensors[0]) for tensors[1] but received 2'));
    expect(() => new TensorDataset()).toThrow(new RangeError('Expected at least one tensor for TensorDataset but received none'));
    expect(() => new TensorDataset('x' as never)).toThrow(new TypeError('Expected Tensor, array or typed array for tensors[0] but received x of type string'));
    expect(() => indexDataset(3).get(3)).toThrow(new RangeError('Expected integer between 0 and 2 for index but received 3 of type number'));
  });
});

describe('DataLoader', () => {
  it('batches in order, with and without dropLast', () => {
    const loader = new DataLoader(indexDataset(10), { batchSize: 4 });
    expect(loader.length).toBe(3);
    const batches = [...loader].map((b) => Array.from((b as Tensor[])[0].data));
    expect(batches).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    const dropped = new DataLoader(indexDataset(10), { batchSize: 4, dropLast: true });
    expect(dropped.length).toBe(2);
    expect([...dropped].length).toBe(2);
  });

  it('shuffles reproducibly by seed: same seed same orders, each epoch a new permutation, setEpoch replays', () => {
    const a = new DataLoader(indexDataset(50), { batchSize: 8, shuffle: true, seed: 42 });
    const b = new DataLoader(indexDataset(50), { batchSize: 8, shuffle: true, seed: 42 });
    const a0 = orderOf(a), a1 = orderOf(a);
    expect(orderOf(b)).toEqual(a0);
    expect(orderOf(b)).toEqual(a1);
    expect(a1).not.toEqual(a0);
    expect(sorted(a0)).toEqual(range(50)); // a permutation
    expect(a0).not.toEqual(range(50));
    a.setEpoch(0);
    expect(orderOf(a)).toEqual(a0);
    expect(orderOf(new DataLoader(indexDataset(50), { batchSize: 8, shuffle: true, seed: 43 }))).not.toEqual(a0);
  });

  it('without a seed draws the order from the global RNG (manualSeed reproduces it)', () => {
    const loader = new DataLoader(indexDataset(30), { batchSize: 30, shuffle: true });
    manualSeed(5);
    const first = orderOf(loader);
    manualSeed(5);
    expect(orderOf(loader)).toEqual(first);
  });

  it('iterates asynchronously the same batches, and async item getters are awaited', async () => {
    const loader = new DataLoader(indexDataset(7), { batchSize: 3, shuffle: true, seed: 1 });
    const sync = orderOf(loader);
    loader.setEpoch(0);
    const asyncOrder: number[] = [];
    for await (const batch of loader) asyncOrder.push(...(batch as Tensor[])[0].data);
    expect(asyncOrder).toEqual(sync);
    const lazy = { length: 3, get: async (i: number) => i * 10 };
    const out: number[] = [];
    for await (const batch of new DataLoader(lazy, { batchSize: 2 })) out.push(...(batch as Tensor).data);
    expect(out).toEqual([0, 10, 20]);
  });

  it('rejects bad options with exact messages', () => {
    expect(() => new DataLoader(indexDataset(3), { batchSize: 0 })).toThrow(
      new RangeError('Expected positive integer for batchSize but received 0 of type number'));
    expect(() => new DataLoader(indexDataset(3), { batchSize: 1.5 })).toThrow(
      new RangeError('Expected positive integer for batchSize but received 1.5 of type number'));
    expect(() => new DataLoader(indexDataset(3), { batch_size: 2 } as never)).toThrow(new TypeError(
      'Expected one of batchSize, shuffle, seed, dropLast, collate, bucketBy, bucketPoolBatches for DataLoader option but received batch_size of type string'));
    expect(() => new DataLoader(indexDataset(3), { shuffle: 'yes' } as never)).toThrow(
      new TypeError('Expected boolean for shuffle but received yes of type string'));
    expect(() => new DataLoader(42 as never)).toThrow(
      new TypeError('Expected dataset, array, iterable or async iterable for dataset but received 42 of type number'));
    expect(() => new DataLoader(async function* gen() { yield 1; }, { shuffle: true })).toThrow(
      new TypeError('Expected shuffle: false for an iterable dataset (a stream is read in order) but received true'));
  });
});

describe('collate', () => {
  it('defaultCollate stacks tuples, records and numbers like PyTorch', () => {
    const [x, y] = defaultCollate([[tensor([1, 2]), 0], [tensor([3, 4]), 1]]) as Tensor[];
    expect(x.shape).toEqual([2, 2]);
    expect(Array.from(x.data)).toEqual([1, 2, 3, 4]);
    expect(Array.from(y.data)).toEqual([0, 1]);
    const record = defaultCollate([{ input: [1, 2, 3], target: 5 }, { input: Int32Array.of(4, 5, 6), target: 6 }]) as Record<string, Tensor>;
    expect(record.input.shape).toEqual([2, 3]);
    expect(Array.from(record.input.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => defaultCollate([[tensor([1, 2, 3]), 0], [tensor([1, 2]), 1]])).toThrow(new RangeError(
      'stack expects each tensor to be equal size, but got [3] at entry 0 and [2] at entry 1 (use padCollate() for variable-length sequences)'));
  });

  it('padCollate pads sequences, returns lengths, pads per-step targets with -100 and stacks labels', () => {
    const items: [number[][], number][] = [[[[1, 1], [2, 2], [3, 3]], 0], [[[4, 4]], 1], [[[5, 5], [6, 6]], 2]]
      .map(([rows, label]) => [rows as number[][], label as number]);
    const batch = padCollate()(items);
    expect(Array.from(batch.lengths)).toEqual([3, 1, 2]);
    expect(batch.input.shape).toEqual([3, 3, 2]);
    expect(batch.input.toArray()).toEqual([[[1, 1], [2, 2], [3, 3]], [[4, 4], [0, 0], [0, 0]], [[5, 5], [6, 6], [0, 0]]]);
    expect(Array.from(batch.target!.data)).toEqual([0, 1, 2]);

    const tokens = padCollate({ batchFirst: false, paddingValue: 9 })([
      { input: Int32Array.of(1, 2, 3), target: [2, 3, 4] }, { input: [5], target: [6] },
    ]);
    expect(tokens.input.shape).toEqual([3, 2]); // time-major [T, B]
    expect(tokens.input.toArray()).toEqual([[1, 5], [2, 9], [3, 9]]);
    expect(tokens.target!.toArray()).toEqual([[2, 6], [3, -100], [4, -100]]);
    expect(sequenceLength([tensor(range(8), [4, 2]), 0])).toBe(4);
  });
});

describe('bucketing', () => {
  // 200 sequences of lengths 1..40 in random order.
  const lengths = range(200).map((i) => 1 + ((i * 37) % 40));
  const items = lengths.map((len, i) => [new Float32Array(len).fill(i), i] as [Float32Array, number]);
  const padding = (loader: Iterable<PaddedBatch>): number => [...loader].reduce((total, batch) => {
    const max = Math.max(...batch.lengths);
    return total + batch.lengths.reduce((sum, l) => sum + (max - l), 0);
  }, 0);

  it('puts similar lengths together (far less padding), still every item exactly once per epoch', () => {
    const plain = new DataLoader(items, { batchSize: 16, shuffle: true, seed: 3, collate: padCollate() });
    const bucketed = new DataLoader(items, { batchSize: 16, shuffle: true, seed: 3, collate: padCollate(), bucketBy: sequenceLength });
    const plainPadding = padding(plain), bucketPadding = padding(bucketed);
    console.log(`padding steps per epoch: random batches ${plainPadding}, bucketed ${bucketPadding}`);
    expect(bucketPadding).toBeLessThan(plainPadding / 10);
    bucketed.setEpoch(0);
    const seen = [...bucketed].flatMap((batch) => Array.from(batch.target!.data));
    expect(sorted(seen)).toEqual(range(200));
    expect(bucketed.length).toBe(13);
  });

  it('without shuffle sorts by length, shortest first', () => {
    const loader = new DataLoader(items, { batchSize: 50, collate: padCollate(), bucketBy: sequenceLength });
    const maxima = [...loader].map((batch) => Math.max(...batch.lengths));
    expect(maxima).toEqual([...maxima].sort((a, b) => a - b));
    expect([...loader][0].lengths.every((l) => l <= 10)).toBe(true);
  });
});

describe('randomSplit', () => {
  it('splits by counts or fractions into disjoint subsets, reproducibly by seed', () => {
    const data = new ArrayDataset(range(10));
    const [a, b] = randomSplit(data, [0.7, 0.3], { seed: 1 });
    expect([a.length, b.length]).toEqual([7, 3]);
    const all = [...range(a.length).map((i) => a.get(i)), ...range(b.length).map((i) => b.get(i))];
    expect(sorted(all)).toEqual(range(10));
    const [again] = randomSplit(data, [7, 3], { seed: 1 });
    expect(range(7).map((i) => again.get(i))).toEqual(range(7).map((i) => a.get(i)));
    const thirds = randomSplit(data, [1 / 3, 1 / 3, 1 / 3], { seed: 2 });
    expect(thirds.map((s) => s.length)).toEqual([4, 3, 3]); // floor + remainder round-robin, as PyTorch
    expect(() => randomSplit(data, [5, 4])).toThrow(new RangeError('Sum of input lengths does not equal the length of the input dataset!'));
  });
});

describe('streams', () => {
  it('reads an async iterable one batch at a time and re-reads a factory every epoch', async () => {
    let produced = 0;
    const source = async function* source() {
      for (let i = 0; i < 10; i++) {
        produced++;
        yield [i, i * 2] as [number, number];
      }
    };
    const loader = new DataLoader(new IterableDataset(source), { batchSize: 4 });
    expect(loader.length).toBeUndefined();
    const iterator = loader[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(produced).toBe(4); // not read ahead: only the first batch's items
    expect(Array.from((first.value as Tensor[])[1].data)).toEqual([0, 2, 4, 6]);
    let batches = 1;
    while (!(await iterator.next()).done) batches++;
    expect(batches).toBe(3);
    let again = 0;
    for await (const batch of loader) again += (batch as Tensor[])[0].shape[0];
    expect(again).toBe(10);
    expect(() => [...loader]).toThrow(new TypeError('This DataLoader reads an async source: iterate it with for await (const batch of loader)'));
  });

  it('refuses to re-read a one-shot iterable, with advice', async () => {
    const once = (async function* once() { yield 1; })();
    const loader = new DataLoader(once, { batchSize: 2 });
    for await (const _ of loader) { /* drain */ }
    await expect((async () => { for await (const _ of loader) { /* again */ } })()).rejects.toThrow(
      /has been read already; pass a function that returns a fresh iterable/);
  });
});
