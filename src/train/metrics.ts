/**
 * Metrics accumulated over an epoch: built-ins by name (`'loss'`, `'accuracy'`, `'perplexity'`,
 * `'mae'`) or any object with `name`, `update` and `compute`.
 * @module
 */
import { Tensor } from '../tensor/tensor.js';
import { describe } from '../validate.js';

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
  readonly name: string;
  update(output: Tensor, target: unknown, context: MetricContext): void;
  compute(): number;
  reset?(): void;
  stateDict?(): Record<string, number>;
  loadStateDict?(state: Record<string, number>): void;
}

/** A metric by built-in name, or a {@link Metric} object. */
export type MetricSpec = 'loss' | 'accuracy' | 'perplexity' | 'mae' | Metric;

/** Built-in metric names. */
export const METRIC_NAMES = ['loss', 'accuracy', 'perplexity', 'mae'] as const;

// Sum and count, the state of every built-in (a mean of something).
abstract class MeanMetric implements Metric {
  abstract readonly name: string;
  protected sum = 0;
  protected count = 0;

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
  readonly name: string = 'loss';

  update(_output: Tensor, _target: unknown, { loss, batchSize }: MetricContext): void {
    this.sum += loss * batchSize;
    this.count += batchSize;
  }
}

/** exp(mean loss): for a language model trained with cross-entropy (nats). */
export class PerplexityMetric extends LossMetric {
  override readonly name = 'perplexity';

  override compute(): number {
    return Math.exp(super.compute());
  }
}

/** The target's values as numbers (a Tensor, an array or a typed array). */
function targetValues(target: unknown, metric: string): ArrayLike<number> {
  if (target instanceof Tensor) return target.data;
  if (Array.isArray(target) || ArrayBuffer.isView(target)) return target as unknown as ArrayLike<number>;
  throw new TypeError(`Expected Tensor or array for the target of metric ${metric} but received ${describe(target)}`);
}

/**
 * Fraction of correct predictions. Class logits `[…, C]` (C > 1) against class indices `[…]`:
 * argmax over the last dim; targets below 0 (padding, ignoreIndex −100) are not counted. Against
 * one-hot / probability targets of the output's shape: argmax of both. One logit per item (the
 * output has the target's element count): positive logit ⇔ class 1.
 */
export class AccuracyMetric extends MeanMetric {
  readonly name = 'accuracy';

  update(output: Tensor, target: unknown): void {
    const t = targetValues(target, this.name);
    const o = output.data;
    const classes = output.ndim > 0 ? output.shape[output.ndim - 1] : 1;
    const sameShape = target instanceof Tensor && target.ndim === output.ndim && target.shape.every((d, i) => d === output.shape[i]);
    const oneHot = sameShape && output.ndim >= 2 && classes > 1;
    if (t.length === o.length && !oneHot) {
      for (let i = 0; i < o.length; i++) this.sum += (o[i] > 0) === (t[i] > 0.5) ? 1 : 0;
      this.count += o.length;
      return;
    }
    const rows = o.length / classes;
    if (!oneHot && t.length !== rows) {
      throw new RangeError(`Expected ${rows} class indices (output [${output.shape.join(', ')}] has ${classes} classes in its last dim) `
        + `for the target of metric accuracy but received ${t.length} values`);
    }
    for (let r = 0; r < rows; r++) {
      const label = oneHot ? argmax(t, r * classes, classes) : t[r];
      if (label < 0) continue;
      this.sum += argmax(o, r * classes, classes) === label ? 1 : 0;
      this.count++;
    }
  }
}

function argmax(values: ArrayLike<number>, offset: number, size: number): number {
  let best = 0;
  for (let c = 1; c < size; c++) if (values[offset + c] > values[offset + best]) best = c;
  return best;
}

/** Mean absolute error between output and target (same element count). */
export class MaeMetric extends MeanMetric {
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
};

function isMetric(value: unknown): value is Metric {
  const m = value as Metric | null;
  return typeof m === 'object' && m !== null && typeof m.name === 'string' && m.name !== ''
    && typeof m.update === 'function' && typeof m.compute === 'function';
}

/**
 * Fresh metric objects for `specs` (validated; `name` is where they came from, for messages).
 * @throws RangeError `Expected one of loss, accuracy, perplexity, mae or a metric object { name, update, compute } for metrics[1] but received acc of type string`;
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
