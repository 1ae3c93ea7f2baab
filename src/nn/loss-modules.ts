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

abstract class Loss<Options extends ReductionOptions, Target> extends Module {
  /** 'mean', 'sum' or 'none'. */
  readonly reduction: Reduction;
  protected readonly options: Options & { reduction: Reduction };

  constructor(options: Options | undefined) {
    super();
    this.options = reductionOptions(options);
    this.reduction = this.options.reduction;
  }

  /** The loss of `input` against `target`. */
  abstract override forward(input: Tensor, target: Target): Tensor;
}

/** `nn.CrossEntropyLoss`: {@link crossEntropy} with fixed options. */
export class CrossEntropyLoss extends Loss<CrossEntropyOptions, ClassTarget> {
  constructor(options?: CrossEntropyOptions) {
    super(options);
  }

  forward(input: Tensor, target: ClassTarget): Tensor {
    return crossEntropy(input, target, this.options);
  }
}

/** `nn.NLLLoss`: {@link nllLoss} with fixed options. */
export class NLLLoss extends Loss<NllLossOptions, ClassTarget> {
  constructor(options?: NllLossOptions) {
    super(options);
  }

  forward(input: Tensor, target: ClassTarget): Tensor {
    return nllLoss(input, target, this.options);
  }
}

/** `nn.MSELoss`: {@link mseLoss}. */
export class MSELoss extends Loss<ReductionOptions, Tensor> {
  constructor(options?: ReductionOptions) {
    super(options);
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return mseLoss(input, target, this.options);
  }
}

/** `nn.L1Loss`: {@link l1Loss}. */
export class L1Loss extends Loss<ReductionOptions, Tensor> {
  constructor(options?: ReductionOptions) {
    super(options);
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return l1Loss(input, target, this.options);
  }
}

/** `nn.SmoothL1Loss`: {@link smoothL1Loss} (option `beta`). */
export class SmoothL1Loss extends Loss<SmoothL1LossOptions, Tensor> {
  constructor(options?: SmoothL1LossOptions) {
    super(options);
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return smoothL1Loss(input, target, this.options);
  }
}

/** `nn.HuberLoss`: {@link huberLoss} (option `delta`). */
export class HuberLoss extends Loss<HuberLossOptions, Tensor> {
  constructor(options?: HuberLossOptions) {
    super(options);
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return huberLoss(input, target, this.options);
  }
}

/** `nn.BCEWithLogitsLoss`: {@link binaryCrossEntropyWithLogits} (options `weight`, `posWeight`). */
export class BCEWithLogitsLoss extends Loss<BceWithLogitsOptions, Tensor> {
  constructor(options?: BceWithLogitsOptions) {
    super(options);
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return binaryCrossEntropyWithLogits(input, target, this.options);
  }
}
