/**
 * Learning-rate schedulers with torch.optim.lr_scheduler's (1.13) semantics: constructing one
 * sets each group's `initialLr` and takes the first step (lastEpoch −1 → 0); call `step()` after
 * `optimizer.step()`. `step()` uses PyTorch's chainable (recursive) formulas — so the lr written
 * to a group by someone else carries on — and `step(epoch)` its closed forms.
 * @module
 */
import { describe } from '../validate.js';
import { checkOptionNames, Optimizer, type ParamGroup } from './optimizer.js';

// Python's a % b (sign of b), used where PyTorch tests divisibility with negative operands.
const pyMod = (a: number, b: number): number => ((a % b) + b) % b;

function checkOptimizer(optimizer: unknown): Optimizer {
  if (!(optimizer instanceof Optimizer)) {
    const name = typeof optimizer === 'object' && optimizer !== null ? optimizer.constructor.name : describe(optimizer);
    throw new TypeError(`${name} is not an Optimizer`);
  }
  return optimizer;
}

function numberArg(value: unknown, name: string): number {
  if (typeof value !== 'number') throw new TypeError(`Expected number for ${name} but received ${describe(value)}`);
  return value;
}

function intArg(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    const message = `Expected integer for ${name} but received ${describe(value)}`;
    throw typeof value === 'number' ? new RangeError(message) : new TypeError(message);
  }
  return value;
}

/**
 * A scheduler's state: its own fields but the optimizer, copied (PyTorch's `state_dict`, the same
 * for every scheduler: LRScheduler's subclasses and ReduceLROnPlateau).
 */
export function schedulerState(scheduler: object): Record<string, unknown> {
  const dict: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(scheduler)) if (key !== 'optimizer') dict[key] = structuredClone(value);
  return dict;
}

/** Writes `state` (from {@link schedulerState}) back into `scheduler`, copied, leaving its optimizer alone. */
export function loadSchedulerState(scheduler: object, state: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(state)) {
    if (key !== 'optimizer') (scheduler as Record<string, unknown>)[key] = structuredClone(value);
  }
}

/** Options every epoch-based scheduler takes. */
export interface SchedulerOptions {
  /** Index of the last epoch; −1 (default) starts fresh, anything else resumes (groups need initialLr). */
  lastEpoch?: number;
}

/** Base of the epoch-based schedulers (PyTorch `_LRScheduler`). */
export abstract class LRScheduler {
  /** The optimizer whose groups' `lr` it sets. */
  readonly optimizer: Optimizer;
  /** Each group's lr when the schedule started (its `initialLr`). */
  baseLrs: number[];
  /** Number of `step()` calls, the constructor's included. */
  lastEpoch: number;
  /** `step()` calls after the constructor's (the order warning compares it with the optimizer's). */
  protected stepCount = 0;
  private lastLr: number[] = [];
  private warnedOrder = false;

  /** @throws Error `param 'initialLr' is not specified in paramGroups[0] when resuming an optimizer`. */
  protected constructor(optimizer: Optimizer, lastEpoch = -1) {
    this.optimizer = checkOptimizer(optimizer);
    this.lastEpoch = intArg(lastEpoch, 'lastEpoch');
    const groups = this.optimizer.paramGroups;
    if (lastEpoch === -1) {
      for (const group of groups) if (group.initialLr === undefined) group.initialLr = group.lr;
    } else {
      groups.forEach((group, i) => {
        if (group.initialLr === undefined) {
          throw new Error(`param 'initialLr' is not specified in paramGroups[${i}] when resuming an optimizer`);
        }
      });
    }
    this.baseLrs = groups.map((group) => group.initialLr as number);
  }

  /** The first step, taken by each subclass constructor once its fields are set (PyTorch's _initial_step). */
  protected initialStep(): void {
    this.optimizer.stepCount = 0;
    this.stepCount = 0;
    this.step();
  }

  /** The learning rates of the current epoch (chainable form), from the groups' current lrs. */
  protected abstract getLr(): number[];

  /** The learning rates at `lastEpoch` from the base lrs, where PyTorch has a closed form. */
  protected closedFormLr?(): number[];

  /**
   * Advances one epoch (or jumps to `epoch`, deprecated in PyTorch, with the closed form when there
   * is one) and writes the new lr into every group.
   */
  step(epoch?: number): void {
    if (this.stepCount === 1 && this.optimizer.stepCount < 1 && !this.warnedOrder) {
      this.warnedOrder = true;
      process.emitWarning('Detected call of `lr_scheduler.step()` before `optimizer.step()`. In PyTorch 1.1.0 and later, '
        + 'you should call them in the opposite order: `optimizer.step()` before `lr_scheduler.step()`. Failure to do this '
        + 'will result in PyTorch skipping the first value of the learning rate schedule.');
    }
    this.stepCount++;
    let values: number[];
    if (epoch === undefined) {
      this.lastEpoch++;
      values = this.getLr();
    } else {
      this.lastEpoch = intArg(epoch, 'epoch');
      values = this.closedFormLr ? this.closedFormLr() : this.getLr();
    }
    this.optimizer.paramGroups.forEach((group, i) => {
      group.lr = values[i];
    });
    this.lastLr = this.optimizer.paramGroups.map((group) => group.lr);
  }

  /** The learning rates the last step set, one per group. */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** Everything but the optimizer, JSON-able. */
  stateDict(): Record<string, unknown> {
    return schedulerState(this);
  }

  /** Restores what `stateDict()` returned. */
  loadStateDict(stateDict: Record<string, unknown>): void {
    loadSchedulerState(this, stateDict);
  }

  /** The optimizer's parameter groups. */
  protected get groups(): ParamGroup[] {
    return this.optimizer.paramGroups;
  }
}

export interface StepLROptions extends SchedulerOptions {
  /** Multiplicative factor (default 0.1). */
  gamma?: number;
}

/** lr × gamma every `stepSize` epochs. */
export class StepLR extends LRScheduler {
  /** Epochs between two decays. */
  readonly stepSize: number;
  /** Multiplies the lr at each decay. */
  readonly gamma: number;

  constructor(optimizer: Optimizer, stepSize: number, options: StepLROptions = {}) {
    const o = checkOptionNames(options, ['gamma', 'lastEpoch'], 'StepLR') as StepLROptions;
    const size = intArg(stepSize, 'stepSize');
    const factor = numberArg(o.gamma ?? 0.1, 'gamma');
    super(optimizer, o.lastEpoch);
    this.stepSize = size;
    this.gamma = factor;
    this.initialStep();
  }

  protected getLr(): number[] {
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * this.gamma);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((base) => base * this.gamma ** Math.floor(this.lastEpoch / this.stepSize));
  }
}

export interface MultiStepLROptions extends SchedulerOptions {
  /** Multiplicative factor (default 0.1). */
  gamma?: number;
}

/** lr × gamma at each milestone epoch (a milestone listed twice multiplies by gamma²). */
export class MultiStepLR extends LRScheduler {
  /** Milestone → how often it is listed (PyTorch's Counter). */
  readonly milestones: Record<number, number>;
  /** Multiplies the lr at each milestone. */
  readonly gamma: number;

  constructor(optimizer: Optimizer, milestones: number[], options: MultiStepLROptions = {}) {
    const o = checkOptionNames(options, ['gamma', 'lastEpoch'], 'MultiStepLR') as MultiStepLROptions;
    if (!Array.isArray(milestones)) throw new TypeError(`Expected array of integers for milestones but received ${describe(milestones)}`);
    const counts: Record<number, number> = {};
    milestones.forEach((m, i) => {
      const epoch = intArg(m, `milestones[${i}]`);
      counts[epoch] = (counts[epoch] ?? 0) + 1;
    });
    const factor = numberArg(o.gamma ?? 0.1, 'gamma');
    super(optimizer, o.lastEpoch);
    this.milestones = counts;
    this.gamma = factor;
    this.initialStep();
  }

  protected getLr(): number[] {
    const count = this.milestones[this.lastEpoch];
    if (count === undefined) return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * this.gamma ** count);
  }

  protected override closedFormLr(): number[] {
    let passed = 0;  // bisect_right over the sorted milestones (with repeats)
    for (const [epoch, count] of Object.entries(this.milestones)) if (Number(epoch) <= this.lastEpoch) passed += count;
    return this.baseLrs.map((base) => base * this.gamma ** passed);
  }
}

/** lr × gamma every epoch. */
export class ExponentialLR extends LRScheduler {
  /** Multiplies the lr every epoch. */
  readonly gamma: number;

  constructor(optimizer: Optimizer, gamma: number, options: SchedulerOptions = {}) {
    const o = checkOptionNames(options, ['lastEpoch'], 'ExponentialLR') as SchedulerOptions;
    const factor = numberArg(gamma, 'gamma');
    super(optimizer, o.lastEpoch);
    this.gamma = factor;
    this.initialStep();
  }

  protected getLr(): number[] {
    if (this.lastEpoch === 0) return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * this.gamma);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((base) => base * this.gamma ** this.lastEpoch);
  }
}

export interface CosineAnnealingLROptions extends SchedulerOptions {
  /** Minimum learning rate (default 0). */
  etaMin?: number;
}

/**
 * Cosine annealing from the base lr to etaMin over TMax epochs (then back up: PyTorch's schedule
 * is periodic), with PyTorch 1.13's recursive formula.
 */
export class CosineAnnealingLR extends LRScheduler {
  /** Epochs of a half cosine period. */
  readonly TMax: number;
  /** The lowest lr. */
  readonly etaMin: number;

  constructor(optimizer: Optimizer, TMax: number, options: CosineAnnealingLROptions = {}) {
    const o = checkOptionNames(options, ['etaMin', 'lastEpoch'], 'CosineAnnealingLR') as CosineAnnealingLROptions;
    const period = numberArg(TMax, 'TMax');
    const etaMin = numberArg(o.etaMin ?? 0, 'etaMin');
    super(optimizer, o.lastEpoch);
    this.TMax = period;
    this.etaMin = etaMin;
    this.initialStep();
  }

  protected getLr(): number[] {
    const { lastEpoch: epoch, TMax, etaMin } = this;
    if (epoch === 0) return this.groups.map((g) => g.lr);
    if (this.stepCount === 1 && epoch > 0) {
      return this.baseLrs.map((base) => etaMin + (base - etaMin) * (1 + Math.cos(epoch * Math.PI / TMax)) / 2);
    }
    if (pyMod(epoch - 1 - TMax, 2 * TMax) === 0) {
      return this.groups.map((g, i) => g.lr + (this.baseLrs[i] - etaMin) * (1 - Math.cos(Math.PI / TMax)) / 2);
    }
    return this.groups.map((g) => (1 + Math.cos(Math.PI * epoch / TMax))
      / (1 + Math.cos(Math.PI * (epoch - 1) / TMax)) * (g.lr - etaMin) + etaMin);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((base) => this.etaMin + (base - this.etaMin) * (1 + Math.cos(Math.PI * this.lastEpoch / this.TMax)) / 2);
  }
}

export interface LinearLROptions extends SchedulerOptions {
  /** Factor of the first epoch (default 1/3). */
  startFactor?: number;
  /** Factor reached after totalIters epochs (default 1). */
  endFactor?: number;
  /** Epochs of the ramp (default 5). */
  totalIters?: number;
}

/** lr × a factor going linearly from startFactor to endFactor over totalIters epochs. */
export class LinearLR extends LRScheduler {
  /** Factor of the base lr at the start. */
  readonly startFactor: number;
  /** Factor of the base lr after `totalIters` epochs. */
  readonly endFactor: number;
  /** Epochs the factor takes to move from `startFactor` to `endFactor`. */
  readonly totalIters: number;

  /** @throws RangeError `Starting multiplicative factor expected to be between 0 and 1.` (and Ending …). */
  constructor(optimizer: Optimizer, options: LinearLROptions = {}) {
    const o = checkOptionNames(options, ['startFactor', 'endFactor', 'totalIters', 'lastEpoch'], 'LinearLR') as LinearLROptions;
    const startFactor = numberArg(o.startFactor ?? 1 / 3, 'startFactor');
    const endFactor = numberArg(o.endFactor ?? 1, 'endFactor');
    if (startFactor > 1 || startFactor < 0) throw new RangeError('Starting multiplicative factor expected to be between 0 and 1.');
    if (endFactor > 1 || endFactor < 0) throw new RangeError('Ending multiplicative factor expected to be between 0 and 1.');
    const totalIters = intArg(o.totalIters ?? 5, 'totalIters');
    super(optimizer, o.lastEpoch);
    this.startFactor = startFactor;
    this.endFactor = endFactor;
    this.totalIters = totalIters;
    this.initialStep();
  }

  protected getLr(): number[] {
    const { startFactor: start, endFactor: end, totalIters: total, lastEpoch: epoch } = this;
    if (epoch === 0) return this.groups.map((g) => g.lr * start);
    if (epoch > total) return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * (1 + (end - start) / (total * start + (epoch - 1) * (end - start))));
  }

  protected override closedFormLr(): number[] {
    const { startFactor: start, endFactor: end, totalIters: total } = this;
    return this.baseLrs.map((base) => base * (start + (end - start) * Math.min(total, this.lastEpoch) / total));
  }
}
