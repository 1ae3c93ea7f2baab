/**
 * `evaluate` (metrics over a loader, no gradients) and `predict` (outputs), beside `fit`. Both run
 * the model in eval mode (dropout off) and put back the mode it had; the model is called as fit
 * calls it (src/train/batch.ts), on the thread pool when it has `forwardAsync`.
 * @module
 */
import { Module } from '../nn/module.js';
import { noGrad } from '../tensor/autograd.js';
import { cat } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { checkOptions, describe, isNullish, optionalObject } from '../validate.js';
import {
  callModel, resolveLoss, toBatch, yieldToEventLoop, type Batch, type BatchLike, type BatchSource, type ForwardHook, type LossFn,
  type LossSpec,
} from './batch.js';
import { computeMetrics, createMetrics, resetMetrics, withLoss, type Metric, type MetricSpec } from './metrics.js';

/** Options of {@link evaluate}: `M` is the model, `B` the loader's batches. */
export interface EvaluateOptions<M extends Module = Module, B extends BatchLike = BatchLike> {
  /** Metrics to compute (built-in names or objects). */
  metrics?: MetricSpec[];
  /** The loss, to report `loss` (required for the `loss` and `perplexity` metrics). */
  loss?: LossSpec;
  /** A custom model call (see src/train/batch.ts). */
  forward?: ForwardHook<M, B>;
  /** Stops between batches; evaluate then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** What {@link runEvaluation} needs. */
export interface EvaluationRun {
  metrics: Metric[];
  loss: LossFn | null;
  forward: ForwardHook | undefined;
  signal: AbortSignal | undefined;
}

/** The batches of any loader-like source, as an async iterable. */
export function batchesOf(source: unknown, name: string): AsyncIterable<unknown> {
  if (typeof source === 'object' && source !== null && (Symbol.asyncIterator in source || Symbol.iterator in source)) {
    return source as AsyncIterable<unknown>;
  }
  throw new TypeError(`Expected DataLoader or (async) iterable of batches for ${name} but received ${describe(source)}`);
}

/**
 * Calls the model with gradient recording off for the synchronous start of the call only (where the
 * recurrent layers decide, once per call, not to record), not across its awaits: a grad mode held
 * off while awaiting would leak into anything else running meanwhile (e.g. a training step). Ops
 * after an await may record a small tape; the output is detached.
 */
async function callWithoutGrad(model: Module, batch: Batch, forward: ForwardHook | undefined): Promise<Tensor> {
  let pending: Promise<{ output: Tensor }> | undefined;
  noGrad(() => {
    pending = callModel(model, batch, forward, undefined, false);
  });
  return (await (pending as Promise<{ output: Tensor }>)).output.detach();
}

/** Runs `fn` with the model in eval mode, restoring each module's previous mode after. */
async function inEvalMode<T>(model: Module, fn: () => Promise<T>): Promise<T> {
  const modes = model.modules().map((m) => [m, m.training] as const);
  model.eval();
  try {
    return await fn();
  } finally {
    for (const [m, training] of modes) m.training = training;
  }
}

/**
 * Metrics of `model` over `batches` without gradients (fit's validation). Returns `true` when the
 * signal stopped it before the end.
 */
export async function runEvaluation(model: Module, batches: AsyncIterable<unknown>, run: EvaluationRun): Promise<boolean> {
  resetMetrics(run.metrics);
  return inEvalMode(model, async () => {
    let index = 0;
    for await (const raw of batches) {
      if (run.signal?.aborted) return true;
      const batch = toBatch(raw, `batch ${index}`);
      const output = await callWithoutGrad(model, batch, run.forward);
      const loss = run.loss ? noGrad(() => (run.loss as LossFn)(output, batch.target, batch)).item() : NaN;
      for (const metric of run.metrics) metric.update(output, batch.target, { loss, batchSize: batch.size });
      index++;
      await yieldToEventLoop();
    }
    return false;
  });
}

function checkModel(model: unknown): Module {
  if (!(model instanceof Module)) throw new TypeError(`Expected Module for model but received ${describe(model)}`);
  return model;
}

/**
 * Metrics of `model` on `loader`, without gradients: `{ loss, accuracy, … }` (the loss when
 * `loss` is given). The third argument is the options, or just the metrics.
 * @throws RangeError for an unknown metric; TypeError `Expected a loss option for metric loss …`.
 */
export async function evaluate<M extends Module, B extends BatchLike = BatchLike>(model: M, loader: BatchSource<B>,
  options?: MetricSpec[] | EvaluateOptions<M, B>): Promise<Record<string, number>> {
  checkModel(model);
  const o = (Array.isArray(options) ? { metrics: options } : checkOptions(options, 'evaluate', ['metrics', 'loss', 'forward', 'signal'])) as EvaluateOptions<M, B>;
  let metrics = createMetrics(o.metrics ?? [], 'metrics');
  const loss = isNullish(o.loss) ? null : resolveLoss(o.loss);
  const needsLoss = metrics.find((m) => m.name === 'loss' || m.name === 'perplexity');
  if (!loss && needsLoss) throw new TypeError(`Expected a loss option for metric ${needsLoss.name} but received none`);
  if (loss) metrics = withLoss(metrics);
  const stopped = await runEvaluation(model, batchesOf(loader, 'loader'), {
    metrics, loss, forward: o.forward as ForwardHook | undefined, signal: o.signal,
  });
  if (stopped) throw o.signal?.reason ?? new Error('evaluate was aborted');
  return computeMetrics(metrics);
}

/** Options of {@link predict}: `M` is the model, `B` the loader's batches. */
export interface PredictOptions<M extends Module = Module, B = unknown> {
  /** A custom model call (see src/train/batch.ts). */
  forward?: ForwardHook<M, B>;
}

/**
 * The model's output, without gradients, in eval mode. `input` is a Tensor (or anything the
 * model takes: one call), or a DataLoader / iterable of batches (outputs concatenated on dim 0).
 * The model is in eval mode until the promise settles: to serve predictions while the same
 * process trains, predict with a copy (`copy.loadStateDict(model.stateDict())`), not the model
 * being trained.
 */
export async function predict<M extends Module, B extends BatchLike>(model: M, input: BatchSource<B>, options?: PredictOptions<M, B>): Promise<Tensor>;
export async function predict<M extends Module>(model: M, input: unknown, options?: PredictOptions<M>): Promise<Tensor>;
export async function predict<M extends Module>(model: M, input: unknown, options?: PredictOptions<M>): Promise<Tensor> {
  checkModel(model);
  const forward = optionalObject(options, 'options').forward as ForwardHook | undefined;
  if (forward !== undefined && typeof forward !== 'function') throw new TypeError(`Expected function for forward but received ${describe(forward)}`);
  const single = input instanceof Tensor || Array.isArray(input) || !(typeof input === 'object' && input !== null
    && (Symbol.asyncIterator in input || Symbol.iterator in input));
  return inEvalMode(model, async () => {
    if (single) {
      const batch: Batch = { input, target: undefined, lengths: null, size: 1, tokens: 1, raw: input };
      return callWithoutGrad(model, batch, forward);
    }
    const outputs: Tensor[] = [];
    let index = 0;
    for await (const raw of input as AsyncIterable<unknown>) {
      const batch = toBatch(raw, `batch ${index++}`);
      outputs.push(await callWithoutGrad(model, batch, forward));
      await yieldToEventLoop();
    }
    if (outputs.length === 0) throw new RangeError('Expected at least one batch to predict but the loader yielded none');
    return outputs.length === 1 ? outputs[0] : cat(outputs, 0);
  });
}
