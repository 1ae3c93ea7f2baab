/**
 * `ReduceLROnPlateau`: torch.optim.lr_scheduler.ReduceLROnPlateau (1.13) — multiplies the lr by
 * `factor` when a metric has not improved for `patience` steps; `step(metric)` after validation.
 * @module
 */
import { describe } from '../validate.js';
import { checkOptionNames, Optimizer } from './optimizer.js';
import { loadSchedulerState, schedulerState } from './scheduler.js';

/** Options of {@link ReduceLROnPlateau}. */
export interface ReduceLROnPlateauOptions {
  /** 'min' (default): lower is better; 'max': higher is better. */
  mode?: 'min' | 'max';
  /** New lr = lr × factor (default 0.1, must be < 1). */
  factor?: number;
  /** Steps without improvement tolerated (default 10). */
  patience?: number;
  /** Minimal improvement that counts (default 1e-4). */
  threshold?: number;
  /** 'rel' (default): relative to the best; 'abs': absolute. */
  thresholdMode?: 'rel' | 'abs';
  /** Steps after a reduction during which bad steps are not counted (default 0). */
  cooldown?: number;
  /** Lower bound of the lr, for all groups or per group (default 0). */
  minLr?: number | number[];
  /** Reductions smaller than this are skipped (default 1e-8). */
  eps?: number;
}

/**
 * Reduces the learning rate when a metric stops improving (PyTorch `ReduceLROnPlateau`): call `step(metric)`
 * once per epoch.
 */
export class ReduceLROnPlateau {
  /** The optimizer whose groups' `lr` it changes. */
  readonly optimizer: Optimizer;
  /** New lr = lr × factor. */
  factor: number;
  /** Each group's lower bound of the lr. */
  minLrs: number[];
  /** Steps without improvement tolerated before a reduction. */
  patience: number;
  /** Steps after a reduction during which bad steps are not counted. */
  cooldown: number;
  /** Cooldown steps left. */
  cooldownCounter = 0;
  /** `min`: lower is better; `max`: higher is better. */
  mode: 'min' | 'max';
  /** Minimal improvement that counts. */
  threshold: number;
  /** `rel`: the improvement is relative to the best; `abs`: absolute. */
  thresholdMode: 'rel' | 'abs';
  /** The best metric so far (±Infinity before the first step). */
  best: number;
  /** Steps since the last improvement. */
  numBadEpochs = 0;
  /** Reductions smaller than this are skipped. */
  eps: number;
  /** `step()` calls so far. */
  lastEpoch = 0;
  private lastLr: number[];

  /**
   * @throws RangeError `Factor should be < 1.0.`, `expected 2 min_lrs, got 3`, `mode x is unknown!`,
   *   `threshold mode x is unknown!`; TypeError `X is not an Optimizer`.
   */
  constructor(optimizer: Optimizer, options: ReduceLROnPlateauOptions = {}) {
    const o = checkOptionNames(options, [
      'mode', 'factor', 'patience', 'threshold', 'thresholdMode', 'cooldown', 'minLr', 'eps',
    ], 'ReduceLROnPlateau') as ReduceLROnPlateauOptions;
    this.factor = o.factor ?? 0.1;
    if (this.factor >= 1) throw new RangeError('Factor should be < 1.0.');
    if (!(optimizer instanceof Optimizer)) {
      const name = typeof optimizer === 'object' && optimizer !== null ? (optimizer as object).constructor.name : describe(optimizer);
      throw new TypeError(`${name} is not an Optimizer`);
    }
    this.optimizer = optimizer;
    const groups = optimizer.paramGroups.length;
    const minLr = o.minLr ?? 0;
    if (Array.isArray(minLr)) {
      if (minLr.length !== groups) throw new RangeError(`expected ${groups} min_lrs, got ${minLr.length}`);
      this.minLrs = [...minLr];
    } else {
      this.minLrs = new Array<number>(groups).fill(minLr);
    }
    this.patience = o.patience ?? 10;
    this.cooldown = o.cooldown ?? 0;
    this.mode = o.mode ?? 'min';
    this.threshold = o.threshold ?? 1e-4;
    this.thresholdMode = o.thresholdMode ?? 'rel';
    this.eps = o.eps ?? 1e-8;
    if (this.mode !== 'min' && this.mode !== 'max') throw new RangeError(`mode ${String(this.mode)} is unknown!`);
    if (this.thresholdMode !== 'rel' && this.thresholdMode !== 'abs') {
      throw new RangeError(`threshold mode ${String(this.thresholdMode)} is unknown!`);
    }
    this.best = this.modeWorse;
    this.lastLr = optimizer.paramGroups.map((g) => g.lr);
  }

  private get modeWorse(): number {
    return this.mode === 'min' ? Infinity : -Infinity;
  }

  /** Records `metrics` (a number, or a one-element Tensor) and reduces the lr after `patience` bad steps. */
  step(metrics: number | { item(): number }): void {
    const current = typeof metrics === 'number' ? metrics : metrics.item();
    this.lastEpoch += 1;
    if (this.isBetter(current, this.best)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs += 1;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0;  // bad epochs in cooldown do not count
    }
    if (this.numBadEpochs > this.patience) {
      this.reduceLr();
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The learning rates after the last step, one per group. */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** Whether the cooldown after a reduction is still running. */
  get inCooldown(): boolean {
    return this.cooldownCounter > 0;
  }

  private reduceLr(): void {
    this.optimizer.paramGroups.forEach((group, i) => {
      const oldLr = group.lr;
      const newLr = Math.max(oldLr * this.factor, this.minLrs[i]);
      if (oldLr - newLr > this.eps) group.lr = newLr;
    });
  }

  private isBetter(a: number, best: number): boolean {
    if (this.mode === 'min' && this.thresholdMode === 'rel') return a < best * (1 - this.threshold);
    if (this.mode === 'min') return a < best - this.threshold;
    if (this.thresholdMode === 'rel') return a > best * (this.threshold + 1);
    return a > best + this.threshold;
  }

  /** Everything but the optimizer, JSON-able (best may be ±Infinity before the first step). */
  stateDict(): Record<string, unknown> {
    return schedulerState(this);
  }

  /** Restores what `stateDict()` returned. */
  loadStateDict(stateDict: Record<string, unknown>): void {
    loadSchedulerState(this, stateDict);
  }
}
