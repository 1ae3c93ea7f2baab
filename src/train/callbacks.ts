/**
 * Callbacks of `fit` (Keras-style hooks, each may be async and is awaited) and `earlyStopping`.
 *
 * Order of the hooks: onTrainBegin, then per epoch onEpochBegin, (onBatchBegin, onBatchEnd) per
 * batch, onEpochEnd (after validation and the scheduler step), and finally onTrainEnd — also after
 * early stopping or an abort, but not when training throws.
 * @module
 */
import type { Module } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import { checkOptions, choice, describe, isNullish, optionalBool } from '../validate.js';

/** The logs of one epoch: `epoch`, train metrics (`loss`, …), validation metrics (`val_loss`, …), `lr`, counters. */
export interface EpochLogs {
  /** Epoch index, from 0. */
  epoch: number;
  [name: string]: number;
}

/** The logs of one batch: its loss and the running values of the train metrics. */
export interface BatchLogs {
  /** Batch index in the epoch, from 0. */
  batch: number;
  /** Mean loss of the batch (of its chunks, with truncated BPTT). */
  loss: number;
  /** Items in the batch. */
  size: number;
  [name: string]: number;
}

/** Why training ended. */
export type StopReason = 'completed' | 'earlyStopping' | 'aborted' | 'callback';

/** What callbacks can see and change. */
export interface TrainContext {
  /** The model being trained. */
  readonly model: Module;
  /** Its optimizer. */
  readonly optimizer: Optimizer;
  /** Total epochs requested. */
  readonly epochs: number;
  /** Current epoch (from 0). */
  epoch: number;
  /** Batches per epoch, when the loader knows it. */
  batchesPerEpoch: number | undefined;
  /** Optimizer steps taken so far in the whole run. */
  step: number;
  /** Logs of the finished epochs. */
  readonly history: EpochLogs[];
  /** Set true (in onBatchEnd / onEpochEnd) to stop after the current batch / epoch. */
  stopTraining: boolean;
  /** Why training stopped (set before onTrainEnd). */
  stopReason: StopReason;
}

/** Hooks called by `fit`. All optional; returned promises are awaited. */
export interface Callback {
  /** Before the first epoch. */
  onTrainBegin?(context: TrainContext): void | Promise<void>;
  /** After the last epoch (also when training stopped early). */
  onTrainEnd?(context: TrainContext): void | Promise<void>;
  /** Before each epoch. */
  onEpochBegin?(epoch: number, context: TrainContext): void | Promise<void>;
  /** After each epoch, validated, with its logs (which a callback may add to). */
  onEpochEnd?(epoch: number, logs: EpochLogs, context: TrainContext): void | Promise<void>;
  /** Before each batch. */
  onBatchBegin?(batch: number, context: TrainContext): void | Promise<void>;
  /** After each batch's optimizer step, with its logs. */
  onBatchEnd?(batch: number, logs: BatchLogs, context: TrainContext): void | Promise<void>;
  /** JSON state saved in checkpoints (so a resumed run continues, e.g., early stopping's patience). */
  stateDict?(): Record<string, unknown>;
  /** Restores what `stateDict` returned. */
  loadStateDict?(state: Record<string, unknown>): void;
}

const HOOKS = ['onTrainBegin', 'onTrainEnd', 'onEpochBegin', 'onEpochEnd', 'onBatchBegin', 'onBatchEnd'] as const;

/** Validates `callbacks` (one object or an array): each a non-null object whose hooks are functions. */
export function checkCallbacks(value: unknown): Callback[] {
  if (isNullish(value)) return [];
  const list = Array.isArray(value) ? value : [value];
  list.forEach((callback, i) => {
    if (typeof callback !== 'object' || callback === null) {
      throw new TypeError(`Expected object with onEpochEnd, onBatchEnd, … hooks for callbacks[${i}] but received ${describe(callback)}`);
    }
    for (const hook of HOOKS) {
      const fn = (callback as Record<string, unknown>)[hook];
      if (fn !== undefined && typeof fn !== 'function') {
        throw new TypeError(`Expected function for callbacks[${i}].${hook} but received ${describe(fn)}`);
      }
    }
  });
  return list as Callback[];
}

/** Options of {@link earlyStopping}. */
export interface EarlyStoppingOptions {
  /** Log key to watch (default: `val_loss` with a validation loader, else `loss`). */
  monitor?: string;
  /**
   * Stop at the `patience`-th epoch in a row without improvement (Keras' rule; default 0, like 1:
   * stop at the first epoch that does not improve).
   */
  patience?: number;
  /** 'min' (lower is better), 'max', or 'auto' (default: max for accuracy-like names, else min). */
  mode?: 'min' | 'max' | 'auto';
  /** Smallest change that counts as an improvement (default 0). */
  minDelta?: number;
  /** At the end of training, put back the weights of the best epoch (default false). */
  restoreBestWeights?: boolean;
}

const MAX_NAMES = /acc|auc|f1|precision|recall|score/i;

/** Whether `value` improves on `best` by more than `minDelta` in `mode`. */
export function improves(value: number, best: number, mode: 'min' | 'max', minDelta: number): boolean {
  if (Number.isNaN(value)) return false;
  return mode === 'min' ? value < best - minDelta : value > best + minDelta;
}

/** The direction of a monitored value: 'auto' → max for accuracy-like names. */
export function resolveMode(mode: 'min' | 'max' | 'auto', monitor: string): 'min' | 'max' {
  return mode === 'auto' ? (MAX_NAMES.test(monitor) ? 'max' : 'min') : mode;
}

/**
 * Stops training when the monitored value has not improved for `patience` epochs (Keras
 * `EarlyStopping`); with `restoreBestWeights`, the model ends with the best epoch's weights.
 * Pass it in `callbacks` or as fit's `earlyStopping` option.
 */
export class EarlyStopping implements Callback {
  /** Set by fit when `monitor` was not given. */
  monitor: string | undefined;
  /** Epochs without improvement tolerated. */
  readonly patience: number;
  /** `min`: lower is better; `max`: higher; `auto`: `max` for accuracy-like keys, else `min`. */
  readonly mode: 'min' | 'max' | 'auto';
  /** Smallest change that counts as an improvement. */
  readonly minDelta: number;
  /** Whether the model ends with the best epoch's weights. */
  readonly restoreBestWeights: boolean;
  /** Best value so far (±Infinity before the first epoch). */
  best = NaN;
  /** Epoch of the best value (−1 before the first). */
  bestEpoch = -1;
  /** Epochs since the last improvement. */
  wait = 0;
  /** Epoch at which it stopped training (−1 = has not). */
  stoppedEpoch = -1;
  private bestWeights: Float32Array[] | null = null;

  constructor(options: EarlyStoppingOptions = {}) {
    const o = checkOptions(options, 'earlyStopping', ['monitor', 'patience', 'mode', 'minDelta', 'restoreBestWeights']);
    if (o.monitor !== undefined && (typeof o.monitor !== 'string' || o.monitor === '')) {
      throw new TypeError(`Expected non-empty string for monitor but received ${describe(o.monitor)}`);
    }
    this.monitor = o.monitor as string | undefined;
    if (o.patience !== undefined && !(typeof o.patience === 'number' && Number.isInteger(o.patience) && o.patience >= 0)) {
      const message = `Expected non-negative integer for patience but received ${describe(o.patience)}`;
      throw typeof o.patience === 'number' ? new RangeError(message) : new TypeError(message);
    }
    this.patience = (o.patience as number | undefined) ?? 0;
    this.mode = choice(o.mode ?? 'auto', 'mode', ['min', 'max', 'auto'] as const);
    if (o.minDelta !== undefined && !(typeof o.minDelta === 'number' && o.minDelta >= 0)) {
      throw new TypeError(`Expected non-negative number for minDelta but received ${describe(o.minDelta)}`);
    }
    this.minDelta = (o.minDelta as number | undefined) ?? 0;
    this.restoreBestWeights = optionalBool(o.restoreBestWeights, 'restoreBestWeights', false);
  }

  private get direction(): 'min' | 'max' {
    return resolveMode(this.mode, this.monitor ?? 'loss');
  }

  onTrainBegin(): void {
    if (this.bestEpoch < 0) this.best = this.direction === 'min' ? Infinity : -Infinity;
  }

  onEpochEnd(epoch: number, logs: EpochLogs, context: TrainContext): void {
    const monitor = this.monitor ?? 'loss';
    const value = logs[monitor];
    if (typeof value !== 'number') {
      const available = Object.keys(logs).filter((k) => k !== 'epoch').join(', ');
      throw new RangeError(`Expected a logged metric for earlyStopping monitor but received ${monitor} (logged: ${available})`);
    }
    if (improves(value, this.best, this.direction, this.minDelta)) {
      this.best = value;
      this.bestEpoch = epoch;
      this.wait = 0;
      if (this.restoreBestWeights) this.bestWeights = context.model.parameters().map((p) => p.data.slice());
      return;
    }
    this.wait++;
    if (this.wait >= Math.max(this.patience, 1)) {
      this.stoppedEpoch = epoch;
      context.stopTraining = true;
      context.stopReason = 'earlyStopping';
    }
  }

  /** Restores the best weights (when asked and when the last epoch was not the best). */
  onTrainEnd(context: TrainContext): void {
    if (!this.restoreBestWeights || this.bestWeights === null) return;
    const last = context.history[context.history.length - 1]?.epoch;
    if (last === this.bestEpoch) return;
    context.model.parameters().forEach((p, i) => {
      p.data.set((this.bestWeights as Float32Array[])[i]);
      p.markModified();
    });
  }

  /**
   * Best value, best epoch, wait and stopped epoch. The best WEIGHTS are not part of it: after a
   * resume, restoreBestWeights restores the best epoch seen since the resume.
   */
  stateDict(): Record<string, unknown> {
    return { best: this.best, bestEpoch: this.bestEpoch, wait: this.wait, stoppedEpoch: this.stoppedEpoch };
  }

  loadStateDict(state: Record<string, unknown>): void {
    this.best = Number(state.best);
    this.bestEpoch = Number(state.bestEpoch);
    this.wait = Number(state.wait);
    this.stoppedEpoch = Number(state.stoppedEpoch);
    this.bestWeights = null;
  }
}

/** `new EarlyStopping(options)`. */
export function earlyStopping(options?: EarlyStoppingOptions): EarlyStopping {
  return new EarlyStopping(options);
}
