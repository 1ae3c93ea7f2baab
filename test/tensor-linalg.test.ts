import { describe, expect, it } from 'vitest';
import { tensor, randn, manualSeed, matmul, linear, Tensor, sgemm } from '../src/index.js';
import { gemm } from '../src/tensor/linalg.js';
import { assertValues, gradcheck } from './helpers/gradcheck.js';

// float64 reference of a [.., m, k] @ [k, n] stack (b shared or per batch)
function refMatmul(a: Tensor, b: Tensor, batch: number, m: number, k: number, n: number, bPerBatch: boolean): number[] {
  const out: number[] = [];
  for (let s = 0; s < batch; s++) {
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let p = 0; p < k; p++) acc += a.data[s * m * k + i * k + p] * b.data[(bPerBatch ? s * k * n : 0) + p * n + j];
      out.push(acc);
    }
  }
  return out;
}

describe('matmul', () => {
  it('hand-computed 2-D values and gradients', () => {
    const a = tensor([[1, 2], [3, 4]], { requiresGrad: true }), b = tensor([[5, 6], [7, 8]], { requiresGrad: true });
    const c = matmul(a, b);
    assertValues(c, [[19, 22], [43, 50]], 0, [2, 2]);
    c.sum().backward();
    assertValues(a.grad, [[11, 15], [11, 15]], 0); // ones · bᵀ
    assertValues(b.grad, [[4, 4], [6, 6]], 0); // aᵀ · ones
  });

  it('1-D cases: dot, matrix-vector, vector-matrix', () => {
    assertValues(matmul(tensor([1, 2, 3]), tensor([4, 5, 6])), 32, 0, []);
    assertValues(matmul(tensor([[1, 2, 3], [4, 5, 6]]), tensor([1, 0, -1])), [-2, -2], 0, [2]);
    assertValues(matmul(tensor([1, -1]), tensor([[1, 2, 3], [4, 5, 6]])), [-3, -3, -3], 0, [3]);
    assertValues(tensor([[1, 2]]).matmul(tensor([[3], [4]])), [[11]], 0, [1, 1]);
  });

  it('native sizes (JS and sgemm paths) against float64, batched 3-D @ 2-D and 3-D @ 3-D', () => {
    manualSeed(9);
    for (const [m, k, n] of [[3, 4, 5], [37, 29, 41], [64, 1, 3], [1, 200, 50]]) {
      const a = randn(m, k), b = randn(k, n);
      assertValues(matmul(a, b), refMatmul(a, b, 1, m, k, n, false), 1e-4, [m, n]);
    }
    const a3 = randn(4, 9, 17), b2 = randn(17, 33);
    assertValues(matmul(a3, b2), refMatmul(a3, b2, 4, 9, 17, 33, false), 1e-4, [4, 9, 33]);
    const b3 = randn(4, 17, 6);
    assertValues(matmul(a3, b3), refMatmul(a3, b3, 4, 9, 17, 6, true), 1e-4, [4, 9, 6]);
    // batch broadcast: [2,1,3,4] @ [5,4,2] -> [2,5,3,2]
    const x = randn(2, 1, 3, 4), y = randn(5, 4, 2);
    const z = matmul(x, y);
    expect(z.shape).toEqual([2, 5, 3, 2]);
    const x0 = tensor(x.data.slice(12, 24), [3, 4]), y3 = tensor(y.data.slice(24, 32), [4, 2]);
    assertValues(z.select(0, 1).select(0, 3), matmul(x0, y3), 1e-6);
  });

  it('finite differences (small and native-sized, batched, broadcast)', () => {
    manualSeed(10);
    const g = (shape: number[]) => randn(shape, { requiresGrad: true });
    gradcheck(matmul, [g([3, 4]), g([4, 2])]);
    gradcheck(matmul, [g([2, 3, 4]), g([4, 5])]);
    gradcheck(matmul, [g([2, 3, 4]), g([2, 4, 5])]);
    gradcheck(matmul, [g([2, 1, 2, 3]), g([3, 3, 2])]);
    gradcheck(matmul, [g([4]), g([4])]);
    gradcheck(matmul, [g([3, 4]), g([4])]);
    gradcheck(matmul, [g([4]), g([2, 4, 3])]);
    gradcheck(matmul, [g([20, 16]), g([16, 18])], { tolerance: 2e-2 }); // 5760 MACs: native sgemm
  });

  it('gemm helper: JS fallback equals native, empty k, accumulate', () => {
    manualSeed(12);
    const a = randn(12, 10), b = randn(10, 9);
    const js = new Float32Array(12 * 9), native = new Float32Array(12 * 9);
    gemm(12, 9, 10, a.data, b.data, js); // 1080 MACs: JS loop
    sgemm({ m: 12, n: 9, k: 10, a: a.data, b: b.data, c: native });
    assertValues(js, refMatmul(a, b, 1, 12, 10, 9, false), 1e-5);
    assertValues(js, native, 1e-5);
    // transposed operands in the JS loop: (aᵀ)ᵀ·(bᵀ)ᵀ
    const at = a.t(), bt = b.t(), jsT = new Float32Array(12 * 9);
    gemm(12, 9, 10, at.data, bt.data, jsT, true, true);
    assertValues(jsT, js, 1e-6);
    const c = new Float32Array(4).fill(7);
    gemm(2, 2, 0, a.data, b.data, c, false, false, true);
    assertValues(c, [7, 7, 7, 7], 0);
    gemm(2, 2, 0, a.data, b.data, c);
    assertValues(c, [0, 0, 0, 0], 0);
    assertValues(matmul(randn(3, 0), randn(0, 2)), [0, 0, 0, 0, 0, 0], 0, [3, 2]);
  });

  it('errors (PyTorch wording)', () => {
    expect(() => matmul(randn(2, 3), randn(4, 5))).toThrow('mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)');
    expect(() => matmul(randn(2, 2, 3), randn(4, 5))).toThrow('mat1 and mat2 shapes cannot be multiplied (4x3 and 4x5)');
    expect(() => matmul(randn(2, 2, 3), randn(2, 4, 5))).toThrow('Expected size for first two dimensions of batch2 tensor to be: [2, 3] but got: [2, 4].');
    expect(() => matmul(randn(2, 2, 3), randn(3, 3, 5))).toThrow('The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 0');
    expect(() => matmul(randn(3), randn(4))).toThrow('inconsistent tensor size, expected tensor [3] and src [4] to have the same number of elements, but got 3 and 4 elements respectively');
    expect(() => matmul(randn(2, 3), randn(4))).toThrow('size mismatch, got 2, 2x3,4');
    expect(() => matmul(randn(3), randn(4, 5))).toThrow('mat1 and mat2 shapes cannot be multiplied (1x3 and 4x5)');
  });
});

describe('linear', () => {
  it('hand-computed values and gradients', () => {
    const x = tensor([[1, 2], [3, 4], [5, 6]], { requiresGrad: true });
    const w = tensor([[1, 0], [0, 1], [1, 1]], { requiresGrad: true });
    const b = tensor([10, 20, 30], { requiresGrad: true });
    const y = linear(x, w, b);
    assertValues(y, [[11, 22, 33], [13, 24, 37], [15, 26, 41]], 0, [3, 3]);
    y.sum().backward();
    assertValues(x.grad, [[2, 2], [2, 2], [2, 2]], 0);
    assertValues(w.grad, [[9, 12], [9, 12], [9, 12]], 0);
    assertValues(b.grad, [3, 3, 3], 0);
  });

  it('equals x @ wᵀ + b, N-D input, no bias; finite differences', () => {
    manualSeed(13);
    const x = randn([2, 5, 7], { requiresGrad: true }), w = randn([6, 7], { requiresGrad: true });
    const b = randn([6], { requiresGrad: true });
    assertValues(linear(x, w, b), matmul(x, w.t()).add(b), 1e-5, [2, 5, 6]);
    assertValues(linear(x, w), matmul(x, w.t()), 1e-5, [2, 5, 6]);
    gradcheck(linear, [x, w, b]);
    gradcheck((u, v) => linear(u, v), [x, w]);
    const big = randn([40, 30], { requiresGrad: true }), wb = randn([20, 30], { requiresGrad: true });
    gradcheck((u, v, c) => linear(u, v, c), [big, wb, randn([20], { requiresGrad: true })], { tolerance: 2e-2 });
  });

  it('errors (PyTorch wording)', () => {
    expect(() => linear(randn(4, 3), randn(2, 5))).toThrow('mat1 and mat2 shapes cannot be multiplied (4x3 and 5x2)');
  });
});
