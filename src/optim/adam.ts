/**
 * `Adam`: torch.optim.Adam (1.13) — bias corrections, eps outside the square root, AMSGrad,
 * maximize, weight decay as an L2 term on the gradient. The update runs in native code; AdamW
 * (adamw.ts) shares it.
 * @module
 */
import { describe } from '../validate.js';
import { optimBinding } from './native.js';
import {
  boolOption, checkOptionNames, nonNegative, Optimizer, type ParamGroup, type Params, withDefaults,
} from './optimizer.js';

/** Options of {@link Adam} and {@link AdamW}. */
export interface AdamOptions {
  /** Learning rate (default 1e-3). */
  lr?: number;
  /** Running-average coefficients of the gradient and its square (default [0.9, 0.999]). */
  betas?: [number, number];
  /** Added to the denominator (default 1e-8). */
  eps?: number;
  /** Adam: L2 penalty (default 0). AdamW: decoupled decay coefficient (default 1e-2). */
  weightDecay?: number;
  /** AMSGrad variant (default false). */
  amsgrad?: boolean;
  /** Maximize the objective (default false). */
  maximize?: boolean;
}

export interface AdamParamGroup extends ParamGroup {
  /** See {@link AdamOptions.betas}. */
  betas: [number, number];
  /** See {@link AdamOptions.eps}. */
  eps: number;
  /** See {@link AdamOptions.weightDecay}. */
  weightDecay: number;
  /** See {@link AdamOptions.amsgrad}. */
  amsgrad: boolean;
  /** See {@link AdamOptions.maximize}. */
  maximize: boolean;
}

export const ADAM_OPTION_NAMES = ['lr', 'betas', 'eps', 'weightDecay', 'amsgrad', 'maximize'] as const;

function checkBetas(value: unknown): void {
  if (!Array.isArray(value) || value.length !== 2 || !value.every((b) => typeof b === 'number')) {
    throw new TypeError(`Expected array of 2 numbers for betas but received ${describe(value)}`);
  }
  value.forEach((beta: number, i) => {
    if (!(beta >= 0 && beta < 1)) throw new RangeError(`Invalid beta parameter at index ${i}: ${beta}`);
  });
}

/** Adam and AdamW: the same state and kernel, different weight decay. */
export abstract class AdamBase extends Optimizer<AdamParamGroup> {
  protected abstract readonly decoupled: boolean;

  protected checkOptions(group: Record<string, unknown>): void {
    nonNegative(group, 'lr', 'learning rate');
    nonNegative(group, 'eps', 'epsilon value');
    checkBetas(group.betas);
    nonNegative(group, 'weightDecay', 'weight_decay value');
    boolOption(group, 'amsgrad');
    boolOption(group, 'maximize');
  }

  protected updateGroup(group: AdamParamGroup): void {
    const native = optimBinding();
    const [beta1, beta2] = group.betas;
    for (const p of this.paramsWithGrad(group)) {
      const state = this.stateOf(p);
      if (state.step === undefined) {
        state.step = 0;
        state.expAvg = new Float32Array(p.numel);
        state.expAvgSq = new Float32Array(p.numel);
      }
      if (group.amsgrad && state.maxExpAvgSq === undefined) state.maxExpAvgSq = new Float32Array(p.numel);
      state.step = (state.step as number) + 1;
      native.adamStep(p.data, p.grad.data, state.expAvg as Float32Array, state.expAvgSq as Float32Array,
        group.amsgrad ? state.maxExpAvgSq as Float32Array : null, group.lr, beta1, beta2, group.eps, group.weightDecay,
        group.amsgrad, group.maximize, this.decoupled, state.step);
    }
  }
}

/**
 * Adam (PyTorch `torch.optim.Adam` 1.13, to the rounding); `weightDecay` is an L2 penalty added to the
 * gradient.
 */
export class Adam extends AdamBase {
  /**
   * Whether the weight decay is decoupled from the gradient (AdamW) rather than an L2 penalty added to it
   * (Adam).
   */
  protected readonly decoupled = false;

  /**
   * @throws RangeError `Invalid learning rate: -1`, `Invalid epsilon value: -1`,
   *   `Invalid beta parameter at index 0: 1`, `Invalid weight_decay value: -1`.
   */
  constructor(params: Params<AdamOptions>, options: AdamOptions = {}) {
    const given = checkOptionNames(options, ADAM_OPTION_NAMES, 'Adam');
    super(params, withDefaults(given, {
      lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false,
    }));
  }
}
