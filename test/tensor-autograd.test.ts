import { describe, expect, it } from 'vitest';
import { tensor, noGrad, isGradEnabled, add, mul, randn, Tensor, fromOp, tanh, matmul, cat, linear, sum } from '../src/index.js';
import { assertValues } from './helpers/gradcheck.js';

describe('autograd through the ops', () => {
  it('noGrad records nothing, restores the mode (also after a throw)', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = noGrad(() => x.mul(2).add(1).tanh().sum());
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
    expect(isGradEnabled()).toBe(true);
    expect(() => noGrad(() => { throw new Error('boom'); })).toThrow('boom');
    expect(isGradEnabled()).toBe(true);
    expect(x.mul(2).requiresGrad).toBe(true);
  });

  it('detach cuts the tape but shares data', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const d = x.mul(3).detach();
    expect(d.requiresGrad).toBe(false);
    const z = mul(x, d).sum(); // d is a constant: dz/dx = d
    z.backward();
    assertValues(x.grad, [3, 6], 0);
  });

  it('gradients accumulate across two backward calls, and within one graph (x used twice)', () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    x.mul(x).sum().backward(); // 2x
    assertValues(x.grad, [2, 4, 6], 0);
    add(x, x).sum().backward(); // +2
    assertValues(x.grad, [4, 6, 8], 0);
  });

  it('shared subgraph results are not corrupted by copy-on-write accumulation', () => {
    const x = tensor([[1, 2], [3, 4]], { requiresGrad: true });
    const r = x.reshape(4);
    // r used three times; reshape backward returns its gradOut array itself.
    r.add(r).add(r.mul(2)).sum().backward();
    assertValues(x.grad, [[4, 4], [4, 4]], 0);
  });

  it('backward needs an explicit gradient for non-scalars; seed gradient is respected', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = x.mul(2);
    expect(() => y.backward()).toThrow('grad can be implicitly created only for scalar outputs');
    y.backward(tensor([1, 10]));
    assertValues(x.grad, [2, 20], 0);
    expect(() => tensor([1]).mul(2).sum().backward()).toThrow('element 0 of tensors does not require grad and does not have a grad_fn');
  });

  it('a deep chain of ops (graph walk is iterative)', () => {
    const x = tensor([0.5], { requiresGrad: true });
    let y: Tensor = x;
    for (let i = 0; i < 20000; i++) y = y.add(0);
    y.sum().backward();
    assertValues(x.grad, [1], 0);
  });

  it('custom ops with fromOp join the tape', () => {
    const x = randn([3], { requiresGrad: true });
    const square = (t: Tensor) => fromOp('square', t.data.map((v) => v * v), t.shape, [t], (g) => [g.map((v, i) => 2 * v * t.data[i])]);
    square(x).sum().backward();
    assertValues(x.grad, Array.from(x.data, (v) => 2 * v), 1e-7);
  });
});

describe('non-tensor arguments', () => {
  it('get a clear TypeError', () => {
    expect(() => tanh([1, 2] as never)).toThrow(new TypeError('Expected Tensor for input but received an Array of length 2'));
    expect(() => sum(undefined as never)).toThrow('Expected Tensor for input but received undefined');
    expect(() => matmul(randn(2, 2), 3 as never)).toThrow('Expected Tensor for other but received 3 of type number');
    expect(() => cat([randn(2), {} as never])).toThrow('Expected Tensor for tensors[1] but received an object');
    expect(() => linear(randn(2, 2), randn(2, 2), [1, 2] as never)).toThrow('Expected Tensor for bias but received an Array of length 2');
    expect(() => add(randn(2), null as never)).toThrow('Expected Tensor or number for other but received null');
  });
});
