/**
 * `fit(model, options)`: the training loop — epochs over a loader, loss, backward, clipping,
 * optimizer and scheduler steps, metrics, validation, callbacks, early stopping, checkpoints,
 * resume, abort, truncated BPTT, progress — returning the per-epoch history.
 *
 * Off the event loop: the model is called through `forwardAsync` when it has one, the loss through
 * `backwardAsync()` (the recurrent layers' forward and BPTT run on the libuv thread pool), and the
 * loop yields to the event loop after every batch, so a server in the same process keeps answering.
 *
 * How the model is called and what a batch is: see src/train/batch.ts.
 * @module
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { Module } from '../nn/module.js';
import { clipGradNorm_ } from '../optim/clip.js';
import { OneCycleLR } from '../optim/one-cycle.js';
import { Optimizer } from '../optim/optimizer.js';
import { ReduceLROnPlateau } from '../optim/plateau.js';
import { LRScheduler } from '../optim/scheduler.js';
import { DataLoader } from '../data/loader.js';
import { checkKnownKeys, describe, isNullish, optionalBool, optionalChoice, positiveInt } from '../validate.js';
import {
  callModel, resolveLoss, toBatch, yieldToEventLoop, type Batch, type BatchLike, type BatchSource, type ForwardHook, type LossFn,
  type LossSpec,
} from './batch.js';
import {
  checkCallbacks, EarlyStopping, improves, resolveMode, type BatchLogs, type Callback, type EarlyStoppingOptions,
  type EpochLogs, type StopReason, type TrainContext,
} from './callbacks.js';
import { loadCheckpointAsync, saveCheckpointAsync, type JsonValue, type Stateful } from './checkpoint.js';
import { batchesOf, runEvaluation } from './evaluate.js';
import { computeMetrics, createMetrics, resetMetrics, withLoss, type Metric, type MetricSpec } from './metrics.js';
import { createProgress, type ProgressReporter, type ProgressSetting } from './progress.js';
import { checkTbptt, detachState, timeChunks, type TbpttOptions } from './tbptt.js';

/** A scheduler fit can step: any torch-style LRScheduler, or ReduceLROnPlateau. */
export type FitScheduler = LRScheduler | ReduceLROnPlateau;

/**
 * Options of {@link fit}: `M` is the model, `B` and `V` the batches of the training and validation
 * loaders (a `forward` hook sees them typed).
 */
export interface FitOptions<M extends Module = Module, B extends BatchLike = BatchLike, V extends BatchLike = B> {
  /** Training batches: a DataLoader (reshuffled per epoch, resumable mid-epoch) or any (async) iterable of batches. */
  train: BatchSource<B>;
  /** Validation batches, evaluated after every epoch (metrics logged as `val_<name>`). */
  validation?: BatchSource<V> | null;
  /** The loss (src/train/batch.ts: built-in name, nn loss module, or function). */
  loss: LossSpec;
  /** Updates the parameters after each batch. */
  optimizer: Optimizer;
  /** Epochs to train (default 1). With resumeFrom: the total, counting the epochs already done. */
  epochs?: number;
  /**
   * Stepped after each optimizer step for OneCycleLR, after each epoch for other LRSchedulers,
   * and after each epoch with the monitored value for ReduceLROnPlateau.
   */
  scheduler?: FitScheduler | null;
  /** Override when to step an LRScheduler: 'batch' (per optimizer step) or 'epoch'. */
  schedulerInterval?: 'batch' | 'epoch';
  /** Clip the gradients' total 2-norm to this before each step (clipGradNorm_). */
  clipGradNorm?: number;
  /** Metrics for train and validation (`loss` is always reported). */
  metrics?: MetricSpec[];
  /** Hooks (src/train/callbacks.ts), awaited in order. */
  callbacks?: Callback | Callback[];
  /** Early stopping: an {@link EarlyStopping} or its options (monitor defaults to fit's `monitor`). */
  earlyStopping?: EarlyStopping | EarlyStoppingOptions;
  /** The value that defines "best" (saveBest, ReduceLROnPlateau, history.bestEpoch): default `val_loss` with validation, else `loss`. */
  monitor?: string;
  /** Direction of `monitor`: 'auto' (default: max for accuracy-like names), 'min', 'max'. */
  monitorMode?: 'min' | 'max' | 'auto';
  /** Directory for `last.safetensors` (every `checkpointEvery` epochs, at the end, on abort) and `best.safetensors`. */
  checkpointDir?: string;
  /** Epochs between `last` checkpoints (default 1). */
  checkpointEvery?: number;
  /** Save `best.safetensors` whenever `monitor` improves (default true with checkpointDir). */
  saveBest?: boolean;
  /**
   * Continue from a checkpoint: a file, a directory (its `last.safetensors`), or 'auto' (checkpointDir's
   * `last.safetensors` when it exists, else a fresh start). Restores model, optimizer, scheduler,
   * RNG, callbacks' state, history and the position in the epoch: same seed, ISA and threads ⇒ the
   * same weights, bit for bit, as an uninterrupted run.
   */
  resumeFrom?: string;
  /** Stops after the current batch; fit resolves with `stopReason: 'aborted'` (and a checkpoint when checkpointDir is set). */
  signal?: AbortSignal;
  /** Progress output (src/train/progress.ts); default: bar on a TTY, JSON lines otherwise. */
  progress?: ProgressSetting;
  /** A custom model call (src/train/batch.ts). */
  forward?: ForwardHook<M, B | V>;
  /** Truncated BPTT: chunks of `steps` along time, the detached state carried across (src/train/tbptt.ts). */
  tbptt?: TbpttOptions;
  /** A NaN/±Infinity loss or gradient: 'stop' (default: throw {@link NonFiniteError}) or 'skip' the step (counted). */
  onNonFinite?: 'stop' | 'skip';
}

/** What fit returns. */
export interface History {
  /** One entry per finished epoch: `epoch`, train metrics, `val_*`, `lr`, `skippedBatches`, `seconds`, `tokensPerSecond`. */
  epochs: EpochLogs[];
  /** The same values as series: `metrics.loss[e]`, `metrics.val_accuracy[e]`, … */
  metrics: Record<string, number[]>;
  /** Why training ended. */
  stopReason: StopReason;
  /** The monitored log key, its best value and the epoch that reached it (−1 when never logged). */
  monitor: string;
  /** See `monitor`. */
  best: number;
  /** See `monitor`. */
  bestEpoch: number;
  /** Optimizer steps taken (in this and resumed runs). */
  steps: number;
  /** Steps skipped for a non-finite loss or gradient, over the whole run. */
  skippedBatches: number;
}

/** A NaN/±Infinity loss or gradient with `onNonFinite: 'stop'`. Nothing was saved from the broken state. */
export class NonFiniteError extends Error {
  /**
   * @param kind What was not finite: the loss or a gradient.
   * @param epoch The epoch, from 0.
   * @param batch The batch in the epoch, from 0.
   * @param value The non-finite value.
   * @param history The logs of the epochs finished before.
   */
  constructor(readonly kind: 'loss' | 'gradient', readonly epoch: number, readonly batch: number, readonly value: number,
    readonly history: EpochLogs[]) {
    super(`Non-finite ${kind} (${value}) in epoch ${epoch}, batch ${batch} (both counted from 0); training stopped `
      + 'and no checkpoint was written from this state. Lower the learning rate, set clipGradNorm, or pass '
      + "onNonFinite: 'skip' to skip such batches");
    this.name = 'NonFiniteError';
  }
}

const OPTION_KEYS = [
  'train', 'validation', 'loss', 'optimizer', 'epochs', 'scheduler', 'schedulerInterval', 'clipGradNorm', 'metrics',
  'callbacks', 'earlyStopping', 'monitor', 'monitorMode', 'checkpointDir', 'checkpointEvery', 'saveBest', 'resumeFrom',
  'signal', 'progress', 'forward', 'tbptt', 'onNonFinite',
];

/** The options after validation. */
interface FitConfig {
  train: unknown;
  validation: unknown;
  loss: LossFn;
  optimizer: Optimizer;
  epochs: number;
  scheduler: FitScheduler | null;
  schedulerInterval: 'batch' | 'epoch' | 'plateau' | null;
  clipGradNorm: number | null;
  metricSpecs: MetricSpec[];
  callbacks: Callback[];
  monitor: string;
  monitorMode: 'min' | 'max';
  checkpointDir: string | null;
  checkpointEvery: number;
  saveBest: boolean;
  resumeFrom: string | null;
  signal: AbortSignal | undefined;
  progress: ProgressReporter;
  forward: ForwardHook | undefined;
  tbptt: Required<TbpttOptions> | null;
  onNonFinite: 'stop' | 'skip';
}

function schedulerInterval(scheduler: FitScheduler | null, override: 'batch' | 'epoch' | undefined): FitConfig['schedulerInterval'] {
  if (scheduler === null) return null;
  if (scheduler instanceof ReduceLROnPlateau) {
    if (override === 'batch') throw new RangeError("Expected schedulerInterval 'epoch' for ReduceLROnPlateau (it steps on the monitored epoch metric) but received batch");
    return 'plateau';
  }
  return override ?? (scheduler instanceof OneCycleLR ? 'batch' : 'epoch');
}

function checkFitOptions(model: unknown, options: unknown): FitConfig {
  if (!(model instanceof Module)) throw new TypeError(`Expected Module for model but received ${describe(model)}`);
  if (typeof options !== 'object' || options === null) throw new TypeError(`Expected object for options but received ${describe(options)}`);
  const o = options as FitOptions;
  checkKnownKeys(o, 'fit', OPTION_KEYS);
  batchesOf(o.train, 'train');
  if (!isNullish(o.validation)) batchesOf(o.validation, 'validation');
  if (!(o.optimizer instanceof Optimizer)) throw new TypeError(`Expected Optimizer for optimizer but received ${describe(o.optimizer)}`);
  const scheduler = o.scheduler ?? null;
  if (scheduler !== null && !(scheduler instanceof LRScheduler) && !(scheduler instanceof ReduceLROnPlateau)) {
    throw new TypeError(`Expected LRScheduler or ReduceLROnPlateau for scheduler but received ${describe(scheduler)}`);
  }
  if (o.clipGradNorm !== undefined && !(typeof o.clipGradNorm === 'number' && o.clipGradNorm > 0)) {
    throw new TypeError(`Expected positive number for clipGradNorm but received ${describe(o.clipGradNorm)}`);
  }
  if (o.forward !== undefined && typeof o.forward !== 'function') throw new TypeError(`Expected function for forward but received ${describe(o.forward)}`);
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw new TypeError(`Expected AbortSignal for signal but received ${describe(o.signal)}`);
  for (const key of ['checkpointDir', 'resumeFrom', 'monitor'] as const) {
    if (o[key] !== undefined && (typeof o[key] !== 'string' || o[key] === '')) throw new TypeError(`Expected non-empty string for ${key} but received ${describe(o[key])}`);
  }
  if (o.resumeFrom === 'auto' && o.checkpointDir === undefined) throw new TypeError("Expected checkpointDir with resumeFrom: 'auto' but received none");
  const monitor = o.monitor ?? (isNullish(o.validation) ? 'loss' : 'val_loss');
  const callbacks = checkCallbacks(o.callbacks);
  if (!isNullish(o.earlyStopping)) {
    const stopper = o.earlyStopping instanceof EarlyStopping ? o.earlyStopping : new EarlyStopping(o.earlyStopping);
    callbacks.unshift(stopper);
  }
  for (const callback of callbacks) if (callback instanceof EarlyStopping && callback.monitor === undefined) callback.monitor = monitor;
  createMetrics(o.metrics, 'metrics'); // validates the names now, not after the first epoch
  return {
    train: o.train,
    validation: o.validation ?? null,
    loss: resolveLoss(o.loss),
    optimizer: o.optimizer,
    epochs: o.epochs === undefined ? 1 : positiveInt(o.epochs, 'epochs'),
    scheduler,
    schedulerInterval: schedulerInterval(scheduler, optionalChoice(o.schedulerInterval, 'schedulerInterval', ['batch', 'epoch'] as const, undefined)),
    clipGradNorm: o.clipGradNorm ?? null,
    metricSpecs: o.metrics ?? [],
    callbacks,
    monitor,
    monitorMode: resolveMode(optionalChoice(o.monitorMode, 'monitorMode', ['min', 'max', 'auto'] as const, 'auto'), monitor),
    checkpointDir: o.checkpointDir ?? null,
    checkpointEvery: o.checkpointEvery === undefined ? 1 : positiveInt(o.checkpointEvery, 'checkpointEvery'),
    saveBest: optionalBool(o.saveBest, 'saveBest', true),
    resumeFrom: o.resumeFrom ?? null,
    signal: o.signal,
    progress: createProgress(o.progress),
    forward: o.forward as ForwardHook | undefined,
    tbptt: checkTbptt(o.tbptt),
    onNonFinite: optionalChoice(o.onNonFinite, 'onNonFinite', ['stop', 'skip'] as const, 'stop'),
  };
}

/** Where an interrupted or finished run stands (saved in checkpoints as JSON). */
interface Position {
  /** Epoch to run next, or running. */
  epoch: number;
  /** Next batch of that epoch (0 at an epoch boundary). */
  batch: number;
  /** Order seed of that epoch (meaningful when batch > 0 or inEpoch). */
  epochSeed: number;
  /** Saved in the middle of an epoch (its seed and partial metrics are in use). */
  inEpoch: boolean;
}

/** Metric sums and counters of the running epoch. */
interface EpochTally {
  tokens: number;
  seconds: number;
  skipped: number;
}

class FitRun {
  private readonly context: TrainContext;
  private readonly trainMetrics: Metric[];
  private readonly validationMetrics: Metric[];
  private position: Position = { epoch: 0, batch: 0, epochSeed: 0, inEpoch: false };
  private tally: EpochTally = { tokens: 0, seconds: 0, skipped: 0 };
  private skippedTotal = 0;
  private best: number;
  private bestEpoch = -1;
  private savedMetricStates: (Record<string, number> | null)[] | null = null;

  constructor(private readonly model: Module, private readonly config: FitConfig) {
    this.trainMetrics = withLoss(createMetrics(config.metricSpecs));
    this.validationMetrics = withLoss(createMetrics(config.metricSpecs));
    this.best = config.monitorMode === 'min' ? Infinity : -Infinity;
    this.context = {
      model, optimizer: config.optimizer, epochs: config.epochs, epoch: 0, batchesPerEpoch: undefined, step: 0,
      history: [], stopTraining: false, stopReason: 'completed',
    };
  }

  async run(): Promise<History> {
    const { config, context } = this;
    try {
      await this.resume();
      context.batchesPerEpoch = config.train instanceof DataLoader ? config.train.length : undefined;
      config.progress.trainBegin(config.epochs, context.batchesPerEpoch);
      await this.emit((c) => c.onTrainBegin?.(context));
      while (this.position.epoch < config.epochs && !context.stopTraining) {
        const finished = await this.runEpoch();
        if (!finished) break;
      }
      if (context.stopTraining && context.stopReason === 'completed') context.stopReason = 'callback';
      if (context.stopReason === 'aborted') await this.saveLast();
      await this.emit((c) => c.onTrainEnd?.(context));
    } finally {
      config.progress.trainEnd();
    }
    return this.history();
  }

  private async emit(call: (callback: Callback) => void | Promise<void>): Promise<void> {
    for (const callback of this.config.callbacks) await call(callback);
  }

  /** One epoch (or its rest after a mid-epoch resume); false when aborted. */
  private async runEpoch(): Promise<boolean> {
    const { config, context, model } = this;
    const epoch = this.position.epoch;
    context.epoch = epoch;
    if (!this.position.inEpoch) {
      this.position.epochSeed = this.nextEpochSeed(epoch);
      this.position.batch = 0;
      this.position.inEpoch = true;
      this.tally = { tokens: 0, seconds: 0, skipped: 0 };
      resetMetrics(this.trainMetrics);
    } else {
      this.restoreMetricStates();
    }
    model.train();
    config.progress.epochBegin(epoch);
    await this.emit((c) => c.onEpochBegin?.(epoch, context));
    if (!(await this.trainBatches(epoch))) return this.abort();
    const logs: EpochLogs = { epoch, ...computeMetrics(this.trainMetrics) };
    if (config.validation !== null) {
      const stopped = await runEvaluation(model, this.validationBatches(), {
        metrics: this.validationMetrics, loss: config.loss, forward: config.forward, signal: config.signal,
      });
      if (stopped) return this.abort();
      Object.assign(logs, computeMetrics(this.validationMetrics, 'val_'));
    }
    logs.lr = config.optimizer.paramGroups[0].lr;
    logs.skippedBatches = this.tally.skipped;
    logs.seconds = this.tally.seconds;
    logs.tokensPerSecond = this.tally.tokens / Math.max(this.tally.seconds, 1e-9);
    await this.endEpoch(epoch, logs);
    return true;
  }

  private nextEpochSeed(epoch: number): number {
    const train = this.config.train;
    if (!(train instanceof DataLoader)) return 0;
    train.setEpoch(epoch);
    return train.nextEpochSeed();
  }

  private trainBatchesFrom(start: number): AsyncIterable<unknown> {
    const train = this.config.train;
    if (train instanceof DataLoader) return train.epochBatches(this.position.epochSeed, start);
    const source = batchesOf(train, 'train');
    return (async function* skip() {
      let index = 0;
      for await (const batch of source) if (index++ >= start) yield batch;
    })();
  }

  private validationBatches(): AsyncIterable<unknown> {
    const validation = this.config.validation;
    if (validation instanceof DataLoader) return validation.epochBatches(validation.nextEpochSeed());
    return batchesOf(validation, 'validation');
  }

  /** The epoch's batches from the current position; false when aborted. */
  private async trainBatches(epoch: number): Promise<boolean> {
    const { config, context } = this;
    if (config.signal?.aborted) return false;
    for await (const raw of this.trainBatchesFrom(this.position.batch)) {
      const index = this.position.batch;
      await this.emit((c) => c.onBatchBegin?.(index, context));
      const started = performance.now();
      const batch = toBatch(raw, `batch ${index} of epoch ${epoch}`);
      const logs = await this.trainBatch(batch, epoch, index);
      this.tally.seconds += (performance.now() - started) / 1000;
      this.tally.tokens += batch.tokens;
      this.position.batch = index + 1;
      config.progress.batchEnd({
        batch: index, loss: this.trainMetrics[0].compute(), metric: this.runningMetric(),
        tokensPerSecond: this.tally.tokens / Math.max(this.tally.seconds, 1e-9),
      });
      await this.emit((c) => c.onBatchEnd?.(index, logs, context));
      if (context.stopTraining) break;
      if (config.signal?.aborted) return false;
      await yieldToEventLoop();
    }
    return true;
  }

  // The first metric other than loss that can be read mid-epoch (built-ins: reset() marks them re-readable).
  private runningMetric(): { name: string; value: number } | undefined {
    const metric = this.trainMetrics.find((m) => m.name !== 'loss' && typeof m.reset === 'function' && typeof m.stateDict === 'function');
    return metric ? { name: metric.name, value: metric.compute() } : undefined;
  }

  /** One batch: a step per chunk (one chunk without tbptt). */
  private async trainBatch(batch: Batch, epoch: number, index: number): Promise<BatchLogs> {
    const { config } = this;
    const chunks = config.tbptt ? timeChunks(batch, config.tbptt) : [batch];
    let state: unknown = undefined;
    let lossSum = 0, counted = 0;
    for (const chunk of chunks) {
      const result = await callModel(this.model, chunk, config.forward, state, config.tbptt !== null);
      if (config.tbptt && result.state === undefined) {
        throw new TypeError('Expected the model to return [output, state] for truncated BPTT (the state goes to the next chunk) but it returned a Tensor');
      }
      state = detachState(result.state);
      const loss = config.loss(result.output, chunk.target, chunk);
      const value = loss.item();
      if (!Number.isFinite(value)) {
        this.nonFinite('loss', value, epoch, index);
        continue;
      }
      // The loss, its backward and the update each run on this thread: a turn of the event loop
      // between them keeps any one pause short.
      await yieldToEventLoop();
      config.optimizer.zeroGrad();
      await loss.backwardAsync();
      await yieldToEventLoop();
      if (!this.gradientsFinite(epoch, index)) continue;
      config.optimizer.step();
      this.context.step++;
      if (config.schedulerInterval === 'batch') (config.scheduler as LRScheduler).step();
      for (const metric of this.trainMetrics) metric.update(result.output, chunk.target, { loss: value, batchSize: chunk.size });
      lossSum += value;
      counted++;
    }
    return { batch: index, loss: counted > 0 ? lossSum / counted : NaN, size: batch.size };
  }

  /**
   * Clips (when asked) and checks the gradients; false when the step must be skipped. The total
   * norm comes from clipGradNorm_'s native reduction (an infinite maxNorm only measures): it is
   * NaN or ±Infinity exactly when some gradient element is.
   */
  private gradientsFinite(epoch: number, index: number): boolean {
    const { config, model } = this;
    const total = clipGradNorm_(model.parameters(), config.clipGradNorm ?? Infinity);
    if (Number.isFinite(total)) return true;
    this.nonFinite('gradient', total, epoch, index);
    return false;
  }

  private nonFinite(kind: 'loss' | 'gradient', value: number, epoch: number, index: number): void {
    if (this.config.onNonFinite === 'stop') throw new NonFiniteError(kind, epoch, index, value, this.context.history);
    this.config.optimizer.zeroGrad();
    this.tally.skipped++;
    this.skippedTotal++;
  }

  private async endEpoch(epoch: number, logs: EpochLogs): Promise<void> {
    const { config, context } = this;
    const monitored = logs[config.monitor];
    if (config.schedulerInterval === 'plateau') {
      if (typeof monitored !== 'number') throw this.missingMonitor(logs, 'ReduceLROnPlateau');
      (config.scheduler as ReduceLROnPlateau).step(monitored);
    } else if (config.schedulerInterval === 'epoch') {
      (config.scheduler as LRScheduler).step();
    }
    context.history.push(logs);
    this.position = { epoch: epoch + 1, batch: 0, epochSeed: 0, inEpoch: false };
    // The bar's line is finished before the callbacks run, so a line they print starts on its own
    // instead of landing on the bar; the logs are reported after them, with what they added.
    config.progress.finishEpochLine?.();
    await this.emit((c) => c.onEpochEnd?.(epoch, logs, context));
    config.progress.epochEnd(logs);
    const improved = typeof monitored === 'number' && improves(monitored, this.best, config.monitorMode, 0);
    if (improved) {
      this.best = monitored;
      this.bestEpoch = epoch;
    }
    if (config.checkpointDir === null) return;
    if (improved && config.saveBest) await this.save('best.safetensors', epoch);
    else if (config.saveBest && typeof monitored !== 'number') throw this.missingMonitor(logs, 'saveBest');
    const last = epoch + 1 === config.epochs || context.stopTraining;
    if (last || (epoch + 1) % config.checkpointEvery === 0) await this.save('last.safetensors', epoch);
  }

  private missingMonitor(logs: EpochLogs, user: string): RangeError {
    const available = Object.keys(logs).filter((k) => k !== 'epoch').join(', ');
    return new RangeError(`Expected a logged metric for monitor (used by ${user}) but received ${this.config.monitor} (logged: ${available})`);
  }

  private abort(): false {
    this.context.stopReason = 'aborted';
    return false;
  }

  private async saveLast(): Promise<void> {
    if (this.config.checkpointDir !== null) await this.save('last.safetensors', this.position.epoch);
  }

  /** Writes a checkpoint of the current state (atomically; never from a non-finite state: it throws instead). */
  private async save(name: string, epoch: number): Promise<void> {
    const { config, model, context } = this;
    const dir = config.checkpointDir as string;
    mkdirSync(dir, { recursive: true });
    const fitState = {
      position: this.position,
      tally: this.tally,
      metrics: this.position.inEpoch ? this.trainMetrics.map((m) => m.stateDict?.() ?? null) : null,
      skippedTotal: this.skippedTotal,
      best: this.best,
      bestEpoch: this.bestEpoch,
      history: context.history,
      stopReason: context.stopReason,
    };
    try {
      await saveCheckpointAsync(path.join(dir, name), {
        model, optimizer: config.optimizer, scheduler: config.scheduler as unknown as Stateful | null,
        epoch: this.position.epoch, step: context.step, stateful: this.statefulCallbacks(),
        extra: { fit: fitState } as unknown as JsonValue,
      });
    } catch (error) {
      throw new Error(`Could not write checkpoint ${name} after epoch ${epoch}: ${(error as Error).message}`, { cause: error });
    }
  }

  private statefulCallbacks(): Record<string, Stateful> {
    const entries = this.config.callbacks.map((c, i) => [`callbacks.${i}`, c] as const)
      .filter(([, c]) => typeof c.stateDict === 'function' && typeof c.loadStateDict === 'function');
    return Object.fromEntries(entries) as Record<string, Stateful>;
  }

  private resumePath(): string | null {
    const { resumeFrom, checkpointDir } = this.config;
    if (resumeFrom === null) return null;
    if (resumeFrom === 'auto') {
      const file = path.join(checkpointDir as string, 'last.safetensors');
      return existsSync(file) ? file : null;
    }
    return existsSync(resumeFrom) && statSync(resumeFrom).isDirectory() ? path.join(resumeFrom, 'last.safetensors') : resumeFrom;
  }

  /** Restores a checkpoint (resumeFrom): objects, then the loop's position, tallies and history. */
  private async resume(): Promise<void> {
    const file = this.resumePath();
    if (file === null) return;
    const { config, context } = this;
    const info = await loadCheckpointAsync(file, {
      model: this.model, optimizer: config.optimizer, scheduler: config.scheduler as unknown as Stateful | null,
      stateful: this.statefulCallbacks(),
    });
    context.step = info.step ?? 0;
    const saved = (info.extra as { fit?: Record<string, unknown> } | undefined)?.fit;
    if (!saved) {
      this.position = { epoch: info.epoch ?? 0, batch: 0, epochSeed: 0, inEpoch: false };
      return;
    }
    this.position = { ...(saved.position as Position) };
    this.tally = { ...(saved.tally as EpochTally) };
    this.skippedTotal = saved.skippedTotal as number;
    this.best = saved.best as number;
    this.bestEpoch = saved.bestEpoch as number;
    this.savedMetricStates = saved.metrics as (Record<string, number> | null)[] | null;
    context.history.push(...(saved.history as EpochLogs[]));
    const previous = saved.stopReason as StopReason;
    if (previous === 'earlyStopping') {
      context.stopTraining = true;
      context.stopReason = previous;
    }
  }

  private restoreMetricStates(): void {
    resetMetrics(this.trainMetrics);
    const states = this.savedMetricStates;
    this.savedMetricStates = null;
    if (!states) return;
    this.trainMetrics.forEach((m, i) => {
      if (states[i] && m.loadStateDict) m.loadStateDict(states[i] as Record<string, number>);
    });
  }

  private history(): History {
    const epochs = this.context.history;
    const metrics: Record<string, number[]> = {};
    for (const logs of epochs) {
      for (const [key, value] of Object.entries(logs)) if (key !== 'epoch') (metrics[key] ??= []).push(value);
    }
    return {
      epochs, metrics, stopReason: this.context.stopReason, monitor: this.config.monitor, best: this.best,
      bestEpoch: this.bestEpoch, steps: this.context.step, skippedBatches: this.skippedTotal,
    };
  }
}

/**
 * Trains `model` (see the module notes and {@link FitOptions}) and resolves with the history.
 *
 * ```ts
 * const train = new DataLoader(trainSet, { batchSize: 32, shuffle: true, seed: 1, collate: padCollate() });
 * const history = await fit(model, { train, validation, loss: 'crossEntropy', optimizer: new optim.Adam(model.parameters()),
 *   epochs: 10, metrics: ['accuracy'], earlyStopping: { patience: 2, restoreBestWeights: true }, checkpointDir: 'ckpt' });
 * ```
 * @throws TypeError / RangeError for bad options (before anything runs); {@link NonFiniteError};
 *   errors of the model, the loss, the callbacks, and of checkpoint writing.
 */
export async function fit<M extends Module, B extends BatchLike = BatchLike, V extends BatchLike = B>(model: M,
  options: FitOptions<M, B, V>): Promise<History> {
  const config = checkFitOptions(model, options);
  return new FitRun(model, config).run();
}
