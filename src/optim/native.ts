/**
 * The optimizer functions of the addon (native/binding/optim.cpp): synchronous, in place, one
 * parameter per call, the hyperparameters positional after the arrays. src/optim validates the
 * options first; the binding checks only types and lengths (memory safety).
 * @module
 */
import { binding } from '../native.js';

type F32 = Float32Array;

export interface OptimBinding {
  sgdStep(param: F32, grad: F32, momentumBuffer: F32 | null, lr: number, momentum: number, dampening: number,
    weightDecay: number, nesterov: boolean, maximize: boolean, firstStep: boolean): void;
  /** `step`: the parameter's step count after the increment (1 on the first update). */
  adamStep(param: F32, grad: F32, expAvg: F32, expAvgSq: F32, maxExpAvgSq: F32 | null, lr: number, beta1: number,
    beta2: number, eps: number, weightDecay: number, amsgrad: boolean, maximize: boolean, decoupledWeightDecay: boolean,
    step: number): void;
  rmspropStep(param: F32, grad: F32, squareAvg: F32, gradAvg: F32 | null, momentumBuffer: F32 | null, lr: number,
    alpha: number, eps: number, weightDecay: number, momentum: number, centered: boolean, maximize: boolean): void;
  adagradStep(param: F32, grad: F32, sum: F32, lr: number, lrDecay: number, weightDecay: number, eps: number,
    maximize: boolean, step: number): void;
  /** Σ|x|^p in double (p finite ≥ 0; p = 0 counts non-zeros), or max |x| for p = Infinity. */
  normPowerSum(x: F32, p: number): number;
  scaleInPlace(x: F32, factor: number): void;
  clampInPlace(x: F32, min: number, max: number): void;
}

/** The addon, typed with the optimizer functions. */
export function optimBinding(): OptimBinding {
  return binding() as unknown as OptimBinding;
}
