// Variational dropout in the fused kernels (nn.LSTM/GRU/RNN `inputDropout`, `recurrentDropout`):
// against a per-step autograd reference written with tensor ops (one time step at a time, the
// same masks), every cell, stacked, bidirectional, with lengths, on every ISA this machine has;
// then the rules: masks from the seeded generator (drawn in the documented order, resume bitwise),
// off in eval mode, streams ignore them, bad options named.
//
// Tolerance: the kernels and the per-step ops are both float32 but sum in different orders; mixed
// error |a − b| / max(1, |b|) ≤ 2e-5 (measured worst 8.3e-7, GRU, AVX2/AVX-512). A wrong mask (e.g. h unmasked where
// W_hh reads it, or dx not masked) shows up at 1e-2 and above.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  availableIsas, cat, DataLoader, fit, isa, linear, manualSeed, mul, nn, noGrad, optim, randn, select, setIsa, sigmoid, stack,
  sub, sum, tanh, relu, add, Tensor, TensorDataset, tensor, chunk, type Callback,
} from '../src/index.js';
import { dropoutMask } from '../src/tensor/activation.js';
import { Classifier, differingElements, INPUT_SIZE, makeDataset, SEQ_LEN, weightBits } from './helpers/checkpoint-model.js';

type Cell = 'lstm' | 'gru' | 'rnn_tanh' | 'rnn_relu';
const TOLERANCE = 2e-5;

function build(cell: Cell, inputSize: number, hidden: number, options: Record<string, unknown>): nn.RNNBase {
  if (cell === 'lstm') return new nn.LSTM(inputSize, hidden, options);
  if (cell === 'gru') return new nn.GRU(inputSize, hidden, options);
  return new nn.RNN(inputSize, hidden, { ...options, nonlinearity: cell === 'rnn_relu' ? 'relu' : 'tanh' });
}

interface Masks { input: Tensor | null; recurrent: Tensor | null }

/** The masks the module draws in one training forward: per layer, per direction, input then recurrent. */
function drawMasks(module: nn.RNNBase, batch: number): Masks[] {
  const masks: Masks[] = [];
  const S = module.stateSize, D = module.numDirections;
  for (let layer = 0; layer < module.numLayers; layer++) {
    const I = layer === 0 ? module.inputSize : D * S;
    for (let d = 0; d < D; d++) {
      masks.push({
        input: module.inputDropout > 0 ? new Tensor(dropoutMask(batch * I, module.inputDropout), [batch, I]) : null,
        recurrent: module.recurrentDropout > 0 ? new Tensor(dropoutMask(batch * S, module.recurrentDropout), [batch, S]) : null,
      });
    }
  }
  return masks;
}

const maybeMask = (x: Tensor, mask: Tensor | null): Tensor => (mask ? mul(x, mask) : x);

/**
 * One step of a cell with tensor ops: returns the new [h, c] (c null except LSTM). `hRead` is what
 * W_hh reads (h ⊙ recurrent mask), `h` the state (the GRU's z ⊙ h uses it unmasked).
 */
function cellStep(cell: Cell, p: Record<string, Tensor | null>, x: Tensor, hRead: Tensor, h: Tensor, c: Tensor | null): [Tensor, Tensor | null] {
  const fromX = linear(x, p.weight_ih as Tensor, p.bias_ih);
  const fromH = linear(hRead, p.weight_hh as Tensor, p.bias_hh);
  if (cell === 'rnn_tanh') return [tanh(add(fromX, fromH)), null];
  if (cell === 'rnn_relu') return [relu(add(fromX, fromH)), null];
  if (cell === 'gru') {
    const [xr, xz, xn] = chunk(fromX, 3, 1);
    const [hr, hz, hn] = chunk(fromH, 3, 1);
    const r = sigmoid(add(xr, hr)), z = sigmoid(add(xz, hz));
    const n = tanh(add(xn, mul(r, hn)));
    return [add(mul(sub(1, z), n), mul(z, h)), null];
  }
  const [i, f, g, o] = chunk(add(fromX, fromH), 4, 1);
  const cNew = add(mul(sigmoid(f), c as Tensor), mul(sigmoid(i), tanh(g)));
  const m = mul(sigmoid(o), tanh(cNew));
  return [p.weight_hr ? linear(m, p.weight_hr) : m, cNew];
}

/**
 * The whole module, one time step at a time (time-major x [T, B, I]): masked input, masked h into
 * W_hh, packed-sequence semantics through an `active` multiplier per item (state kept, output 0).
 */
function perStepReference(cell: Cell, module: nn.RNNBase, x: Tensor, lengths: number[], masks: Masks[]) {
  const [T, B] = x.shape;
  const params = Object.fromEntries(module.namedParameters()) as Record<string, Tensor>;
  const S = module.stateSize, H = module.hiddenSize, D = module.numDirections;
  let input = x;
  const hN: Tensor[] = [], cN: Tensor[] = [];
  for (let layer = 0; layer < module.numLayers; layer++) {
    const outputs: Tensor[] = [];
    for (let d = 0; d < D; d++) {
      const suffix = `_l${layer}${d === 1 ? '_reverse' : ''}`;
      const p = Object.fromEntries(['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh', 'weight_hr'].map((k) => [k, params[k + suffix] ?? null]));
      const { input: inMask, recurrent: hMask } = masks[layer * D + d];
      let h = tensor(new Float32Array(B * S), [B, S]);
      let c: Tensor | null = cell === 'lstm' ? tensor(new Float32Array(B * H), [B, H]) : null;
      const stepOutputs: Tensor[] = new Array(T);
      for (let s = 0; s < T; s++) {
        const t = d === 1 ? T - 1 - s : s;
        const active = tensor(lengths.map((len) => (t < len ? 1 : 0)), [B, 1]);
        const [hNew, cNew] = cellStep(cell, p, maybeMask(select(input, 0, t), inMask), maybeMask(h, hMask), h, c);
        h = add(mul(active, hNew), mul(sub(1, active), h));
        if (c && cNew) c = add(mul(active, cNew), mul(sub(1, active), c));
        stepOutputs[t] = mul(active, hNew);
      }
      outputs.push(stack(stepOutputs, 0));
      hN.push(h);
      if (c) cN.push(c);
    }
    input = D === 2 ? cat(outputs, 2) : outputs[0];
  }
  return { output: input, hN: stack(hN, 0), cN: cN.length ? stack(cN, 0) : null };
}

function worstError(got: Float32Array, want: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i])));
  return worst;
}

interface Case { cell: Cell; layers: number; bidirectional: boolean; inputDropout: number; recurrentDropout: number; projSize?: number }

const CASES: Case[] = [
  { cell: 'lstm', layers: 2, bidirectional: true, inputDropout: 0.3, recurrentDropout: 0.4 },
  { cell: 'lstm', layers: 1, bidirectional: true, inputDropout: 0, recurrentDropout: 0.5, projSize: 3 },
  { cell: 'gru', layers: 2, bidirectional: true, inputDropout: 0.25, recurrentDropout: 0.35 },
  { cell: 'gru', layers: 1, bidirectional: false, inputDropout: 0.5, recurrentDropout: 0 },
  { cell: 'rnn_tanh', layers: 2, bidirectional: true, inputDropout: 0.2, recurrentDropout: 0.3 },
  { cell: 'rnn_relu', layers: 1, bidirectional: false, inputDropout: 0.3, recurrentDropout: 0.3 },
];

/** Kernel (module) and per-step reference: outputs and the gradients of x and every parameter. */
function compareCase(c: Case, seed: number): number {
  const T = 6, B = 4, I = 5, H = 7;
  const lengths = [6, 3, 1, 5];
  manualSeed(seed);
  const module = build(c.cell, I, H, {
    numLayers: c.layers, bidirectional: c.bidirectional, inputDropout: c.inputDropout, recurrentDropout: c.recurrentDropout,
    ...(c.projSize ? { projSize: c.projSize } : {}),
  });
  const x = randn([T, B, I], { requiresGrad: true });
  const weights = randn([T, B, module.numDirections * module.stateSize]);
  manualSeed(seed + 1);
  const masks = drawMasks(module, B);
  manualSeed(seed + 1); // the module draws the same masks in its forward
  const [output, state] = (module as nn.LSTM).forward(x, null, { lengths });
  const hN = Array.isArray(state) ? state[0] : state as unknown as Tensor;
  const cN = Array.isArray(state) ? state[1] : null;
  const fusedLoss = add(sum(mul(output, weights)), add(sum(hN), cN ? sum(mul(cN, 0.5)) : 0));
  fusedLoss.backward();
  const fusedGrads = [x.grad!.data.slice(), ...module.parameters().map((p) => p.grad!.data.slice())];
  x.grad = null;
  module.zeroGrad();

  const ref = perStepReference(c.cell, module, x, lengths, masks);
  const refLoss = add(sum(mul(ref.output, weights)), add(sum(ref.hN), ref.cN ? sum(mul(ref.cN, 0.5)) : 0));
  refLoss.backward();
  const refGrads = [x.grad!.data.slice(), ...module.parameters().map((p) => p.grad!.data.slice())];
  const errors = [worstError(output.data, ref.output.data), worstError(hN.data, ref.hN.data),
    ...(cN && ref.cN ? [worstError(cN.data, ref.cN.data)] : []),
    ...fusedGrads.map((g, i) => worstError(g, refGrads[i]))];
  return Math.max(...errors);
}

describe('variational dropout against a per-step autograd reference', () => {
  for (const isaName of availableIsas()) {
    it(`${isaName}: every cell, stacked, bidirectional, lengths, projection — outputs and all gradients`, () => {
      const previous = isa();
      setIsa(isaName);
      try {
        let seed = 10;
        for (const c of CASES) {
          const error = compareCase(c, seed);
          seed += 10;
          expect(error, `${c.cell} ${JSON.stringify(c)}`).toBeLessThan(TOLERANCE);
        }
      } finally {
        setIsa(previous);
      }
    });
  }

  it('the reference itself notices a wrong mask (the comparison can fail)', () => {
    const c = CASES[0];
    manualSeed(5);
    const module = build(c.cell, 5, 7, { numLayers: 1, recurrentDropout: 0.5 });
    const x = randn([6, 4, 5]);
    manualSeed(6);
    const masks = drawMasks(module, 4);
    manualSeed(6);
    const [output] = (module as nn.LSTM).forward(x);
    const unmasked = noGrad(() => perStepReference(c.cell, module, x, [6, 6, 6, 6], [{ input: null, recurrent: null }]));
    const masked = noGrad(() => perStepReference(c.cell, module, x, [6, 6, 6, 6], masks));
    expect(worstError(output.data, masked.output.data)).toBeLessThan(TOLERANCE);
    expect(worstError(output.data, unmasked.output.data)).toBeGreaterThan(1e-2);
  });
});

describe('variational dropout rules', () => {
  it('eval mode and streams ignore it: the same numbers as without the options', () => {
    manualSeed(1);
    const plain = new nn.LSTM(5, 8, { numLayers: 2 });
    const dropped = new nn.LSTM(5, 8, { numLayers: 2, inputDropout: 0.5, recurrentDropout: 0.5 });
    dropped.loadStateDict(plain.stateDict());
    dropped.eval();
    const x = randn([7, 3, 5]);
    expect(dropped.forward(x)[0].data).toEqual(plain.forward(x)[0].data);
    const stream = dropped.stream({ batchSize: 3 });
    const last = Array.from({ length: 7 }, (_, t) => stream.step(select(x, 0, t))).at(-1)!;
    expect(last.data).toEqual(select(plain.forward(x)[0], 0, 6).data);
    dropped.train();
    const streamInTraining = dropped.stream({ batchSize: 3 });
    expect(streamInTraining.step(select(x, 0, 0)).data).toEqual(select(plain.forward(x)[0], 0, 0).data);
  });

  it('training: the same seed gives the same masks (and numbers); the masks really drop', () => {
    manualSeed(3);
    const module = new nn.GRU(4, 6, { inputDropout: 0.5, recurrentDropout: 0.5, batchFirst: true });
    const x = randn([2, 9, 4]);
    manualSeed(11);
    const first = module.forward(x)[0].data;
    manualSeed(11);
    const again = module.forward(x)[0].data;
    const other = module.forward(x)[0].data;
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
    module.eval();
    expect(module.forward(x)[0].data).not.toEqual(first);
  });

  it('inputDropout 1 is a zero input; recurrentDropout 1 cuts h out of W_hh', () => {
    manualSeed(4);
    const a = new nn.RNN(3, 5, { inputDropout: 1 });
    const x = randn([4, 2, 3]);
    const zeroInput = noGrad(() => { a.eval(); const y = a.forward(tensor(new Float32Array(24), [4, 2, 3]))[0]; a.train(); return y; });
    expect(a.forward(x)[0].data).toEqual(zeroInput.data);
    const b = new nn.RNN(3, 5, { recurrentDropout: 1 });
    const noRecurrence = new nn.RNN(3, 5);
    noRecurrence.loadStateDict(b.stateDict());
    (noRecurrence as unknown as Record<string, Tensor>).weight_hh_l0.data.fill(0);
    expect(b.forward(x)[0].data).toEqual(noRecurrence.forward(x)[0].data);
  });

  it('bad options are named; extraRepr shows them', () => {
    expect(() => new nn.LSTM(3, 4, { recurrentDropout: 1.5 })).toThrow(new RangeError('Expected number between 0 and 1 for recurrentDropout but received 1.5 of type number'));
    expect(() => new nn.GRU(3, 4, { inputDropout: '0.2' as unknown as number })).toThrow(new TypeError('Expected number between 0 and 1 for inputDropout but received 0.2 of type string'));
    expect(() => new nn.RNN(3, 4, { inputDropout: -0.1 })).toThrow(new RangeError('Expected number between 0 and 1 for inputDropout but received -0.1 of type number'));
    expect(new nn.LSTM(3, 4, { inputDropout: 0.2, recurrentDropout: 0.3 }).extraRepr()).toBe('3, 4, input_dropout=0.2, recurrent_dropout=0.3');
  });

  it('forwardAsync (thread pool) and forward draw the same masks', async () => {
    manualSeed(8);
    const module = new nn.LSTM(4, 6, { numLayers: 2, bidirectional: true, inputDropout: 0.3, recurrentDropout: 0.3 });
    const x = randn([5, 3, 4]);
    manualSeed(20);
    const sync = module.forward(x, null, { lengths: [5, 2, 4] })[0].data;
    manualSeed(20);
    const [async] = await module.forwardAsync(x, null, { lengths: [5, 2, 4] });
    expect(async.data).toEqual(sync);
  });
});

describe('checkpoint resume with variational dropout is bitwise', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rnnkit-variational-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const examples = makeDataset(22);
  const dataset = new TensorDataset(
    tensor(Float32Array.from(examples.flatMap((e) => Array.from(e.x))), [examples.length, SEQ_LEN, INPUT_SIZE]),
    tensor(examples.map((e) => e.label)),
  );
  async function run(seed: number, options: { epochs: number; checkpointDir?: string; resumeFrom?: string; signal?: AbortSignal; callbacks?: Callback[] }) {
    manualSeed(seed);
    const model = new Classifier(16, { inputDropout: 0.2, recurrentDropout: 0.3 });
    const optimizer = new optim.Adam(model.parameters(), { lr: 0.02 });
    const train = new DataLoader(dataset, { batchSize: 4, shuffle: true });
    const history = await fit(model, { train, loss: 'crossEntropy', optimizer, clipGradNorm: 1, progress: false, ...options });
    return { model, history };
  }

  it('aborted in the middle of an epoch, then resumed with fresh objects: the same weights', async () => {
    const reference = await run(42, { epochs: 3 });
    const controller = new AbortController();
    const abortAt: Callback = { onBatchEnd: (_batch, _logs, context) => { if (context.step === 8) controller.abort(); } };
    await run(42, { epochs: 3, checkpointDir: dir, signal: controller.signal, callbacks: [abortAt] });
    const resumed = await run(9, { epochs: 3, resumeFrom: dir, checkpointDir: dir });
    expect(resumed.history.metrics.loss).toEqual(reference.history.metrics.loss);
    expect(differingElements(weightBits(reference.model), weightBits(resumed.model))).toBe(0);
    // and the dropout mattered: without it the run ends elsewhere
    manualSeed(42);
    const plain = new Classifier(16);
    expect(differingElements(weightBits(plain), weightBits(reference.model))).toBeGreaterThan(0);
  });
});
