/**
 * `SGD`: torch.optim.SGD (1.13) — momentum (the first step's buffer is the gradient itself),
 * dampening, Nesterov, L2 weight decay, maximize. The update runs in native code.
 * @module
 */
import type { Tensor } from '../tensor/tensor.js';
import { optimBinding } from './native.js';
import {
  boolOption, checkOptionNames, nonNegative, numberOption, Optimizer, type ParamGroup, type Params, required,
  withDefaults,
} from './optimizer.js';

/** Options of {@link SGD}. */
export interface SGDOptions {
  /** Learning rate (no default: required, here or in every parameter group). */
  lr?: number;
  /** Momentum factor (default 0). */
  momentum?: number;
  /** Dampening for momentum (default 0). */
  dampening?: number;
  /** L2 penalty (default 0). */
  weightDecay?: number;
  /** Nesterov momentum (default false; needs momentum > 0 and dampening 0). */
  nesterov?: boolean;
  /** Maximize the objective (default false). */
  maximize?: boolean;
}

export interface SGDParamGroup extends ParamGroup {
  /** See {@link SGDOptions.momentum}. */
  momentum: number;
  /** See {@link SGDOptions.dampening}. */
  dampening: number;
  /** See {@link SGDOptions.weightDecay}. */
  weightDecay: number;
  /** See {@link SGDOptions.nesterov}. */
  nesterov: boolean;
  /** See {@link SGDOptions.maximize}. */
  maximize: boolean;
}

const OPTION_NAMES = ['lr', 'momentum', 'dampening', 'weightDecay', 'nesterov', 'maximize'] as const;

/**
 * Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and weight decay (PyTorch
 * `torch.optim.SGD` 1.13, to the rounding).
 */
export class SGD extends Optimizer<SGDParamGroup> {
  /**
   * @throws TypeError `parameter group didn't specify a value of required optimization parameter lr`;
   *   RangeError `Invalid learning rate: -1`, `Invalid momentum value: -1`, `Invalid weight_decay value: -1`,
   *   `Nesterov momentum requires a momentum and zero dampening`.
   */
  constructor(params: Params<SGDOptions>, options: SGDOptions = {}) {
    const given = checkOptionNames(options, OPTION_NAMES, 'SGD');
    super(params, withDefaults(given, {
      lr: required, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false,
    }));
  }

  protected checkOptions(group: Record<string, unknown>): void {
    nonNegative(group, 'lr', 'learning rate');
    nonNegative(group, 'momentum', 'momentum value');
    nonNegative(group, 'weightDecay', 'weight_decay value');
    const dampening = numberOption(group, 'dampening');
    if (boolOption(group, 'nesterov') && (!((group.momentum as number) > 0) || dampening !== 0)) {
      throw new RangeError('Nesterov momentum requires a momentum and zero dampening');
    }
    boolOption(group, 'maximize');
  }

  protected updateGroup(group: SGDParamGroup): void {
    const native = optimBinding();
    for (const p of this.paramsWithGrad(group)) {
      const state = this.stateOf(p);
      const firstStep = state.momentumBuffer === undefined;
      if (group.momentum !== 0 && firstStep) state.momentumBuffer = new Float32Array(p.numel);
      native.sgdStep(p.data, (p.grad as Tensor).data, (state.momentumBuffer as Float32Array | undefined) ?? null,
        group.lr, group.momentum, group.dampening, group.weightDecay, group.nesterov, group.maximize, firstStep);
    }
  }
}
