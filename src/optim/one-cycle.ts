/**
 * `OneCycleLR`: torch.optim.lr_scheduler.OneCycleLR (1.13) — lr rises from maxLr/divFactor to maxLr
 * over pctStart of the steps, then anneals to initialLr/finalDivFactor (cos or linear; optionally
 * three phases), while the momentum (SGD/RMSprop `momentum`, Adam's beta1) cycles the other way.
 * Step it after every batch.
 * @module
 */
import { describe } from '../validate.js';
import { checkOptionNames, type Optimizer, type ParamGroup } from './optimizer.js';
import { LRScheduler, type SchedulerOptions } from './scheduler.js';

export interface OneCycleLROptions extends SchedulerOptions {
  /** Steps in the cycle; or give epochs and stepsPerEpoch. */
  totalSteps?: number;
  /** Epochs of the cycle (with `stepsPerEpoch`, instead of `totalSteps`). */
  epochs?: number;
  /** Steps per epoch (with `epochs`, instead of `totalSteps`). */
  stepsPerEpoch?: number;
  /** Fraction of the cycle spent increasing the lr (default 0.3). */
  pctStart?: number;
  /** 'cos' (default) or 'linear'. */
  annealStrategy?: 'cos' | 'linear';
  /** Cycle the momentum inversely to the lr (default true). */
  cycleMomentum?: boolean;
  /** Lowest momentum, per group or for all (default 0.85). */
  baseMomentum?: number | number[];
  /** Highest momentum, per group or for all (default 0.95). */
  maxMomentum?: number | number[];
  /** initialLr = maxLr / divFactor (default 25). */
  divFactor?: number;
  /** minLr = initialLr / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  /** A third phase: down to initialLr, then to minLr (default false). */
  threePhase?: boolean;
}

interface Phase {
  endStep: number;
  startLr: string;
  endLr: string;
  startMomentum: string;
  endMomentum: string;
}

const annealCos = (start: number, end: number, pct: number): number => end + (start - end) / 2 * (Math.cos(Math.PI * pct) + 1);
const annealLinear = (start: number, end: number, pct: number): number => (end - start) * pct + start;

function positiveInt(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new RangeError(`Expected positive integer ${name}, but got ${typeof value === 'number' ? value : describe(value)}`);
  }
  return value;
}

// One value per group: `expected 2 values for maxLr, got 3`.
function perGroup(value: unknown, name: string, groups: number): number[] {
  if (Array.isArray(value)) {
    if (value.length !== groups) throw new RangeError(`expected ${groups} values for ${name}, got ${value.length}`);
    return value.map((v: unknown) => {
      if (typeof v !== 'number') throw new TypeError(`Expected number for ${name} but received ${describe(v)}`);
      return v;
    });
  }
  if (typeof value !== 'number') throw new TypeError(`Expected number or array of numbers for ${name} but received ${describe(value)}`);
  return new Array<number>(groups).fill(value);
}

export class OneCycleLR extends LRScheduler {
  /** Steps in the cycle. */
  readonly totalSteps: number;
  /** How the lr falls after its peak: `cos` or `linear`. */
  readonly annealStrategy: 'cos' | 'linear';
  /** Whether the momentum (or Adam's beta1) cycles inversely to the lr. */
  readonly cycleMomentum: boolean;
  /** Whether the momentum lives in betas[0] (Adam, AdamW) rather than `momentum`. */
  readonly useBeta1: boolean;
  private readonly phases: Phase[];

  /**
   * @throws Error `You must define either totalSteps OR (epochs AND stepsPerEpoch)`; RangeError
   *   `Expected positive integer totalSteps, but got 0`, `Expected float between 0 and 1 pctStart, but got 2`,
   *   `annealStrategy must by one of 'cos' or 'linear', instead got x` (sic, PyTorch's words),
   *   `optimizer must support momentum with \`cycleMomentum\` option enabled`.
   */
  constructor(optimizer: Optimizer, maxLr: number | number[], options: OneCycleLROptions = {}) {
    const o = checkOptionNames(options, [
      'totalSteps', 'epochs', 'stepsPerEpoch', 'pctStart', 'annealStrategy', 'cycleMomentum', 'baseMomentum',
      'maxMomentum', 'divFactor', 'finalDivFactor', 'threePhase', 'lastEpoch',
    ], 'OneCycleLR') as OneCycleLROptions;
    let totalSteps: number;
    if (o.totalSteps === undefined && o.epochs === undefined && o.stepsPerEpoch === undefined) {
      throw new Error('You must define either totalSteps OR (epochs AND stepsPerEpoch)');
    } else if (o.totalSteps !== undefined) {
      totalSteps = positiveInt(o.totalSteps, 'totalSteps');
    } else {
      totalSteps = positiveInt(o.epochs, 'epochs') * positiveInt(o.stepsPerEpoch, 'stepsPerEpoch');
    }
    const pct = o.pctStart ?? 0.3;
    const phases: Phase[] = o.threePhase
      ? [
        { endStep: pct * totalSteps - 1, startLr: 'initialLr', endLr: 'maxLr', startMomentum: 'maxMomentum', endMomentum: 'baseMomentum' },
        { endStep: 2 * pct * totalSteps - 2, startLr: 'maxLr', endLr: 'initialLr', startMomentum: 'baseMomentum', endMomentum: 'maxMomentum' },
        { endStep: totalSteps - 1, startLr: 'initialLr', endLr: 'minLr', startMomentum: 'maxMomentum', endMomentum: 'maxMomentum' },
      ]
      : [
        { endStep: pct * totalSteps - 1, startLr: 'initialLr', endLr: 'maxLr', startMomentum: 'maxMomentum', endMomentum: 'baseMomentum' },
        { endStep: totalSteps - 1, startLr: 'maxLr', endLr: 'minLr', startMomentum: 'baseMomentum', endMomentum: 'maxMomentum' },
      ];
    if (typeof pct !== 'number' || !(pct >= 0 && pct <= 1)) {
      throw new RangeError(`Expected float between 0 and 1 pctStart, but got ${typeof pct === 'number' ? pct : describe(pct)}`);
    }
    const strategy = o.annealStrategy ?? 'cos';
    if (strategy !== 'cos' && strategy !== 'linear') {
      throw new RangeError(`annealStrategy must by one of 'cos' or 'linear', instead got ${String(strategy)}`);
    }
    const lastEpoch = o.lastEpoch ?? -1;
    const groups = (optimizer as Optimizer | undefined)?.paramGroups ?? [];
    const divFactor = o.divFactor ?? 25;
    const finalDivFactor = o.finalDivFactor ?? 1e4;
    const maxLrs = perGroup(maxLr, 'maxLr', groups.length);
    if (lastEpoch === -1) {
      groups.forEach((group, i) => {
        group.initialLr = maxLrs[i] / divFactor;
        group.maxLr = maxLrs[i];
        group.minLr = (group.initialLr as number) / finalDivFactor;
      });
    }
    const cycleMomentum = o.cycleMomentum ?? true;
    let useBeta1 = false;
    if (cycleMomentum && groups.length > 0) {
      const defaults = optimizer.defaults;
      if (!('momentum' in defaults) && !('betas' in defaults)) {
        throw new RangeError('optimizer must support momentum with `cycleMomentum` option enabled');
      }
      useBeta1 = 'betas' in defaults;
      const maxMomentums = perGroup(o.maxMomentum ?? 0.95, 'maxMomentum', groups.length);
      const baseMomentums = perGroup(o.baseMomentum ?? 0.85, 'baseMomentum', groups.length);
      if (lastEpoch === -1) {
        groups.forEach((group, i) => {
          setMomentum(group, maxMomentums[i], useBeta1);
          group.maxMomentum = maxMomentums[i];
          group.baseMomentum = baseMomentums[i];
        });
      }
    }
    super(optimizer, lastEpoch);
    this.totalSteps = totalSteps;
    this.phases = phases;
    this.annealStrategy = strategy;
    this.cycleMomentum = cycleMomentum;
    this.useBeta1 = useBeta1;
    this.initialStep();
  }

  /** @throws RangeError `Tried to step 101 times. The specified number of total steps is 100`. */
  protected getLr(): number[] {
    const stepNum = this.lastEpoch;
    if (stepNum > this.totalSteps) {
      throw new RangeError(`Tried to step ${stepNum + 1} times. The specified number of total steps is ${this.totalSteps}`);
    }
    const anneal = this.annealStrategy === 'cos' ? annealCos : annealLinear;
    return this.groups.map((group) => {
      let startStep = 0;
      for (let i = 0; i < this.phases.length; i++) {
        const phase = this.phases[i];
        if (stepNum <= phase.endStep || i === this.phases.length - 1) {
          if (phase.endStep === startStep) {
            // PyTorch raises ZeroDivisionError here; a NaN learning rate would surface much later.
            throw new RangeError(`OneCycleLR phase ${i + 1} spans zero steps (pctStart · totalSteps = ${startStep + 1}): `
              + 'raise totalSteps or change pctStart');
          }
          const pct = (stepNum - startStep) / (phase.endStep - startStep);
          if (this.cycleMomentum) {
            setMomentum(group, anneal(group[phase.startMomentum] as number, group[phase.endMomentum] as number, pct), this.useBeta1);
          }
          return anneal(group[phase.startLr] as number, group[phase.endLr] as number, pct);
        }
        startStep = phase.endStep;
      }
      throw new Error('unreachable: the last phase always matches');
    });
  }
}

function setMomentum(group: ParamGroup, momentum: number, useBeta1: boolean): void {
  if (useBeta1) group.betas = [momentum, ...(group.betas as number[]).slice(1)];
  else group.momentum = momentum;
}
