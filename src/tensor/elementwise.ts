/**
 * Elementwise arithmetic with PyTorch broadcasting: add, sub, mul, div, pow, comparisons, and the
 * unary math ops (neg, exp, log, sqrt, abs, clamp). Numbers are accepted wherever a tensor is.
 * Binary ops run row kernels over the output: same shape is one row, a scalar operand is a
 * constant, a broadcast row vector (bias add) is one kernel call per output row.
 * @module
 */
import { Tensor, expectTensor, fromOp } from './tensor.js';
import { describe } from '../validate.js';
import { broadcastShapes, broadcastStrides, coalesce, expandData, forEachRow, product, sumToShape } from './strided.js';

/** A tensor or a plain number (a scalar that never requires grad). */
export type TensorLike = Tensor | number;

/** Wraps numbers as 0-d tensors. */
export function asTensor(value: TensorLike, name = 'other'): Tensor {
  if (value instanceof Tensor) return value;
  if (typeof value === 'number') return new Tensor(new Float32Array([value]), []);
  throw new TypeError(`Expected Tensor or number for ${name} but received ${describe(value)}`);
}

export const ADD = 0, SUB = 1, MUL = 2, DIV = 3;
/** A kernel op code (fast loops) or a per-element function (rare ops: pow, comparisons). */
export type BinaryOp = number | ((x: number, y: number) => number);

const VV = 0, VS = 1, SV = 2; // both vectors / b constant over the row / a constant over the row

// out[o..o+n) = a ⊕ b over one row; mode says which operand is a per-row constant.
function rowKernel(op: BinaryOp, out: Float32Array, o: number, a: Float32Array, ai: number,
  b: Float32Array, bi: number, n: number, mode: number): void {
  if (mode === VS) {
    const s = b[bi];
    switch (op) {
      case ADD: for (let j = 0; j < n; j++) out[o + j] = a[ai + j] + s; return;
      case SUB: for (let j = 0; j < n; j++) out[o + j] = a[ai + j] - s; return;
      case MUL: for (let j = 0; j < n; j++) out[o + j] = a[ai + j] * s; return;
      case DIV: for (let j = 0; j < n; j++) out[o + j] = a[ai + j] / s; return;
    }
  } else if (mode === SV) {
    const s = a[ai];
    switch (op) {
      case ADD: for (let j = 0; j < n; j++) out[o + j] = s + b[bi + j]; return;
      case SUB: for (let j = 0; j < n; j++) out[o + j] = s - b[bi + j]; return;
      case MUL: for (let j = 0; j < n; j++) out[o + j] = s * b[bi + j]; return;
      case DIV: for (let j = 0; j < n; j++) out[o + j] = s / b[bi + j]; return;
    }
  } else {
    switch (op) {
      case ADD: for (let j = 0; j < n; j++) out[o + j] = a[ai + j] + b[bi + j]; return;
      case SUB: for (let j = 0; j < n; j++) out[o + j] = a[ai + j] - b[bi + j]; return;
      case MUL: for (let j = 0; j < n; j++) out[o + j] = a[ai + j] * b[bi + j]; return;
      case DIV: for (let j = 0; j < n; j++) out[o + j] = a[ai + j] / b[bi + j]; return;
    }
  }
  const fn = op as (x: number, y: number) => number;
  const sa = mode === SV ? 0 : 1, sb = mode === VS ? 0 : 1;
  for (let j = 0; j < n; j++) out[o + j] = fn(a[ai + j * sa], b[bi + j * sb]);
}

/** a ⊕ b on raw data, broadcast to outShape (= broadcastShapes(aShape, bShape)). */
export function binaryData(op: BinaryOp, a: Float32Array, aShape: readonly number[],
  b: Float32Array, bShape: readonly number[], outShape: readonly number[]): Float32Array {
  const n = product(outShape);
  const out = new Float32Array(n);
  if (n === 0) return out;
  if (a.length === n && b.length === n) {
    rowKernel(op, out, 0, a, 0, b, 0, n, VV);
  } else if (b.length === 1) {
    rowKernel(op, out, 0, a, 0, b, 0, n, VS);
  } else if (a.length === 1) {
    rowKernel(op, out, 0, a, 0, b, 0, n, SV);
  } else {
    const layout = coalesce(outShape, [broadcastStrides(aShape, outShape), broadcastStrides(bShape, outShape)]);
    const last = layout.shape.length - 1;
    const inner = layout.shape[last];
    const aStep = layout.strides[0][last], bStep = layout.strides[1][last];
    const mode = aStep !== 0 && bStep !== 0 ? VV : aStep !== 0 ? VS : SV;
    forEachRow(layout.shape, layout.strides, [0, 0], (row, offsets) => {
      rowKernel(op, out, row * inner, a, offsets[0], b, offsets[1], inner, mode);
    });
  }
  return out;
}

function negated(data: Float32Array): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = -data[i];
  return out;
}

type BinaryBackward = (g: Float32Array, a: Tensor, b: Tensor, out: Float32Array, shape: readonly number[]) =>
  [Float32Array | null, Float32Array | null];

function binary(name: string, op: BinaryOp, x: TensorLike, y: TensorLike, backward: BinaryBackward | null): Tensor {
  const a = asTensor(x, 'input'), b = asTensor(y, 'other');
  const shape = broadcastShapes(a.shape, b.shape);
  const out = binaryData(op, a.data, a.shape, b.data, b.shape, shape);
  if (!backward) return new Tensor(out, shape);
  return fromOp(name, out, shape, [a, b], (g) => {
    const [ga, gb] = backward(g, a, b, out, shape);
    return [
      ga && a.requiresGrad ? sumToShape(ga, shape, a.shape) : null,
      gb && b.requiresGrad ? sumToShape(gb, shape, b.shape) : null,
    ];
  });
}

/** a + b (broadcasting). */
export function add(a: TensorLike, b: TensorLike): Tensor {
  return binary('add', ADD, a, b, (g) => [g, g]);
}

/** a − b (broadcasting). */
export function sub(a: TensorLike, b: TensorLike): Tensor {
  return binary('sub', SUB, a, b, (g, _a, tb) => [g, tb.requiresGrad ? negated(g) : null]);
}

/** a · b elementwise (broadcasting). */
export function mul(a: TensorLike, b: TensorLike): Tensor {
  return binary('mul', MUL, a, b, (g, ta, tb, _out, shape) => [
    ta.requiresGrad ? binaryData(MUL, g, shape, tb.data, tb.shape, shape) : null,
    tb.requiresGrad ? binaryData(MUL, g, shape, ta.data, ta.shape, shape) : null,
  ]);
}

/** a / b elementwise (broadcasting). */
export function div(a: TensorLike, b: TensorLike): Tensor {
  return binary('div', DIV, a, b, (g, _ta, tb, out, shape) => {
    const gOverB = binaryData(DIV, g, shape, tb.data, tb.shape, shape); // d/da = g / b
    let gb: Float32Array | null = null;
    if (tb.requiresGrad) { // d/db = −g·a/b² = −(g/b)·out
      gb = new Float32Array(out.length);
      for (let i = 0; i < out.length; i++) gb[i] = -gOverB[i] * out[i];
    }
    return [gOverB, gb];
  });
}

/** a ** exponent (number or broadcasting tensor). */
export function pow(a: TensorLike, exponent: TensorLike): Tensor {
  if (typeof exponent === 'number') return powScalar(asTensor(a, 'input'), exponent);
  return binary('pow', Math.pow, a, exponent, (g, ta, tb, out, shape) => {
    const x = expandData(ta.data, ta.shape, shape), e = expandData(tb.data, tb.shape, shape);
    const ga = ta.requiresGrad ? new Float32Array(out.length) : null;
    const gb = tb.requiresGrad ? new Float32Array(out.length) : null;
    for (let i = 0; i < out.length; i++) {
      if (ga) ga[i] = e[i] === 0 ? 0 : g[i] * e[i] * Math.pow(x[i], e[i] - 1);
      if (gb) gb[i] = x[i] === 0 && e[i] >= 0 ? 0 : g[i] * out[i] * Math.log(x[i]);
    }
    return [ga, gb];
  });
}

function powScalar(x: Tensor, e: number): Tensor {
  const src = x.data, n = src.length;
  const out = new Float32Array(n);
  if (e === 2) for (let i = 0; i < n; i++) out[i] = src[i] * src[i];
  else for (let i = 0; i < n; i++) out[i] = Math.pow(src[i], e);
  return fromOp('pow', out, x.shape, [x], (g) => {
    const gx = new Float32Array(n);
    if (e === 0) return [gx];
    if (e === 2) for (let i = 0; i < n; i++) gx[i] = 2 * src[i] * g[i];
    else for (let i = 0; i < n; i++) gx[i] = e * Math.pow(src[i], e - 1) * g[i];
    return [gx];
  });
}

/** Elementwise maximum (gradient split evenly on ties, as PyTorch). */
export function maximum(a: TensorLike, b: TensorLike): Tensor {
  return binary('maximum', (x, y) => (x !== x || y !== y ? NaN : x > y ? x : y), a, b, (g, ta, tb, _o, shape) =>
    splitByComparison(g, ta, tb, shape, 1));
}

/** Elementwise minimum (gradient split evenly on ties, as PyTorch). */
export function minimum(a: TensorLike, b: TensorLike): Tensor {
  return binary('minimum', (x, y) => (x !== x || y !== y ? NaN : x < y ? x : y), a, b, (g, ta, tb, _o, shape) =>
    splitByComparison(g, ta, tb, shape, -1));
}

// Routes g to whichever of a, b won (sign 1: larger, −1: smaller), half each on ties.
function splitByComparison(g: Float32Array, ta: Tensor, tb: Tensor, shape: readonly number[], sign: number):
  [Float32Array, Float32Array] {
  const x = expandData(ta.data, ta.shape, shape), y = expandData(tb.data, tb.shape, shape);
  const ga = new Float32Array(g.length), gb = new Float32Array(g.length);
  for (let i = 0; i < g.length; i++) {
    const d = (x[i] - y[i]) * sign;
    if (d > 0) ga[i] = g[i];
    else if (d < 0) gb[i] = g[i];
    else { ga[i] = g[i] / 2; gb[i] = g[i] / 2; }
  }
  return [ga, gb];
}

/** 1 where a == b, else 0 (no gradient). */
export function eq(a: TensorLike, b: TensorLike): Tensor { return binary('eq', (x, y) => +(x === y), a, b, null); }
/** 1 where a != b, else 0 (no gradient). */
export function ne(a: TensorLike, b: TensorLike): Tensor { return binary('ne', (x, y) => +(x !== y), a, b, null); }
/** 1 where a < b, else 0 (no gradient). */
export function lt(a: TensorLike, b: TensorLike): Tensor { return binary('lt', (x, y) => +(x < y), a, b, null); }
/** 1 where a <= b, else 0 (no gradient). */
export function le(a: TensorLike, b: TensorLike): Tensor { return binary('le', (x, y) => +(x <= y), a, b, null); }
/** 1 where a > b, else 0 (no gradient). */
export function gt(a: TensorLike, b: TensorLike): Tensor { return binary('gt', (x, y) => +(x > y), a, b, null); }
/** 1 where a >= b, else 0 (no gradient). */
export function ge(a: TensorLike, b: TensorLike): Tensor { return binary('ge', (x, y) => +(x >= y), a, b, null); }

/** −x. */
export function neg(x: Tensor): Tensor {
  expectTensor(x, 'input');
  return fromOp('neg', negated(x.data), x.shape, [x], (g) => [negated(g)]);
}

/** eˣ. */
export function exp(x: Tensor): Tensor {
  expectTensor(x, 'input');
  const src = x.data, out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = Math.exp(src[i]);
  return fromOp('exp', out, x.shape, [x], (g) => {
    const gx = new Float32Array(g.length);
    for (let i = 0; i < g.length; i++) gx[i] = g[i] * out[i];
    return [gx];
  });
}

/** Natural logarithm. */
export function log(x: Tensor): Tensor {
  expectTensor(x, 'input');
  const src = x.data, out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = Math.log(src[i]);
  return fromOp('log', out, x.shape, [x], (g) => {
    const gx = new Float32Array(g.length);
    for (let i = 0; i < g.length; i++) gx[i] = g[i] / src[i];
    return [gx];
  });
}

/** Square root. */
export function sqrt(x: Tensor): Tensor {
  expectTensor(x, 'input');
  const src = x.data, out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = Math.sqrt(src[i]);
  return fromOp('sqrt', out, x.shape, [x], (g) => {
    const gx = new Float32Array(g.length);
    for (let i = 0; i < g.length; i++) gx[i] = g[i] / (2 * out[i]);
    return [gx];
  });
}

/** |x| (gradient 0 at 0, as PyTorch). */
export function abs(x: Tensor): Tensor {
  expectTensor(x, 'input');
  const src = x.data, out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = Math.abs(src[i]);
  return fromOp('abs', out, x.shape, [x], (g) => {
    const gx = new Float32Array(g.length);
    for (let i = 0; i < g.length; i++) gx[i] = src[i] > 0 ? g[i] : src[i] < 0 ? -g[i] : 0;
    return [gx];
  });
}

/** Clamps into [min, max] (either bound may be null/undefined); gradient flows where min ≤ x ≤ max. */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  expectTensor(x, 'input');
  if ((min === undefined || min === null) && (max === undefined || max === null)) {
    throw new RangeError("torch.clamp: At least one of 'min' or 'max' must not be None");
  }
  const lo = min ?? -Infinity, hi = max ?? Infinity;
  const src = x.data, out = new Float32Array(src.length);
  // PyTorch: min(max(x, lo), hi), so hi wins when lo > hi.
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    out[i] = v !== v ? v : Math.min(Math.max(v, lo), hi);
  }
  return fromOp('clamp', out, x.shape, [x], (g) => {
    const gx = new Float32Array(g.length);
    for (let i = 0; i < g.length; i++) gx[i] = src[i] >= lo && src[i] <= hi ? g[i] : 0;
    return [gx];
  });
}

/** condition ? x : y elementwise (broadcasting all three; condition nonzero = true). */
export function where(condition: TensorLike, x: TensorLike, y: TensorLike): Tensor {
  const c = asTensor(condition, 'condition'), a = asTensor(x, 'input'), b = asTensor(y, 'other');
  const shape = broadcastShapes(broadcastShapes(c.shape, a.shape), b.shape);
  const mask = expandData(c.data, c.shape, shape);
  const xa = expandData(a.data, a.shape, shape), yb = expandData(b.data, b.shape, shape);
  const out = new Float32Array(mask.length);
  for (let i = 0; i < out.length; i++) out[i] = mask[i] !== 0 ? xa[i] : yb[i];
  return fromOp('where', out, shape, [a, b], (g) => {
    const ga = a.requiresGrad ? new Float32Array(g.length) : null;
    const gb = b.requiresGrad ? new Float32Array(g.length) : null;
    for (let i = 0; i < g.length; i++) {
      if (mask[i] !== 0) { if (ga) ga[i] = g[i]; } else if (gb) gb[i] = g[i];
    }
    return [ga && sumToShape(ga, shape, a.shape), gb && sumToShape(gb, shape, b.shape)];
  });
}

/** x with value wherever mask (broadcast to x's shape) is nonzero; no gradient flows there. */
export function maskedFill(x: Tensor, mask: TensorLike, value: number): Tensor {
  expectTensor(x, 'input');
  const m = asTensor(mask, 'mask');
  const shape = broadcastShapes(x.shape, m.shape);
  if (shape.length !== x.ndim || shape.some((s, i) => s !== x.shape[i])) {
    throw new RangeError(`The expanded size of the mask [${m.shape.join(', ')}] must broadcast to the input shape [${x.shape.join(', ')}]`);
  }
  return where(m, value, x);
}
