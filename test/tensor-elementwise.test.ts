import { describe, expect, it } from 'vitest';
import {
  Tensor, tensor, add, sub, mul, div, pow, neg, exp, log, sqrt, abs, clamp, maximum, minimum,
  eq, gt, lt, ge, le, ne, randn, rand, manualSeed, broadcastShapes, where, maskedFill,
} from '../src/index.js';
import { assertValues, gradcheck } from './helpers/gradcheck.js';

const leaf = (data: number[] | number[][] | number[][][]) => tensor(data, { requiresGrad: true });

describe('binary ops: values', () => {
  it('same shape', () => {
    const a = tensor([[1, 2], [3, 4]]), b = tensor([[5, 6], [7, 8]]);
    assertValues(add(a, b), [[6, 8], [10, 12]], 0, [2, 2]);
    assertValues(sub(a, b), [-4, -4, -4, -4], 0);
    assertValues(mul(a, b), [5, 12, 21, 32], 0);
    assertValues(div(a, b), [1 / 5, 2 / 6, 3 / 7, 4 / 8], 1e-7);
  });

  it('numbers on either side, methods', () => {
    const a = tensor([1, 2, 4]);
    assertValues(a.add(1), [2, 3, 5], 0);
    assertValues(sub(10, a), [9, 8, 6], 0);
    assertValues(div(1, a), [1, 0.5, 0.25], 0);
    assertValues(a.mul(a).div(2).sub(a), [-0.5, 0, 4], 0);
    assertValues(a.pow(2), [1, 4, 16], 0);
    assertValues(pow(2, a), [2, 4, 16], 0);
    assertValues(a.pow(0.5), [1, Math.SQRT2, 2], 1e-7);
  });

  it('broadcasts row vectors, columns, and both ways', () => {
    const m = tensor([[1, 2, 3], [4, 5, 6]]);
    assertValues(add(m, tensor([10, 20, 30])), [[11, 22, 33], [14, 25, 36]], 0, [2, 3]);
    assertValues(add(m, tensor([[100], [200]])), [[101, 102, 103], [204, 205, 206]], 0, [2, 3]);
    assertValues(mul(tensor([[1], [2]]), tensor([1, 10, 100])), [[1, 10, 100], [2, 20, 200]], 0, [2, 3]);
    // [2,1,3] + [4,1] -> [2,4,3]
    const a = tensor([[[1, 2, 3]], [[4, 5, 6]]]), b = tensor([[0], [10], [20], [30]]);
    const c = add(a, b);
    expect(c.shape).toEqual([2, 4, 3]);
    expect(c.toArray()).toEqual([
      [[1, 2, 3], [11, 12, 13], [21, 22, 23], [31, 32, 33]],
      [[4, 5, 6], [14, 15, 16], [24, 25, 26], [34, 35, 36]],
    ]);
    // middle-dim broadcast: [2,3,2] - [2,1,2]
    const x = tensor([[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 10], [11, 12]]]);
    const y = tensor([[[1, 2]], [[7, 8]]]);
    expect(sub(x, y).toArray()).toEqual([[[0, 0], [2, 2], [4, 4]], [[0, 0], [2, 2], [4, 4]]]);
    // 0-d with anything
    assertValues(mul(tensor(3), m), [3, 6, 9, 12, 15, 18], 0, [2, 3]);
  });

  it('matches a float64 reference on random broadcasts', () => {
    manualSeed(3);
    const cases: [number[], number[]][] = [
      [[4, 5, 6], [6]], [[4, 5, 6], [5, 1]], [[4, 1, 6], [1, 5, 1]], [[3, 1], [1, 7]], [[2, 3, 4, 5], [3, 1, 5]], [[1], [3, 2]],
    ];
    for (const [sa, sb] of cases) {
      const a = randn(sa), b = rand(sb).add(0.5);
      const out = div(a, b);
      const shape = broadcastShapes(sa, sb);
      expect(out.shape).toEqual(shape);
      // reference: index arithmetic per element
      const idx = (s: number[], coord: number[]) => {
        let off = 0;
        const lead = coord.length - s.length;
        s.forEach((d, i) => { off = off * d + (d === 1 ? 0 : coord[i + lead]); });
        return off;
      };
      for (let f = 0; f < out.numel; f++) {
        const coord: number[] = [];
        let r = f;
        for (let d = shape.length - 1; d >= 0; d--) { coord.unshift(r % shape[d]); r = Math.floor(r / shape[d]); }
        expect(out.data[f]).toBe(Math.fround(a.data[idx(sa, coord)] / b.data[idx(sb, coord)]));
      }
    }
  });

  it('comparisons give 0/1 without grad', () => {
    const a = leaf([1, 2, 3]);
    assertValues(eq(a, 2), [0, 1, 0], 0);
    assertValues(ne(a, 2), [1, 0, 1], 0);
    assertValues(gt(a, 2), [0, 0, 1], 0);
    assertValues(ge(a, 2), [0, 1, 1], 0);
    assertValues(lt(a, tensor([[3], [1]])), [[1, 1, 0], [0, 0, 0]], 0);
    assertValues(le(a, 2), [1, 1, 0], 0);
    expect(eq(a, 2).requiresGrad).toBe(false);
  });

  it('PyTorch broadcast error', () => {
    expect(() => add(randn(2, 3), randn(4))).toThrow(
      new RangeError('The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1'));
    expect(() => mul(randn(2, 3, 4), randn(5, 1))).toThrow(
      'The size of tensor a (3) must match the size of tensor b (5) at non-singleton dimension 1');
    expect(() => add(randn(2), 'x' as never)).toThrow('Expected Tensor or number for other but received x of type string');
  });
});

describe('binary ops: gradients', () => {
  it('hand-computed: mul and div', () => {
    const a = leaf([2, 3]), b = leaf([4, 5]);
    mul(a, b).sum().backward();
    assertValues(a.grad, [4, 5], 0);
    assertValues(b.grad, [2, 3], 0);
    a.grad = null; b.grad = null;
    div(a, b).sum().backward();
    assertValues(a.grad, [1 / 4, 1 / 5], 1e-7);
    assertValues(b.grad, [-2 / 16, -3 / 25], 1e-7);
  });

  it('broadcast gradients are summed back to each input shape', () => {
    const m = leaf([[1, 2, 3], [4, 5, 6]]), row = leaf([1, 2, 3]), col = leaf([[1], [2]]);
    add(add(m, row), col).sum().backward();
    assertValues(m.grad, [1, 1, 1, 1, 1, 1], 0, [2, 3]);
    assertValues(row.grad, [2, 2, 2], 0, [3]);
    assertValues(col.grad, [[3], [3]], 0, [2, 1]);
    row.grad = null;
    mul(m, row).sum().backward(); // d/drow = column sums of m
    assertValues(row.grad, [5, 7, 9], 0);
    const s = leaf(2 as never as number[]);
    expect(s.shape).toEqual([]);
    mul(m, s).sum().backward();
    assertValues(s.grad, 21, 0, []);
  });

  it('sub with a number on the left, neg', () => {
    const a = leaf([1, 2]);
    sub(5, a).mul(tensor([1, 10])).sum().backward();
    assertValues(a.grad, [-1, -10], 0);
    a.grad = null;
    neg(a).sum().backward();
    assertValues(a.grad, [-1, -1], 0);
  });

  it('finite differences', () => {
    manualSeed(7);
    const a = randn([3, 4], { requiresGrad: true }), b = randn([4], { requiresGrad: true });
    const c = randn([3, 1], { requiresGrad: true });
    const pos = rand([3, 4], { requiresGrad: true }).add(0.5).detach().requiresGrad_();
    gradcheck(add, [a, c]);
    gradcheck(sub, [a, b]);
    gradcheck(mul, [a, c]);
    gradcheck((x, y) => div(x, y), [a, pos]);
    gradcheck((x, y) => div(x, y), [b, pos]);
    gradcheck((x, y) => pow(x, y), [pos, b]);
    gradcheck((x) => pow(x, 3), [a]);
    gradcheck((x) => pow(x, -1.5), [pos]);
    gradcheck((x, y) => maximum(x, y), [a, b]);
    gradcheck((x, y) => minimum(x, y), [a, c]);
  });

  it('maximum/minimum split ties evenly', () => {
    const a = leaf([1, 2, 3]), b = leaf([3, 2, 1]);
    assertValues(maximum(a, b), [3, 2, 3], 0);
    maximum(a, b).sum().backward();
    assertValues(a.grad, [0, 0.5, 1], 0);
    assertValues(b.grad, [1, 0.5, 0], 0);
    assertValues(minimum(a, b), [1, 2, 1], 0);
  });
});

describe('unary ops', () => {
  it('values', () => {
    const x = tensor([1, 4, 9]);
    assertValues(sqrt(x), [1, 2, 3], 0);
    assertValues(exp(tensor([0, 1])), [1, Math.E], 1e-7);
    assertValues(log(tensor([1, Math.E])), [0, 1], 1e-7);
    assertValues(abs(tensor([-2, 0, 3])), [2, 0, 3], 0);
    assertValues(neg(x), [-1, -4, -9], 0);
    assertValues(clamp(tensor([-2, 0.5, 3]), 0, 1), [0, 0.5, 1], 0);
    assertValues(clamp(tensor([-2, 0.5, 3]), null, 1), [-2, 0.5, 1], 0);
    assertValues(tensor([-2, 0.5, 3]).clamp(0), [0, 0.5, 3], 0);
    assertValues(clamp(tensor([NaN]), 0, 1), [NaN], 0);
    expect(() => clamp(x)).toThrow("torch.clamp: At least one of 'min' or 'max' must not be None");
  });

  it('hand-computed gradients (abs at 0 and clamp at the bounds as PyTorch)', () => {
    const x = leaf([-2, 0, 3]);
    abs(x).sum().backward();
    assertValues(x.grad, [-1, 0, 1], 0);
    const y = leaf([-1, 0, 0.5, 1, 2]);
    clamp(y, 0, 1).sum().backward();
    assertValues(y.grad, [0, 1, 1, 1, 0], 0);
    const z = leaf([4]);
    sqrt(z).backward();
    assertValues(z.grad, [0.25], 0);
  });

  it('finite differences', () => {
    manualSeed(11);
    const a = randn([2, 5], { requiresGrad: true });
    const pos = rand([2, 5]).add(0.5).requiresGrad_();
    gradcheck(exp, [a]);
    gradcheck(neg, [a]);
    gradcheck(log, [pos]);
    gradcheck(sqrt, [pos]);
    gradcheck(abs, [pos]);
    gradcheck((x) => clamp(x, 0.7, 1.2), [pos]);
  });

  it('results without grad inputs record nothing', () => {
    const r = exp(tensor([1]));
    expect(r.requiresGrad).toBe(false);
    expect(r.gradFn).toBeNull();
    expect(r).toBeInstanceOf(Tensor);
  });
});

describe('where / maskedFill', () => {
  it('numbers as branches, gradient only to the chosen side, mask must fit the input', () => {
    const x = leaf([1, 2, 3]);
    const y = where(tensor([1, 0, 1]), x, 0);
    assertValues(y, [1, 0, 3], 0);
    y.sum().backward();
    assertValues(x.grad, [1, 0, 1], 0);
    assertValues(maskedFill(tensor([[1, 2], [3, 4]]), tensor([0, 1]), -1), [[1, -1], [3, -1]], 0);
    expect(() => maskedFill(tensor([1, 2]), tensor([[1, 0], [0, 1]]), 0)).toThrow(
      'The expanded size of the mask [2, 2] must broadcast to the input shape [2]');
  });
});
