// The regression losses' one-pass path: a recording forward of a reduced loss also writes the
// gradient for d(loss) = 1, which `loss.backward()` hands over. It must give exactly (bitwise) the
// numbers of the recomputing backward, which any other upstream gradient still takes.
import { describe, expect, it } from 'vitest';
import { manualSeed, noGrad, rand } from '../src/tensor/index.js';
import { huberLoss, l1Loss, mseLoss, smoothL1Loss } from '../src/nn/loss.js';

const LOSSES = { mseLoss, l1Loss, smoothL1Loss, huberLoss };

function inputs() {
  manualSeed(7);
  const input = rand([6, 4, 3]).mul(2).sub(1);
  input.requiresGrad = true;
  return { input, target: rand([6, 4, 3]) };
}

describe('reduced regression losses: gradient written by the forward pass', () => {
  for (const [name, loss] of Object.entries(LOSSES)) {
    for (const reduction of ['mean', 'sum'] as const) {
      it(`${name} ${reduction}: backward() equals the recomputed gradient (upstream 2, halved) bitwise`, () => {
        const { input, target } = inputs();
        loss(input, target, { reduction }).backward();
        const handedOver = Array.from(input.grad!.data);
        input.grad = null;
        loss(input, target, { reduction }).mul(2).backward();
        // ×2 and ÷2 are exact in float32, so the two paths must agree to the bit.
        expect(Array.from(input.grad!.data, (g) => g / 2)).toEqual(handedOver);
      });
    }
  }

  it('a second backward of the same loss recomputes the same gradient', () => {
    const { input, target } = inputs();
    const loss = mseLoss(input, target);
    loss.backward();
    const first = Array.from(input.grad!.data);
    input.grad = null;
    loss.backward();
    expect(Array.from(input.grad!.data)).toEqual(first);
  });

  it('mseLoss mean of a known difference: d loss / d input = 2 (x − y) / n', () => {
    const { input, target } = inputs();
    mseLoss(input, target).backward();
    const n = input.numel;
    const expected = Array.from(input.data, (x, i) => Math.fround(2 * Math.fround(x - target.data[i]) * (1 / n)));
    expect(Array.from(input.grad!.data)).toEqual(expected);
  });

  it('no gradient array is kept when not recording', () => {
    const { input, target } = inputs();
    const loss = noGrad(() => mseLoss(input, target));
    expect(loss.requiresGrad).toBe(false);
    expect(loss.gradFn).toBeNull();
  });
});
