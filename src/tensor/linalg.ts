/**
 * Matrix products on the native SGEMM: matmul (PyTorch's 1-D/2-D/batched rules, batch dims
 * broadcast), and linear (x·Wᵀ + b without materializing Wᵀ, the nn.Linear workhorse).
 * @module
 */
import { Tensor, expectTensor, fromOp } from './tensor.js';
import { sgemm } from '../runtime.js';
import { binding } from '../native.js';
import { broadcastShapes, product, sumToShape } from './strided.js';
import { expand, reshape } from './shape.js';

// Below this many multiply-adds a JS loop beats the native call overhead.
const NATIVE_MIN_WORK = 4096;

/**
 * c[m, n] (+)= op(a)·op(b); a is [m, k] ([k, m] when transA), b is [k, n] ([n, k] when transB).
 * Handles empty sizes.
 */
export function gemm(m: number, n: number, k: number, a: Float32Array, b: Float32Array, c: Float32Array,
  transA = false, transB = false, accumulate = false): void {
  if (m === 0 || n === 0) return;
  if (k === 0) {
    if (!accumulate) c.fill(0, 0, m * n);
    return;
  }
  if (m * n * k >= NATIVE_MIN_WORK) {
    sgemm({ m, n, k, a, b, c, transA, transB, accumulate });
    return;
  }
  const aRow = transA ? 1 : k, aCol = transA ? m : 1; // a(i, p) = a[i·aRow + p·aCol]
  const bRow = transB ? 1 : n, bCol = transB ? k : 1; // b(p, j) = b[p·bRow + j·bCol]
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * aRow + p * aCol] * b[p * bRow + j * bCol];
      c[i * n + j] = accumulate ? c[i * n + j] + s : s;
    }
  }
}

// [m, k] @ [k, n] of 2-D tensors.
function mm(a: Tensor, b: Tensor): Tensor {
  const [m, k] = a.shape, [k2, n] = b.shape;
  if (k !== k2) {
    throw new RangeError(`mat1 and mat2 shapes cannot be multiplied (${m}x${k} and ${k2}x${n})`);
  }
  const out = new Float32Array(m * n);
  gemm(m, n, k, a.data, b.data, out);
  return fromOp('mm', out, [m, n], [a, b], (g) => {
    let ga: Float32Array | null = null, gb: Float32Array | null = null;
    if (a.requiresGrad) { ga = new Float32Array(m * k); gemm(m, k, n, g, b.data, ga, false, true); } // g·bᵀ
    if (b.requiresGrad) { gb = new Float32Array(k * n); gemm(k, n, m, a.data, g, gb, true, false); } // aᵀ·g
    return [ga, gb];
  });
}

// [B, m, k] @ [B, k, n].
function bmm(a: Tensor, b: Tensor): Tensor {
  const [batch, m, k] = a.shape, [, k2, n] = b.shape;
  if (k !== k2) {
    throw new RangeError(`Expected size for first two dimensions of batch2 tensor to be: [${batch}, ${k}] but got: [${batch}, ${k2}].`);
  }
  const out = new Float32Array(batch * m * n);
  gemmBatched(batch, m, n, k, a.data, b.data, out);
  return fromOp('bmm', out, [batch, m, n], [a, b], (g) => {
    const ga = a.requiresGrad ? new Float32Array(a.numel) : null;
    const gb = b.requiresGrad ? new Float32Array(b.numel) : null;
    if (ga) gemmBatched(batch, m, k, n, g, b.data, ga, false, true); // g·bᵀ per item
    if (gb) gemmBatched(batch, k, n, m, a.data, g, gb, true, false); // aᵀ·g per item
    return [ga, gb];
  });
}

/**
 * {@link gemm} over `batch` contiguous items (c_i = op(a_i)·op(b_i), each laid out as gemm takes
 * it): one native call for all items (spread over the pool, the bits of per-item calls), not one per item.
 */
export function gemmBatched(batch: number, m: number, n: number, k: number, a: Float32Array, b: Float32Array, c: Float32Array,
  transA = false, transB = false): void {
  const sa = m * k, sb = k * n, sc = m * n;
  if (batch > 1 && m > 0 && n > 0 && k > 0 && sa * n >= NATIVE_MIN_WORK) {
    binding().sgemmBatched(batch, m, n, k, a.subarray(0, batch * sa), b.subarray(0, batch * sb), c.subarray(0, batch * sc),
      transA, transB, false);
    return;
  }
  for (let i = 0; i < batch; i++) {
    gemm(m, n, k, a.subarray(i * sa, (i + 1) * sa), b.subarray(i * sb, (i + 1) * sb), c.subarray(i * sc, (i + 1) * sc), transA, transB);
  }
}

/**
 * Matrix product with torch.matmul's rules: 1-D·1-D dot, 2-D·2-D, 1-D operands promoted and the
 * added dim removed, N-D·2-D folded into one GEMM, batched N-D with broadcast batch dims.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  expectTensor(a, 'input');
  expectTensor(b, 'other');
  if (a.ndim === 0 || b.ndim === 0) {
    throw new RangeError(`both arguments to matmul need to be at least 1D, but they are ${a.ndim}D and ${b.ndim}D`);
  }
  if (a.ndim === 1 && b.ndim === 1) {
    if (a.numel !== b.numel) {
      throw new RangeError(`inconsistent tensor size, expected tensor [${a.numel}] and src [${b.numel}] to have the same number of elements, but got ${a.numel} and ${b.numel} elements respectively`);
    }
    return reshape(mm(reshape(a, [1, a.numel]), reshape(b, [b.numel, 1])), []);
  }
  if (b.ndim === 1) {
    if (a.ndim === 2 && a.shape[1] !== b.numel) {
      throw new RangeError(`size mismatch, got ${a.shape[0]}, ${a.shape[0]}x${a.shape[1]},${b.numel}`);
    }
    const out = matmul(a, reshape(b, [b.numel, 1]));
    return reshape(out, out.shape.slice(0, -1));
  }
  if (a.ndim === 1) {
    const out = matmul(reshape(a, [1, a.numel]), b);
    return reshape(out, [...out.shape.slice(0, -2), out.shape[out.ndim - 1]]);
  }
  if (b.ndim === 2) {
    // Fold all leading dims of a into the rows of one GEMM.
    const k = a.shape[a.ndim - 1], m = product(a.shape.slice(0, -1));
    const out = mm(a.ndim === 2 ? a : reshape(a, [m, k]), b);
    return a.ndim === 2 ? out : reshape(out, [...a.shape.slice(0, -1), b.shape[1]]);
  }
  return batchedMatmul(a, b);
}

// N-D @ N-D (at least one ≥ 3-D): broadcast batch dims, flatten them, bmm.
function batchedMatmul(a: Tensor, b: Tensor): Tensor {
  const [m, k] = a.shape.slice(-2), [k2, n] = b.shape.slice(-2);
  const batchShape = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batch = product(batchShape);
  const ea = product(a.shape.slice(0, -2)) === batch ? a : expand(a, [...batchShape, m, k]);
  const eb = product(b.shape.slice(0, -2)) === batch ? b : expand(b, [...batchShape, k2, n]);
  const out = bmm(reshape(ea, [batch, m, k]), reshape(eb, [batch, k2, n]));
  return reshape(out, [...batchShape, m, n]);
}

/**
 * input·weightᵀ + bias: input [..., in], weight [out, in], bias [out] (PyTorch's F.linear).
 * One GEMM forward, two backward, bias gradient as column sums.
 */
export function linear(input: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  expectTensor(input, 'input');
  expectTensor(weight, 'weight');
  if (bias !== undefined && bias !== null) expectTensor(bias, 'bias');
  if (weight.ndim !== 2) throw new RangeError(`Expected 2-D weight for linear but received ${weight.ndim}-D`);
  const [outF, inF] = weight.shape;
  const k = input.ndim === 0 ? 1 : input.shape[input.ndim - 1];
  const m = input.ndim <= 1 ? 1 : input.numel / Math.max(k, 1);
  if (input.ndim === 0 || k !== inF) {
    throw new RangeError(`mat1 and mat2 shapes cannot be multiplied (${m}x${k} and ${inF}x${outF})`);
  }
  if (bias && (bias.numel !== outF || bias.ndim > 1)) {
    throw new RangeError(`The size of tensor a (${outF}) must match the size of tensor b (${bias.shape[bias.ndim - 1] ?? 1}) at non-singleton dimension ${Math.max(input.ndim - 1, 0)}`);
  }
  const out = new Float32Array(m * outF);
  if (bias) for (let i = 0; i < m; i++) out.set(bias.data, i * outF);
  gemm(m, outF, inF, input.data, weight.data, out, false, true, bias != null);
  const shape = [...input.shape.slice(0, -1), outF];
  const inputs = bias ? [input, weight, bias] : [input, weight];
  return fromOp('linear', out, shape, inputs, (g) => {
    let gi: Float32Array | null = null, gw: Float32Array | null = null, gbias: Float32Array | null = null;
    if (input.requiresGrad) { gi = new Float32Array(m * inF); gemm(m, inF, outF, g, weight.data, gi); } // g·W
    if (weight.requiresGrad) { gw = new Float32Array(outF * inF); gemm(outF, inF, m, g, input.data, gw, true, false); } // gᵀ·x
    if (bias?.requiresGrad) gbias = sumToShape(g, [m, outF], [outF]);
    return bias ? [gi, gw, gbias] : [gi, gw];
  });
}
