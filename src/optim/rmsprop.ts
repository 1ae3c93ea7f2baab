/**
 * `RMSprop`: torch.optim.RMSprop (1.13) — smoothing constant alpha, eps added after the square
 * root, centered variant, momentum, L2 weight decay, maximize. The update runs in native code.
 * @module
 */
import { optimBinding } from './native.js';
import {
  boolOption, checkOptionNames, nonNegative, Optimizer, type ParamGroup, type Params, withDefaults,
} from './optimizer.js';

/** Options of {@link RMSprop}. */
export interface RMSpropOptions {
  /** Learning rate (default 1e-2). */
  lr?: number;
  /** Smoothing constant (default 0.99). */
  alpha?: number;
  /** Added to the denominator (default 1e-8). */
  eps?: number;
  /** L2 penalty (default 0). */
  weightDecay?: number;
  /** Momentum factor (default 0). */
  momentum?: number;
  /** Normalize by an estimate of the gradient's variance (default false). */
  centered?: boolean;
  /** Maximize the objective (default false). */
  maximize?: boolean;
}

export interface RMSpropParamGroup extends ParamGroup {
  /** See {@link RMSpropOptions.alpha}. */
  alpha: number;
  /** See {@link RMSpropOptions.eps}. */
  eps: number;
  /** See {@link RMSpropOptions.weightDecay}. */
  weightDecay: number;
  /** See {@link RMSpropOptions.momentum}. */
  momentum: number;
  /** See {@link RMSpropOptions.centered}. */
  centered: boolean;
  /** See {@link RMSpropOptions.maximize}. */
  maximize: boolean;
}

const OPTION_NAMES = ['lr', 'alpha', 'eps', 'weightDecay', 'momentum', 'centered', 'maximize'] as const;

/**
 * RMSprop (PyTorch `torch.optim.RMSprop` 1.13, to the rounding): the gradient divided by a running root mean
 * square of its past values.
 */
export class RMSprop extends Optimizer<RMSpropParamGroup> {
  /**
   * @throws RangeError `Invalid learning rate: -1`, `Invalid epsilon value: -1`, `Invalid momentum value: -1`,
   *   `Invalid weight_decay value: -1`, `Invalid alpha value: -1`.
   */
  constructor(params: Params<RMSpropOptions>, options: RMSpropOptions = {}) {
    const given = checkOptionNames(options, OPTION_NAMES, 'RMSprop');
    super(params, withDefaults(given, {
      lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false,
    }));
  }

  protected checkOptions(group: Record<string, unknown>): void {
    nonNegative(group, 'lr', 'learning rate');
    nonNegative(group, 'eps', 'epsilon value');
    nonNegative(group, 'momentum', 'momentum value');
    nonNegative(group, 'weightDecay', 'weight_decay value');
    nonNegative(group, 'alpha', 'alpha value');
    boolOption(group, 'centered');
    boolOption(group, 'maximize');
  }

  protected updateGroup(group: RMSpropParamGroup): void {
    const native = optimBinding();
    for (const p of this.paramsWithGrad(group)) {
      const state = this.stateOf(p);
      if (state.step === undefined) {
        state.step = 0;
        state.squareAvg = new Float32Array(p.numel);
      }
      // Created when first needed (PyTorch creates them with the state, from the group's options then).
      if (group.momentum > 0) state.momentumBuffer ??= new Float32Array(p.numel);
      if (group.centered) state.gradAvg ??= new Float32Array(p.numel);
      state.step = (state.step as number) + 1;
      native.rmspropStep(p.data, p.grad.data, state.squareAvg as Float32Array,
        group.centered ? state.gradAvg as Float32Array : null,
        group.momentum > 0 ? state.momentumBuffer as Float32Array : null, group.lr, group.alpha, group.eps,
        group.weightDecay, group.momentum, group.centered, group.maximize);
    }
  }
}
