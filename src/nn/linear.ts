/**
 * `Linear` (PyTorch `nn.Linear`): y = x·Wᵀ + b over the last dimension (the tensor `linear` op:
 * one autograd node on the core's GEMM).
 * @module
 */
import { linear, type Tensor } from '../tensor/index.js';
import { checkOptions, optionalBool, positiveInt } from '../validate.js';
import { kaimingUniform_, uniform_ } from './init.js';
import { Module, Parameter } from './module.js';

/** Options of {@link Linear}. */
export interface LinearOptions {
  /** Learn an additive bias (default true). */
  bias?: boolean;
}

/**
 * A fully connected layer: `weight [outFeatures, inFeatures]`, `bias [outFeatures]`, both
 * U(−1/√inFeatures, 1/√inFeatures) like PyTorch (kaiming_uniform_ with a=√5, then the bias).
 */
export class Linear extends Module {
  /** Features of each input row. */
  readonly inFeatures: number;
  /** Features of each output row. */
  readonly outFeatures: number;
  /** `[outFeatures, inFeatures]`, applied as `x·Wᵀ`. */
  weight: Parameter;
  /** `[outFeatures]`, or null without bias. */
  bias: Parameter | null;

  constructor(inFeatures: number, outFeatures: number, options: LinearOptions = {}) {
    super();
    this.inFeatures = positiveInt(inFeatures, 'inFeatures');
    this.outFeatures = positiveInt(outFeatures, 'outFeatures');
    const opts = checkOptions(options, 'Linear', ['bias']);
    const withBias = optionalBool(opts.bias, 'bias', true);
    this.weight = new Parameter(new Float32Array(this.outFeatures * this.inFeatures), [this.outFeatures, this.inFeatures]);
    this.bias = withBias ? new Parameter(new Float32Array(this.outFeatures)) : null;
    this.resetParameters();
  }

  /** PyTorch's init: weight kaiming_uniform_(a=√5), bias U(±1/√fan_in); weight drawn first. */
  resetParameters(): void {
    kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const bound = 1 / Math.sqrt(this.inFeatures);
      uniform_(this.bias, -bound, bound);
    }
  }

  /** x `[…, inFeatures]` → `[…, outFeatures]`. */
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }

  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.bias ? 'True' : 'False'}`;
  }
}
