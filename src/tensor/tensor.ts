/**
 * `Tensor`: a contiguous row-major Float32Array with a shape, an optional gradient and the tape
 * node that produced it. Garbage-collected: there is nothing to dispose.
 * @module
 */
import { type BackwardFn, type GradNode, needsGrad, runBackward, runBackwardAsync } from './autograd.js';
// Op modules import this one back; the methods below only call them at run time, so the cycle is safe.
import * as ew from './elementwise.js';
import * as act from './activation.js';
import * as red from './reduce.js';
import * as shp from './shape.js';
import * as lin from './linalg.js';
import { product } from './strided.js';
import { describe } from '../validate.js';

/** Nested arrays of numbers, as `toArray()` returns them. */
export type NestedArray = number | NestedArray[];

function checkShape(shape: readonly number[], name: string): void {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new TypeError(`Expected array of non-negative integers for ${name} but received ${JSON.stringify(shape)}`);
  }
}

/**
 * An n-dimensional float32 array (row-major `data` and a `shape`) with define-by-run autograd: operations on
 * tensors that require a gradient record how to compute it, and `backward()` fills each leaf's `grad`.
 */
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
  /**
   * Counts in-place changes of `data` made by rnnkit (optimizer steps, `loadStateDict`, `nn.init`),
   * like PyTorch's `_version`. What is derived from the values compares it: a recurrent layer's
   * packed streaming weights are packed again when a parameter's version moved. Writing into
   * `data` yourself does not count it: call {@link markModified} afterwards.
   */
  _version = 0;

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

  /** Records an in-place change of `data` (increments `_version`); returns this tensor. */
  markModified(): this {
    this._version++;
    return this;
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
   * PyTorch-style text: `tensor([[1.0000, 2.5000], [3.0000, 4.0000]], requiresGrad=true)`, rows on
   * their own lines; more than 1000 elements show the first and last 3 of each dim.
   */
  toString(): string {
    const summarize = this.numel > 1000;
    const integral = this.data.every((v) => Number.isInteger(v));
    const format = (v: number): string => {
      if (!Number.isFinite(v)) return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
      if (integral) return `${v}.`;
      const a = Math.abs(v);
      return a !== 0 && (a >= 1e8 || a < 1e-4) ? v.toExponential(4) : v.toFixed(4);
    };
    const render = (dim: number, offset: number, indent: string): string => {
      if (dim === this.ndim) return format(this.data[offset]);
      const size = this.shape[dim], stride = product(this.shape.slice(dim + 1));
      const shown = summarize && size > 6 ? [0, 1, 2, -1, size - 3, size - 2, size - 1] : [...Array(size).keys()];
      const parts = shown.map((i) => (i < 0 ? '...' : render(dim + 1, offset + i * stride, `${indent} `)));
      const separator = dim === this.ndim - 1 ? ', ' : `,${'\n'.repeat(this.ndim - 1 - dim)}${indent} `;
      return `[${parts.join(separator)}]`;
    };
    const extras = this.gradFn ? `, gradFn=<${this.gradFn.name}>` : this.requiresGrad ? ', requiresGrad=true' : '';
    const empty = this.numel === 0 ? `[], size=[${this.shape.join(', ')}]` : render(0, 0, '       ');
    return `tensor(${empty}${extras})`;
  }

  /** Node's console.log / util.inspect show toString(). */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  /**
   * Backpropagates from this tensor: `grad` defaults to 1 for a scalar (as in PyTorch, a
   * non-scalar needs an explicit gradient). Leaves accumulate into `.grad`.
   */
  backward(grad?: Tensor): void {
    runBackward(this, this.backwardSeed(grad));
  }

  /**
   * {@link backward} with the recurrent layers' BPTT on the libuv thread pool: the event loop keeps
   * running while it works. Do not change parameters or inputs until the promise settles.
   */
  async backwardAsync(grad?: Tensor): Promise<void> {
    await runBackwardAsync(this, this.backwardSeed(grad));
  }

  // d(this) to start from: 1 for a scalar, else the given gradient (PyTorch's checks and words).
  private backwardSeed(grad: Tensor | undefined): Float32Array {
    if (!this.requiresGrad) {
      throw new Error('element 0 of tensors does not require grad and does not have a grad_fn');
    }
    if (grad === undefined) {
      if (this.numel !== 1) throw new Error('grad can be implicitly created only for scalar outputs');
      return new Float32Array([1]);
    }
    if (grad.numel !== this.numel) {
      throw new RangeError(`Mismatch in shape: grad_output[0] has a shape of [${grad.shape.join(', ')}] and output[0] has a shape of [${this.shape.join(', ')}]`);
    }
    return grad.data;
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

  // ---- ops as methods (implementations live in the op modules) ----

  /** this + other (broadcasting). */
  add(other: Tensor | number): Tensor { return ew.add(this, other); }
  /** this − other (broadcasting). */
  sub(other: Tensor | number): Tensor { return ew.sub(this, other); }
  /** this · other elementwise (broadcasting). */
  mul(other: Tensor | number): Tensor { return ew.mul(this, other); }
  /** this / other (broadcasting). */
  div(other: Tensor | number): Tensor { return ew.div(this, other); }
  /** this ** exponent. */
  pow(exponent: Tensor | number): Tensor { return ew.pow(this, exponent); }
  /** Elementwise maximum. */
  maximum(other: Tensor | number): Tensor { return ew.maximum(this, other); }
  /** Elementwise minimum. */
  minimum(other: Tensor | number): Tensor { return ew.minimum(this, other); }
  /** 1 where equal, else 0. */
  eq(other: Tensor | number): Tensor { return ew.eq(this, other); }
  /** 1 where not equal, else 0. */
  ne(other: Tensor | number): Tensor { return ew.ne(this, other); }
  /** 1 where this < other. */
  lt(other: Tensor | number): Tensor { return ew.lt(this, other); }
  /** 1 where this <= other. */
  le(other: Tensor | number): Tensor { return ew.le(this, other); }
  /** 1 where this > other. */
  gt(other: Tensor | number): Tensor { return ew.gt(this, other); }
  /** 1 where this >= other. */
  ge(other: Tensor | number): Tensor { return ew.ge(this, other); }
  /** value where mask is nonzero, this elsewhere. */
  maskedFill(mask: Tensor | number, value: number): Tensor { return ew.maskedFill(this, mask, value); }
  /** condition ? this : other (torch's self.where(condition, other)). */
  where(condition: Tensor | number, other: Tensor | number): Tensor { return ew.where(condition, this, other); }
  /** −this. */
  neg(): Tensor { return ew.neg(this); }
  /** eˣ. */
  exp(): Tensor { return ew.exp(this); }
  /** Natural log. */
  log(): Tensor { return ew.log(this); }
  /** Square root. */
  sqrt(): Tensor { return ew.sqrt(this); }
  /** Absolute value. */
  abs(): Tensor { return ew.abs(this); }
  /** Clamps into [min, max]. */
  clamp(min?: number | null, max?: number | null): Tensor { return ew.clamp(this, min, max); }

  /** tanh. */
  tanh(): Tensor { return act.tanh(this); }
  /** Logistic sigmoid. */
  sigmoid(): Tensor { return act.sigmoid(this); }
  /** max(x, 0). */
  relu(): Tensor { return act.relu(this); }
  /** Softmax along dim. */
  softmax(dim: number): Tensor { return act.softmax(this, dim); }
  /** log-softmax along dim. */
  logSoftmax(dim: number): Tensor { return act.logSoftmax(this, dim); }

  /** Matrix product (torch.matmul rules). */
  matmul(other: Tensor): Tensor { return lin.matmul(this, other); }

  /** Sum over dims (all when omitted). */
  sum(dim?: red.Dims, keepdim = false): Tensor { return red.sum(this, dim, keepdim); }
  /** Mean over dims (all when omitted). */
  mean(dim?: red.Dims, keepdim = false): Tensor { return red.mean(this, dim, keepdim); }
  /** Variance over dims (correction 1 = unbiased, as PyTorch). */
  var(dim?: red.Dims, keepdim = false, correction = 1): Tensor { return red.variance(this, dim, keepdim, correction); }
  /** Standard deviation over dims. */
  std(dim?: red.Dims, keepdim = false, correction = 1): Tensor { return red.std(this, dim, keepdim, correction); }
  /** log Σ exp over dims. */
  logsumexp(dim: red.Dims, keepdim = false): Tensor { return red.logsumexp(this, dim, keepdim); }
  /** Largest element, or [values, indices] along dim. */
  max(): Tensor;
  max(dim: number, keepdim?: boolean): [Tensor, Tensor];
  max(dim?: number, keepdim = false): Tensor | [Tensor, Tensor] {
    return dim === undefined ? red.max(this) : red.max(this, dim, keepdim);
  }
  /** Smallest element, or [values, indices] along dim. */
  min(): Tensor;
  min(dim: number, keepdim?: boolean): [Tensor, Tensor];
  min(dim?: number, keepdim = false): Tensor | [Tensor, Tensor] {
    return dim === undefined ? red.min(this) : red.min(this, dim, keepdim);
  }
  /** Index of the largest element (flat, or along dim). */
  argmax(dim?: number, keepdim = false): Tensor { return red.argmax(this, dim, keepdim); }
  /** Index of the smallest element (flat, or along dim). */
  argmin(dim?: number, keepdim = false): Tensor { return red.argmin(this, dim, keepdim); }

  /** New shape, same data (one dim may be −1). */
  reshape(...shape: shp.SizeArgs): Tensor { return shp.reshape(this, ...shape); }
  /** Alias of reshape. */
  view(...shape: shp.SizeArgs): Tensor { return shp.reshape(this, ...shape); }
  /** view with other's shape. */
  viewAs(other: Tensor): Tensor { return shp.reshape(this, [...other.shape]); }
  /** Merges dims startDim..endDim. */
  flatten(startDim = 0, endDim = -1): Tensor { return shp.flatten(this, startDim, endDim); }
  /** Inserts a size-1 dim. */
  unsqueeze(dim: number): Tensor { return shp.unsqueeze(this, dim); }
  /** Removes size-1 dims. */
  squeeze(dim?: number): Tensor { return shp.squeeze(this, dim); }
  /** Reorders dims. */
  permute(...dims: shp.SizeArgs): Tensor { return shp.permute(this, ...dims); }
  /** Swaps two dims. */
  transpose(dim0: number, dim1: number): Tensor { return shp.transpose(this, dim0, dim1); }
  /** Transpose of a ≤2-D tensor. */
  t(): Tensor { return shp.t(this); }
  /** Broadcasts to sizes (−1 keeps a dim). */
  expand(...sizes: shp.SizeArgs): Tensor { return shp.expand(this, ...sizes); }
  /** Broadcasts to other's shape. */
  expandAs(other: Tensor): Tensor { return shp.expandAs(this, other); }
  /** Slice at index along dim (dim removed). */
  select(dim: number, index: number): Tensor { return shp.select(this, dim, index); }
  /** length entries along dim from start. */
  narrow(dim: number, start: number, length: number): Tensor { return shp.narrow(this, dim, start, length); }
  /** Python-style start:end:step along dim. */
  slice(dim: number, start?: number | null, end?: number | null, step = 1): Tensor {
    return shp.slice(this, dim, start, end, step);
  }
  /** Entries index[i] along dim. */
  indexSelect(dim: number, index: shp.IndexLike): Tensor { return shp.indexSelect(this, dim, index); }
  /** torch.gather. */
  gather(dim: number, index: shp.IndexLike): Tensor { return shp.gather(this, dim, index); }
  /** Pieces of splitSize (or the listed sizes) along dim. */
  split(splitSize: number | readonly number[], dim = 0): Tensor[] { return shp.split(this, splitSize, dim); }
  /** chunks near-equal pieces along dim. */
  chunk(chunks: number, dim = 0): Tensor[] { return shp.chunk(this, chunks, dim); }
  /** The slices along dim. */
  unbind(dim = 0): Tensor[] { return shp.unbind(this, dim); }
  /** A copy that stays on the tape. */
  clone(): Tensor { return shp.clone(this); }
  /** Returns this (tensors are always contiguous). */
  contiguous(): Tensor { return this; }
  /** Inverted dropout with probability p when training. */
  dropout(p = 0.5, training = true): Tensor { return act.dropout(this, p, training); }
}

/** Asserts a Tensor: TypeError `Expected Tensor for input but received an Array of length 2` otherwise. */
export function expectTensor(value: unknown, name = 'input'): asserts value is Tensor {
  if (value instanceof Tensor) return;
  throw new TypeError(`Expected Tensor for ${name} but received ${describe(value)}`);
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
export { product as shapeSize } from './strided.js';
