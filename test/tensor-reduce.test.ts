import { describe, expect, it } from 'vitest';
import {
  tensor, randn, manualSeed, sum, mean, max, min, argmax, argmin, logsumexp, arange,
} from '../src/index.js';
import { assertValues, gradcheck } from './helpers/gradcheck.js';

const x3 = () => arange(24).reshape(2, 3, 4); // x[i][j][k] = 12i + 4j + k

describe('sum / mean', () => {
  it('values over all, one, several and negative dims, keepdim', () => {
    const x = x3();
    assertValues(sum(x), 276, 0, []);
    assertValues(mean(x), 11.5, 0, []);
    assertValues(sum(x, 0), [12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34], 0, [3, 4]);
    assertValues(sum(x, 1), [[12, 15, 18, 21], [48, 51, 54, 57]], 0, [2, 4]);
    assertValues(sum(x, -1, true), [[[6], [22], [38]], [[54], [70], [86]]], 0, [2, 3, 1]);
    assertValues(sum(x, [0, 2]), [60, 92, 124], 0, [3]);
    assertValues(mean(x, [2, 0], true), [[[7.5], [11.5], [15.5]]], 0, [1, 3, 1]);
    assertValues(x.sum([0, 1, 2]), 276, 0, []);
    assertValues(x.mean([]), 11.5, 0, []);
    assertValues(sum(tensor(5)), 5, 0, []);
    assertValues(sum(tensor(5), 0), 5, 0, []);
    assertValues(mean(randn(0, 3)), NaN, 0);
    assertValues(sum(randn(0, 3), 0), [0, 0, 0], 0, [3]);
  });

  it('accumulates in float64', () => {
    const big = tensor(new Float32Array(1 << 20).fill(0.1));
    expect(Math.abs(sum(big).item() - Math.fround(0.1) * (1 << 20))).toBeLessThan(1e-2);
  });

  it('gradients: hand-computed and finite differences', () => {
    const x = x3().requiresGrad_();
    mean(x, 1).sum().backward();
    assertValues(x.grad, new Array(24).fill(1 / 3), 1e-7);
    manualSeed(2);
    const y = randn([3, 4, 5], { requiresGrad: true });
    gradcheck((t) => sum(t, 1), [y]);
    gradcheck((t) => mean(t, [0, 2], true), [y]);
    gradcheck((t) => sum(t), [y]);
    gradcheck((t) => mean(t, -1), [y]);
  });

  it('errors', () => {
    expect(() => sum(x3(), [1, 1])).toThrow('dim 1 appears multiple times in the list of dims');
    expect(() => sum(x3(), 3)).toThrow('Dimension out of range (expected to be in range of [-3, 2], but got 3)');
  });
});

describe('max / min / argmax / logsumexp', () => {
  it('values and indices', () => {
    const x = tensor([[1, 5, 3], [7, 2, 7]]);
    assertValues(max(x), 7, 0, []);
    assertValues(min(x), 1, 0, []);
    const [values, indices] = max(x, 1);
    assertValues(values, [5, 7], 0, [2]);
    assertValues(indices, [1, 0], 0, [2]); // first of ties
    const [mv, mi] = x.min(0, true);
    assertValues(mv, [[1, 2, 3]], 0, [1, 3]);
    assertValues(mi, [[0, 1, 0]], 0, [1, 3]);
    assertValues(argmax(x), 3, 0, []);
    assertValues(argmax(x, 1), [1, 0], 0);
    assertValues(x.argmax(-1, true), [[1], [0]], 0, [2, 1]);
    assertValues(argmin(x, 0), [0, 1, 0], 0);
    assertValues(max(tensor([1, NaN, 3])), NaN, 0);
    assertValues(max(tensor([[1, NaN, 3]]), 1)[1], [1], 0);
  });

  it('gradients: to the argmax along a dim, split over ties for the full reduction', () => {
    const x = tensor([[1, 5, 3], [7, 2, 7]], { requiresGrad: true });
    max(x, 1)[0].sum().backward();
    assertValues(x.grad, [[0, 1, 0], [1, 0, 0]], 0);
    x.grad = null;
    max(x).backward();
    assertValues(x.grad, [[0, 0, 0], [0.5, 0, 0.5]], 0);
    x.grad = null;
    min(x, 0)[0].sum().backward();
    assertValues(x.grad, [[1, 0, 1], [0, 1, 0]], 0);
  });

  it('logsumexp: stable and differentiable', () => {
    assertValues(logsumexp(tensor([1000, 1000]), 0), 1000 + Math.log(2), 1e-7);
    assertValues(logsumexp(tensor([[0, Math.log(3)], [-Infinity, -Infinity]]), 1), [Math.log(4), -Infinity], 1e-6);
    manualSeed(4);
    gradcheck((t) => logsumexp(t, 1), [randn([3, 4, 2], { requiresGrad: true })]);
    gradcheck((t) => logsumexp(t, [0, 2], true), [randn([3, 4, 2], { requiresGrad: true })]);
  });

  it('errors (PyTorch wording)', () => {
    expect(() => max(randn(0, 3))).toThrow("max(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.");
    expect(() => max(randn(0, 3), 0)).toThrow('max(): Expected reduction dim 0 to have non-zero size.');
    expect(() => max(randn(2, 3), 2)).toThrow('Dimension out of range (expected to be in range of [-2, 1], but got 2)');
  });
});
