/**
 * `Tensor`: a contiguous row-major Float32Array with a shape, an optional gradient and the tape
 * node that produced it. Garbage-collected: there is nothing to dispose.
 * @module
 */
import { type BackwardFn, type GradNode, needsGrad, runBackward } from './autograd.js';

/** Nested arrays of numbers, as `toArray()` returns them. */
export type NestedArray = number | NestedArray[];

function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function checkShape(shape: readonly number[], name: string): void {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new TypeError(`Expected array of non-negative integers for ${name} but received ${JSON.stringify(shape)}`);
  }
}

export class Tensor {
  /** The values, contiguous and row-major (shared, not copied, by `detach()`). */
  readonly data: Float32Array;
  /** Size of each dimension; [] for a scalar. */
  readonly shape: readonly number[];
  /** Whether gradients flow to this tensor (leaves: whether `.grad` is filled by `backward()`). */
  requiresGrad: boolean;
  /** The accumulated gradient of a leaf, same shape; null until a backward pass reaches it. */
  grad: Tensor | null = null;
  /** The op that produced this tensor; null for leaves. */
  readonly gradFn: GradNode | null;

  constructor(data: Float32Array, shape: readonly number[], requiresGrad = false, gradFn: GradNode | null = null) {
    checkShape(shape, 'shape');
    if (!(data instanceof Float32Array)) {
      throw new TypeError(`Expected Float32Array for data but received ${Object.prototype.toString.call(data)}`);
    }
    if (data.length !== product(shape)) {
      throw new RangeError(`Expected data of length ${product(shape)} for shape [${shape.join(', ')}] but received length ${data.length}`);
    }
    this.data = data;
    this.shape = Object.freeze([...shape]);
    this.requiresGrad = requiresGrad;
    this.gradFn = gradFn;
  }

  /** Number of elements. */
  get numel(): number {
    return this.data.length;
  }

  /** Number of dimensions. */
  get ndim(): number {
    return this.shape.length;
  }

  /** The shape, or the size of one dimension (negative counts from the end). */
  size(): number[];
  size(dim: number): number;
  size(dim?: number): number[] | number {
    if (dim === undefined) return [...this.shape];
    return this.shape[normalizeDim(dim, this.ndim)];
  }

  /** The value of a one-element tensor. */
  item(): number {
    if (this.numel !== 1) {
      throw new RangeError(`a Tensor with ${this.numel} elements cannot be converted to Scalar`);
    }
    return this.data[0];
  }

  /** The values as nested arrays (a number for a scalar). */
  toArray(): NestedArray {
    const build = (dim: number, offset: number): NestedArray => {
      if (dim === this.ndim) return this.data[offset];
      const stride = product(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim] }, (_, i) => build(dim + 1, offset + i * stride));
    };
    return build(0, 0);
  }

  /**
   * Backpropagates from this tensor: `grad` defaults to 1 for a scalar (as in PyTorch, a
   * non-scalar needs an explicit gradient). Leaves accumulate into `.grad`.
   */
  backward(grad?: Tensor): void {
    if (!this.requiresGrad) {
      throw new Error('element 0 of tensors does not require grad and does not have a grad_fn');
    }
    let seed: Float32Array;
    if (grad === undefined) {
      if (this.numel !== 1) throw new Error('grad can be implicitly created only for scalar outputs');
      seed = new Float32Array([1]);
    } else {
      if (grad.numel !== this.numel) {
        throw new RangeError(`Mismatch in shape: grad_output[0] has a shape of [${grad.shape.join(', ')}] and output[0] has a shape of [${this.shape.join(', ')}]`);
      }
      seed = grad.data;
    }
    runBackward(this, seed);
  }

  /** A tensor sharing this data, cut off from the tape. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape);
  }

  /** Sets requiresGrad in place (leaves only, like PyTorch) and returns this. */
  requiresGrad_(flag = true): this {
    if (this.gradFn && !flag) {
      throw new Error("you can only change requires_grad flags of leaf variables.");
    }
    this.requiresGrad = flag;
    return this;
  }

  /** @internal Adds a gradient into `.grad` (leaves). */
  accumulateGrad(grad: Float32Array): void {
    if (this.grad === null) {
      this.grad = new Tensor(grad.slice(), this.shape);
      return;
    }
    const g = this.grad.data;
    for (let i = 0; i < g.length; i++) g[i] += grad[i];
  }
}

/** Resolves a possibly negative dim against ndim, with PyTorch's error. */
export function normalizeDim(dim: number, ndim: number): number {
  const lo = -Math.max(ndim, 1);
  const hi = Math.max(ndim, 1) - 1;
  if (!Number.isInteger(dim) || dim < lo || dim > hi) {
    throw new RangeError(`Dimension out of range (expected to be in range of [${lo}, ${hi}], but got ${dim})`);
  }
  return dim < 0 ? dim + Math.max(ndim, 1) : dim;
}

/**
 * The result of an op: records a tape node when grad mode is on and an input requires a gradient.
 * `backward` receives d(output) and returns d(input) for each input (null = none).
 */
export function fromOp(
  name: string, data: Float32Array, shape: readonly number[], inputs: readonly Tensor[], backward: BackwardFn,
): Tensor {
  if (!needsGrad(inputs)) return new Tensor(data, shape);
  return new Tensor(data, shape, true, { name, inputs, backward });
}

/** Element count of a shape. */
export { product as shapeSize };
