// Classification metrics (src/train/classification.ts) against values computed by hand, through
// fit/evaluate by name and on their own. Exact fractions, compared to 1e-12.
import { describe, expect, it } from 'vitest';
import {
  AucMetric, ConfusionMatrix, createMetrics, DataLoader, evaluate, nn, rocAuc, ScoreMetric, tensor, TensorDataset, type Tensor,
} from '../src/index.js';

const CLOSE = 12;

// Binary, one logit per item. Predicted (logit > 0): 1 0 1 1 0 0 1 1; labels 1 1 1 0 0 0 1 0.
// TP 3 (items 0, 2, 6), FN 1 (1), FP 2 (3, 7), TN 2 (4, 5).
const binaryLogits = [2.0, -1.0, 0.5, 0.3, -2.0, -0.5, 1.5, 0.5];
const binaryLabels = [1, 1, 1, 0, 0, 0, 1, 0];
// precision 3/5, recall 3/4, F1 2·(3/5)(3/4)/(3/5 + 3/4) = 2/3; class 0: precision 2/3, recall 2/4,
// F1 4/7. AUC: positive scores 2, −1, 0.5, 1.5 against negative 0.3, −2, −0.5, 0.5: pairs won
// 4 + 1 + (3 + ½ for the tie at 0.5) + 4 = 12.5 of 16.
const BINARY = {
  accuracy: 5 / 8, precision: 3 / 5, recall: 3 / 4, f1: 2 / 3, auc: 12.5 / 16,
  precision_macro: (2 / 3 + 3 / 5) / 2, recall_macro: (1 / 2 + 3 / 4) / 2, f1_macro: (4 / 7 + 2 / 3) / 2,
  precision_micro: 5 / 8, recall_micro: 5 / 8, f1_micro: 5 / 8,
};

// Three classes, logits → argmax 0 0 1 1 1 2, labels 0 0 0 1 2 2, and a padded row (label −100).
// Confusion [[2, 1, 0], [0, 1, 0], [0, 1, 1]]: precision 1, 1/3, 1; recall 2/3, 1, 1/2;
// F1 4/5, 1/2, 2/3.
const multiLogits = [[2, 0, 0], [1, 0, -1], [0, 3, 1], [0, 1, 0], [-1, 2, 1], [0, 0, 5], [9, 0, 0]];
const multiLabels = [0, 0, 0, 1, 2, 2, -100];
const MULTI = {
  accuracy: 4 / 6, precision_macro: (1 + 1 / 3 + 1) / 3, recall_macro: (2 / 3 + 1 + 1 / 2) / 3, f1_macro: (4 / 5 + 1 / 2 + 2 / 3) / 3,
  precision_micro: 4 / 6, recall_micro: 4 / 6, f1_micro: 4 / 6,
};

/** A model that returns its input: the batches' "inputs" are the logits. */
class Echo extends nn.Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

async function evaluated(logits: number[] | number[][], labels: number[], names: string[], batchSize: number) {
  const x = tensor(logits as number[][]);
  const loader = new DataLoader(new TensorDataset(x, tensor(labels)), { batchSize });
  return evaluate(new Echo(), loader, { metrics: names as never });
}

describe('named metrics in evaluate, against hand-computed values', () => {
  it('binary (one logit per item), accumulated over batches of 3', async () => {
    const result = await evaluated(binaryLogits, binaryLabels, Object.keys(BINARY), 3);
    for (const [name, want] of Object.entries(BINARY)) expect(result[name], name).toBeCloseTo(want, CLOSE);
  });

  it('binary as two-class logits: the same numbers (AUC scores logit 1 − logit 0)', async () => {
    const twoClass = binaryLogits.map((v) => [0.25, 0.25 + v]);
    const result = await evaluated(twoClass, binaryLabels, Object.keys(BINARY), 5);
    for (const [name, want] of Object.entries(BINARY)) expect(result[name], name).toBeCloseTo(want, CLOSE);
  });

  it('three classes: macro and micro averages; padded targets not counted', async () => {
    const result = await evaluated(multiLogits, multiLabels, Object.keys(MULTI), 2);
    for (const [name, want] of Object.entries(MULTI)) expect(result[name], name).toBeCloseTo(want, CLOSE);
  });

  it('binary-only metrics refuse more classes, naming the alternatives', async () => {
    await expect(evaluated(multiLogits, multiLabels, ['f1'], 7)).rejects.toThrow(new RangeError(
      'Expected two classes for metric f1 (it scores class 1) but the output has 3; use f1_macro or f1_micro'));
    await expect(evaluated(multiLogits, multiLabels, ['auc'], 7)).rejects.toThrow(new RangeError(
      'Expected one logit or two classes for metric auc (binary ROC AUC) but the output has 3 classes'));
  });
});

describe('ConfusionMatrix', () => {
  it('counts[label][predicted] from a metric update, with per-class and averaged scores', () => {
    const matrix = new ConfusionMatrix();
    matrix.update(tensor(multiLogits), tensor(multiLabels));
    expect(matrix.counts).toEqual([[2, 1, 0], [0, 1, 0], [0, 1, 1]]);
    expect(matrix.total).toBe(6);
    expect([0, 1, 2].map((c) => matrix.precision(c))).toEqual([1, 1 / 3, 1]);
    expect([0, 1, 2].map((c) => matrix.recall(c))).toEqual([2 / 3, 1, 1 / 2]);
    expect(matrix.f1(0)).toBeCloseTo(0.8, CLOSE);
    expect(matrix.macro('f1')).toBeCloseTo(MULTI.f1_macro, CLOSE);
    expect(matrix.compute()).toBeCloseTo(4 / 6, CLOSE);
  });

  it('fromPredictions with a fixed class count, and its text form', () => {
    const matrix = ConfusionMatrix.fromPredictions([0, 1, 1, 0], [0, 1, 0, 0], 3);
    expect(matrix.counts).toEqual([[2, 1, 0], [0, 1, 0], [0, 0, 0]]);
    expect(matrix.recall(2)).toBe(0); // no items of class 2: 0, not NaN (zero_division = 0)
    expect(matrix.format(['ham', 'spam', 'other'])).toBe([
      'true\\pred   ham  spam other    recall',
      '      ham     2     1     .    66.7 %',
      '     spam     .     1     .   100.0 %',
      '    other     .     .     .     0.0 %',
    ].join('\n'));
    expect(() => matrix.add(3, 0)).toThrow(new RangeError('Expected integer between 0 and 2 for label but received 3 of type number'));
    expect(() => ConfusionMatrix.fromPredictions([0, 1], [0], 2)).toThrow(new RangeError('Expected as many labels as predictions (2) for labels but received 1'));
  });

  it('as a metric object in evaluate: read after the run; its logged value is the accuracy', async () => {
    const matrix = new ConfusionMatrix(2);
    const x = tensor(binaryLogits);
    const result = await evaluate(new Echo(), new DataLoader(new TensorDataset(x, tensor(binaryLabels)), { batchSize: 3 }), { metrics: [matrix] });
    expect(matrix.counts).toEqual([[2, 2], [1, 3]]);
    expect(result.confusion_matrix).toBe(5 / 8);
  });

  it('stateDict round trip (a resumed epoch keeps its counts)', () => {
    const matrix = new ConfusionMatrix();
    matrix.update(tensor(multiLogits), tensor(multiLabels));
    const copy = new ConfusionMatrix();
    copy.loadStateDict(JSON.parse(JSON.stringify(matrix.stateDict())) as Record<string, number>);
    expect(copy.counts).toEqual(matrix.counts);
    const [auc] = createMetrics(['auc']) as [AucMetric];
    auc.update(tensor(binaryLogits), tensor(binaryLabels));
    const again = new AucMetric();
    again.loadStateDict(auc.stateDict());
    expect(again.compute()).toBe(12.5 / 16);
  });
});

describe('rocAuc', () => {
  it('perfect, reversed, all tied, one class', () => {
    expect(rocAuc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(1);
    expect(rocAuc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1])).toBe(0);
    expect(rocAuc([0.5, 0.5, 0.5], [0, 1, 1])).toBe(0.5);
    expect(rocAuc([0.1, 0.2], [1, 1])).toBeNaN();
  });

  it('a 0/1 label check, a ScoreMetric option check', () => {
    const auc = new AucMetric();
    expect(() => auc.update(tensor([[0, 1], [1, 0]]), tensor([2, 0]))).toThrow(new RangeError('Expected labels 0 and 1 for metric auc (binary) but received 2'));
    expect(() => new ScoreMetric('f1', { average: 'weighted' as never })).toThrow(new RangeError(
      'Expected one of binary, macro, micro for average but received weighted of type string'));
    const f1Of0 = new ScoreMetric('f1', { positiveClass: 0 });
    f1Of0.update(tensor(binaryLogits), tensor(binaryLabels));
    expect(f1Of0.compute()).toBeCloseTo(4 / 7, CLOSE);
  });
});
