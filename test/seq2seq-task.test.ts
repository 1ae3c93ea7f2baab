// The seq2seq task module (src/tasks/seq2seq.ts) piece by piece: reading pairs, vocabularies and
// unknown symbols, the compact dataset, error rates, save/load, and its argument errors.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getRngState, manualSeed, seq2seq } from '../src/index.js';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'rnnkit-seq2seq-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('parsePairs', () => {
  it('splits a side into characters, or into words when any of its fields has a space', () => {
    const { pairs, tokenization } = seq2seq.parsePairs('\uFEFFcab\tK AE B\r\n\nab\tAE B\n', 'p.tsv');
    expect(tokenization).toEqual({ source: 'chars', target: 'spaces' });
    expect(pairs).toEqual([{ source: ['c', 'a', 'b'], target: ['K', 'AE', 'B'], line: 1 }, { source: ['a', 'b'], target: ['AE', 'B'], line: 3 }]);
    const forced = seq2seq.parsePairs('a b\txy\n', 'p.tsv', { source: 'chars', target: 'chars' });
    expect(forced.pairs[0]).toEqual({ source: ['a', ' ', 'b'], target: ['x', 'y'], line: 1 });
  });

  it('names the file and the line of a malformed pair', () => {
    expect(() => seq2seq.parsePairs('a\tb\nc\td\te\n', 'p.tsv')).toThrow(new RangeError('p.tsv line 2: expected 2 tab-separated fields (source, target) but found 3'));
    expect(() => seq2seq.parsePairs('a\tb\n \tx\n', 'p.tsv')).toThrow(new RangeError('p.tsv line 2: empty source'));
    expect(() => seq2seq.parsePairs('', 'p.tsv')).toThrow(new RangeError('p.tsv: no pairs (expected lines of source<TAB>target)'));
    expect(() => seq2seq.parsePairs('a\tb', 'p.tsv', { source: 'words' as never })).toThrow(new RangeError('Expected one of chars, spaces, auto for source but received words of type string'));
  });
});

describe('vocabularies', () => {
  const { pairs, tokenization } = seq2seq.parsePairs('cab\tK AE B\nbad\tB AE D\n', 'p.tsv');
  const vocabs = seq2seq.Seq2SeqVocabs.fromPairs(pairs, tokenization);

  it('start with the specials, then the tokens in first-seen order', () => {
    expect(vocabs.source.tokens).toEqual(['<pad>', '<s>', '</s>', '<unk>', 'c', 'a', 'b', 'd']);
    expect(vocabs.target.tokens).toEqual(['<pad>', '<s>', '</s>', '<unk>', 'K', 'AE', 'B', 'D']);
    expect(seq2seq.TokenVocab.fromJSON(JSON.stringify(vocabs.target)).tokens).toEqual(vocabs.target.tokens);
  });

  it('read unknown tokens (and specials written as text) as <unk> and list them', () => {
    const { ids, unknown } = vocabs.source.encode(['c', 'é', 'a', '<s>']);
    expect(Array.from(ids)).toEqual([4, seq2seq.UNK, 5, seq2seq.UNK]);
    expect(unknown).toEqual(['é', '<s>']);
    expect(vocabs.target.decode([4, 5, 2])).toEqual(['K', 'AE', '</s>']);
    expect(() => vocabs.target.decode([8])).toThrow(new RangeError('Expected integer between 0 and 7 for ids[0] but received 8 of type number'));
    expect(() => new seq2seq.TokenVocab(['a', 'a'], 'chars')).toThrow(new RangeError('Expected distinct tokens other than <pad> <s> </s> <unk> for tokens but received "a" at 1'));
  });

  it('PairDataset holds the pairs as views of two flat arrays, targets ending with </s>', () => {
    const data = seq2seq.PairDataset.fromPairs(pairs, vocabs);
    expect(data.length).toBe(2);
    expect(data.sourceLength(1)).toBe(3);
    const item = data.get(1);
    expect(Array.from(item.source)).toEqual([6, 5, 7]);
    expect(Array.from(item.target)).toEqual([6, 5, 7, seq2seq.EOS]);
    expect(() => seq2seq.PairDataset.fromPairs([], vocabs)).toThrow(new RangeError('Expected a non-empty array of pairs for pairs but received an Array of length 0'));
    expect(() => seq2seq.PairDataset.fromPairs([{ source: [], target: ['K'] }], vocabs)).toThrow(new RangeError('Expected a non-empty source for pairs[0] but received none'));
  });
});

describe('time budget', () => {
  it('oneCycleLr is OneCycleLR\'s shape over a fraction of the way', () => {
    expect(seq2seq.oneCycleLr(0, 1)).toBeCloseTo(1 / 25, 12);
    expect(seq2seq.oneCycleLr(0.1, 1)).toBeCloseTo(1, 12);
    expect(seq2seq.oneCycleLr(0.55, 1)).toBeCloseTo((1 + 1 / 25 / 1e4) / 2, 12);
    expect(seq2seq.oneCycleLr(1, 1)).toBeCloseTo(1 / 25 / 1e4, 12);
    expect(seq2seq.oneCycleLr(2, 1)).toBeCloseTo(1 / 25 / 1e4, 12);
  });

  it('timeLimit stops training after the batch that reaches it, the rate following the clock', async () => {
    const { pairs, tokenization } = seq2seq.parsePairs(Array.from({ length: 64 }, (_, i) => `${'abc'[i % 3]}${'de'[i % 2]}\tX Y`).join('\n'), 'p.tsv');
    const vocabs = seq2seq.Seq2SeqVocabs.fromPairs(pairs, tokenization);
    const model = seq2seq.createModel(vocabs, { hiddenSize: 8, embeddingDim: 4 });
    const rates: number[] = [];
    const started = performance.now();
    const history = await seq2seq.train(model, vocabs, pairs, {
      schedule: 'oneCycle', timeLimit: 0.5, epochs: 100_000, batchSize: 8, lr: 0.01, progress: false,
      callbacks: { onBatchEnd: (_b, _l, context) => { rates.push(context.optimizer.paramGroups[0].lr); } },
    });
    const seconds = (performance.now() - started) / 1000;
    expect(history.stopReason).toBe('callback');
    expect(seconds).toBeGreaterThanOrEqual(0.5);
    expect(seconds).toBeLessThan(5);
    expect(rates[0]).toBeLessThan(0.01 / 10); // warming up
    expect(Math.max(...rates)).toBeGreaterThan(0.009); // the peak, around 10 % of the budget
    expect(rates.at(-1)).toBeLessThan(0.005); // annealing: past the middle of the cosine by the last batch (batches are slow on a loaded machine)
  });
});

describe('error rates', () => {
  it('edit distance over tokens', () => {
    expect(seq2seq.editDistance(['K', 'AE', 'T'], ['K', 'AE', 'T'])).toBe(0);
    expect(seq2seq.editDistance(['K', 'AE', 'T'], ['K', 'AH', 'T', 'S'])).toBe(2);
    expect(seq2seq.editDistance([], ['A', 'B'])).toBe(2);
    expect(seq2seq.editDistance('kitten', 'sitting')).toBe(3);
  });
});

describe('model, training options, save and load', () => {
  const { pairs, tokenization } = seq2seq.parsePairs('cab\tK AE B\nbad\tB AE D\ndab\tD AE B\n', 'p.tsv');
  const vocabs = seq2seq.Seq2SeqVocabs.fromPairs(pairs, tokenization);

  it('save/load round-trips weights, vocabularies and configuration without touching the RNG', () => {
    manualSeed(1);
    const model = seq2seq.createModel(vocabs, { hiddenSize: 8, embeddingDim: 4, attention: 'additive', cell: 'gru', numLayers: 2 });
    const file = path.join(scratch, 'm.safetensors');
    seq2seq.save(file, model, vocabs, { note: 'x' });
    const rng = getRngState();
    const loaded = seq2seq.load(file);
    expect(getRngState()).toEqual(rng);
    expect(loaded.config).toEqual(seq2seq.configOf(model));
    expect(loaded.config).toMatchObject({ cell: 'gru', attention: 'additive', numLayers: 2, hiddenSize: 8, bidirectional: true });
    expect(loaded.metadata).toEqual({ note: 'x' });
    const sources = [['c', 'a', 'b'], ['d', 'a']];
    expect(seq2seq.translate(loaded.model, loaded.vocabs, sources, { beamWidth: 2 })).toEqual(seq2seq.translate(model, vocabs, sources, { beamWidth: 2 }));
    expect(() => seq2seq.save(file, model, vocabs, { 'rnnkit.task': 'x' }))
      .toThrow(new RangeError('Expected a metadata key other than rnnkit.task, rnnkit.seq2seq, rnnkit.vocab.source, rnnkit.vocab.target (written by save) but received rnnkit.task'));
  });

  it('rejects bad options with the argument named', async () => {
    const model = seq2seq.createModel(vocabs, { hiddenSize: 4, embeddingDim: 2 });
    await expect(seq2seq.train(model, vocabs, pairs, { epochs: 0 })).rejects.toThrow(new RangeError('Expected positive integer for epochs but received 0 of type number'));
    await expect(seq2seq.train(model, vocabs, pairs, { labelSmoothing: 1 })).rejects.toThrow(new RangeError('Expected number in [0, 1) for labelSmoothing but received 1 of type number'));
    await expect(seq2seq.train(model, vocabs, pairs, { beam: 2 } as never)).rejects
      .toThrow(new TypeError('Expected one of validation, epochs, batchSize, lr, schedule, timeLimit, patience, labelSmoothing, clipGradNorm, seed, callbacks, progress, signal for train option but received beam of type string'));
    await expect(seq2seq.train(model, vocabs, pairs, { timeLimit: 5 })).rejects.toThrow(new TypeError('Expected schedule oneCycle with timeLimit but received plateau'));
    await expect(seq2seq.train(model, vocabs, pairs, { schedule: 'oneCycle', timeLimit: 0 })).rejects
      .toThrow(new RangeError('Expected positive number for timeLimit but received 0 of type number'));
    const other = seq2seq.Seq2SeqVocabs.fromPairs([{ source: ['z'], target: ['Z'] }]);
    expect(() => seq2seq.translate(model, other, [['z']])).toThrow(new RangeError('Expected vocabularies of 8 source and 8 target tokens (the model\'s) but received 5 and 5'));
    expect(() => seq2seq.translate(model, vocabs, [[]])).toThrow(new RangeError('Expected a non-empty array of tokens for sources[0] but received an Array of length 0'));
    expect(() => seq2seq.translate(model, vocabs, [['a']], { beamWidth: 0 })).toThrow(new RangeError('Expected positive integer for beamWidth but received 0 of type number'));
    expect(() => seq2seq.createModel(vocabs, { attention: 'concat' as never })).toThrow(new RangeError('Expected one of dot, general, additive for attention but received concat of type string'));
  });
});
