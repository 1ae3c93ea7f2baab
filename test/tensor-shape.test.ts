import { describe, expect, it } from 'vitest';
import {
  tensor, randn, arange, manualSeed, reshape, view, flatten, unsqueeze, squeeze, permute, transpose, t, expand,
  select, narrow, slice, indexSelect, gather, cat, stack, split, chunk, unbind, clone,
} from '../src/index.js';
import { assertValues, gradcheck } from './helpers/gradcheck.js';

const grid = () => arange(12).reshape(3, 4); // [[0..3],[4..7],[8..11]]

describe('reshape family', () => {
  it('shares data, infers one -1, accepts sizes or a list', () => {
    const x = arange(12);
    const y = reshape(x, 3, -1);
    expect(y.shape).toEqual([3, 4]);
    expect(y.data).toBe(x.data);
    expect(view(x, [2, 2, 3]).shape).toEqual([2, 2, 3]);
    expect(x.view(-1, 6).shape).toEqual([2, 6]);
    expect(flatten(randn(2, 3, 4), 1).shape).toEqual([2, 12]);
    expect(randn(2, 3, 4).flatten().shape).toEqual([24]);
    expect(flatten(tensor(3)).shape).toEqual([1]);
    expect(unsqueeze(x, 0).shape).toEqual([1, 12]);
    expect(unsqueeze(x, -1).shape).toEqual([12, 1]);
    expect(squeeze(randn(1, 3, 1)).shape).toEqual([3]);
    expect(squeeze(randn(1, 3, 1), 2).shape).toEqual([1, 3]);
    expect(squeeze(randn(1, 3, 1), 1).shape).toEqual([1, 3, 1]);
    expect(reshape(randn(0, 3), -1, 3).shape).toEqual([0, 3]);
  });

  it('errors (PyTorch wording)', () => {
    expect(() => view(arange(12), 2, 5)).toThrow("shape '[2, 5]' is invalid for input of size 12");
    expect(() => view(arange(12), -1, -1)).toThrow('only one dimension can be inferred');
    expect(() => view(arange(12), -1, 5)).toThrow("shape '[-1, 5]' is invalid for input of size 12");
    expect(() => unsqueeze(randn(2, 3), 3)).toThrow('Dimension out of range (expected to be in range of [-3, 2], but got 3)');
    expect(() => flatten(randn(2, 3), 1, 0)).toThrow('flatten() has invalid args: start_dim cannot come after end_dim');
  });

  it('gradient passes through', () => {
    const x = randn([2, 6], { requiresGrad: true });
    gradcheck((v) => reshape(v, 3, 4).mul(arange(4)), [x]);
  });
});

describe('permute / transpose / expand', () => {
  it('values', () => {
    expect(transpose(grid(), 0, 1).toArray()).toEqual([[0, 4, 8], [1, 5, 9], [2, 6, 10], [3, 7, 11]]);
    expect(t(grid()).toArray()).toEqual(transpose(grid(), 0, 1).toArray());
    const x = arange(24).reshape(2, 3, 4);
    const p = permute(x, 2, 0, 1);
    expect(p.shape).toEqual([4, 2, 3]);
    // p[k][i][j] = x[i][j][k] = 12i + 4j + k
    for (let k = 0; k < 4; k++) for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) {
      expect(p.data[(k * 2 + i) * 3 + j]).toBe(12 * i + 4 * j + k);
    }
    expect(x.permute([0, 1, 2]).toArray()).toEqual(x.toArray());
    expect(expand(tensor([[1], [2]]), 2, 3).toArray()).toEqual([[1, 1, 1], [2, 2, 2]]);
    expect(expand(tensor([1, 2]), [3, -1]).toArray()).toEqual([[1, 2], [1, 2], [1, 2]]);
  });

  it('tiled transposes (sizes not multiples of the tile) match index arithmetic', () => {
    const x = arange(3 * 37 * 45).reshape(3, 37, 45);
    const y = transpose(x, 1, 2);
    expect(y.shape).toEqual([3, 45, 37]);
    const z = permute(x, 2, 0, 1); // [45, 3, 37]: src stride 1 on the middle-after-coalescing dim
    for (let b = 0; b < 3; b++) for (let i = 0; i < 37; i++) for (let j = 0; j < 45; j++) {
      const v = (b * 37 + i) * 45 + j;
      if (y.data[(b * 45 + j) * 37 + i] !== v) throw new Error(`transpose at ${b},${i},${j}`);
      if (z.data[(j * 3 + b) * 37 + i] !== v) throw new Error(`permute at ${b},${i},${j}`);
    }
    const m = arange(64 * 40).reshape(64, 40);
    expect(t(t(m)).data).toEqual(m.data);
  });

  it('gradients', () => {
    manualSeed(1);
    const x = randn([2, 3, 4], { requiresGrad: true });
    gradcheck((v) => permute(v, 1, 2, 0), [x]);
    gradcheck((v) => transpose(v, -1, 0), [x]);
    const c = randn([3, 1], { requiresGrad: true });
    gradcheck((v) => expand(v, 2, 3, 5), [c]);
    const ones = tensor([[1], [2]], { requiresGrad: true });
    expand(ones, 2, 3).sum().backward();
    assertValues(ones.grad, [[3], [3]], 0);
  });

  it('errors', () => {
    expect(() => permute(randn(2, 3), 0)).toThrow('permute(sparse_coo): number of dimensions in the tensor input does not match the length of the desired ordering of dimensions i.e. input.dim() = 2 is not equal to len(dims) = 1');
    expect(() => permute(randn(2, 3), 0, 0)).toThrow('permute(): duplicate dims are not allowed.');
    expect(() => transpose(randn(2, 3), 0, 2)).toThrow('Dimension out of range (expected to be in range of [-2, 1], but got 2)');
    expect(() => t(randn(2, 3, 4))).toThrow('t() expects a tensor with <= 2 dimensions, but self is 3D');
    expect(() => expand(randn(2, 3), 2, 4)).toThrow('The expanded size of the tensor (4) must match the existing size (3) at non-singleton dimension 1.  Target sizes: [2, 4].  Tensor sizes: [2, 3]');
    expect(() => expand(randn(2, 3), 3)).toThrow('expand(torch.FloatTensor{[2, 3]}, size=[3]): the number of sizes provided (1) must be greater or equal to the number of dimensions in the tensor (2)');
  });
});

describe('select / narrow / slice / indexSelect / gather', () => {
  it('values', () => {
    assertValues(select(grid(), 0, 1), [4, 5, 6, 7], 0, [4]);
    assertValues(select(grid(), 1, -1), [3, 7, 11], 0, [3]);
    assertValues(narrow(grid(), 1, 1, 2), [[1, 2], [5, 6], [9, 10]], 0, [3, 2]);
    assertValues(narrow(grid(), 0, -1, 1), [[8, 9, 10, 11]], 0, [1, 4]);
    assertValues(slice(grid(), 1, 1, null, 2), [[1, 3], [5, 7], [9, 11]], 0, [3, 2]);
    assertValues(slice(grid(), 0, -2), [[4, 5, 6, 7], [8, 9, 10, 11]], 0, [2, 4]);
    assertValues(slice(grid(), 0, 5, 10), [], 0, [0, 4]);
    assertValues(grid().slice(1, -100, 100, 3), [[0, 3], [4, 7], [8, 11]], 0, [3, 2]);
    assertValues(indexSelect(grid(), 1, [3, 0, 3]), [[3, 0, 3], [7, 4, 7], [11, 8, 11]], 0, [3, 3]);
    assertValues(indexSelect(grid(), 0, tensor([2])), [[8, 9, 10, 11]], 0, [1, 4]);
    assertValues(indexSelect(grid(), 0, new Int32Array([1, 1])), [4, 5, 6, 7, 4, 5, 6, 7], 0, [2, 4]);
    assertValues(gather(grid(), 1, [[0, 3], [1, 1], [2, 0]]), [[0, 3], [5, 5], [10, 8]], 0, [3, 2]);
    assertValues(gather(grid(), 0, tensor([[2, 0, 1, 2]])), [[8, 1, 6, 11]], 0, [1, 4]);
    assertValues(gather(grid(), 1, [[1], [2]]), [[1], [6]], 0, [2, 1]);
    const x = arange(24).reshape(2, 3, 4);
    // gather along the middle dim of a 3-D tensor: out[i][j][k] = x[i][idx][k]
    assertValues(gather(x, 1, [[[2, 0, 1, 2]], [[0, 0, 0, 1]]]), [[[8, 1, 6, 11]], [[12, 13, 14, 19]]], 0, [2, 1, 4]);
    expect(unbind(grid(), 1).map((p) => Array.from(p.data))).toEqual([[0, 4, 8], [1, 5, 9], [2, 6, 10], [3, 7, 11]]);
  });

  it('gradients: scatter back, repeated indices accumulate', () => {
    const x = grid().requiresGrad_();
    indexSelect(x, 1, [3, 0, 3]).sum().backward();
    assertValues(x.grad, [[1, 0, 0, 2], [1, 0, 0, 2], [1, 0, 0, 2]], 0);
    x.grad = null;
    gather(x, 1, [[1, 1], [0, 2], [3, 3]]).sum().backward();
    assertValues(x.grad, [[0, 2, 0, 0], [1, 0, 1, 0], [0, 0, 0, 2]], 0);
    x.grad = null;
    slice(x, 1, 0, 4, 2).sum().backward();
    assertValues(x.grad, [[1, 0, 1, 0], [1, 0, 1, 0], [1, 0, 1, 0]], 0);
    manualSeed(3);
    const y = randn([3, 4, 5], { requiresGrad: true });
    gradcheck((v) => select(v, 1, 2), [y]);
    gradcheck((v) => narrow(v, 2, 1, 3), [y]);
    gradcheck((v) => slice(v, 0, 0, 3, 2), [y]);
    gradcheck((v) => indexSelect(v, 2, [4, 4, 0]), [y]);
    gradcheck((v) => gather(v, 2, [[[1, 4]], [[0, 0]]]), [y]);
  });

  it('errors (PyTorch wording)', () => {
    expect(() => select(randn(2, 3), 0, 5)).toThrow('select(): index 5 out of range for tensor of size [2, 3] at dimension 0');
    expect(() => narrow(randn(2, 3), 1, 2, 2)).toThrow('start (2) + length (2) exceeds dimension size (3).');
    expect(() => slice(randn(2, 3), 1, 0, 3, 0)).toThrow('slice step cannot be zero');
    expect(() => indexSelect(randn(2, 3), 1, [5])).toThrow('INDICES element is out of DATA bounds, id=5 axis_dim=3');
    expect(() => indexSelect(randn(2, 3), 1, [1.5])).toThrow('Expected integer for index[0] but received 1.5 of type number');
    expect(() => gather(randn(2, 3), 1, [1, 2])).toThrow('Index tensor must have the same number of dimensions as input tensor');
    expect(() => gather(randn(2, 3), 1, [[1, 5]])).toThrow('index 5 is out of bounds for dimension 1 with size 3');
  });
});

describe('cat / stack / split / chunk / clone', () => {
  it('values', () => {
    const a = tensor([[1, 2], [3, 4]]), b = tensor([[5], [6]]);
    assertValues(cat([a, b], 1), [[1, 2, 5], [3, 4, 6]], 0, [2, 3]);
    assertValues(cat([a, tensor([[7, 8]])]), [[1, 2], [3, 4], [7, 8]], 0, [3, 2]);
    assertValues(cat([a, tensor([])], 0), a, 0, [2, 2]);
    assertValues(stack([a, a.mul(10)]), [[[1, 2], [3, 4]], [[10, 20], [30, 40]]], 0, [2, 2, 2]);
    assertValues(stack([a, a.mul(10)], 2), [[[1, 10], [2, 20]], [[3, 30], [4, 40]]], 0, [2, 2, 2]);
    assertValues(stack([tensor([1, 2]), tensor([3, 4])], -1), [[1, 3], [2, 4]], 0, [2, 2]);
    expect(split(arange(5), 2).map((p) => Array.from(p.data))).toEqual([[0, 1], [2, 3], [4]]);
    expect(split(grid(), [1, 3], 1).map((p) => p.shape)).toEqual([[3, 1], [3, 3]]);
    expect(chunk(arange(6), 4).map((p) => Array.from(p.data))).toEqual([[0, 1], [2, 3], [4, 5]]);
    const c = clone(a);
    expect(c.data).not.toBe(a.data);
    assertValues(c, a, 0);
  });

  it('gradients split back to each input', () => {
    manualSeed(8);
    const a = randn([2, 3], { requiresGrad: true }), b = randn([2, 2], { requiresGrad: true });
    gradcheck((x, y) => cat([x, y], 1), [a, b]);
    gradcheck((x, y) => stack([x, y.mul(2)], 1), [a, tensor(a.data, [...a.shape], { requiresGrad: true })]);
    gradcheck((x) => cat(chunk(x, 3, 1).reverse(), 1), [a]);
    const c = randn([2, 3]);
    cat([a, c], 0).sum().backward(); // c takes no gradient, a still gets one
    expect(c.grad).toBeNull();
  });

  it('errors (PyTorch wording)', () => {
    expect(() => cat([])).toThrow('torch.cat(): expected a non-empty list of Tensors');
    expect(() => cat([randn(2, 3), randn(3, 3)], 1)).toThrow('Sizes of tensors must match except in dimension 1. Expected size 2 but got size 3 for tensor number 1 in the list.');
    expect(() => cat([randn(2, 3), randn(3)], 0)).toThrow('Tensors must have same number of dimensions: got 2 and 1');
    expect(() => stack([randn(2, 3), randn(3, 3)])).toThrow('stack expects each tensor to be equal size, but got [2, 3] at entry 0 and [3, 3] at entry 1');
    expect(() => chunk(randn(2), 0)).toThrow('chunk expects `chunks` to be greater than 0, got: 0');
  });
});
