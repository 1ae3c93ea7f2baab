/**
 * Classification metrics beyond accuracy: a confusion matrix, precision / recall / F1 (of the
 * positive class, or macro / micro averaged over the classes) and binary ROC AUC.
 *
 * Outputs are read as {@link AccuracyMetric} reads them: class logits `[…, C]` against class
 * indices `[…]` (argmax over the last dim; targets below 0 are padding and not counted), or one
 * logit per item (`[B]` or `[B, 1]`) for two classes, positive ⇔ logit > 0. Conventions are
 * scikit-learn's: a precision or recall whose denominator is 0 is 0 (`zero_division=0`), macro
 * averages weigh every class the same, micro averages count every item the same (for single-label
 * classification micro precision = recall = F1 = accuracy).
 * @module
 */
import { Tensor } from '../tensor/tensor.js';
import { describe, intInRange, MAX_DIM, optionalChoice, optionalObject } from '../validate.js';
import type { Metric } from './metrics.js';

/** The target's values as numbers (a Tensor, an array or a typed array). */
export function targetValues(target: unknown, metric: string): ArrayLike<number> {
  if (target instanceof Tensor) return target.data;
  if (Array.isArray(target) || ArrayBuffer.isView(target)) return target as unknown as ArrayLike<number>;
  throw new TypeError(`Expected Tensor or array for the target of metric ${metric} but received ${describe(target)}`);
}

function argmax(values: ArrayLike<number>, offset: number, size: number): number {
  let best = 0;
  for (let c = 1; c < size; c++) if (values[offset + c] > values[offset + best]) best = c;
  return best;
}

/**
 * Calls `visit(predicted, label, score)` for every counted item of a batch (see the module notes).
 * `score` ranks the positive class for AUC: the logit itself for one logit per item, logit 1 −
 * logit 0 for two classes, NaN for more. Returns the number of classes the output has (2 for one logit).
 */
export function forEachPrediction(output: Tensor, target: unknown, metric: string,
  visit: (predicted: number, label: number, score: number) => void): number {
  const t = targetValues(target, metric);
  const o = output.data;
  const classes = output.ndim > 0 ? output.shape[output.ndim - 1] : 1;
  const sameShape = target instanceof Tensor && target.ndim === output.ndim && target.shape.every((d, i) => d === output.shape[i]);
  const oneHot = sameShape && output.ndim >= 2 && classes > 1;
  if (t.length === o.length && !oneHot) {
    for (let i = 0; i < o.length; i++) visit(o[i] > 0 ? 1 : 0, t[i] > 0.5 ? 1 : 0, o[i]);
    return 2;
  }
  const rows = o.length / classes;
  if (!oneHot && t.length !== rows) {
    throw new RangeError(`Expected ${rows} class indices (output [${output.shape.join(', ')}] has ${classes} classes in its last dim) `
      + `for the target of metric ${metric} but received ${t.length} values`);
  }
  for (let r = 0; r < rows; r++) {
    const label = oneHot ? argmax(t, r * classes, classes) : t[r];
    if (label < 0) continue;
    const at = r * classes;
    visit(argmax(o, at, classes), label, classes === 2 ? o[at + 1] - o[at] : Number.NaN);
  }
  return classes;
}

const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);
const harmonic = (p: number, r: number): number => (p + r === 0 ? 0 : (2 * p * r) / (p + r));

/**
 * Counts of (true class, predicted class) pairs: `counts[label][predicted]`. Usable on its own
 * (`add`, {@link ConfusionMatrix.fromPredictions}) and as a fit / evaluate metric object: pass an
 * instance in `metrics` and read it afterwards (`counts`, `format()`). Logs hold numbers, so as a
 * metric its logged value (`confusion_matrix`) is the accuracy of what it counted (trace / total).
 */
export class ConfusionMatrix implements Metric {
  /** The metric's name in the logs. */
  readonly name: string = 'confusion_matrix';
  /** Number of classes; grows when a larger label or prediction is seen (unless fixed in the constructor). */
  classes: number;
  private grid: number[][];
  private readonly fixed: boolean;

  /** @param classes the number of classes; omitted: as many as the labels and predictions seen. */
  constructor(classes?: number) {
    this.fixed = classes !== undefined;
    this.classes = classes === undefined ? 0 : intInRange(classes, 'classes', 1, MAX_DIM);
    this.grid = Array.from({ length: this.classes }, () => new Array<number>(this.classes).fill(0));
  }

  /** A matrix of `predictions` against `labels` (class indices, the same length). */
  static fromPredictions(predictions: ArrayLike<number>, labels: ArrayLike<number>, classes?: number): ConfusionMatrix {
    if (predictions.length !== labels.length) {
      throw new RangeError(`Expected as many labels as predictions (${predictions.length}) for labels but received ${labels.length}`);
    }
    const matrix = new ConfusionMatrix(classes);
    for (let i = 0; i < labels.length; i++) matrix.add(labels[i], predictions[i]);
    return matrix;
  }

  /** `counts[label][predicted]`, a copy. */
  get counts(): number[][] {
    return this.grid.map((row) => row.slice());
  }

  /** Items counted. */
  get total(): number {
    return this.grid.reduce((sum, row) => sum + row.reduce((a, b) => a + b, 0), 0);
  }

  /** Counts one item; labels and predictions are integer class indices ≥ 0. */
  add(label: number, predicted: number): void {
    const max = this.fixed ? this.classes - 1 : MAX_DIM;
    intInRange(label, 'label', 0, max);
    intInRange(predicted, 'predicted', 0, max);
    this.grow(Math.max(label, predicted) + 1);
    this.grid[label][predicted]++;
  }

  private grow(classes: number): void {
    if (classes <= this.classes) return;
    for (const row of this.grid) while (row.length < classes) row.push(0);
    while (this.grid.length < classes) this.grid.push(new Array<number>(classes).fill(0));
    this.classes = classes;
  }

  update(output: Tensor, target: unknown): void {
    const classes = forEachPrediction(output, target, this.name, (predicted, label) => this.add(label, predicted));
    if (!this.fixed) this.grow(classes);
  }

  /** Accuracy: the diagonal's share of the items (NaN before any). */
  compute(): number {
    const total = this.total;
    return total === 0 ? Number.NaN : this.grid.reduce((sum, row, c) => sum + row[c], 0) / total;
  }

  reset(): void {
    this.grid = Array.from({ length: this.fixed ? this.classes : 0 }, () => new Array<number>(this.classes).fill(0));
    if (!this.fixed) this.classes = 0;
  }

  /** Of class c: true positives / predicted c (0 when none was predicted c). */
  precision(c: number): number {
    return ratio(this.grid[c]?.[c] ?? 0, this.grid.reduce((sum, row) => sum + (row[c] ?? 0), 0));
  }

  /** Of class c: true positives / items of class c (0 when there are none). */
  recall(c: number): number {
    const row = this.grid[c] ?? [];
    return ratio(row[c] ?? 0, row.reduce((a, b) => a + b, 0));
  }

  /** Of class c: the harmonic mean of its precision and recall (0 when both are 0). */
  f1(c: number): number {
    return harmonic(this.precision(c), this.recall(c));
  }

  /** The unweighted mean over the classes of precision, recall or F1 (scikit-learn `average='macro'`). */
  macro(score: 'precision' | 'recall' | 'f1'): number {
    if (this.classes === 0) return Number.NaN;
    let sum = 0;
    for (let c = 0; c < this.classes; c++) sum += this[score](c);
    return sum / this.classes;
  }

  /**
   * The micro average of precision, recall and F1 (every item counts once): for single-label
   * classification Σ TP / Σ predicted = Σ TP / Σ actual = Σ TP / total, so all three are the accuracy.
   */
  micro(): number {
    return this.compute();
  }

  stateDict(): Record<string, number> {
    const state: Record<string, number> = { classes: this.classes };
    this.grid.forEach((row, r) => row.forEach((n, c) => { if (n !== 0) state[`${r},${c}`] = n; }));
    return state;
  }

  loadStateDict(state: Record<string, number>): void {
    this.reset();
    this.grow(state.classes);
    for (const [key, n] of Object.entries(state)) {
      if (key === 'classes') continue;
      const [r, c] = key.split(',').map(Number);
      this.grid[r][c] = n;
    }
  }

  /**
   * The matrix as text: rows are true classes, columns predictions, each row with its recall.
   * @param labels names of the classes (default their indices)
   */
  format(labels: readonly string[] = Array.from({ length: this.classes }, (_, c) => String(c))): string {
    const names = Array.from({ length: this.classes }, (_, c) => labels[c] ?? String(c));
    const first = Math.max('true\\pred'.length, ...names.map((l) => l.length));
    const width = Math.max(5, ...names.map((l) => l.length + 1), ...this.grid.flat().map((n) => String(n).length + 1));
    const lines = ['true\\pred'.padEnd(first) + names.map((l) => l.padStart(width)).join('') + '    recall'];
    this.grid.forEach((row, c) => {
      const counts = row.map((n) => String(n || '.').padStart(width)).join('');
      lines.push(`${names[c].padStart(first)}${counts}  ${(100 * this.recall(c)).toFixed(1).padStart(6)} %`);
    });
    return lines.join('\n');
  }
}

/** What a precision / recall / F1 metric reports. */
export type ScoreKind = 'precision' | 'recall' | 'f1';
/** Of one class (binary), or averaged. */
export type ScoreAverage = 'binary' | 'macro' | 'micro';

/** Options of {@link ScoreMetric}. */
export interface ScoreMetricOptions {
  /** 'binary' (default): of `positiveClass` only; 'macro' or 'micro': averaged over the classes. */
  average?: ScoreAverage;
  /** The class 'binary' reports (default 1). */
  positiveClass?: number;
}

/**
 * Precision, recall or F1 over an epoch, from a confusion matrix of the epoch's predictions. Named
 * metrics: `precision`, `recall`, `f1` (binary, positive class 1), `precision_macro`,
 * `recall_macro`, `f1_macro`, `precision_micro`, `recall_micro`, `f1_micro`.
 */
export class ScoreMetric implements Metric {
  /** The metric's name in the logs (e.g. `f1`, `precision_macro`). */
  readonly name: string;
  /** Precision, recall or F1. */
  readonly score: ScoreKind;
  /** How the classes are combined: binary (the positive class), macro or micro. */
  readonly average: ScoreAverage;
  /** The class a binary score is of. */
  readonly positiveClass: number;
  private readonly matrix = new ConfusionMatrix();

  constructor(score: ScoreKind, options: ScoreMetricOptions = {}) {
    const o = optionalObject(options, 'options');
    this.score = score;
    this.average = optionalChoice(o.average, 'average', ['binary', 'macro', 'micro'] as const, 'binary');
    this.positiveClass = o.positiveClass === undefined ? 1 : intInRange(o.positiveClass, 'positiveClass', 0, MAX_DIM);
    this.name = this.average === 'binary' ? score : `${score}_${this.average}`;
  }

  update(output: Tensor, target: unknown): void {
    this.matrix.update(output, target);
    if (this.average === 'binary' && this.matrix.classes > 2) {
      throw new RangeError(`Expected two classes for metric ${this.name} (it scores class ${this.positiveClass}) but the output has `
        + `${this.matrix.classes}; use ${this.score}_macro or ${this.score}_micro`);
    }
  }

  compute(): number {
    if (this.matrix.total === 0) return Number.NaN;
    if (this.average === 'macro') return this.matrix.macro(this.score);
    if (this.average === 'micro') return this.matrix.micro();
    return this.matrix[this.score](this.positiveClass);
  }

  reset(): void {
    this.matrix.reset();
  }

  stateDict(): Record<string, number> {
    return this.matrix.stateDict();
  }

  loadStateDict(state: Record<string, number>): void {
    this.matrix.loadStateDict(state);
  }
}

/**
 * Area under the ROC curve of the positive class (binary: one logit per item, or two classes),
 * over the epoch: the probability that a random positive item scores above a random negative one,
 * ties counting half (the Mann–Whitney statistic; scikit-learn's `roc_auc_score`). NaN when the
 * epoch has only one class. Named metric `auc`.
 */
export class AucMetric implements Metric {
  /** The metric's name in the logs. */
  readonly name = 'auc';
  private scores: number[] = [];
  private labels: number[] = [];

  update(output: Tensor, target: unknown): void {
    const scores: number[] = [], labels: number[] = [];
    const classes = forEachPrediction(output, target, this.name, (_predicted, label, score) => {
      scores.push(score);
      labels.push(label);
    });
    if (classes > 2) throw new RangeError(`Expected one logit or two classes for metric auc (binary ROC AUC) but the output has ${classes} classes`);
    const other = labels.find((label) => label !== 0 && label !== 1);
    if (other !== undefined) throw new RangeError(`Expected labels 0 and 1 for metric auc (binary) but received ${other}`);
    this.scores.push(...scores);
    this.labels.push(...labels);
  }

  compute(): number {
    return rocAuc(this.scores, this.labels);
  }

  reset(): void {
    this.scores = [];
    this.labels = [];
  }

  stateDict(): Record<string, number> {
    const state: Record<string, number> = { count: this.scores.length };
    this.scores.forEach((s, i) => { state[`s${i}`] = s; state[`l${i}`] = this.labels[i]; });
    return state;
  }

  loadStateDict(state: Record<string, number>): void {
    this.reset();
    for (let i = 0; i < state.count; i++) {
      this.scores.push(state[`s${i}`]);
      this.labels.push(state[`l${i}`]);
    }
  }
}

/**
 * ROC AUC of `scores` for binary `labels` (1 = positive): the mean rank of the positives among all
 * items (ties get their average rank), normalized — exact, O(n log n). NaN with only one class.
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let positives = 0, rankSum = 0;
  for (let start = 0; start < n;) {
    let end = start + 1;
    while (end < n && scores[order[end]] === scores[order[start]]) end++;
    const rank = (start + 1 + end) / 2; // average of the 1-based ranks start+1 … end
    for (let k = start; k < end; k++) {
      if (labels[order[k]] === 1) {
        positives++;
        rankSum += rank;
      }
    }
    start = end;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}
