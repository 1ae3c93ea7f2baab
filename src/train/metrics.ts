/**
 * Metrics accumulated over an epoch: built-ins by name (`'loss'`, `'accuracy'`, `'perplexity'`,
 * `'mae'`, and the classification scores of ./classification.ts: `'precision'`, `'recall'`,
 * `'f1'`, their `_macro` / `_micro` averages, `'auc'`) or any object with `name`, `update` and
 * `compute` (such as a `ConfusionMatrix`).
 * @module
 */
import type { Tensor } from '../tensor/tensor.js';
import { describe } from '../validate.js';
import { AucMetric, forEachPrediction, ScoreMetric, targetValues } from './classification.js';

/** What a metric sees besides the model output and the target. */
export interface MetricContext {
  /** The batch's loss (mean over the batch, as the loss function returns it). */
  loss: number;
  /** Items in the batch (weights the mean of per-batch values). */
  batchSize: number;
}

/**
 * A metric: `update` once per batch (or per truncated-BPTT chunk), `compute` at the end of the
 * epoch, `reset` before the next (a metric without `reset` must clear itself in `compute`).
 * `stateDict` / `loadStateDict` (optional) let a run resumed in the middle of an epoch report the
 * whole epoch.
 */
export interface Metric {
  /** The name in the logs (`val_` + name for validation). */
  readonly name: string;
  /** Adds a batch: the model's output, the target, and the batch's loss and size. */
  update(output: Tensor, target: unknown, context: MetricContext): void;
  /** The value over the batches since the last reset. */
  compute(): number;
  /** Clears the state for the next epoch. */
  reset?(): void;
  /** The state, for checkpoints taken in the middle of an epoch. */
  stateDict?(): Record<string, number>;
  /** Restores what `stateDict` returned. */
  loadStateDict?(state: Record<string, number>): void;
}

/** Built-in metric names. */
export const METRIC_NAMES = [
  'loss', 'accuracy', 'perplexity', 'mae', 'precision', 'recall', 'f1', 'precision_macro', 'recall_macro', 'f1_macro',
  'precision_micro', 'recall_micro', 'f1_micro', 'auc',
] as const;

/** A metric by built-in name, or a {@link Metric} object. */
export type MetricSpec = (typeof METRIC_NAMES)[number] | Metric;

// Sum and count, the state of every built-in (a mean of something).
abstract class MeanMetric implements Metric {
  abstract readonly name: string;
  /** Sum of the values so far. */
  protected sum = 0;
  /** What the sum is divided by. */
  protected count = 0;

  /** Adds a batch: the model's output, the target, and the batch's loss and size. */
  abstract update(output: Tensor, target: unknown, context: MetricContext): void;

  compute(): number {
    return this.count === 0 ? NaN : this.sum / this.count;
  }

  reset(): void {
    this.sum = 0;
    this.count = 0;
  }

  stateDict(): Record<string, number> {
    return { sum: this.sum, count: this.count };
  }

  loadStateDict(state: Record<string, number>): void {
    this.sum = state.sum;
    this.count = state.count;
  }
}

/** Mean loss over the epoch, each batch weighted by its size. */
export class LossMetric extends MeanMetric {
  /** The metric's name in the logs. */
  readonly name: string = 'loss';

  update(_output: Tensor, _target: unknown, { loss, batchSize }: MetricContext): void {
    this.sum += loss * batchSize;
    this.count += batchSize;
  }
}

/** exp(mean loss): for a language model trained with cross-entropy (nats). */
export class PerplexityMetric extends LossMetric {
  /** The metric's name in the logs. */
  override readonly name = 'perplexity';

  override compute(): number {
    return Math.exp(super.compute());
  }
}

/**
 * Fraction of correct predictions. Class logits `[…, C]` (C > 1) against class indices `[…]`:
 * argmax over the last dim; targets below 0 (padding, ignoreIndex −100) are not counted. Against
 * one-hot / probability targets of the output's shape: argmax of both. One logit per item (the
 * output has the target's element count): positive logit ⇔ class 1.
 */
export class AccuracyMetric extends MeanMetric {
  /** The metric's name in the logs. */
  readonly name = 'accuracy';

  update(output: Tensor, target: unknown): void {
    forEachPrediction(output, target, this.name, (predicted, label) => {
      this.sum += predicted === label ? 1 : 0;
      this.count++;
    });
  }
}

/** Mean absolute error between output and target (same element count). */
export class MaeMetric extends MeanMetric {
  /** The metric's name in the logs. */
  readonly name = 'mae';

  update(output: Tensor, target: unknown): void {
    const t = targetValues(target, this.name);
    const o = output.data;
    if (t.length !== o.length) {
      throw new RangeError(`Expected ${o.length} values (the output's element count) for the target of metric mae but received ${t.length}`);
    }
    for (let i = 0; i < o.length; i++) this.sum += Math.abs(o[i] - t[i]);
    this.count += o.length;
  }
}

const FACTORIES: Record<(typeof METRIC_NAMES)[number], () => Metric> = {
  loss: () => new LossMetric(),
  accuracy: () => new AccuracyMetric(),
  perplexity: () => new PerplexityMetric(),
  mae: () => new MaeMetric(),
  precision: () => new ScoreMetric('precision'),
  recall: () => new ScoreMetric('recall'),
  f1: () => new ScoreMetric('f1'),
  precision_macro: () => new ScoreMetric('precision', { average: 'macro' }),
  recall_macro: () => new ScoreMetric('recall', { average: 'macro' }),
  f1_macro: () => new ScoreMetric('f1', { average: 'macro' }),
  precision_micro: () => new ScoreMetric('precision', { average: 'micro' }),
  recall_micro: () => new ScoreMetric('recall', { average: 'micro' }),
  f1_micro: () => new ScoreMetric('f1', { average: 'micro' }),
  auc: () => new AucMetric(),
};

function isMetric(value: unknown): value is Metric {
  const m = value as Metric | null;
  return typeof m === 'object' && m !== null && typeof m.name === 'string' && m.name !== ''
    && typeof m.update === 'function' && typeof m.compute === 'function';
}

/**
 * Fresh metric objects for `specs` (validated; `name` is where they came from, for messages).
 * @throws RangeError `Expected one of loss, accuracy, perplexity, mae, precision, recall, f1, precision_macro, recall_macro, f1_macro, precision_micro, recall_micro, f1_micro, auc or a metric object { name, update, compute } for metrics[1] but received acc of type string`;
 *   RangeError for two metrics with the same name.
 */
export function createMetrics(specs: unknown, name = 'metrics'): Metric[] {
  if (specs === undefined) return [];
  if (!Array.isArray(specs)) throw new TypeError(`Expected array for ${name} but received ${describe(specs)}`);
  const metrics = specs.map((spec, i) => {
    if (typeof spec === 'string' && Object.hasOwn(FACTORIES, spec)) return FACTORIES[spec as keyof typeof FACTORIES]();
    if (isMetric(spec)) return spec;
    const message = `Expected one of ${METRIC_NAMES.join(', ')} or a metric object { name, update, compute } for ${name}[${i}] but received ${describe(spec)}`;
    throw typeof spec === 'string' ? new RangeError(message) : new TypeError(message);
  });
  const seen = new Set<string>();
  for (const metric of metrics) {
    if (seen.has(metric.name)) throw new RangeError(`Expected distinct metric names for ${name} but received ${metric.name} twice`);
    seen.add(metric.name);
  }
  return metrics;
}

/** Metrics with `loss` first (added when absent): fit and evaluate always report the loss. */
export function withLoss(metrics: Metric[]): Metric[] {
  return metrics.some((m) => m.name === 'loss') ? metrics : [new LossMetric(), ...metrics];
}

/** name → value of every metric, with a prefix (`val_`). */
export function computeMetrics(metrics: readonly Metric[], prefix = ''): Record<string, number> {
  return Object.fromEntries(metrics.map((m) => [prefix + m.name, m.compute()]));
}

/** Resets every metric that can be reset. */
export function resetMetrics(metrics: readonly Metric[]): void {
  for (const m of metrics) m.reset?.();
}
