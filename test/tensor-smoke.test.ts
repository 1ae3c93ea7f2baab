import { describe, expect, it } from 'vitest';
import { tensor, zeros, randn, matmul, linear, Tensor, manualSeed } from '../src/index.js';

describe('tensor smoke', () => {
  it('imports from the root and runs a tiny graph', () => {
    manualSeed(1);
    const w = randn([3, 4], { requiresGrad: true });
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    const y = matmul(x, w).tanh().sum();
    y.backward();
    expect(w.grad).toBeInstanceOf(Tensor);
    expect(w.grad!.shape).toEqual([3, 4]);
    expect(zeros(2, 3).shape).toEqual([2, 3]);
    const l = linear(x, randn(5, 3), zeros(5));
    expect(l.shape).toEqual([2, 5]);
  });
});
