/**
 * Shape arithmetic (element counts, strides, the `[outer, n, inner]` split around a dim) and the
 * strided copy primitives every shape op is built on: gather a strided view of a buffer into a new
 * contiguous array (permute, expand, narrow, select) and scatter-add a contiguous array back into
 * a strided view (their backward passes, and summing broadcast gradients).
 * Adjacent dimensions that are contiguous with each other are merged first, so the inner loop is
 * as long as possible; stride-1 inner rows are bulk copies, stride-0 rows are fills / sums.
 * @module
 */

/** Element count of a shape. */
export function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** The [outer, n, inner] view of a shape around dim. */
export function splitAtDim(shape: readonly number[], dim: number): [number, number, number] {
  return [product(shape.slice(0, dim)), shape[dim] ?? 1, product(shape.slice(dim + 1))];
}

/** Row-major strides of a contiguous shape. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d];
  }
  return strides;
}

/**
 * Drops size-1 dims and merges neighbours whose strides chain (stride[d] = stride[d+1]·size[d+1])
 * in every stride list. Returns at least one dim.
 */
export function coalesce(shape: readonly number[], stridesList: readonly (readonly number[])[]): {
  shape: number[]; strides: number[][];
} {
  const outShape: number[] = [];
  const outStrides: number[][] = stridesList.map(() => []);
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] === 1) continue;
    const merges = outShape.length > 0 && stridesList.every((s, i) => s[d] === outStrides[i][0] * outShape[0]);
    if (merges) {
      outShape[0] *= shape[d];
    } else {
      outShape.unshift(shape[d]);
      stridesList.forEach((s, i) => outStrides[i].unshift(s[d]));
    }
  }
  if (outShape.length === 0) return { shape: [1], strides: stridesList.map(() => [0]) };
  return { shape: outShape, strides: outStrides };
}

/** Row-at-a-time walk of a coalesced layout: calls visit(row, offsets) with each operand's start. */
export function forEachRow(
  shape: readonly number[], strides: readonly (readonly number[])[], starts: readonly number[],
  visit: (row: number, offsets: Int32Array | number[]) => void,
): void {
  const nd = shape.length;
  const rows = product(shape) / shape[nd - 1];
  const index = new Int32Array(Math.max(nd - 1, 0));
  const offsets = starts.slice();
  const k = offsets.length;
  for (let r = 0; r < rows; r++) {
    visit(r, offsets);
    for (let d = nd - 2; d >= 0; d--) {
      for (let i = 0; i < k; i++) offsets[i] += strides[i][d];
      if (++index[d] < shape[d]) break;
      for (let i = 0; i < k; i++) offsets[i] -= strides[i][d] * shape[d];
      index[d] = 0;
    }
  }
}

/** out = contiguous copy of the view (src, offset, shape, strides). */
export function gatherStrided(
  src: Float32Array, offset: number, shape: readonly number[], strides: readonly number[],
): Float32Array {
  const out = new Float32Array(product(shape));
  if (out.length === 0) return out;
  const layout = coalesce(shape, [strides]);
  const nd = layout.shape.length;
  const inner = layout.shape[nd - 1];
  const step = layout.strides[0][nd - 1];
  if (nd >= 2 && step > 1 && layout.strides[0][nd - 2] === 1 && inner >= 8 && layout.shape[nd - 2] >= 8) {
    gatherTransposed(src, offset, layout.shape, layout.strides[0], out);
    return out;
  }
  forEachRow(layout.shape, layout.strides, [offset], (row, offsets) => {
    const o = row * inner;
    const p = offsets[0];
    if (step === 1) {
      if (inner >= 16) out.set(src.subarray(p, p + inner), o);
      else for (let j = 0; j < inner; j++) out[o + j] = src[p + j];
    } else if (step === 0) {
      out.fill(src[p], o, o + inner);
    } else {
      for (let j = 0, q = p; j < inner; j++, q += step) out[o + j] = src[q];
    }
  });
  return out;
}

const TILE = 32;

// gatherStrided when the last two dims are swapped (src stride 1 on dim nd−2): copies 32×32 tiles so
// both the reads and the writes stay in cache.
function gatherTransposed(src: Float32Array, offset: number, shape: readonly number[], strides: readonly number[],
  out: Float32Array): void {
  const nd = shape.length;
  const rows = shape[nd - 2], cols = shape[nd - 1], colStride = strides[nd - 1];
  const outerShape = [...shape.slice(0, nd - 2), 1];
  const outerStrides = [...strides.slice(0, nd - 2), 0];
  forEachRow(outerShape, [outerStrides], [offset], (block, offsets) => {
    const base = offsets[0], o = block * rows * cols;
    for (let r0 = 0; r0 < rows; r0 += TILE) {
      const r1 = Math.min(r0 + TILE, rows);
      for (let c0 = 0; c0 < cols; c0 += TILE) {
        const c1 = Math.min(c0 + TILE, cols);
        for (let r = r0; r < r1; r++) {
          const dst = o + r * cols;
          for (let c = c0, q = base + r + c0 * colStride; c < c1; c++, q += colStride) out[dst + c] = src[q];
        }
      }
    }
  });
}

/** dst view (offset, shape, strides) += src (contiguous, that shape); stride-0 dims sum up. */
export function scatterAddStrided(
  dst: Float32Array, offset: number, shape: readonly number[], strides: readonly number[], src: ArrayLike<number>,
): void {
  if (product(shape) === 0) return;
  const layout = coalesce(shape, [strides]);
  const inner = layout.shape[layout.shape.length - 1];
  const step = layout.strides[0][layout.shape.length - 1];
  forEachRow(layout.shape, layout.strides, [offset], (row, offsets) => {
    const o = row * inner;
    const p = offsets[0];
    if (step === 0) {
      let sum = 0;
      for (let j = 0; j < inner; j++) sum += src[o + j];
      dst[p] += sum;
    } else {
      for (let j = 0, q = p; j < inner; j++, q += step) dst[q] += src[o + j];
    }
  });
}

/** PyTorch's broadcast of two shapes (aligned from the right). */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const nd = Math.max(a.length, b.length);
  const out = new Array<number>(nd);
  for (let d = 0; d < nd; d++) {
    const sa = a[d - (nd - a.length)] ?? 1;
    const sb = b[d - (nd - b.length)] ?? 1;
    if (sa !== sb && sa !== 1 && sb !== 1) {
      throw new RangeError(`The size of tensor a (${sa}) must match the size of tensor b (${sb}) at non-singleton dimension ${d}`);
    }
    out[d] = sa === 1 ? sb : sa;
  }
  return out;
}

/** Strides that read a contiguous `shape` as if expanded to `target` (0 on broadcast dims). */
export function broadcastStrides(shape: readonly number[], target: readonly number[]): number[] {
  const own = contiguousStrides(shape);
  const lead = target.length - shape.length;
  return target.map((_, d) => (d < lead || shape[d - lead] === 1 ? 0 : own[d - lead]));
}

/** `data` (shaped `shape`) materialized at the broadcast shape `target`. */
export function expandData(data: Float32Array, shape: readonly number[], target: readonly number[]): Float32Array {
  if (product(shape) === product(target)) return data;
  return gatherStrided(data, 0, target, broadcastStrides(shape, target));
}

/** Sums a gradient of the broadcast shape `from` down to `shape` (the inverse of expandData). */
export function sumToShape(grad: Float32Array, from: readonly number[], shape: readonly number[]): Float32Array {
  if (product(from) === product(shape)) return grad;
  const out = new Float32Array(product(shape));
  scatterAddStrided(out, 0, from, broadcastStrides(shape, from), grad);
  return out;
}
