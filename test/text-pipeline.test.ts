// The word-level text pipeline: tokenizer, vocabulary, TextDataset + DataLoader (lengths,
// bucketing, truncation), pooling over valid steps (against a plain per-item computation, with
// finite-difference gradients), word vectors for Embedding.fromPretrained.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DataLoader, encodeText, manualSeed, nn, padCollate, randn, readWordVectors, sequenceLength, sum, mul, tensor, TextDataset,
  Vocabulary, WordTokenizer, type PaddedBatch, type Tensor,
} from '../src/index.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rnnkit-text-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('WordTokenizer', () => {
  it('words, inner apostrophes, punctuation as tokens, lowercase, any script', () => {
    const tokenizer = new WordTokenizer();
    expect(tokenizer.tokenize("Don't miss: FREE $$$ offer!!! Ça coûte 10€, naïve café.")).toEqual([
      "don't", 'miss', ':', 'free', '$', '$', '$', 'offer', '!', '!', '!', 'ça', 'coûte', '10', '€', ',', 'naïve', 'café', '.']);
    expect(new WordTokenizer({ lowercase: false, punctuation: false }).tokenize('Hello,  World — 42!')).toEqual(['Hello', 'World', '42']);
    expect(tokenizer.tokenize('  \n\t ')).toEqual([]);
  });

  it('cuts long runs to maxTokenLength; round-trips through JSON', () => {
    const tokenizer = new WordTokenizer({ maxTokenLength: 5 });
    expect(tokenizer.tokenize('abcdefghij xy')).toEqual(['abcde', 'xy']);
    expect(WordTokenizer.fromJSON(JSON.stringify(tokenizer)).toJSON()).toEqual({ lowercase: true, punctuation: true, maxTokenLength: 5 });
  });

  it('errors name the option', () => {
    expect(() => new WordTokenizer({ lower: true } as never)).toThrow(new TypeError(
      'Expected one of lowercase, punctuation, maxTokenLength for WordTokenizer option but received lower of type string'));
    expect(() => new WordTokenizer({ maxTokenLength: 0 })).toThrow(new RangeError('Expected positive integer for maxTokenLength but received 0 of type number'));
    expect(() => new WordTokenizer().tokenize(5 as never)).toThrow(new TypeError('Expected string for text but received 5 of type number'));
  });
});

describe('Vocabulary', () => {
  const docs = [['b', 'a', 'c', 'a'], ['c', 'a', 'd'], ['e', 'b']];
  it('<pad> 0, <unk> 1, then by frequency (ties: first appearance); minFreq and maxSize', () => {
    expect(Vocabulary.build(docs).tokens).toEqual(['<pad>', '<unk>', 'a', 'b', 'c', 'd', 'e']);
    expect(Vocabulary.build(docs, { minFreq: 2 }).tokens).toEqual(['<pad>', '<unk>', 'a', 'b', 'c']);
    expect(Vocabulary.build(docs, { maxSize: 2 }).tokens).toEqual(['<pad>', '<unk>', 'a', 'b']);
    const vocab = Vocabulary.build(docs, { minFreq: 2 });
    expect(Array.from(vocab.encode(['a', 'zzz', 'c']))).toEqual([2, 1, 4]);
    expect(vocab.decode([2, 1, 0])).toEqual(['a', '<unk>', '<pad>']);
    expect(Vocabulary.fromJSON(JSON.stringify(vocab)).tokens).toEqual(vocab.tokens);
  });

  it('errors name the argument', () => {
    expect(() => Vocabulary.build(docs, { minFreq: 0 })).toThrow(new RangeError('Expected positive integer for minFreq but received 0 of type number'));
    expect(() => Vocabulary.build(docs, { min_freq: 2 } as never)).toThrow(new TypeError('Expected one of minFreq, maxSize for Vocabulary.build option but received min_freq of type string'));
    expect(() => Vocabulary.build(['abc'] as never)).toThrow(new TypeError('Expected array of tokens for a document but received abc of type string'));
    expect(() => new Vocabulary(['a', 'a'])).toThrow(new RangeError('Expected distinct tokens for tokens but received "a" twice'));
    expect(() => Vocabulary.build(docs).decode([9])).toThrow(new RangeError('Expected integer between 0 and 6 for ids[0] but received 9 of type number'));
    expect(() => Vocabulary.fromJSON({ tokens: ['a'] })).toThrow(TypeError);
  });
});

describe('TextDataset with DataLoader: lengths, bucketing, truncation', () => {
  const tokenizer = new WordTokenizer();
  const texts = ['win money now', 'meeting at noon tomorrow please', '', 'money money money money money money', 'hi'];
  const vocab = Vocabulary.build(texts.map((t) => tokenizer.tokenize(t)));

  it('items are [ids, label]; an empty text is one <unk>; maxLength keeps the start (or the end)', () => {
    const data = new TextDataset(texts, [1, 0, 0, 1, 0], { tokenizer, vocabulary: vocab, maxLength: 4 });
    const [ids, label] = data.get(3) as [Tensor, number];
    expect(Array.from(ids.data)).toEqual([vocab.idOf('money'), vocab.idOf('money'), vocab.idOf('money'), vocab.idOf('money')]);
    expect(label).toBe(1);
    expect(Array.from(data.ids[2])).toEqual([vocab.unkIndex]);
    expect(Array.from(data.ids[1])).toEqual(Array.from(vocab.encode(['meeting', 'at', 'noon', 'tomorrow'])));
    expect(Array.from(encodeText(texts[1], { tokenizer, vocabulary: vocab, maxLength: 2, truncationSide: 'start' })))
      .toEqual(Array.from(vocab.encode(['tomorrow', 'please'])));
  });

  it('padCollate gives [B, T] ids padded with <pad> and the lengths; bucketing groups lengths', () => {
    const data = new TextDataset(texts, [1, 0, 0, 1, 0], { tokenizer, vocabulary: vocab, maxLength: 4 });
    const loader = new DataLoader(data, { batchSize: 2, bucketBy: sequenceLength, collate: padCollate() });
    const batches = [...loader] as PaddedBatch[];
    expect(batches.map((b) => Array.from(b.lengths))).toEqual([[1, 1], [3, 4], [4]]);
    const second = batches[1];
    expect(second.input.shape).toEqual([2, 4]);
    expect(second.input.data[3]).toBe(vocab.padIndex);
    expect(Array.from(second.target!.data)).toEqual([1, 0]);
  });

  it('errors name the argument', () => {
    expect(() => new TextDataset(texts, [1, 0], { tokenizer, vocabulary: vocab })).toThrow(new RangeError('Expected 5 labels (one per text) for labels but received 2'));
    expect(() => new TextDataset(texts, null, { tokenizer, vocabulary: {} as never })).toThrow(new TypeError('Expected Vocabulary for vocabulary but received an object'));
    expect(() => new TextDataset([3] as never, null, { tokenizer, vocabulary: vocab })).toThrow(new TypeError('Expected string for texts[0] but received 3 of type number'));
    expect(() => new TextDataset(texts, [1, 0, -1, 0, 0], { tokenizer, vocabulary: vocab })).toThrow(new RangeError('Expected integer between 0 and 2147483647 for labels[2] but received -1 of type number'));
    expect(() => new TextDataset(texts, null, { tokenizer, vocabulary: vocab, truncationSide: 'left' as never })).toThrow(new RangeError(
      'Expected one of end, start for truncationSide but received left of type string'));
  });
});

// Pooling by hand: item b's valid rows of a time-major [T, B, F] array.
function pooledByHand(x: Float32Array, T: number, B: number, F: number, lengths: number[], mode: string, bidirectional: boolean): number[][] {
  return lengths.map((n, b) => Array.from({ length: F }, (_, f) => {
    const steps = Array.from({ length: n }, (_, t) => x[(t * B + b) * F + f]);
    if (n === 0) return 0;
    if (mode === 'mean') return steps.reduce((a, v) => a + v, 0) / n;
    if (mode === 'max') return Math.max(...steps);
    return bidirectional && f >= F / 2 ? steps[0] : steps[n - 1];
  }));
}

describe('poolSequence over valid steps', () => {
  const T = 5, B = 4, F = 6, lengths = [5, 2, 0, 3];
  for (const mode of ['last', 'mean', 'max'] as const) {
    for (const bidirectional of [false, true]) {
      it(`${mode}${bidirectional ? ', bidirectional' : ''}: values (time-major and batch-first) and finite-difference gradients`, () => {
        manualSeed(3);
        const x = randn([T, B, F], { requiresGrad: true });
        for (let i = 0; i < x.data.length; i++) if (x.data[i] > 0 && i % 7 === 0) x.data[i] = -5; // padded steps are never the max
        const pooled = nn.poolSequence(x, lengths, mode, { bidirectional });
        const want = pooledByHand(x.data, T, B, F, lengths, mode, bidirectional);
        want.flat().forEach((v, i) => expect(pooled.data[i]).toBeCloseTo(v, 6));
        const batchFirst = nn.poolSequence(tensor(transposeTB(x.data, T, B, F), [B, T, F]), lengths, mode, { bidirectional, batchFirst: true });
        expect(batchFirst.data).toEqual(pooled.data);
        const weights = randn([B, F]);
        sum(mul(pooled, weights)).backward();
        const analytic = x.grad!.data;
        const loss = (data: Float32Array) => pooledByHand(data, T, B, F, lengths, mode, bidirectional).flat()
          .reduce((a, v, i) => a + v * weights.data[i], 0);
        for (let i = 0; i < x.data.length; i += 3) {
          const saved = x.data[i];
          const h = 1e-3;
          x.data[i] = saved + h; const up = loss(x.data);
          x.data[i] = saved - h; const down = loss(x.data);
          x.data[i] = saved;
          expect(analytic[i], `element ${i}`).toBeCloseTo((up - down) / (2 * h), 3);
        }
        // nothing reaches padded steps
        for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) if (t >= lengths[b]) for (let f = 0; f < F; f++) expect(analytic[(t * B + b) * F + f]).toBe(0);
      });
    }
  }

  it('last of a bidirectional nn.LSTM output = its hN per direction', () => {
    manualSeed(2);
    const lstm = new nn.LSTM(3, 4, { bidirectional: true });
    const [output, [hN]] = lstm.forward(randn([6, 3, 3]), null, { lengths: [6, 2, 4] });
    const last = nn.poolSequence(output, [6, 2, 4], 'last', { bidirectional: true });
    for (let b = 0; b < 3; b++) {
      expect(Array.from(last.data.subarray(b * 8, b * 8 + 4))).toEqual(Array.from(hN.data.subarray(b * 4, b * 4 + 4)));
      expect(Array.from(last.data.subarray(b * 8 + 4, b * 8 + 8))).toEqual(Array.from(hN.data.subarray(12 + b * 4, 12 + b * 4 + 4)));
    }
  });

  it('errors name the argument', () => {
    const x = randn([5, 4, 6]);
    expect(() => nn.poolSequence(x, [1, 2, 3], 'mean')).toThrow(new RangeError('Expected 4 lengths (batch = 4) for lengths but received 3'));
    expect(() => nn.poolSequence(x, [1, 2, 3, 6], 'mean')).toThrow(new RangeError('Expected integer between 0 and 5 for lengths[3] but received 6 of type number'));
    expect(() => nn.poolSequence(x, null, 'sum' as never)).toThrow(new RangeError('Expected one of last, mean, max for mode but received sum of type string'));
    expect(() => nn.poolSequence(randn([5, 4, 5]), null, 'last', { bidirectional: true })).toThrow(new RangeError(
      'Expected an even feature size (two directions) for output but received 5'));
    expect(() => nn.poolSequence(randn([5, 4]), null, 'last')).toThrow(new RangeError('Expected a 3-D output ([T, B, F] or [B, T, F]) for output but received 2-D'));
  });
});

function transposeTB(x: Float32Array, T: number, B: number, F: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) for (let f = 0; f < F; f++) out[(b * T + t) * F + f] = x[(t * B + b) * F + f];
  return out;
}

describe('word vectors and Embedding.fromPretrained', () => {
  const glove = path.join(dir, 'glove.txt');
  writeFileSync(glove, 'money 0.1 0.2 0.3\nwin -1 0 1.5\nNew York 7 8 9\nmoney 9 9 9\n');
  const word2vec = path.join(dir, 'w2v.txt');
  writeFileSync(word2vec, '2 2\nhello 1 2\nworld 3 4\n');

  it('GloVe (a word with a space, a repeated word keeps its first vector) and word2vec text', () => {
    const vectors = readWordVectors(glove);
    expect(vectors.words).toEqual(['money', 'win', 'New York']);
    expect(Array.from(vectors.get('money')!)).toEqual([0.1, 0.2, 0.3].map(Math.fround));
    expect(Array.from(readWordVectors(word2vec).get('world')!)).toEqual([3, 4]);
  });

  it('laid out for a vocabulary: rows by token id, zeros for <pad> and missing tokens; frozen by default', () => {
    const vocab = new Vocabulary(['win', 'lose', 'money']);
    const embedding = nn.Embedding.fromPretrained(glove, { vocabulary: vocab, paddingIdx: vocab.padIndex });
    expect(embedding.weight.shape).toEqual([5, 3]);
    expect(Array.from(embedding.weight.data.subarray(2 * 3, 3 * 3))).toEqual([-1, 0, 1.5]);
    expect(Array.from(embedding.weight.data.subarray(3 * 3, 4 * 3))).toEqual([0, 0, 0]);
    expect(Array.from(embedding.weight.data.subarray(0, 3))).toEqual([0, 0, 0]);
    expect(embedding.weight.requiresGrad).toBe(false);
    expect(readWordVectors(glove, { vocabulary: vocab }).matrixFor(vocab).found).toBe(2);
    expect(nn.Embedding.fromPretrained(readWordVectors(word2vec), { freeze: false }).weight.requiresGrad).toBe(true);
  });

  it('bad files are named with the line', () => {
    const bad = path.join(dir, 'bad.txt');
    writeFileSync(bad, 'a 1 2 3\nb 1 2\n');
    expect(() => readWordVectors(bad)).toThrow(new RangeError(`${bad} line 2: expected 3 numbers after the word, got 2`));
    writeFileSync(bad, 'a 1 x 3\n');
    expect(() => readWordVectors(bad)).toThrow(new RangeError(`${bad} line 1: 'x' is not a number`));
    writeFileSync(bad, '\n');
    expect(() => readWordVectors(bad)).toThrow(new RangeError(`${bad}: no vectors (expected lines of a word and its numbers)`));
    expect(() => readWordVectors(path.join(dir, 'missing.txt'))).toThrow(/ENOENT/);
  });
});
