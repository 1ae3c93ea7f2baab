/**
 * Loss modules (PyTorch's `nn.CrossEntropyLoss`, `nn.MSELoss`, …): hold the options, and
 * `forward(input, target)` calls the function of the same name in ./loss.ts.
 *
 * Unlike PyTorch, a class `weight` / `posWeight` is kept as a plain field, not a buffer, so it is
 * not part of `stateDict()`.
 * @module
 */
import { Tensor } from '../tensor/tensor.js';
import { optionalObject } from '../validate.js';
import { Module } from './module.js';
import {
  binaryCrossEntropyWithLogits, crossEntropy, huberLoss, l1Loss, mseLoss, nllLoss, smoothL1Loss,
  type BceWithLogitsOptions, type ClassTarget, type CrossEntropyOptions, type HuberLossOptions,
  type NllLossOptions, type Reduction, type ReductionOptions, type SmoothL1LossOptions,
} from './loss.js';

const REDUCTIONS: readonly string[] = ['mean', 'sum', 'none'];

/** Validates the options once, at construction (the loss re-checks them on each call). */
function reductionOptions<T extends ReductionOptions>(options: T | undefined): T & { reduction: Reduction } {
  const opts = optionalObject(options, 'options') as T;
  const reduction = opts.reduction ?? 'mean';
  if (!REDUCTIONS.includes(reduction)) throw new RangeError(`${String(reduction)} is not a valid value for reduction`);
  return { ...opts, reduction };
}

/** A loss function of ./loss.ts, as a module calls it: with the options the module was built with. */
type LossFunction<Options, Target> = (input: Tensor, target: Target, options: Options) => Tensor;

/**
 * Every loss module: options checked once, at construction, and `forward` = the loss function with
 * them. A subclass only names its function (`lossFunction`), so the modules cannot drift
 * apart in how they hold and pass their options.
 */
abstract class Loss<Options extends ReductionOptions, Target> extends Module {
  /** 'mean', 'sum' or 'none'. */
  readonly reduction: Reduction;
  /** The options given, checked, with the reduction filled in. */
  protected readonly options: Options & {
    /** 'mean', 'sum' or 'none'. */
    reduction: Reduction;
  };
  /** The function of ./loss.ts this module applies. */
  protected abstract readonly lossFunction: LossFunction<Options, Target>;

  constructor(options?: Options) {
    super();
    this.options = reductionOptions(options);
    this.reduction = this.options.reduction;
  }

  /** The loss of `input` against `target`. */
  override forward(input: Tensor, target: Target): Tensor {
    return this.lossFunction(input, target, this.options);
  }
}

/** `nn.CrossEntropyLoss`: {@link crossEntropy} with fixed options. */
export class CrossEntropyLoss extends Loss<CrossEntropyOptions, ClassTarget> {
  protected readonly lossFunction = crossEntropy;
}

/** `nn.NLLLoss`: {@link nllLoss} with fixed options. */
export class NLLLoss extends Loss<NllLossOptions, ClassTarget> {
  protected readonly lossFunction = nllLoss;
}

/** `nn.MSELoss`: {@link mseLoss}. */
export class MSELoss extends Loss<ReductionOptions, Tensor> {
  protected readonly lossFunction = mseLoss;
}

/** `nn.L1Loss`: {@link l1Loss}. */
export class L1Loss extends Loss<ReductionOptions, Tensor> {
  protected readonly lossFunction = l1Loss;
}

/** `nn.SmoothL1Loss`: {@link smoothL1Loss} (option `beta`). */
export class SmoothL1Loss extends Loss<SmoothL1LossOptions, Tensor> {
  protected readonly lossFunction = smoothL1Loss;
}

/** `nn.HuberLoss`: {@link huberLoss} (option `delta`). */
export class HuberLoss extends Loss<HuberLossOptions, Tensor> {
  protected readonly lossFunction = huberLoss;
}

/** `nn.BCEWithLogitsLoss`: {@link binaryCrossEntropyWithLogits} (options `weight`, `posWeight`). */
export class BCEWithLogitsLoss extends Loss<BceWithLogitsOptions, Tensor> {
  protected readonly lossFunction = binaryCrossEntropyWithLogits;
}
