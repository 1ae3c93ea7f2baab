/**
 * Activations and dropout: tanh, sigmoid, relu, leakyRelu, softmax, logSoftmax (max-shifted, so
 * stable for any input), dropout (inverted: kept values scaled by 1/(1−p), mask from the seeded RNG).
 * @module
 */
import { Tensor, expectTensor, fromOp, normalizeDim } from './tensor.js';
import { randomUniform } from './random.js';
import { splitAtDim } from './strided.js';
import { binding } from '../native.js';

/** Hyperbolic tangent (the native vectorized kernel: a few ulp from the exact value, NaN propagates). */
export function tanh(x: Tensor): Tensor {
  expectTensor(x, 'input');
  const out = new Float32Array(x.data.length);
  binding().tanh(x.data, out);
  return fromOp('tanh', out, x.shape, [x], (g) => {
    const gx = new Float32Array(g.length);
    for (let i = 0; i < g.length; i++) gx[i] = g[i] * (1 - out[i] * out[i]);
    return [gx];
  });
}

/** Logistic sigmoid 1 / (1 + e^−x). */
export function sigmoid(x: Tensor): Tensor {
  expectTensor(x, 'input');
  const src = x.data, out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    // Both branches avoid exp overflow.
    if (v >= 0) out[i] = 1 / (1 + Math.exp(-v));
    else { const e = Math.exp(v); out[i] = e / (1 + e); }
  }
  return fromOp('sigmoid', out, x.shape, [x], (g) => {
    const gx = new Float32Array(g.length);
    for (let i = 0; i < g.length; i++) gx[i] = g[i] * out[i] * (1 - out[i]);
    return [gx];
  });
}

/** max(x, 0) (gradient 0 at 0, as PyTorch). */
export function relu(x: Tensor): Tensor {
  expectTensor(x, 'input');
  return leakyRelu(x, 0);
}

/** x for x > 0, slope·x otherwise. */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  expectTensor(x, 'input');
  const src = x.data, out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = src[i] > 0 ? src[i] : src[i] * negativeSlope;
  return fromOp(negativeSlope === 0 ? 'relu' : 'leakyRelu', out, x.shape, [x], (g) => {
    const gx = new Float32Array(g.length);
    for (let i = 0; i < g.length; i++) gx[i] = src[i] > 0 ? g[i] : g[i] * negativeSlope;
    return [gx];
  });
}

// out = x − logsumexp(x) along the middle axis of [outer, n, inner] (float64 sums).
function logSoftmaxData(src: Float32Array, outer: number, n: number, inner: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * n * inner + j;
      let max = -Infinity;
      for (let k = 0, p = base; k < n; k++, p += inner) if (src[p] > max || src[p] !== src[p]) max = src[p];
      if (max === -Infinity) max = 0; // all −∞: keep NaN-free shift
      let sum = 0;
      for (let k = 0, p = base; k < n; k++, p += inner) sum += Math.exp(src[p] - max);
      const shift = max + Math.log(sum);
      for (let k = 0, p = base; k < n; k++, p += inner) out[p] = src[p] - shift;
    }
  }
  return out;
}

// Σ_k g[k]·w[k] along the middle axis, for each (outer, inner) line.
function lineSums(g: Float32Array, w: Float32Array | null, outer: number, n: number, inner: number): Float64Array {
  const sums = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < n; k++) {
      const row = (o * n + k) * inner;
      for (let j = 0; j < inner; j++) sums[o * inner + j] += w ? g[row + j] * w[row + j] : g[row + j];
    }
  }
  return sums;
}

/** log(softmax(x)) along dim, computed stably. */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  expectTensor(x, 'input');
  const [outer, n, inner] = splitAtDim(x.shape, normalizeDim(dim, x.ndim));
  const out = logSoftmaxData(x.data, outer, n, inner);
  return fromOp('logSoftmax', out, x.shape, [x], (g) => {
    // dx = g − softmax·Σg
    const sums = lineSums(g, null, outer, n, inner);
    const gx = new Float32Array(g.length);
    for (let o = 0; o < outer; o++) {
      for (let k = 0; k < n; k++) {
        const row = (o * n + k) * inner;
        for (let j = 0; j < inner; j++) gx[row + j] = g[row + j] - Math.exp(out[row + j]) * sums[o * inner + j];
      }
    }
    return [gx];
  });
}

/** Softmax along dim, computed stably. */
export function softmax(x: Tensor, dim: number): Tensor {
  expectTensor(x, 'input');
  const [outer, n, inner] = splitAtDim(x.shape, normalizeDim(dim, x.ndim));
  const out = logSoftmaxData(x.data, outer, n, inner);
  for (let i = 0; i < out.length; i++) out[i] = Math.exp(out[i]);
  return fromOp('softmax', out, x.shape, [x], (g) => {
    // dx = y·(g − Σ g·y)
    const sums = lineSums(g, out, outer, n, inner);
    const gx = new Float32Array(g.length);
    for (let o = 0; o < outer; o++) {
      for (let k = 0; k < n; k++) {
        const row = (o * n + k) * inner;
        for (let j = 0; j < inner; j++) gx[row + j] = out[row + j] * (g[row + j] - sums[o * inner + j]);
      }
    }
    return [gx];
  });
}

/**
 * An inverted-dropout mask of `n` elements: 0 with probability p, else 1/(1−p). Draws one
 * randomUniform() per element in order (kept when ≥ p) for 0 < p < 1; none for p = 0 (all ones)
 * or p = 1 (all zeros).
 */
export function dropoutMask(n: number, p: number): Float32Array {
  const mask = new Float32Array(n);
  if (p === 0) return mask.fill(1);
  if (p < 1) {
    const scale = 1 / (1 - p);
    for (let i = 0; i < n; i++) if (randomUniform() >= p) mask[i] = scale;
  }
  return mask;
}

/**
 * Inverted dropout: in training, zeroes each element with probability p and scales the rest by
 * 1/(1−p); otherwise returns x itself. The mask draws one randomUniform() per element, row-major.
 */
export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  expectTensor(x, 'input');
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) {
    throw new RangeError(`dropout probability has to be between 0 and 1, but got ${p}`);
  }
  if (!training || p === 0) return x;
  const n = x.numel;
  const mask = dropoutMask(n, p);
  return fromOp('dropout', kept(x.data, mask, n), x.shape, [x], (g) => [multiplied(g, mask, n)]);
}

// The hot loops in small functions of their own (see NOTES.md, JavaScript performance).
// x ⊙ mask where the mask keeps, exactly 0 where it drops (whatever x is there).
function kept(x: Float32Array, mask: Float32Array, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) if (mask[i] !== 0) out[i] = x[i] * mask[i];
  return out;
}

// a ⊙ b.
function multiplied(a: Float32Array, b: Float32Array, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = a[i] * b[i];
  return out;
}
