/**
 * Reductions: sum, mean, logsumexp over dims (keepdim), max/min (all elements, or along a dim with
 * indices), argmax/argmin. Sums accumulate in float64.
 * @module
 */
import { Tensor, expectTensor, fromOp, normalizeDim } from './tensor.js';
import { broadcastStrides, gatherStrided, product, splitAtDim } from './strided.js';

/** Dims to reduce: one dim, a list, or undefined/empty = all. */
export type Dims = number | readonly number[] | null | undefined;

// Sorted unique normalized dims, PyTorch's error for repeats.
function reductionDims(dims: Dims, ndim: number): number[] {
  if (dims === undefined || dims === null) return [...Array(ndim).keys()];
  const list = typeof dims === 'number' ? [dims] : [...dims];
  if (list.length === 0) return [...Array(ndim).keys()];
  const seen = new Set<number>();
  for (const d of list) {
    const nd = normalizeDim(d, ndim);
    if (seen.has(nd)) throw new RangeError(`dim ${nd} appears multiple times in the list of dims`);
    seen.add(nd);
  }
  return [...seen].filter((d) => d < ndim).sort((a, b) => a - b);
}

function keptShape(shape: readonly number[], dims: readonly number[]): number[] {
  return shape.map((s, d) => (dims.includes(d) ? 1 : s));
}

function finalShape(shape: readonly number[], dims: readonly number[], keepdim: boolean): number[] {
  return keepdim ? keptShape(shape, dims) : shape.filter((_, d) => !dims.includes(d));
}

// Sum over the middle axis of [outer, n, inner] into float64.
function sumMiddle(src: ArrayLike<number>, outer: number, n: number, inner: number): Float64Array {
  const out = new Float64Array(outer * inner);
  if (inner === 1) {
    for (let o = 0; o < outer; o++) {
      let s = 0;
      for (let k = 0, p = o * n; k < n; k++) s += src[p + k];
      out[o] = s;
    }
    return out;
  }
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < n; k++) {
      const row = (o * n + k) * inner, dst = o * inner;
      for (let j = 0; j < inner; j++) out[dst + j] += src[row + j];
    }
  }
  return out;
}

// Sums `data` over `dims` (ascending), result in the keepdim shape, float64.
function sumData(data: Float32Array, shape: readonly number[], dims: readonly number[]): Float64Array | Float32Array {
  let current: ArrayLike<number> = data;
  const cur = [...shape];
  // Reduce runs of adjacent dims in one pass, innermost first.
  for (let i = dims.length - 1; i >= 0;) {
    let j = i;
    while (j > 0 && dims[j - 1] === dims[j] - 1) j--;
    const first = dims[j], last = dims[i];
    const outer = product(cur.slice(0, first));
    const n = product(cur.slice(first, last + 1));
    const inner = product(cur.slice(last + 1));
    current = sumMiddle(current, outer, n, inner);
    for (let d = first; d <= last; d++) cur[d] = 1;
    i = j - 1;
  }
  return current instanceof Float32Array ? current.slice() : (current as Float64Array);
}

function reduceSum(name: string, x: Tensor, dims: Dims, keepdim: boolean, mean: boolean): Tensor {
  const reduced = reductionDims(dims, x.ndim);
  const kept = keptShape(x.shape, reduced);
  const count = x.numel / Math.max(product(kept), 1);
  const sums = sumData(x.data, x.shape, reduced);
  const out = new Float32Array(sums.length);
  const scale = mean ? 1 / count : 1;
  for (let i = 0; i < out.length; i++) out[i] = sums[i] * scale;
  return fromOp(name, out, finalShape(x.shape, reduced, keepdim), [x], (g) => {
    // Every input element gets its line's gradient (times 1/count for the mean).
    const gx = gatherStrided(g, 0, x.shape, broadcastStrides(kept, x.shape));
    if (mean) for (let i = 0; i < gx.length; i++) gx[i] *= scale;
    return [gx];
  });
}

/** Sum over dims (all when omitted). */
export function sum(x: Tensor, dim?: Dims, keepdim = false): Tensor {
  expectTensor(x, 'input');
  return reduceSum('sum', x, dim, keepdim, false);
}

/** Mean over dims (all when omitted); NaN for an empty reduction, as PyTorch. */
export function mean(x: Tensor, dim?: Dims, keepdim = false): Tensor {
  expectTensor(x, 'input');
  return reduceSum('mean', x, dim, keepdim, true);
}

/**
 * Variance over dims (all when omitted) with Bessel's correction by default (`correction` 1, as
 * PyTorch's unbiased=True; 0 for the population variance).
 */
export function variance(x: Tensor, dim?: Dims, keepdim = false, correction = 1): Tensor {
  expectTensor(x, 'input');
  const reduced = reductionDims(dim, x.ndim);
  const count = reduced.reduce((n, d) => n * x.shape[d], 1);
  const centered = x.sub(mean(x, reduced, true));
  return sum(centered.mul(centered), reduced, keepdim).div(Math.max(count - correction, 0));
}

/** Standard deviation: sqrt(variance). */
export function std(x: Tensor, dim?: Dims, keepdim = false, correction = 1): Tensor {
  return variance(x, dim, keepdim, correction).sqrt();
}

/** log Σ exp(x) over dims, stable. */
export function logsumexp(x: Tensor, dim: Dims, keepdim = false): Tensor {
  expectTensor(x, 'input');
  const reduced = reductionDims(dim, x.ndim);
  const kept = keptShape(x.shape, reduced);
  const strides = broadcastStrides(kept, x.shape);
  // Shift by the maxima (reduced one dim at a time) so exp never overflows.
  let maxima = x.data, maxShape = [...x.shape];
  for (const d of reduced) {
    maxima = extremeData(new Tensor(maxima, maxShape), [d], 1).values;
    maxShape[d] = 1;
  }
  if (reduced.length === 0) maxima = maxima.slice();
  for (let i = 0; i < maxima.length; i++) if (!Number.isFinite(maxima[i])) maxima[i] = 0;
  const shifted = new Float32Array(x.numel);
  const maxFull = gatherStrided(maxima, 0, x.shape, strides);
  for (let i = 0; i < shifted.length; i++) shifted[i] = Math.exp(x.data[i] - maxFull[i]);
  const sums = sumData(shifted, x.shape, reduced);
  const out = new Float32Array(sums.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.log(sums[i]) + maxima[i];
  return fromOp('logsumexp', out, finalShape(x.shape, reduced, keepdim), [x], (g) => {
    // d/dx = g·exp(x − out)
    const gFull = gatherStrided(g, 0, x.shape, strides), outFull = gatherStrided(out, 0, x.shape, strides);
    const gx = new Float32Array(x.numel);
    for (let i = 0; i < gx.length; i++) gx[i] = gFull[i] * Math.exp(x.data[i] - outFull[i]);
    return [gx];
  });
}

// Max (sign 1) or min (sign −1) over one dim or all dims: values and flat-in-line indices.
function extremeData(x: Tensor, dims: readonly number[], sign: number): { values: Float32Array; indices: Int32Array } {
  const src = x.data;
  let outer: number, n: number, inner: number;
  if (dims.length === 1) [outer, n, inner] = splitAtDim(x.shape, dims[0]);
  else if (dims.length === x.ndim) [outer, n, inner] = [1, x.numel, 1];
  else throw new RangeError('max/min over several dims is not supported; reduce one dim at a time');
  const values = new Float32Array(outer * inner), indices = new Int32Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * n * inner + j;
      let best = src[base] * sign, at = 0;
      for (let k = 1, p = base + inner; k < n && best === best; k++, p += inner) {
        const v = src[p] * sign;
        if (v > best || v !== v) { best = v; at = k; }
      }
      values[o * inner + j] = src[base + at * inner];
      indices[o * inner + j] = at;
    }
  }
  return { values, indices };
}

function extremeAll(name: string, x: Tensor, sign: number): Tensor {
  if (x.numel === 0) {
    throw new RangeError(`${name}(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.`);
  }
  const value = extremeData(x, [...Array(x.ndim).keys()], sign).values[0];
  return fromOp(name, new Float32Array([value]), [], [x], (g) => {
    // PyTorch spreads the gradient evenly over ties.
    const gx = new Float32Array(x.numel);
    let ties = 0;
    for (let i = 0; i < gx.length; i++) if (Object.is(x.data[i], value) || x.data[i] === value) ties++;
    for (let i = 0; i < gx.length; i++) if (Object.is(x.data[i], value) || x.data[i] === value) gx[i] = g[0] / ties;
    return [gx];
  });
}

function extremeDim(name: string, x: Tensor, dim: number, keepdim: boolean, sign: number): [Tensor, Tensor] {
  const d = normalizeDim(dim, x.ndim);
  if (x.ndim > 0 && x.shape[d] === 0) {
    throw new RangeError(`${name}(): Expected reduction dim ${d} to have non-zero size.`);
  }
  const reduced = x.ndim === 0 ? [] : [d];
  const { values, indices } = extremeData(x, x.ndim === 0 ? [] : [d], sign);
  const shape = finalShape(x.shape, reduced, keepdim);
  const [, n, inner] = splitAtDim(x.shape, d);
  const result = fromOp(name, values, shape, [x], (g) => {
    const gx = new Float32Array(x.numel);
    for (let i = 0; i < indices.length; i++) {
      const o = Math.floor(i / inner), j = i - o * inner;
      gx[(o * n + indices[i]) * inner + j] += g[i];
    }
    return [gx];
  });
  return [result, new Tensor(Float32Array.from(indices), shape)];
}

/** Largest element (no dim), or [values, indices] along dim (indices as float tensor). */
export function max(x: Tensor): Tensor;
export function max(x: Tensor, dim: number, keepdim?: boolean): [Tensor, Tensor];
export function max(x: Tensor, dim?: number, keepdim = false): Tensor | [Tensor, Tensor] {
  expectTensor(x, 'input');
  return dim === undefined ? extremeAll('max', x, 1) : extremeDim('max', x, dim, keepdim, 1);
}

/** Smallest element (no dim), or [values, indices] along dim. */
export function min(x: Tensor): Tensor;
export function min(x: Tensor, dim: number, keepdim?: boolean): [Tensor, Tensor];
export function min(x: Tensor, dim?: number, keepdim = false): Tensor | [Tensor, Tensor] {
  expectTensor(x, 'input');
  return dim === undefined ? extremeAll('min', x, -1) : extremeDim('min', x, dim, keepdim, -1);
}

/** Index of the largest element: flat index without dim, else along dim (first on ties). */
export function argmax(x: Tensor, dim?: number, keepdim = false): Tensor {
  expectTensor(x, 'input');
  return argExtreme('argmax', x, dim, keepdim, 1);
}

/** Index of the smallest element: flat index without dim, else along dim. */
export function argmin(x: Tensor, dim?: number, keepdim = false): Tensor {
  expectTensor(x, 'input');
  return argExtreme('argmin', x, dim, keepdim, -1);
}

function argExtreme(name: string, x: Tensor, dim: number | undefined, keepdim: boolean, sign: number): Tensor {
  if (dim === undefined) {
    if (x.numel === 0) throw new RangeError(`${name}(): Expected reduction dim to be specified for input.numel() == 0.`);
    const { indices } = extremeData(x, [...Array(x.ndim).keys()], sign);
    return new Tensor(new Float32Array([indices[0]]), keepdim ? x.shape.map(() => 1) : []);
  }
  const [, indices] = extremeDim(name, x, dim, keepdim, sign);
  return indices;
}
