import { describe, expect, it } from 'vitest';
import {
  tensor, randn, manualSeed, tanh, sigmoid, relu, leakyRelu, softmax, logSoftmax, dropout, ones, getRngState, setRngState,
} from '../src/index.js';
import { randomUniform } from '../src/tensor/random.js';
import { assertValues, gradcheck } from './helpers/gradcheck.js';

describe('activations', () => {
  it('values', () => {
    const x = tensor([-1000, -1, 0, 1, 1000]);
    assertValues(tanh(x), [-1, Math.tanh(-1), 0, Math.tanh(1), 1], 1e-7);
    assertValues(sigmoid(x), [0, 1 / (1 + Math.E), 0.5, 1 / (1 + Math.exp(-1)), 1], 1e-7);
    assertValues(relu(x), [0, 0, 0, 1, 1000], 0);
    assertValues(leakyRelu(x, 0.1), [-100, -0.1, 0, 1, 1000], 1e-7);
  });

  it('hand-computed gradients (relu at 0 is 0)', () => {
    const x = tensor([-1, 0, 2], { requiresGrad: true });
    relu(x).sum().backward();
    assertValues(x.grad, [0, 0, 1], 0);
    const y = tensor([0], { requiresGrad: true });
    sigmoid(y).sum().backward();
    assertValues(y.grad, [0.25], 0);
    y.grad = null;
    tanh(y).sum().backward();
    assertValues(y.grad, [1], 0);
  });

  it('finite differences', () => {
    manualSeed(5);
    const x = randn([3, 4], { requiresGrad: true });
    gradcheck(tanh, [x]);
    gradcheck(sigmoid, [x]);
    gradcheck(relu, [x]);
    gradcheck((t) => leakyRelu(t, 0.2), [x]);
  });
});

describe('softmax / logSoftmax', () => {
  it('values along last and middle dims, stable for large inputs', () => {
    const e = [Math.exp(1), Math.exp(2), Math.exp(3)], s = e[0] + e[1] + e[2];
    assertValues(softmax(tensor([[1, 2, 3]]), 1), e.map((v) => v / s), 1e-6);
    assertValues(softmax(tensor([[1001, 1002, 1003]]), -1), e.map((v) => v / s), 1e-6);
    assertValues(logSoftmax(tensor([1001, 1002, 1003]), 0), e.map((v) => Math.log(v / s)), 1e-6);
    assertValues(logSoftmax(tensor([-1e4, 0]), 0), [-1e4, 0], 1e-6);
    // dim 0 of [2, 2]: columns normalize
    assertValues(softmax(tensor([[0, 0], [Math.log(3), 0]]), 0), [[0.25, 0.5], [0.75, 0.5]], 1e-6);
    const x = randn(2, 3, 4);
    const p = softmax(x, 1);
    const colSums = p.sum(1);
    assertValues(colSums, new Array(8).fill(1), 1e-6);
    assertValues(logSoftmax(x, 1).exp(), p, 1e-6);
  });

  it('finite differences along each dim', () => {
    manualSeed(6);
    const x = randn([2, 3, 4], { requiresGrad: true });
    for (const dim of [0, 1, 2, -1]) {
      gradcheck((t) => softmax(t, dim), [x]);
      gradcheck((t) => logSoftmax(t, dim), [x]);
    }
  });

  it('methods', () => {
    const x = tensor([[1, 2]]);
    assertValues(x.softmax(1), softmax(x, 1), 0);
    assertValues(x.logSoftmax(-1), logSoftmax(x, 1), 0);
  });
});

describe('dropout', () => {
  it('inverted scaling, mask from the seeded RNG, gradient through the mask', () => {
    manualSeed(42);
    const state = getRngState();
    const x = ones([1000], { requiresGrad: true });
    const y = dropout(x, 0.3);
    setRngState(state);
    const expected = Array.from({ length: 1000 }, () => (randomUniform() >= 0.3 ? 1 / 0.7 : 0));
    assertValues(y, expected, 1e-7);
    const kept = expected.filter((v) => v > 0).length;
    expect(kept).toBeGreaterThan(630);
    expect(kept).toBeLessThan(770);
    y.sum().backward();
    assertValues(x.grad, expected, 1e-7);
  });

  it('eval, p = 0 return the input; p = 1 zeroes', () => {
    const x = tensor([1, 2]);
    expect(dropout(x, 0.5, false)).toBe(x);
    expect(dropout(x, 0)).toBe(x);
    expect(x.dropout(0.5, false)).toBe(x);
    assertValues(dropout(x, 1), [0, 0], 0);
  });

  it('rejects bad p with PyTorch message', () => {
    expect(() => dropout(tensor([1]), 1.5)).toThrow('dropout probability has to be between 0 and 1, but got 1.5');
    expect(() => dropout(tensor([1]), -0.1)).toThrow('dropout probability has to be between 0 and 1, but got -0.1');
  });
});
