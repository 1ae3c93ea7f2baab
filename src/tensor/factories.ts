/**
 * Tensor factories: tensor (nested arrays, or flat values + shape), zeros, ones, full, rand, randn,
 * randint, arange, and the *Like variants. Random ones draw from the seeded global generator in
 * row-major order. Sizes are given as `(2, 3)` or `([2, 3])`, optionally followed by options.
 * @module
 */
import { Tensor, type NestedArray } from './tensor.js';
import { randomNormal, randomUniform } from './random.js';
import { product } from './strided.js';

/** Options of every factory. */
export interface TensorOptions {
  /** Make the result a leaf that records gradients. */
  requiresGrad?: boolean;
}

/** Sizes then an optional options object: `(2, 3)`, `([2, 3])`, `([2, 3], { requiresGrad: true })`. */
export type SizeAndOptions = number[] | [...number[], TensorOptions] | [readonly number[], TensorOptions?];

const fmt = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/** Checks sizes with PyTorch's message for negatives. */
export function checkSizes(sizes: readonly unknown[]): number[] {
  sizes.forEach((s, i) => {
    if (typeof s !== 'number' || !Number.isInteger(s)) {
      throw new TypeError(`Expected integer for size[${i}] but received ${String(s)} of type ${typeof s}`);
    }
  });
  const shape = sizes as number[];
  const negative = shape.find((s) => s < 0);
  if (negative !== undefined) throw new RangeError(`Trying to create tensor with negative dimension ${negative}: ${fmt(shape)}`);
  return [...shape];
}

function parseSizes(args: readonly unknown[]): { shape: number[]; options: TensorOptions } {
  let list = [...args];
  let options: TensorOptions = {};
  const last = list[list.length - 1];
  if (typeof last === 'object' && last !== null && !Array.isArray(last)) {
    options = last as TensorOptions;
    list = list.slice(0, -1);
  }
  if (list.length === 1 && Array.isArray(list[0])) list = [...(list[0] as unknown[])];
  return { shape: checkSizes(list), options };
}

function make(data: Float32Array, shape: readonly number[], options: TensorOptions | undefined): Tensor {
  return new Tensor(data, shape, options?.requiresGrad === true);
}

/**
 * A tensor from nested arrays (`tensor([[1, 2], [3, 4]])`), a number (0-d), or flat values with a
 * shape (`tensor([1, 2, 3, 4], [2, 2])`, also Float32Array/any ArrayLike). Always copies.
 */
export function tensor(data: NestedArray | ArrayLike<number>, shape?: readonly number[] | null, options?: TensorOptions): Tensor;
export function tensor(data: NestedArray | ArrayLike<number>, options: TensorOptions): Tensor;
export function tensor(data: NestedArray | ArrayLike<number>, shapeOrOptions?: readonly number[] | TensorOptions | null,
  maybeOptions?: TensorOptions): Tensor {
  const givenShape = Array.isArray(shapeOrOptions) ? checkSizes(shapeOrOptions) : null;
  const options = Array.isArray(shapeOrOptions) || shapeOrOptions === null ? maybeOptions
    : (shapeOrOptions as TensorOptions | undefined);
  if (typeof data === 'number') {
    const shape = givenShape ?? [];
    if (product(shape) !== 1) throw new RangeError(`shape '${fmt(shape)}' is invalid for input of size 1`);
    return make(new Float32Array([data]), shape, options);
  }
  if (Array.isArray(data) && data.some((v) => Array.isArray(v))) {
    const { values, shape } = flattenNested(data as NestedArray[]);
    if (givenShape && product(givenShape) !== values.length) {
      throw new RangeError(`shape '${fmt(givenShape)}' is invalid for input of size ${values.length}`);
    }
    return make(values, givenShape ?? shape, options);
  }
  if (data === null || typeof data !== 'object' || typeof (data as ArrayLike<number>).length !== 'number') {
    throw new TypeError(`Expected number, nested arrays or array-like for data but received ${data === null ? 'null' : typeof data}`);
  }
  const values = Float32Array.from(data as ArrayLike<number>);
  const shape = givenShape ?? [values.length];
  if (product(shape) !== values.length) {
    throw new RangeError(`shape '${fmt(shape)}' is invalid for input of size ${values.length}`);
  }
  return make(values, shape, options);
}

// Shape from the first element at each level; PyTorch's message for ragged input.
function flattenNested(data: NestedArray[]): { values: Float32Array; shape: number[] } {
  const shape: number[] = [];
  for (let level: NestedArray = data; Array.isArray(level); level = level[0]) {
    shape.push(level.length);
    if (level.length === 0) break;
  }
  const values = new Float32Array(product(shape));
  let at = 0;
  const walk = (node: NestedArray, dim: number): void => {
    if (dim === shape.length) {
      if (typeof node !== 'number') throw new TypeError(`Expected number at dim ${dim} but received ${Array.isArray(node) ? 'an Array' : typeof node}`);
      values[at++] = node;
      return;
    }
    if (!Array.isArray(node)) throw new TypeError(`expected sequence of length ${shape[dim]} at dim ${dim} (got a number)`);
    if (node.length !== shape[dim]) throw new RangeError(`expected sequence of length ${shape[dim]} at dim ${dim} (got ${node.length})`);
    for (const child of node) walk(child, dim + 1);
  };
  walk(data, 0);
  return { values, shape };
}

/** A tensor filled with value. */
export function full(shape: readonly number[], value: number, options?: TensorOptions): Tensor {
  const sizes = checkSizes(shape);
  return make(new Float32Array(product(sizes)).fill(value), sizes, options);
}

/** Zeros: `zeros(2, 3)` or `zeros([2, 3], { requiresGrad: true })`. */
export function zeros(...args: SizeAndOptions): Tensor {
  const { shape, options } = parseSizes(args);
  return make(new Float32Array(product(shape)), shape, options);
}

/** Ones. */
export function ones(...args: SizeAndOptions): Tensor {
  const { shape, options } = parseSizes(args);
  return make(new Float32Array(product(shape)).fill(1), shape, options);
}

/** Uniform samples in [0, 1). */
export function rand(...args: SizeAndOptions): Tensor {
  const { shape, options } = parseSizes(args);
  const data = new Float32Array(product(shape));
  for (let i = 0; i < data.length; i++) data[i] = randomUniform();
  return make(data, shape, options);
}

/** Standard normal samples. */
export function randn(...args: SizeAndOptions): Tensor {
  const { shape, options } = parseSizes(args);
  const data = new Float32Array(product(shape));
  for (let i = 0; i < data.length; i++) data[i] = randomNormal();
  return make(data, shape, options);
}

/** Uniform integers in [low, high) (as float values). */
export function randint(low: number, high: number, shape: readonly number[], options?: TensorOptions): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high)) throw new TypeError(`Expected integers for low and high but received ${low} and ${high}`);
  if (high <= low) throw new RangeError(`random_ expects 'from' to be less than 'to', but got from=${low} >= to=${high}`);
  const sizes = checkSizes(shape);
  const data = new Float32Array(product(sizes));
  for (let i = 0; i < data.length; i++) data[i] = low + Math.floor(randomUniform() * (high - low));
  return make(data, sizes, options);
}

/** arange(end), arange(start, end, step = 1): ceil((end − start) / step) values. */
export function arange(startOrEnd: number, end?: number, step = 1, options?: TensorOptions): Tensor {
  const start = end === undefined ? 0 : startOrEnd;
  const stop = end === undefined ? startOrEnd : end;
  if (step === 0) throw new RangeError('step must be nonzero');
  if ((stop - start) * Math.sign(step) < 0) throw new RangeError('upper bound and larger bound inconsistent with step sign');
  const n = Math.ceil((stop - start) / step);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return make(data, [n], options);
}

/** Evenly spaced values from start to end inclusive. */
export function linspace(start: number, end: number, steps: number, options?: TensorOptions): Tensor {
  const [n] = checkSizes([steps]);
  const data = new Float32Array(n);
  const step = n > 1 ? (end - start) / (n - 1) : 0;
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return make(data, [n], options);
}

/** Zeros shaped like x. */
export function zerosLike(x: Tensor, options?: TensorOptions): Tensor { return zeros([...x.shape], options ?? {}); }
/** Ones shaped like x. */
export function onesLike(x: Tensor, options?: TensorOptions): Tensor { return ones([...x.shape], options ?? {}); }
/** value everywhere, shaped like x. */
export function fullLike(x: Tensor, value: number, options?: TensorOptions): Tensor { return full(x.shape, value, options); }
/** Uniform [0, 1) shaped like x. */
export function randLike(x: Tensor, options?: TensorOptions): Tensor { return rand([...x.shape], options ?? {}); }
/** Standard normal shaped like x. */
export function randnLike(x: Tensor, options?: TensorOptions): Tensor { return randn([...x.shape], options ?? {}); }
