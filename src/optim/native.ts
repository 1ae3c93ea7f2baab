/**
 * The optimizer functions of the addon (native/binding/optim.cpp): synchronous, in place, one
 * parameter per call. The binding re-checks types and lengths; src/optim validates options first.
 * @module
 */
import { binding } from '../native.js';

export interface SgdStepOptions {
  lr: number; momentum: number; dampening: number; weightDecay: number;
  nesterov: boolean; maximize: boolean; firstStep: boolean;
}
export interface AdamStepOptions {
  lr: number; beta1: number; beta2: number; eps: number; weightDecay: number;
  amsgrad: boolean; maximize: boolean; decoupledWeightDecay: boolean; step: number;
}
export interface RmspropStepOptions {
  lr: number; alpha: number; eps: number; weightDecay: number; momentum: number;
  centered: boolean; maximize: boolean;
}
export interface AdagradStepOptions {
  lr: number; lrDecay: number; weightDecay: number; eps: number; maximize: boolean; step: number;
}

export interface OptimBinding {
  sgdStep(param: Float32Array, grad: Float32Array, momentumBuffer: Float32Array | null, options: SgdStepOptions): void;
  adamStep(param: Float32Array, grad: Float32Array, expAvg: Float32Array, expAvgSq: Float32Array,
    maxExpAvgSq: Float32Array | null, options: AdamStepOptions): void;
  rmspropStep(param: Float32Array, grad: Float32Array, squareAvg: Float32Array, gradAvg: Float32Array | null,
    momentumBuffer: Float32Array | null, options: RmspropStepOptions): void;
  adagradStep(param: Float32Array, grad: Float32Array, sum: Float32Array, options: AdagradStepOptions): void;
  /** Σ|x|^p in double (p finite ≥ 0; p = 0 counts non-zeros), or max |x| for p = Infinity. */
  normPowerSum(x: Float32Array, p: number): number;
  scaleInPlace(x: Float32Array, factor: number): void;
  clampInPlace(x: Float32Array, min: number, max: number): void;
}

/** The addon, typed with the optimizer functions. */
export function optimBinding(): OptimBinding {
  return binding() as unknown as OptimBinding;
}
