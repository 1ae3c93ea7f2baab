/**
 * `Adagrad`: torch.optim.Adagrad (1.13) — learning-rate decay lr / (1 + (step − 1)·lrDecay),
 * initial accumulator value, eps added after the square root, L2 weight decay, maximize. The
 * update runs in native code.
 * @module
 */
import type { Tensor } from '../tensor/tensor.js';
import { optimBinding } from './native.js';
import {
  boolOption, checkOptionNames, nonNegative, Optimizer, type ParamGroup, type Params, type ParamState, withDefaults,
} from './optimizer.js';

/** Options of {@link Adagrad}. */
export interface AdagradOptions {
  /** Learning rate (default 1e-2). */
  lr?: number;
  /** Learning-rate decay (default 0). */
  lrDecay?: number;
  /** L2 penalty (default 0). */
  weightDecay?: number;
  /** Starting value of the sum of squared gradients (default 0). */
  initialAccumulatorValue?: number;
  /** Added to the denominator (default 1e-10). */
  eps?: number;
  /** Maximize the objective (default false). */
  maximize?: boolean;
}

export interface AdagradParamGroup extends ParamGroup {
  /** See {@link AdagradOptions.lrDecay}. */
  lrDecay: number;
  /** See {@link AdagradOptions.weightDecay}. */
  weightDecay: number;
  /** See {@link AdagradOptions.initialAccumulatorValue}. */
  initialAccumulatorValue: number;
  /** See {@link AdagradOptions.eps}. */
  eps: number;
  /** See {@link AdagradOptions.maximize}. */
  maximize: boolean;
}

const OPTION_NAMES = ['lr', 'lrDecay', 'weightDecay', 'initialAccumulatorValue', 'eps', 'maximize'] as const;

/**
 * Adagrad (PyTorch `torch.optim.Adagrad` 1.13, to the rounding): per-parameter learning rates scaled down by
 * the sum of the squared gradients.
 */
export class Adagrad extends Optimizer<AdagradParamGroup> {
  /**
   * State is created for every parameter here, as in PyTorch (step 0, sum = initialAccumulatorValue).
   * @throws RangeError `Invalid learning rate: -1`, `Invalid lr_decay value: -1`, `Invalid weight_decay value: -1`,
   *   `Invalid initial_accumulator_value value: -1`, `Invalid epsilon value: -1`.
   */
  constructor(params: Params<AdagradOptions>, options: AdagradOptions = {}) {
    const given = checkOptionNames(options, OPTION_NAMES, 'Adagrad');
    super(params, withDefaults(given, {
      lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false,
    }));
    for (const group of this.paramGroups) for (const p of group.params) this.initialState(p, group);
  }

  protected checkOptions(group: Record<string, unknown>): void {
    nonNegative(group, 'lr', 'learning rate');
    nonNegative(group, 'lrDecay', 'lr_decay value');
    nonNegative(group, 'weightDecay', 'weight_decay value');
    nonNegative(group, 'initialAccumulatorValue', 'initial_accumulator_value value');
    nonNegative(group, 'eps', 'epsilon value');
    boolOption(group, 'maximize');
  }

  // The group's initialAccumulatorValue (PyTorch uses the constructor's value for every group).
  private initialState(p: Tensor, group: AdagradParamGroup): ParamState {
    const state = this.stateOf(p);
    if (state.step === undefined) {
      state.step = 0;
      state.sum = new Float32Array(p.numel).fill(group.initialAccumulatorValue);
    }
    return state;
  }

  protected updateGroup(group: AdagradParamGroup): void {
    const native = optimBinding();
    for (const p of this.paramsWithGrad(group)) {
      const state = this.initialState(p, group);
      state.step = (state.step as number) + 1;
      native.adagradStep(p.data, p.grad.data, state.sum as Float32Array, group.lr, group.lrDecay, group.weightDecay,
        group.eps, group.maximize, state.step);
    }
  }
}
