// nn.RNN / nn.LSTM / nn.GRU against PyTorch 1.13 (test/fixtures/nn/make_nn.py): PyTorch's
// state_dict goes in through loadStateDict, and outputs, final states and the gradients of the
// input, the initial states and every parameter come out, for
// loss = sum(output·R1) + sum(hN·R2) (+ sum(cN·R3)).
//
// Tolerance (mixed error |ours − torch| / max(1, |torch|)): 1e-5 for every case, one layer (the
// issue's bound) and stacks of 2-3 layers alike. Measured worst (T=5, B=3, I=7, H=9 or 5):
// 5.6e-7 for one layer, 8.2e-7 for stacks (rnn_tanh 3 layers, grad of weight_hh_l2), on scalar,
// AVX2 and AVX-512; torch float32 itself is up to 5e-7 off float64 on these cases (`f32VsF64` in
// the fixture), so ~1e-6 is the floor and 1e-5 keeps a 10x margin while a wrong index, gate,
// direction or length shows up at 1e-2 and above. Worst cases are printed at the end.
// The cases run once per ISA the machine has.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as rnnkit from '../src/index.js';
import { nn, type Tensor } from '../src/index.js';
import { loadNnFixture, mixedError, stateDictOf, toTensor, WorstErrors, type FixtureCase } from './helpers/nn-fixtures.js';

const TOLERANCE = 1e-5;

interface RnnCase extends FixtureCase {
  cell: 'rnn_tanh' | 'rnn_relu' | 'lstm' | 'gru';
  inputSize: number;
  hiddenSize: number;
  options: { numLayers: number; bias: boolean; batchFirst: boolean; dropout: number; bidirectional: boolean; projSize?: number; nonlinearity?: 'tanh' | 'relu' };
  train: boolean;
  lengths: number[] | null;
  f32VsF64: number;
}

const { cases } = loadNnFixture<{ cases: RnnCase[] }>('rnn.json');

export function buildModule(c: RnnCase): nn.RNNBase {
  const o = c.options;
  const base = { numLayers: o.numLayers, bias: o.bias, batchFirst: o.batchFirst, dropout: o.dropout, bidirectional: o.bidirectional };
  if (c.cell === 'lstm') return new nn.LSTM(c.inputSize, c.hiddenSize, { ...base, projSize: o.projSize });
  if (c.cell === 'gru') return new nn.GRU(c.inputSize, c.hiddenSize, base);
  return new nn.RNN(c.inputSize, c.hiddenSize, { ...base, nonlinearity: o.nonlinearity });
}

interface RunResult {
  output: Tensor;
  hN: Tensor;
  cN: Tensor | null;
  x: Tensor;
  h0: Tensor | null;
  c0: Tensor | null;
  module: nn.RNNBase;
}

/** Forward + backward of a case; `packed` goes through packPaddedSequence instead of { lengths }. */
function runCase(c: RnnCase, packed = false): RunResult {
  const module = buildModule(c);
  module.loadStateDict(stateDictOf(c));
  module.train(c.train);
  const t = c.tensors;
  const x = toTensor(t.x, true);
  const h0 = t.h0 ? toTensor(t.h0, true) : null;
  const c0 = t.c0 ? toTensor(t.c0, true) : null;
  let output: Tensor, hN: Tensor, cN: Tensor | null = null;
  const batchFirst = c.options.batchFirst;
  let input: Tensor | nn.PackedSequence = x;
  if (packed && c.lengths) input = nn.packPaddedSequence(x, c.lengths, { batchFirst, enforceSorted: false });
  const options = packed ? undefined : { lengths: c.lengths };
  if (module instanceof nn.LSTM) {
    const [out, [h, cell]] = module.forward(input as Tensor, h0 && c0 ? [h0, c0] : null, options);
    [output, hN, cN] = [out as Tensor, h, cell];
  } else {
    const [out, h] = (module as nn.GRU).forward(input as Tensor, h0, options);
    [output, hN] = [out as Tensor, h];
  }
  if (output instanceof nn.PackedSequence) {
    output = nn.padPackedSequence(output, { batchFirst, totalLength: t.x.shape[batchFirst ? 1 : 0] })[0];
  }
  let loss = output.mul(toTensor(t.R1)).sum().add(hN.mul(toTensor(t.R2)).sum());
  if (cN) loss = loss.add(cN.mul(toTensor(t.R3)).sum());
  loss.backward();
  return { output, hN, cN, x, h0, c0, module };
}

/** Every compared tensor of a case: [name, ours, torch's]. */
function comparisons(c: RnnCase, r: RunResult): [string, Tensor | null | undefined, (typeof c.tensors)[string]][] {
  const t = c.tensors;
  const list: [string, Tensor | null | undefined, (typeof t)[string]][] = [
    ['output', r.output, t.output], ['hN', r.hN, t.hN], ['dx', r.x.grad, t.dx],
  ];
  if (t.cN) list.push(['cN', r.cN, t.cN]);
  if (t.dh0) list.push(['dh0', r.h0?.grad, t.dh0]);
  if (t.dc0) list.push(['dc0', r.c0?.grad, t.dc0]);
  for (const [name, param] of r.module.namedParameters()) list.push([`grad.${name}`, param.grad, t[`grad.${name}`]]);
  return list;
}

describe.each(rnnkit.availableIsas())('nn modules vs PyTorch on ISA %s', (isa) => {
  const defaultIsa = rnnkit.isa();
  beforeAll(() => rnnkit.setIsa(isa));
  afterAll(() => rnnkit.setIsa(defaultIsa));
  const worst = new WorstErrors(`[${isa}] nn vs torch float32, worst mixed error`);
  afterAll(() => worst.print());

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const r = runCase(c);
    const group = `${c.cell} ${c.options.numLayers === 1 ? '1 layer' : 'stack'}`;
    const names = comparisons(c, r).map(([name]) => name);
    expect(names.filter((n) => n.startsWith('grad.')).length).toBe(r.module.parameters().length);
    for (const [name, got, want] of comparisons(c, r)) {
      const error = mixedError(got, want, `${c.name} ${name}`);
      worst.add(group, error, `${c.name} ${name}`);
      expect(error, `${c.name} ${name}`).toBeLessThanOrEqual(TOLERANCE);
    }
  });

  it('a PackedSequence gives exactly what forward(x, hx, { lengths }) gives', () => {
    for (const c of cases.filter((k) => k.lengths)) {
      const viaOption = runCase(c);
      const viaPacked = runCase(c, true);
      for (const [[name, a], [, b]] of comparisons(c, viaOption).map((row, i) => [row, comparisons(c, viaPacked)[i]] as const)) {
        expect(Array.from(b!.data), `${c.name} ${name}`).toEqual(Array.from(a!.data));
      }
    }
  });
});
