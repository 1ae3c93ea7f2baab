import { describe, expect, it } from 'vitest';
import {
  tensor, zeros, ones, full, rand, randn, randint, arange, linspace, zerosLike, onesLike, fullLike, randnLike,
  manualSeed, Tensor,
} from '../src/index.js';
import { assertValues } from './helpers/gradcheck.js';

describe('tensor()', () => {
  it('nested arrays, numbers, flat data with a shape, typed arrays; always copies', () => {
    const a = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(a.shape).toEqual([2, 3]);
    expect(a.toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(tensor(2.5).shape).toEqual([]);
    expect(tensor(2.5).item()).toBe(2.5);
    expect(tensor([1, 2, 3, 4], [2, 2]).toArray()).toEqual([[1, 2], [3, 4]]);
    const src = new Float32Array([1, 2]);
    const b = tensor(src);
    expect(b.shape).toEqual([2]);
    expect(b.data).not.toBe(src);
    expect(tensor([]).shape).toEqual([0]);
    expect(tensor([[]]).shape).toEqual([1, 0]);
    expect(tensor([[[1], [2]]]).shape).toEqual([1, 2, 1]);
    expect(tensor([1, 2], { requiresGrad: true }).requiresGrad).toBe(true);
    expect(tensor([1, 2], [2], { requiresGrad: true }).requiresGrad).toBe(true);
    expect(tensor([1, 2]).requiresGrad).toBe(false);
  });

  it('errors', () => {
    expect(() => tensor([[1, 2], [3]])).toThrow('expected sequence of length 2 at dim 1 (got 1)');
    expect(() => tensor([1, 2, 3], [2, 2])).toThrow("shape '[2, 2]' is invalid for input of size 3");
    expect(() => tensor([[1, 2], [3, 4]], [3])).toThrow("shape '[3]' is invalid for input of size 4");
    expect(() => zeros(-1, 2)).toThrow('Trying to create tensor with negative dimension -1: [-1, 2]');
    expect(() => zeros(1.5)).toThrow('Expected integer for size[0] but received 1.5 of type number');
  });
});

describe('filled and random factories', () => {
  it('sizes as arguments or a list, options last', () => {
    assertValues(zeros(2, 3), [0, 0, 0, 0, 0, 0], 0, [2, 3]);
    assertValues(ones([2]), [1, 1], 0, [2]);
    expect(zeros([2, 2], { requiresGrad: true }).requiresGrad).toBe(true);
    expect(ones(3, { requiresGrad: true }).requiresGrad).toBe(true);
    assertValues(full([2], 7), [7, 7], 0);
    expect(zeros().shape).toEqual([]);
    const x = randn(3, 4);
    expect(zerosLike(x).shape).toEqual([3, 4]);
    assertValues(onesLike(x), new Array(12).fill(1), 0);
    assertValues(fullLike(x, 2), new Array(12).fill(2), 0);
    expect(randnLike(x).shape).toEqual([3, 4]);
  });

  it('arange and linspace as PyTorch', () => {
    assertValues(arange(5), [0, 1, 2, 3, 4], 0, [5]);
    assertValues(arange(1, 4), [1, 2, 3], 0);
    assertValues(arange(0, 1, 0.25), [0, 0.25, 0.5, 0.75], 0);
    assertValues(arange(5, 0, -2), [5, 3, 1], 0);
    assertValues(arange(0, 2.5), [0, 1, 2], 0);
    assertValues(linspace(0, 1, 5), [0, 0.25, 0.5, 0.75, 1], 0);
    expect(() => arange(0, 5, 0)).toThrow('step must be nonzero');
    expect(() => arange(0, -5, 1)).toThrow('upper bound and larger bound inconsistent with step sign');
  });

  it('random factories are reproducible under manualSeed and have the right moments', () => {
    manualSeed(123);
    const a = randn(10000);
    manualSeed(123);
    const b = randn(10000);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    const mean = a.mean().item();
    const variance = a.sub(mean).pow(2).mean().item();
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
    const u = rand(10000);
    expect(u.min().item()).toBeGreaterThanOrEqual(0);
    expect(u.max().item()).toBeLessThan(1);
    expect(Math.abs(u.mean().item() - 0.5)).toBeLessThan(0.02);
    const r = randint(2, 5, [1000]);
    expect(new Set(r.data)).toEqual(new Set([2, 3, 4]));
    expect(r).toBeInstanceOf(Tensor);
  });
});

describe('toString / inspect', () => {
  it('formats like PyTorch', async () => {
    const { inspect } = await import('node:util');
    expect(String(tensor([[1, 2], [3, 4]]))).toBe('tensor([[1., 2.],\n        [3., 4.]])');
    expect(tensor([0.5, -1.25]).toString()).toBe('tensor([0.5000, -1.2500])');
    expect(tensor(3).toString()).toBe('tensor(3.)');
    expect(tensor([1e-9, NaN, -Infinity]).toString()).toBe('tensor([1.0000e-9, nan, -inf])');
    expect(tensor([1], { requiresGrad: true }).toString()).toBe('tensor([1.], requiresGrad=true)');
    expect(tensor([1], { requiresGrad: true }).mul(2).toString()).toBe('tensor([2.], gradFn=<mul>)');
    expect(zeros(0, 3).toString()).toBe('tensor([], size=[0, 3])');
    expect(inspect(arange(2000))).toBe('tensor([0., 1., 2., ..., 1997., 1998., 1999.])');
    expect(String(arange(8).reshape(2, 2, 2))).toBe('tensor([[[0., 1.],\n         [2., 3.]],\n\n        [[4., 5.],\n         [6., 7.]]])');
  });
});
