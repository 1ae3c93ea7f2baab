/**
 * Shape ops: reshape/view, flatten, (un)squeeze, permute/transpose, expand, select/narrow/slice,
 * indexSelect, gather, cat/stack, chunk/split/unbind, clone. Reshapes share the data array (all
 * tensors are contiguous); everything else materializes a contiguous result.
 * @module
 */
import { Tensor, expectTensor, fromOp, normalizeDim, type NestedArray } from './tensor.js';
import { contiguousStrides, expandData, gatherStrided, product, scatterAddStrided, splitAtDim, sumToShape } from './strided.js';

/** Sizes given as `(2, 3)` or `([2, 3])`. */
export type SizeArgs = number[] | [readonly number[]];

/** Flattens `(2, 3)` / `([2, 3])` into a size list. */
export function sizesFrom(args: readonly unknown[]): number[] {
  const list = args.length === 1 && Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
  return list.map((v, i) => {
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      throw new TypeError(`Expected integer for size[${i}] but received ${typeof v === 'number' ? `${v} of type number` : typeof v}`);
    }
    return v;
  });
}

const fmt = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/** Resolves one −1 and checks the element count, with PyTorch's messages. */
export function inferShape(shape: readonly number[], numel: number): number[] {
  let inferred = -1, known = 1;
  shape.forEach((s, d) => {
    if (s === -1) {
      if (inferred >= 0) throw new RangeError('only one dimension can be inferred');
      inferred = d;
    } else if (s < 0) {
      throw new RangeError(`invalid shape dimension ${s}`);
    } else known *= s;
  });
  const out = [...shape];
  if (inferred >= 0 && known !== 0 && numel % known === 0) out[inferred] = numel / known;
  if (out.some((s) => s < 0) || product(out) !== numel) {
    throw new RangeError(`shape '${fmt(shape)}' is invalid for input of size ${numel}`);
  }
  return out;
}

/** The same data with a new shape (one dim may be −1). Shares the data array. */
export function reshape(x: Tensor, ...shape: SizeArgs): Tensor {
  expectTensor(x, 'input');
  const target = inferShape(sizesFrom(shape), x.numel);
  return fromOp('reshape', x.data, target, [x], (g) => [g]);
}

/** Alias of {@link reshape} (all tensors are contiguous). */
export const view = reshape;

/** Merges dims startDim..endDim into one. */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  expectTensor(x, 'input');
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normalizeDim(startDim, x.ndim), e = normalizeDim(endDim, x.ndim);
  if (s > e) throw new RangeError('flatten() has invalid args: start_dim cannot come after end_dim');
  const shape = [...x.shape.slice(0, s), product(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  return reshape(x, shape);
}

/** Inserts a size-1 dim at dim (in [−ndim−1, ndim]). */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  expectTensor(x, 'input');
  const d = normalizeDim(dim, x.ndim + 1);
  return reshape(x, [...x.shape.slice(0, d), 1, ...x.shape.slice(d)]);
}

/** Removes size-1 dims (all, or only dim if it has size 1). */
export function squeeze(x: Tensor, dim?: number): Tensor {
  expectTensor(x, 'input');
  if (dim === undefined) return reshape(x, x.shape.filter((s) => s !== 1));
  const d = normalizeDim(dim, x.ndim);
  if (x.ndim === 0 || x.shape[d] !== 1) return reshape(x, [...x.shape]);
  return reshape(x, x.shape.filter((_, i) => i !== d));
}

/** Reorders dims: result dim i is input dim dims[i]. */
export function permute(x: Tensor, ...dims: SizeArgs): Tensor {
  expectTensor(x, 'input');
  const order = sizesFrom(dims);
  if (order.length !== x.ndim) {
    throw new RangeError(`permute(sparse_coo): number of dimensions in the tensor input does not match the length of the desired ordering of dimensions i.e. input.dim() = ${x.ndim} is not equal to len(dims) = ${order.length}`);
  }
  const perm = order.map((d) => normalizeDim(d, x.ndim));
  if (new Set(perm).size !== perm.length) throw new RangeError('permute(): duplicate dims are not allowed.');
  const strides = contiguousStrides(x.shape);
  const shape = perm.map((d) => x.shape[d]);
  if (perm.every((d, i) => d === i)) return reshape(x, shape);
  const out = gatherStrided(x.data, 0, shape, perm.map((d) => strides[d]));
  return fromOp('permute', out, shape, [x], (g) => {
    // Read g back in input order: input dim perm[i] is g's dim i.
    const gStrides = contiguousStrides(shape);
    const back = new Array<number>(x.ndim);
    perm.forEach((d, i) => { back[d] = gStrides[i]; });
    return [gatherStrided(g, 0, x.shape, back)];
  });
}

/** Swaps two dims. */
export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  expectTensor(x, 'input');
  const a = normalizeDim(dim0, x.ndim), b = normalizeDim(dim1, x.ndim);
  const order = [...Array(x.ndim).keys()];
  order[a] = b;
  order[b] = a;
  return x.ndim === 0 ? reshape(x, []) : permute(x, order);
}

/** Transpose of a ≤2-D tensor. */
export function t(x: Tensor): Tensor {
  expectTensor(x, 'input');
  if (x.ndim > 2) throw new RangeError(`t() expects a tensor with <= 2 dimensions, but self is ${x.ndim}D`);
  return x.ndim < 2 ? reshape(x, [...x.shape]) : transpose(x, 0, 1);
}

/** Broadcasts size-1 dims to sizes (−1 keeps a dim); materializes the result. */
export function expand(x: Tensor, ...sizes: SizeArgs): Tensor {
  expectTensor(x, 'input');
  const target = sizesFrom(sizes);
  if (target.length < x.ndim) {
    throw new RangeError(`expand(torch.FloatTensor{${fmt(x.shape)}}, size=${fmt(target)}): the number of sizes provided (${target.length}) must be greater or equal to the number of dimensions in the tensor (${x.ndim})`);
  }
  const lead = target.length - x.ndim;
  const shape = target.map((s, d) => {
    const own = d < lead ? undefined : x.shape[d - lead];
    if (s === -1) {
      if (own === undefined) throw new RangeError(`The expanded size of the tensor (-1) isn't allowed in a leading, non-existing dimension ${d}`);
      return own;
    }
    if (own !== undefined && own !== 1 && own !== s) {
      throw new RangeError(`The expanded size of the tensor (${s}) must match the existing size (${own}) at non-singleton dimension ${d}.  Target sizes: ${fmt(target)}.  Tensor sizes: ${fmt(x.shape)}`);
    }
    if (s < 0) throw new RangeError(`Trying to create tensor with negative dimension ${s}: ${fmt(target)}`);
    return s;
  });
  const out = expandData(x.data, x.shape, shape);
  return fromOp('expand', out, shape, [x], (g) => [sumToShape(g, shape, x.shape)]);
}

/** expand to other's shape. */
export function expandAs(x: Tensor, other: Tensor): Tensor {
  expectTensor(x, 'input');
  return expand(x, [...other.shape]);
}

// A strided window along one dim: start, count, step. Backward scatters into zeros.
function window(name: string, x: Tensor, dim: number, start: number, count: number, step: number, keep: boolean): Tensor {
  const strides = contiguousStrides(x.shape);
  const viewShape = [...x.shape];
  viewShape[dim] = count;
  const viewStrides = [...strides];
  viewStrides[dim] *= step;
  const offset = start * strides[dim];
  const out = gatherStrided(x.data, offset, viewShape, viewStrides);
  const shape = keep ? viewShape : viewShape.filter((_, d) => d !== dim);
  return fromOp(name, out, shape, [x], (g) => {
    const gx = new Float32Array(x.numel);
    scatterAddStrided(gx, offset, viewShape, viewStrides, g);
    return [gx];
  });
}

/** The slice at index along dim (the dim is removed). */
export function select(x: Tensor, dim: number, index: number): Tensor {
  expectTensor(x, 'input');
  const d = normalizeDim(dim, x.ndim);
  const size = x.shape[d];
  if (!Number.isInteger(index) || index < -size || index >= size) {
    throw new RangeError(`select(): index ${index} out of range for tensor of size ${fmt(x.shape)} at dimension ${d}`);
  }
  return window('select', x, d, index < 0 ? index + size : index, 1, 1, false);
}

/** length entries along dim from start (start may be negative). */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  expectTensor(x, 'input');
  const d = normalizeDim(dim, x.ndim);
  const size = x.shape[d];
  if (!Number.isInteger(start) || start < -size || start > size) {
    throw new RangeError(`start out of range (expected to be in range of [${-size}, ${size}], but got ${start})`);
  }
  const s = start < 0 ? start + size : start;
  if (!Number.isInteger(length) || length < 0) throw new RangeError('narrow(): length must be non-negative.');
  if (s + length > size) throw new RangeError(`start (${s}) + length (${length}) exceeds dimension size (${size}).`);
  return window('narrow', x, d, s, length, 1, true);
}

/** Python-style x[..., start:end:step] along dim (negative bounds wrap, out-of-range bounds clamp). */
export function slice(x: Tensor, dim: number, start?: number | null, end?: number | null, step = 1): Tensor {
  expectTensor(x, 'input');
  const d = normalizeDim(dim, x.ndim);
  const size = x.shape[d];
  if (step === 0) throw new RangeError('slice step cannot be zero');
  if (!Number.isInteger(step) || step < 0) throw new RangeError('step must be greater than zero');
  const clampIndex = (v: number | null | undefined, fallback: number): number => {
    if (v === undefined || v === null) return fallback;
    const w = v < 0 ? v + size : v;
    return Math.min(Math.max(w, 0), size);
  };
  const s = clampIndex(start, 0), e = clampIndex(end, size);
  const count = e > s ? Math.ceil((e - s) / step) : 0;
  return window('slice', x, d, s, count, step, true);
}

/** The tensors along dim, one per index (dim removed). */
export function unbind(x: Tensor, dim = 0): Tensor[] {
  expectTensor(x, 'input');
  const d = normalizeDim(dim, x.ndim);
  return Array.from({ length: x.shape[d] }, (_, i) => select(x, d, i));
}

/** Splits into pieces of splitSize (last may be smaller) or of the listed sizes, along dim. */
export function split(x: Tensor, splitSize: number | readonly number[], dim = 0): Tensor[] {
  expectTensor(x, 'input');
  const d = normalizeDim(dim, x.ndim);
  const size = x.shape[d];
  let sizes: number[];
  if (typeof splitSize === 'number') {
    if (!Number.isInteger(splitSize) || splitSize < 0) throw new RangeError(`split expects split_size be non-negative, but got split_size=${splitSize}`);
    sizes = [];
    for (let s = 0; s < size || (sizes.length === 0 && s === 0); s += splitSize) {
      sizes.push(Math.min(splitSize, size - s));
      if (splitSize === 0) break;
    }
  } else {
    sizes = [...splitSize];
    const total = sizes.reduce((a, b) => a + b, 0);
    if (total !== size) {
      throw new RangeError(`split_with_sizes expects split_sizes to sum exactly to ${size} (input tensor's size at dimension ${d}), but got split_sizes=${fmt(sizes)}`);
    }
  }
  let start = 0;
  return sizes.map((n) => {
    const piece = narrow(x, d, start, n);
    start += n;
    return piece;
  });
}

/** Splits into `chunks` near-equal pieces along dim (PyTorch's sizes: ceil(size/chunks)). */
export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  expectTensor(x, 'input');
  if (!Number.isInteger(chunks) || chunks <= 0) throw new RangeError(`chunk expects \`chunks\` to be greater than 0, got: ${chunks}`);
  const d = normalizeDim(dim, x.ndim);
  return split(x, Math.ceil(x.shape[d] / chunks), d);
}

/** Integer indices: a Tensor with integral values, an Int32Array, or (nested) number arrays. */
export type IndexLike = Tensor | Int32Array | NestedArray;

/** Reads indices into Int32Array + shape, checking they are integers. */
export function toIndex(index: IndexLike, name = 'index'): { data: Int32Array; shape: number[] } {
  let values: ArrayLike<number>, shape: number[];
  if (index instanceof Tensor) {
    values = index.data;
    shape = [...index.shape];
  } else if (index instanceof Int32Array) {
    values = index;
    shape = [index.length];
  } else if (typeof index === 'number' || Array.isArray(index)) {
    shape = [];
    for (let level: NestedArray = index; Array.isArray(level); level = level[0] as NestedArray) {
      shape.push(level.length);
      if (level.length === 0) break;
    }
    values = Array.isArray(index) ? (index as unknown[]).flat(Infinity as 1) as number[] : [index];
    if (values.length !== product(shape)) throw new RangeError(`Expected a rectangular nested array for ${name}`);
  } else {
    throw new TypeError(`Expected Tensor, Int32Array or array of integers for ${name} but received ${typeof index}`);
  }
  const data = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      throw new TypeError(`Expected integer for ${name}[${i}] but received ${String(v)} of type ${typeof v}`);
    }
    data[i] = v;
  }
  return { data, shape };
}

// Copies `inner` floats (bulk copy when long).
function copyBlock(dst: Float32Array, d: number, src: Float32Array, s: number, inner: number): void {
  if (inner >= 16) dst.set(src.subarray(s, s + inner), d);
  else for (let j = 0; j < inner; j++) dst[d + j] = src[s + j];
}

/** Entries index[i] along dim (index: 1-D integers in [0, size)). */
export function indexSelect(x: Tensor, dim: number, index: IndexLike): Tensor {
  expectTensor(x, 'input');
  const d = normalizeDim(dim, x.ndim);
  const { data: idx, shape: idxShape } = toIndex(index);
  if (idxShape.length > 1) throw new RangeError('index_select(): Index is supposed to be a vector');
  const [outer, n, inner] = splitAtDim(x.shape, d);
  for (let i = 0; i < idx.length; i++) {
    if (idx[i] < 0 || idx[i] >= n) throw new RangeError(`INDICES element is out of DATA bounds, id=${idx[i]} axis_dim=${n}`);
  }
  const m = idx.length;
  const shape = x.ndim === 0 ? [] : x.shape.map((s, i) => (i === d ? m : s));
  const out = new Float32Array(outer * m * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < m; i++) copyBlock(out, (o * m + i) * inner, x.data, (o * n + idx[i]) * inner, inner);
  }
  return fromOp('indexSelect', out, shape, [x], (g) => {
    const gx = new Float32Array(x.numel);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < m; i++) {
        const src = (o * m + i) * inner, dst = (o * n + idx[i]) * inner;
        for (let j = 0; j < inner; j++) gx[dst + j] += g[src + j];
      }
    }
    return [gx];
  });
}

/** out[i][j][k] = x[i][index[i][j][k]][k] for dim 1 (and so on): index has x's ndim. */
export function gather(x: Tensor, dim: number, index: IndexLike): Tensor {
  expectTensor(x, 'input');
  const d = normalizeDim(dim, x.ndim);
  const { data: idx, shape } = toIndex(index);
  if (shape.length !== Math.max(x.ndim, 1) && !(x.ndim === 0 && shape.length === 0)) {
    throw new RangeError('Index tensor must have the same number of dimensions as input tensor');
  }
  const xShape = x.ndim === 0 ? [1] : x.shape;
  const idxShape = shape.length === 0 ? [1] : shape;
  idxShape.forEach((s, i) => {
    if (i !== d && s > xShape[i]) {
      throw new RangeError(`Size does not match at dimension ${i} expected index ${fmt(shape)} to be smaller than self ${fmt(x.shape)} apart from dimension ${d}`);
    }
  });
  const offsets = gatherOffsets(idx, idxShape, xShape, d);
  const out = new Float32Array(idx.length);
  for (let i = 0; i < out.length; i++) out[i] = x.data[offsets[i]];
  return fromOp('gather', out, shape, [x], (g) => {
    const gx = new Float32Array(x.numel);
    for (let i = 0; i < offsets.length; i++) gx[offsets[i]] += g[i];
    return [gx];
  });
}

// Flat offsets into x for every index element (its own coordinates, index value on dim).
function gatherOffsets(idx: Int32Array, idxShape: readonly number[], xShape: readonly number[], dim: number): Int32Array {
  const xStrides = contiguousStrides(xShape);
  const nd = idxShape.length, size = xShape[dim];
  const coord = new Int32Array(nd);
  const offsets = new Int32Array(idx.length);
  let base = 0; // Σ coord[k]·xStrides[k] over k ≠ dim
  for (let i = 0; i < idx.length; i++) {
    const v = idx[i];
    if (v < -size || v >= size) throw new RangeError(`index ${v} is out of bounds for dimension ${dim} with size ${size}`);
    offsets[i] = base + (v < 0 ? v + size : v) * xStrides[dim];
    for (let k = nd - 1; k >= 0; k--) {
      if (k !== dim) base += xStrides[k];
      if (++coord[k] < idxShape[k]) break;
      if (k !== dim) base -= xStrides[k] * idxShape[k];
      coord[k] = 0;
    }
  }
  return offsets;
}

/** Concatenates along dim (sizes must match elsewhere; 1-D empty tensors are skipped, as PyTorch). */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (!Array.isArray(tensors as unknown) || tensors.length === 0) throw new RangeError('torch.cat(): expected a non-empty list of Tensors');
  tensors.forEach((p, i) => expectTensor(p, `tensors[${i}]`));
  const parts = tensors.filter((p) => !(p.ndim === 1 && p.numel === 0));
  if (parts.length === 0) return fromOp('cat', new Float32Array(0), [0], tensors, () => tensors.map(() => null));
  const first = parts[0];
  if (first.ndim === 0) throw new RangeError(`zero-dimensional tensor (at position ${tensors.indexOf(first)}) cannot be concatenated`);
  const d = normalizeDim(dim, first.ndim);
  parts.forEach((p) => {
    if (p.ndim !== first.ndim) throw new RangeError(`Tensors must have same number of dimensions: got ${first.ndim} and ${p.ndim}`);
    p.shape.forEach((s, i) => {
      if (i !== d && s !== first.shape[i]) {
        throw new RangeError(`Sizes of tensors must match except in dimension ${d}. Expected size ${first.shape[i]} but got size ${s} for tensor number ${tensors.indexOf(p)} in the list.`);
      }
    });
  });
  const [outer, , inner] = splitAtDim(first.shape, d);
  const blocks = parts.map((p) => p.shape[d] * inner);
  const rowLength = blocks.reduce((a, b) => a + b, 0);
  const shape = [...first.shape];
  shape[d] = rowLength / Math.max(inner, 1);
  if (inner === 0) shape[d] = parts.reduce((a, p) => a + p.shape[d], 0);
  const out = new Float32Array(outer * rowLength);
  for (let o = 0; o < outer; o++) {
    let at = o * rowLength;
    parts.forEach((p, k) => {
      copyBlock(out, at, p.data, o * blocks[k], blocks[k]);
      at += blocks[k];
    });
  }
  return fromOp('cat', out, shape, parts, (g) => parts.map((p, k) => {
    if (!p.requiresGrad) return null;
    const gp = new Float32Array(p.numel);
    const from = blocks.slice(0, k).reduce((a, b) => a + b, 0);
    for (let o = 0; o < outer; o++) copyBlock(gp, o * blocks[k], g, o * rowLength + from, blocks[k]);
    return gp;
  }));
}

/** Stacks equal-shaped tensors along a new dim. */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (!Array.isArray(tensors as unknown) || tensors.length === 0) throw new RangeError('stack expects a non-empty TensorList');
  const first = tensors[0];
  tensors.forEach((p, i) => {
    if (p.ndim !== first.ndim || p.shape.some((s, j) => s !== first.shape[j])) {
      throw new RangeError(`stack expects each tensor to be equal size, but got ${fmt(first.shape)} at entry 0 and ${fmt(p.shape)} at entry ${i}`);
    }
  });
  const d = normalizeDim(dim, first.ndim + 1);
  return cat(tensors.map((p) => unsqueeze(p, d)), d);
}

/** A copy that stays on the tape (gradient passes through). */
export function clone(x: Tensor): Tensor {
  expectTensor(x, 'input');
  return fromOp('clone', x.data.slice(), x.shape, [x], (g) => [g]);
}

/** All tensors are contiguous: returns x. */
export function contiguous(x: Tensor): Tensor {
  expectTensor(x, 'input');
  return x;
}
