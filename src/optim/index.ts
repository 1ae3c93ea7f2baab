/**
 * Optimizers, learning-rate schedulers and gradient clipping with torch.optim's (1.13) semantics;
 * the per-element updates run in native, vectorized code.
 * @module
 */
export {
  Optimizer, required, type OptimizerStateDict, type ParamGroup, type ParamGroupSpec, type Params, type ParamState,
} from './optimizer.js';
export { SGD, type SGDOptions, type SGDParamGroup } from './sgd.js';
export { Adam, type AdamOptions, type AdamParamGroup } from './adam.js';
export { AdamW } from './adamw.js';
export { RMSprop, type RMSpropOptions, type RMSpropParamGroup } from './rmsprop.js';
export { Adagrad, type AdagradOptions, type AdagradParamGroup } from './adagrad.js';
export {
  LRScheduler, StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LinearLR,
  type SchedulerOptions, type StepLROptions, type MultiStepLROptions, type CosineAnnealingLROptions, type LinearLROptions,
} from './scheduler.js';
export { OneCycleLR, type OneCycleLROptions } from './one-cycle.js';
export { ReduceLROnPlateau, type ReduceLROnPlateauOptions } from './plateau.js';
export { clipGradNorm_, clipGradValue_, type ClipGradNormOptions } from './clip.js';
