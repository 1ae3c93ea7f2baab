// Losses vs PyTorch 1.13 goldens (test/fixtures/losses/make_losses.py): values, input gradients
// and target gradients for every loss × option set, plus PyTorch's error messages.
//
// Tolerance: for each tensor, max |ours − torch| ≤ 1e-6 · max(1, max |torch|) — i.e. float32
// rounding noise relative to the tensor's scale (torch sums in float32 with its own order,
// rnnkit in float64 rounded once). Measured worst case is printed by the last test.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Tensor } from '../src/tensor/tensor.js';
import * as losses from '../src/nn/loss.js';
import * as modules from '../src/nn/loss-modules.js';

interface Entry { shape: number[]; data: (number | null)[] }
interface Case {
  name: string;
  fn: 'crossEntropy' | 'nllLoss' | 'mseLoss' | 'l1Loss' | 'smoothL1Loss' | 'huberLoss' | 'binaryCrossEntropyWithLogits';
  options: Record<string, unknown>;
  input: Entry;
  target: Entry & { kind: 'indices' | 'tensor' };
  targetRequiresGrad: boolean;
  weight?: Entry;
  posWeight?: Entry;
  gradOutput: Entry;
  output: Entry;
  gradInput: Entry;
  gradTarget?: Entry;
}

const fixture = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/losses/losses.json', import.meta.url)), 'utf8')) as {
  torch: string; cases: Case[]; errors: { name: string; message: string }[];
};

const TOLERANCE = 1e-6;
let worst = { error: 0, where: '' };

function toTensor(entry: Entry, requiresGrad = false): Tensor {
  return new Tensor(Float32Array.from(entry.data, (v) => v ?? NaN), entry.shape, requiresGrad);
}

function expectClose(actual: Tensor | null, expected: Entry, where: string): void {
  expect(actual, where).not.toBeNull();
  expect(actual!.shape, where).toEqual(expected.shape);
  const want = expected.data.map((v) => v ?? NaN);
  const scale = Math.max(1, ...want.filter(Number.isFinite).map(Math.abs));
  want.forEach((w, i) => {
    const got = actual!.data[i];
    if (Number.isNaN(w)) {
      expect(got, `${where}[${i}]`).toBeNaN();
      return;
    }
    const error = Math.abs(got - w) / scale;
    if (error > worst.error) worst = { error, where: `${where}[${i}]` };
    expect(error, `${where}[${i}]: ${got} vs ${w}`).toBeLessThanOrEqual(TOLERANCE);
  });
}

function options(c: Case): Record<string, unknown> {
  const opts: Record<string, unknown> = { ...c.options };
  if (c.weight) opts.weight = toTensor(c.weight);
  if (c.posWeight) opts.posWeight = toTensor(c.posWeight);
  return opts;
}

function run(c: Case, useModule: boolean) {
  const input = toTensor(c.input, true);
  const target = c.target.kind === 'indices' && c.target.shape.length === 0
    ? c.target.data[0] as number // a plain number for a 0-d class index
    : toTensor(c.target, c.targetRequiresGrad);
  const opts = options(c);
  let output: Tensor;
  if (useModule) {
    const ctor = {
      crossEntropy: modules.CrossEntropyLoss, nllLoss: modules.NLLLoss, mseLoss: modules.MSELoss, l1Loss: modules.L1Loss,
      smoothL1Loss: modules.SmoothL1Loss, huberLoss: modules.HuberLoss, binaryCrossEntropyWithLogits: modules.BCEWithLogitsLoss,
    }[c.fn] as new (o: Record<string, unknown>) => { forward(i: Tensor, t: unknown): Tensor };
    output = new ctor(opts).forward(input, target);
  } else {
    output = (losses[c.fn] as (i: Tensor, t: unknown, o: unknown) => Tensor)(input, target, opts);
  }
  output.backward(toTensor(c.gradOutput));
  return { input, target, output };
}

describe(`losses vs PyTorch ${fixture.torch}`, () => {
  for (const c of fixture.cases) {
    it(c.name, () => {
      const { input, target, output } = run(c, false);
      expectClose(output, c.output, `${c.name} output`);
      expectClose(input.grad, c.gradInput, `${c.name} gradInput`);
      if (c.gradTarget) expectClose((target as Tensor).grad, c.gradTarget, `${c.name} gradTarget`);
    });
  }

  it('modules give the functional results', () => {
    for (const c of fixture.cases) {
      const { input, output } = run(c, true);
      expectClose(output, c.output, `${c.name} module output`);
      expectClose(input.grad, c.gradInput, `${c.name} module gradInput`);
    }
  });

  it(`worst error stays within ${TOLERANCE}`, () => {
    console.log(`losses: worst |ours − torch| / scale = ${worst.error.toExponential(2)} at ${worst.where}`);
    expect(worst.error).toBeLessThanOrEqual(TOLERANCE);
  });
});

describe('loss inputs', () => {
  const x = new Tensor(new Float32Array(12).fill(0.5), [4, 3]);
  const probs = new Tensor(new Float32Array(12).fill(1 / 3), [4, 3]);
  const messages = Object.fromEntries(fixture.errors.map((e) => [e.name, e.message]));
  const shaped = (shape: number[]) => new Tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
  const cases: Record<string, () => unknown> = {
    batch: () => losses.crossEntropy(x, [0, 1, 2]),
    out_of_bounds: () => losses.crossEntropy(x, [0, 1, 7, 1]),
    negative_target: () => losses.crossEntropy(x, new Int32Array([0, 1, -1, 1])),
    label_smoothing: () => losses.crossEntropy(x, [0, 1, 2, 1], { labelSmoothing: 1.5 }),
    weight_size: () => losses.crossEntropy(x, [0, 1, 2, 1], { weight: [1, 1] }),
    weight_size_prob: () => losses.crossEntropy(x, probs, { weight: shaped([2]) }),
    ignore_prob: () => losses.crossEntropy(x, probs, { ignoreIndex: 1 }),
    target_1d_for_1d: () => losses.crossEntropy(shaped([3]), [1]),
    target_2d_for_2d: () => losses.crossEntropy(x, shaped([4, 2])),
    target_3d: () => losses.crossEntropy(shaped([2, 3, 5]), shaped([2, 4])),
    input_0d: () => losses.nllLoss(shaped([]), 0),
    reduction: () => losses.mseLoss(x, x, { reduction: 'avg' as never }),
    mse_broadcast: () => losses.mseLoss(x, shaped([5])),
    huber_delta: () => losses.huberLoss(x, x, { delta: 0 }),
    smoothl1_beta: () => losses.smoothL1Loss(x, x, { beta: -1 }),
    bce_pos_weight: () => losses.binaryCrossEntropyWithLogits(x, probs, { posWeight: shaped([4]) }),
    bce_weight: () => losses.binaryCrossEntropyWithLogits(x, probs, { weight: shaped([2]) }),
  };

  for (const [name, call] of Object.entries(cases)) {
    it(`${name}: PyTorch's message`, () => {
      expect(messages[name], 'fixture has the case').toBeDefined();
      expect(call).toThrow(messages[name]);
      expect(() => { try { call(); } catch (e) { if ((e as Error).message !== messages[name]) throw e; } }).not.toThrow();
    });
  }

  it('rnnkit-only messages', () => {
    expect(() => losses.binaryCrossEntropyWithLogits(x, shaped([4]))).toThrow('Target size ([4]) must be the same as input size ([4, 3])');
    expect(() => losses.crossEntropy(x, [0, 1.5, 2, 1])).toThrow('Expected integer class index for target[1] but received 1.5 of type number');
    expect(() => losses.crossEntropy(x, 'a' as never)).toThrow('Expected Tensor, Array or Int32Array of class indices for target but received a of type string');
    expect(() => losses.mseLoss([1] as never, x)).toThrow('Expected Tensor for input but received an Array of length 1');
    expect(() => losses.crossEntropy(x, [0, 1, 2, 1], { labelSmoothing: -0.1 })).toThrow('label_smoothing must be between 0.0 and 1.0. Got: -0.1');
    expect(() => losses.crossEntropy(x, [0, 1, 2, 1], { ignoreIndex: 0.5 })).toThrow('Expected integer between');
  });

  it('index targets: Tensor, Array and Int32Array agree; one autograd node', () => {
    const logits = new Tensor(Float32Array.from({ length: 12 }, (_, i) => Math.sin(i)), [4, 3], true);
    const a = losses.crossEntropy(logits, [2, 0, 1, 2]);
    const b = losses.crossEntropy(logits, new Int32Array([2, 0, 1, 2]));
    const c = losses.crossEntropy(logits, new Tensor(Float32Array.of(2, 0, 1, 2), [4]));
    expect(b.item()).toBe(a.item());
    expect(c.item()).toBe(a.item());
    expect(a.gradFn?.inputs).toEqual([logits]);
  });

  it('mean of an empty batch is NaN, sum is 0', () => {
    const empty = new Tensor(new Float32Array(0), [0, 3]);
    expect(losses.crossEntropy(empty, []).item()).toBeNaN();
    expect(losses.crossEntropy(empty, [], { reduction: 'sum' }).item()).toBe(0);
    expect(losses.mseLoss(shaped([0]), shaped([0])).item()).toBeNaN();
  });
});
