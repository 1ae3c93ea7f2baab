// The text classification task (src/tasks/textclass.ts) on a small synthetic corpus whose class
// is carried by word ORDER, not by which words appear ("not good" vs "good, not bad"), so a
// bag-of-words can not separate it and the recurrent model has to read: it must beat the majority
// class by a wide margin in a few seconds of training. Then predict, save/load (bit for bit),
// evaluate's numbers against its own confusion matrix, and the errors.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { manualSeed, textclass } from '../src/index.js';
import { randomInt } from '../src/tensor/random.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rnnkit-textclass-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FILLER = ['the', 'movie', 'was', 'really', 'quite', 'plot', 'acting', 'overall', 'and', 'i', 'think', 'it'];

/** A review: filler words around "not X" (negative) or "X" then "not" later (positive); X in good/great/fine. */
function review(positive: boolean): string {
  const words = Array.from({ length: 4 + randomInt(6) }, () => FILLER[randomInt(FILLER.length)]);
  const adjective = ['good', 'great', 'fine'][randomInt(3)];
  const at = randomInt(words.length);
  if (positive) words.splice(at, 0, adjective, 'yes', 'not', 'bad');
  else words.splice(at, 0, 'not', adjective, 'yes', 'bad');
  return words.join(' ');
}

function corpus(n: number, seed: number): { texts: string[]; labels: string[] } {
  manualSeed(seed);
  const labels = Array.from({ length: n }, () => (randomInt(3) === 0 ? 'pos' : 'neg'));
  return { texts: labels.map((l) => review(l === 'pos')), labels };
}

describe('textclass on a corpus that needs word order', () => {
  const train = corpus(600, 1);
  const test = corpus(200, 2);
  let model: textclass.TextClassifier;

  it('trains in a few epochs and beats the majority class (and a bag of words could not)', async () => {
    manualSeed(3);
    model = textclass.buildClassifier(train.texts, train.labels, { embeddingDim: 16, hiddenSize: 16, minFreq: 1 });
    expect(model.labels).toEqual(['neg', 'pos']);
    const history = await textclass.train(model, train.texts, train.labels, {
      validation: test, epochs: 6, batchSize: 16, lr: 1e-2, progress: false, seed: 4,
    });
    expect(Object.keys(history.metrics)).toEqual(expect.arrayContaining(['loss', 'accuracy', 'f1', 'auc', 'val_loss', 'val_f1', 'val_auc']));
    const report = textclass.evaluate(model, test.texts, test.labels);
    const majority = test.labels.filter((l) => l === 'neg').length / test.labels.length;
    console.log(`textclass synthetic: accuracy ${report.accuracy.toFixed(3)} (majority ${majority.toFixed(3)}), F1 ${report.f1.toFixed(3)}, AUC ${report.auc.toFixed(3)}`);
    expect(report.accuracy).toBeGreaterThan(0.95); // majority ≈ 0.68; the same multiset of words in both classes
    expect(report.auc).toBeGreaterThan(0.98);
    // the report is its confusion matrix's
    expect(report.confusion.total).toBe(200);
    expect(report.f1).toBe(report.confusion.f1(1));
    expect(report.accuracy).toBe(report.confusion.compute());
  });

  it('predict: label, probability and all probabilities, in the given order', () => {
    const texts = ['the movie not great yes bad', 'great yes not bad the plot', ''];
    const predictions = model.predict(texts);
    expect(predictions.map((p) => p.label)).toEqual(['neg', 'pos', expect.any(String)]);
    for (const p of predictions) {
      expect(p.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(p.probability).toBe(Math.max(...p.probabilities));
    }
    // batching (sorted by length) does not change a document's numbers
    const alone = texts.map((t) => model.predict([t])[0].probabilities);
    predictions.forEach((p, i) => p.probabilities.forEach((v, c) => expect(v).toBeCloseTo(alone[i][c], 6)));
  });

  it('save / load: the same probabilities bit for bit, the caller metadata back, no RNG consumed', () => {
    const file = path.join(dir, 'reviews.safetensors');
    textclass.save(file, model, { textColumn: 'review' });
    const want = model.probabilities(test.texts.slice(0, 20));
    manualSeed(99);
    const { model: loaded, metadata } = textclass.load(file);
    const afterLoad = randomInt(1000);
    manualSeed(99);
    expect(randomInt(1000)).toBe(afterLoad);
    expect(metadata).toEqual({ textColumn: 'review' });
    expect(loaded.labels).toEqual(['neg', 'pos']);
    expect(loaded.vocabulary.tokens).toEqual(model.vocabulary.tokens);
    expect(loaded.probabilities(test.texts.slice(0, 20))).toEqual(want);
    expect(textclass.load(textclass.serialize(model)).model.config).toEqual(model.config);
  });
});

describe('textclass errors', () => {
  const { texts, labels } = corpus(20, 5);
  it('name the argument and what was expected', async () => {
    expect(() => textclass.buildClassifier(texts, labels.slice(1))).toThrow(new RangeError('Expected 20 labels (one per text) for labels but received 19'));
    expect(() => textclass.buildClassifier(texts, texts.map(() => 'x'))).toThrow(new RangeError('Expected at least 2 classes in labels but every label is "x"'));
    expect(() => textclass.buildClassifier(texts, labels, { pooling: 'sum' as never })).toThrow(new RangeError(
      'Expected one of last, mean, max for pooling but received sum of type string'));
    expect(() => textclass.buildClassifier(texts, labels, { recurrentDropout: 1 })).toThrow(new RangeError(
      'Expected number in [0, 1) for recurrentDropout but received 1 of type number'));
    expect(() => textclass.buildClassifier(texts, labels, { hidden: 3 } as never)).toThrow(new TypeError(
      'Expected one of cell, embeddingDim, hiddenSize, numLayers, bidirectional, pooling, inputDropout, recurrentDropout, dropout, maxLength for TextClassifier option but received hidden of type string'));
    const model = textclass.buildClassifier(texts, labels, { embeddingDim: 4, hiddenSize: 4 });
    await expect(textclass.train(model, texts, labels.map((l, i) => (i === 3 ? 'maybe' : l)), { progress: false })).rejects.toThrow(new RangeError(
      'Expected one of neg, pos for labels[3] but received "maybe"'));
    await expect(textclass.train(model, texts, labels, { epoch: 3 } as never)).rejects.toThrow(new TypeError(
      'Expected one of validation, epochs, batchSize, lr, clipGradNorm, seed, metrics, callbacks, progress, signal for train option but received epoch of type string'));
    expect(() => model.predict([3] as never)).toThrow(new TypeError('Expected string for texts[0] but received 3 of type number'));
    expect(() => textclass.load(path.join(dir, 'missing.safetensors'))).toThrow(/ENOENT|no such file/);
  });

  it('sortLabels: numbers as numbers, else text', () => {
    expect(textclass.sortLabels(['10', '2', '1', '2'])).toEqual(['1', '2', '10']);
    expect(textclass.sortLabels(['spam', 'ham'])).toEqual(['ham', 'spam']);
  });
});
