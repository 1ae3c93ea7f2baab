// Streaming inference (module.stream(), module.step()): one time step per call with packed
// weights. Its contract is exactness: stepping through a sequence gives what `forward` gives over
// the whole sequence, bit for bit (same kernels, same sums), on every ISA; the packed weights follow
// the parameters (optimizer steps, loadStateDict, nn.init, replaced parameters, ISA changes).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as rnnkit from '../src/index.js';
import { manualSeed, nn, noGrad, optim, randn, type Tensor } from '../src/index.js';

type Cell = 'lstm' | 'lstm-proj' | 'gru' | 'rnn_tanh' | 'rnn_relu';
const CELLS: Cell[] = ['lstm', 'lstm-proj', 'gru', 'rnn_tanh', 'rnn_relu'];

function build(cell: Cell, inputSize: number, hiddenSize: number, numLayers: number): nn.RNNBase {
  if (cell === 'lstm') return new nn.LSTM(inputSize, hiddenSize, { numLayers });
  if (cell === 'lstm-proj') return new nn.LSTM(inputSize, hiddenSize, { numLayers, projSize: 7 });
  if (cell === 'gru') return new nn.GRU(inputSize, hiddenSize, { numLayers });
  return new nn.RNN(inputSize, hiddenSize, { numLayers, nonlinearity: cell === 'rnn_relu' ? 'relu' : 'tanh' });
}

// forward over [T, B, I]: output [T, B, S] and the final states.
function forwardAll(module: nn.RNNBase, x: Tensor): { output: Tensor; h: Tensor; c: Tensor | null } {
  return noGrad(() => {
    if (module instanceof nn.LSTM) {
      const [output, [h, c]] = module.forward(x);
      return { output, h, c };
    }
    const [output, h] = (module as nn.GRU).forward(x);
    return { output, h, c: null };
  });
}

// Row t of a [T, B, W] tensor's data.
const stepRows = (t: Tensor, step: number): Float32Array => {
  const size = t.shape[1] * t.shape[2];
  return t.data.subarray(step * size, (step + 1) * size);
};

describe.each(rnnkit.availableIsas())('streaming on ISA %s', (isa) => {
  const defaultIsa = rnnkit.isa();
  beforeAll(() => rnnkit.setIsa(isa));
  afterAll(() => rnnkit.setIsa(defaultIsa));

  it.each(CELLS)('%s: stepping a stream equals forward over the sequence, bit for bit (2 layers, batch 1 and 3)', (cell) => {
    for (const batch of [1, 3]) {
      manualSeed(11);
      const module = build(cell, 20, 33, 2);
      const T = 9;
      const x = randn([T, batch, 20]);
      const want = forwardAll(module, x);
      const stream = module.stream({ batchSize: batch });
      for (let t = 0; t < T; t++) {
        const y = stream.step(stepRows(x, t));
        expect(y.shape).toEqual([batch, module.stateSize]);
        expect(y.data).toEqual(stepRows(want.output, t));
      }
      expect(stream.state.h.data).toEqual(want.h.data);
      if (want.c) expect(stream.state.c?.data).toEqual(want.c.data);
      else expect(stream.state.c).toBeNull();
    }
  });

  it.each(CELLS)('%s: step(input, state) chained through a sequence equals forward, batched and unbatched', (cell) => {
    manualSeed(12);
    const module = build(cell, 6, 10, 3);
    const x = randn([5, 2, 6]);
    const want = forwardAll(module, x);
    let h: Tensor | null = null, c: Tensor | null = null;
    for (let t = 0; t < 5; t++) {
      const input = rnnkit.tensor(Array.from(stepRows(x, t))).reshape([2, 6]);
      let y: Tensor;
      if (module instanceof nn.LSTM) [y, [h, c]] = module.step(input, h && c ? [h, c] : null);
      else [y, h] = (module as nn.GRU).step(input, h);
      expect(y.data).toEqual(stepRows(want.output, t));
    }
    expect(h?.shape).toEqual([3, 2, module.stateSize]);
    expect(h?.data).toEqual(want.h.data);
    if (want.c) expect(c?.data).toEqual(want.c.data);
    // Unbatched: input [I] → output [S], states [L, S].
    const one = randn([6]);
    const unbatched = module instanceof nn.LSTM ? module.step(one) : (module as nn.GRU).step(one);
    const viaForward = forwardAll(module, one.reshape([1, 1, 6]));
    expect(unbatched[0].shape).toEqual([module.stateSize]);
    expect(unbatched[0].data).toEqual(viaForward.output.data);
    const hN = module instanceof nn.LSTM ? (unbatched[1] as [Tensor, Tensor])[0] : (unbatched[1] as Tensor);
    expect(hN.shape).toEqual([3, module.stateSize]);
  });
});

describe('one-step inference calls use the packed weights too', () => {
  it('cells and one-step forward calls under noGrad equal the recording (training-kernel) path bit for bit', () => {
    manualSeed(21);
    const x = randn([3, 10]);
    const lstmCell = new nn.LSTMCell(10, 24), gruCell = new nn.GRUCell(10, 24), rnnCell = new nn.RNNCell(10, 24, { nonlinearity: 'relu' });
    const h = randn([3, 24]), c = randn([3, 24]);
    const [h1, c1] = lstmCell.forward(x, [h, c]); // parameters require grad: the recording path
    const [h2, c2] = noGrad(() => lstmCell.forward(x, [h, c]));
    expect(h1.requiresGrad).toBe(true);
    expect(h2.requiresGrad).toBe(false);
    expect(h2.data).toEqual(h1.data);
    expect(c2.data).toEqual(c1.data);
    expect(noGrad(() => gruCell.forward(x, h)).data).toEqual(gruCell.forward(x, h).data);
    expect(noGrad(() => rnnCell.forward(x)).data).toEqual(rnnCell.forward(x).data);
    const lstm = new nn.LSTM(10, 24, { numLayers: 2, batchFirst: true });
    const x1 = randn([3, 1, 10]);
    const [out1, [hN1, cN1]] = lstm.forward(x1);
    const [out2, [hN2, cN2]] = noGrad(() => lstm.forward(x1));
    expect(out2.data).toEqual(out1.data);
    expect(hN2.data).toEqual(hN1.data);
    expect(cN2.data).toEqual(cN1.data);
  });

  it('forwardAsync of one step under noGrad runs the packed weights on the thread pool: forward\'s numbers', async () => {
    manualSeed(23);
    const lstm = new nn.LSTM(10, 24, { numLayers: 2 });
    const x1 = randn([1, 4, 10]);
    const state: [Tensor, Tensor] = [randn([2, 4, 24]), randn([2, 4, 24])];
    const [want, [h, c]] = noGrad(() => lstm.forward(x1, state));
    const [got, [hAsync, cAsync]] = await noGrad(() => lstm.forwardAsync(x1, state));
    expect(got.data).toEqual(want.data);
    expect(hAsync.data).toEqual(h.data);
    expect(cAsync.data).toEqual(c.data);
  });

  it('a cell sees its parameters change (optimizer step) on the next inference call', () => {
    manualSeed(22);
    const cell = new nn.GRUCell(4, 8);
    const x = randn([2, 4]);
    const before = noGrad(() => cell.forward(x));
    const opt = new optim.SGD(cell.parameters(), { lr: 1 });
    cell.forward(x).sum().backward();
    opt.step();
    const after = noGrad(() => cell.forward(x));
    expect(after.data).not.toEqual(before.data);
    expect(after.data).toEqual(cell.forward(x).data);
  });
});

describe('streaming weights follow the parameters', () => {
  const defaultIsa = rnnkit.isa();
  afterEach(() => rnnkit.setIsa(defaultIsa));

  // The stream's next output for input x equals a fresh forward from the stream's state.
  function expectCurrent(module: nn.LSTM, stream: nn.RecurrentStream, x: Tensor): void {
    const { h, c } = stream.state;
    const [want] = noGrad(() => module.forward(x.reshape([1, 1, x.numel]), [h, c as Tensor]));
    expect(stream.step(x).data).toEqual(want.data);
  }

  it('repacks after an optimizer step, loadStateDict and nn.init, and after a replaced parameter', () => {
    manualSeed(3);
    const module = new nn.LSTM(8, 16);
    const stream = module.stream();
    const x = randn([8]);
    const before = stream.state;
    const first = stream.step(x);
    stream.setState(before.h, before.c);

    const opt = new optim.SGD(module.parameters(), { lr: 0.5 });
    const [out] = module.forward(randn([4, 1, 8]));
    out.sum().backward();
    opt.step();
    const afterStep = stream.step(x);
    expect(afterStep.data).not.toEqual(first.data); // the update is visible to the stream
    stream.setState(before.h, before.c);
    expectCurrent(module, stream, x);

    const other = new nn.LSTM(8, 16);
    module.loadStateDict(other.stateDict());
    expectCurrent(module, stream, x);

    nn.init.uniform_(module.allWeights[0][1], -0.5, 0.5); // weight_hh_l0
    expectCurrent(module, stream, x);

    (module as unknown as Record<string, unknown>).weight_ih_l0 = new nn.Parameter(randn([64, 8]).data, [64, 8]);
    expectCurrent(module, stream, x);
  });

  it('a direct write into data is seen after markModified()', () => {
    manualSeed(4);
    const module = new nn.LSTM(5, 6);
    const stream = module.stream();
    const x = randn([5]);
    stream.step(x);
    const state = stream.state;
    const biasIh = module.allWeights[0][2];
    biasIh.data.fill(3);
    const stale = stream.step(x); // packed before the write: the old bias
    stream.setState(state.h, state.c);
    biasIh.markModified();
    const fresh = stream.step(x);
    expect(fresh.data).not.toEqual(stale.data);
    stream.setState(state.h, state.c);
    expectCurrent(module, stream, x);
  });

  it('follows an ISA change: then gives the new ISA\'s forward, bit for bit', () => {
    const isas = rnnkit.availableIsas();
    manualSeed(5);
    const module = new nn.LSTM(12, 40);
    const stream = module.stream();
    const x = randn([12]);
    for (const name of [...isas, ...isas]) {
      rnnkit.setIsa(name);
      stream.reset();
      const [want] = noGrad(() => module.forward(x.reshape([1, 1, 12])));
      expect(stream.step(x).data).toEqual(want.data);
    }
  });
});

describe('stream state and batches', () => {
  it('keeps batch items independent; reset(item) restarts one of them; setState continues a forward', () => {
    manualSeed(6);
    const gru = new nn.GRU(4, 9, { numLayers: 2 });
    const stream = gru.stream({ batchSize: 3 });
    const x = randn([6, 3, 4]);
    for (let t = 0; t < 3; t++) stream.step(stepRows(x, t));
    stream.reset(1);
    // Item 1 now starts over at t = 3: compare with a forward of that item alone.
    const rest = randn([3, 3, 4]);
    const outputs = [0, 1, 2].map((t) => stream.step(stepRows(rest, t)));
    const item1 = rnnkit.tensor(Array.from({ length: 3 }, (_, t) => Array.from(stepRows(rest, t).subarray(4, 8)))).reshape([3, 1, 4]);
    const [alone] = noGrad(() => gru.forward(item1));
    for (let t = 0; t < 3; t++) expect(outputs[t].data.subarray(9, 18)).toEqual(alone.data.subarray(t * 9, (t + 1) * 9));
    // setState from a forward's hN continues exactly where forward stopped.
    const [, hN] = noGrad(() => gru.forward(x));
    stream.setState(hN);
    const next = randn([3, 4]);
    const [want] = noGrad(() => gru.forward(next.reshape([1, 3, 4]), hN));
    expect(stream.step(next).data).toEqual(want.data);
    stream.reset();
    expect(stream.state.h.data.every((v) => v === 0)).toBe(true);
  });

  it('accepts a Tensor [B, I] or [I] (batch 1), a Float32Array or an array of numbers', () => {
    manualSeed(8);
    const rnn = new nn.RNN(3, 4);
    const x = [0.5, -1, 2];
    const results = [rnnkit.tensor([x]), rnnkit.tensor(x), Float32Array.from(x), x].map((input) => {
      const stream = rnn.stream();
      return Array.from(stream.step(input).data);
    });
    for (const r of results) expect(r).toEqual(results[0]);
  });
});

describe('streaming bad input', () => {
  const lstm = new nn.LSTM(3, 4, { numLayers: 2 });
  const stream = lstm.stream({ batchSize: 2 });

  it('rejects what it can not stream or does not understand, naming the argument', () => {
    expect(() => new nn.LSTM(3, 4, { bidirectional: true }).stream()).toThrow(new RangeError(
      'LSTM streaming runs one direction: the reverse direction of a bidirectional layer needs the whole sequence (use forward)'));
    expect(() => new nn.GRU(3, 4, { bidirectional: true }).step(randn([3]))).toThrow(RangeError);
    expect(() => lstm.stream({ batchSize: 0 })).toThrow(new RangeError('Expected positive integer for batchSize but received 0 of type number'));
    expect(() => lstm.stream({ batchSize: '2' } as never)).toThrow(new TypeError('Expected positive integer for batchSize but received 2 of type string'));
    expect(() => lstm.stream({ batch: 2 } as never)).toThrow(new TypeError('Expected one of batchSize for stream option but received batch of type string'));
    expect(() => lstm.stream(5 as never)).toThrow(new TypeError('Expected object for options but received 5 of type number'));
  });

  it('rejects input of the wrong size or type', () => {
    expect(() => stream.step(randn([3]))).toThrow(new RangeError('Expected input of shape [2, 3] (batchSize, inputSize) but received shape [3]'));
    expect(() => stream.step(randn([2, 4]))).toThrow(new RangeError('Expected input of shape [2, 3] (batchSize, inputSize) but received shape [2, 4]'));
    expect(() => stream.step(new Float32Array(5))).toThrow(new RangeError('Expected 6 values for input (batchSize·inputSize = 2·3) but received 5'));
    expect(() => stream.step(['a', 1, 2, 3, 4, 5] as never)).toThrow(new TypeError('Expected Tensor, Float32Array or array of numbers for input but received an Array of length 6'));
    expect(() => stream.step(new Float64Array(6) as never)).toThrow(new TypeError('Expected Tensor, Float32Array or array of numbers for input but received a Float64Array of length 6'));
    expect(() => lstm.step(randn([2, 5]))).toThrow(new RangeError('input.size(-1) must be equal to inputSize. Expected 3, got 5'));
    expect(() => lstm.step(randn([1, 2, 3]))).toThrow(new RangeError('LSTM.step: Expected input to be 1-D or 2-D but received 3-D tensor'));
  });

  it('rejects states of the wrong shape, with PyTorch\'s words where forward has them', () => {
    expect(() => stream.setState(randn([2, 2, 5]), randn([2, 2, 4]))).toThrow(new RangeError('Expected h of shape [2, 2, 4] but received shape [2, 2, 5]'));
    expect(() => stream.setState(randn([2, 2, 4]))).toThrow(new TypeError('Expected Tensor for c but received undefined'));
    expect(() => new nn.GRU(3, 4).stream().setState(randn([1, 1, 4]), randn([1, 1, 4]))).toThrow(new TypeError('Expected no c for a GRU stream but received an object'));
    expect(() => stream.reset(2)).toThrow(new RangeError('Expected integer between 0 and 1 for item but received 2 of type number'));
    expect(() => lstm.step(randn([2, 3]), [randn([2, 2, 4]), randn([2, 2, 4])])).not.toThrow();
    expect(() => lstm.step(randn([2, 3]), [randn([1, 2, 4]), randn([2, 2, 4])])).toThrow(new RangeError('Expected hidden[0] size (2, 2, 4), got [1, 2, 4]'));
    expect(() => lstm.step(randn([2, 3]), [randn([2, 4]), randn([2, 2, 4])])).toThrow(new RangeError('For batched 2-D input to step, hx should be 3-D but got 2-D tensor'));
    expect(() => lstm.step(randn([2, 3]), randn([2, 2, 4]) as never)).toThrow(TypeError);
  });
});
