// saveOnnx / serializeOnnx: every exported model is loaded in ONNX Runtime (onnxruntime-node) and
// its outputs compared with rnnkit's forward on the same inputs, within 1e-5 of the output's scale
// (test/helpers/onnx.ts), across batch sizes, sequence lengths (with `lengths`, including 0),
// directions, layers, batchFirst and initial states. The errors name what cannot be exported.
import { describe, expect, it } from 'vitest';
import {
  ONNX_OPSETS, OnnxValue, add, forecast, manualSeed, nn, noGrad, readOnnx, randn, saveOnnx, serializeOnnx, softmax, tanh,
  tensor, text, type OnnxArgument, type OnnxGraph, type Tensor,
} from '../src/index.js';
import { SequenceClassifier } from '../src/cli/classify.js';
import { decodeModel } from '../src/onnx/proto/types.js';
import { expectMatches, run, session, type Feed } from './helpers/onnx.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

type Recurrent = nn.LSTM | nn.GRU | nn.RNN;
type Cell = 'LSTM' | 'GRU' | 'RNN_TANH' | 'RNN_RELU';
const INPUT = 5, HIDDEN = 8;

function recurrent(cell: Cell, options: nn.RNNBaseOptions): Recurrent {
  if (cell === 'LSTM') return new nn.LSTM(INPUT, HIDDEN, options);
  if (cell === 'GRU') return new nn.GRU(INPUT, HIDDEN, options);
  return new nn.RNN(INPUT, HIDDEN, { ...options, nonlinearity: cell === 'RNN_RELU' ? 'relu' : 'tanh' });
}

/** rnnkit's forward: output, h_n and (LSTM) c_n. */
function reference(module: Recurrent, x: Tensor, state: Tensor[] | null, lengths: Int32Array | null): Tensor[] {
  const options = lengths ? { lengths } : undefined;
  return noGrad(() => {
    if (module instanceof nn.LSTM) {
      const [output, [h, c]] = module.forward(x, state ? [state[0], state[1]] : null, options);
      return [output, h, c];
    }
    const [output, h] = (module as nn.GRU).forward(x, state ? state[0] : null, options);
    return [output, h];
  });
}

const float = (shape: number[]): Tensor => randn(shape);

describe('nn.LSTM / nn.GRU / nn.RNN in ONNX Runtime', () => {
  const cells: Cell[] = ['LSTM', 'GRU', 'RNN_TANH', 'RNN_RELU'];
  const configs: { label: string; options: nn.RNNBaseOptions }[] = [
    { label: '1 layer', options: {} },
    { label: '2 layers, bidirectional, batchFirst', options: { numLayers: 2, bidirectional: true, batchFirst: true } },
    { label: '3 layers, no bias, dropout (eval)', options: { numLayers: 3, bias: false, dropout: 0.5 } },
  ];
  // (batch, steps, lengths): full sequences, mixed lengths, an empty one, a single step.
  const shapes: { batch: number; steps: number; lengths: number[] | null }[] = [
    { batch: 1, steps: 7, lengths: null },
    { batch: 4, steps: 6, lengths: [6, 3, 1, 5] },
    { batch: 3, steps: 5, lengths: [5, 0, 2] },
    { batch: 2, steps: 1, lengths: [1, 1] },
  ];

  describe.each(cells)('%s', (cell) => {
    it.each(configs)('$label: outputs and final states match forward for every batch size, length and initial state', async ({ options }) => {
      manualSeed(1);
      const module = recurrent(cell, options);
      const lstm = cell === 'LSTM';
      const layers = module.numLayers * module.numDirections;
      const axes = options.batchFirst ? { 0: 'batch', 1: 'steps' } : { 0: 'steps', 1: 'batch' };
      const shapeOf = (batch: number, steps: number): number[] => (options.batchFirst ? [batch, steps, INPUT] : [steps, batch, INPUT]);
      const example = float(shapeOf(2, 3));
      const exampleState = lstm ? [float([layers, 2, HIDDEN]), float([layers, 2, HIDDEN])] : float([layers, 2, HIDDEN]);
      const full = await session(serializeOnnx(module, {
        exampleInput: [example, exampleState, { lengths: [3, 2] }],
        dynamicAxes: { input: axes, h_0: { 1: 'batch' }, ...(lstm ? { c_0: { 1: 'batch' } } : {}), lengths: { 0: 'batch' } },
      }));
      expect(full.inputNames).toEqual(lstm ? ['input', 'h_0', 'c_0', 'lengths'] : ['input', 'h_0', 'lengths']);
      expect(full.outputNames).toEqual(lstm ? ['output', 'h_n', 'c_n'] : ['output', 'h_n']);
      const bare = await session(serializeOnnx(module, { exampleInput: example, dynamicAxes: { input: axes } }));
      expect(bare.inputNames).toEqual(['input']);
      const lengthsOnly = await session(serializeOnnx(module, {
        exampleInput: [example, null, { lengths: [3, 2] }], dynamicAxes: { input: axes, lengths: { 0: 'batch' } },
      }));
      expect(lengthsOnly.inputNames).toEqual(['input', 'lengths']);
      module.eval(); // the export is of eval mode (no dropout between layers)

      for (const { batch, steps, lengths } of shapes) {
        const x = float(shapeOf(batch, steps));
        const state = lstm ? [float([layers, batch, HIDDEN]), float([layers, batch, HIDDEN])] : [float([layers, batch, HIDDEN])];
        const lens = Int32Array.from(lengths ?? new Array<number>(batch).fill(steps));
        const feeds: Record<string, Feed> = { input: x, h_0: state[0], lengths: { int32: lens, shape: [batch] } };
        if (lstm) feeds.c_0 = state[1];
        const got = await run(full, feeds);
        const expected = reference(module, x, state, lens);
        const what = `${cell} batch ${batch} steps ${steps} lengths [${lens.join(', ')}]`;
        expectMatches(got.output, expected[0], `${what} output`);
        expectMatches(got.h_n, expected[1], `${what} h_n`);
        if (lstm) expectMatches(got.c_n, expected[2], `${what} c_n`);

        const gotLengths = await run(lengthsOnly, { input: x, lengths: { int32: lens, shape: [batch] } });
        const expectedLengths = reference(module, x, null, lens);
        expectMatches(gotLengths.output, expectedLengths[0], `${what} (lengths, zero state) output`);
        expectMatches(gotLengths.h_n, expectedLengths[1], `${what} (lengths, zero state) h_n`);

        const gotBare = await run(bare, { input: x });
        const expectedBare = reference(module, x, null, null);
        expectMatches(gotBare.output, expectedBare[0], `${what} (no state, no lengths) output`);
        expectMatches(gotBare.h_n, expectedBare[1], `${what} (no state, no lengths) h_n`);
      }
    });
  });

  it('fixes every axis not named in dynamicAxes to the example\'s size (PyTorch\'s default)', async () => {
    manualSeed(2);
    const module = new nn.GRU(INPUT, HIDDEN);
    const model = await session(serializeOnnx(module, { exampleInput: float([4, 2, INPUT]) }));
    await expect(run(model, { input: float([4, 3, INPUT]) })).rejects.toThrow(/Got invalid dimensions for input: input/);
    const declared = readOnnx(serializeOnnx(module, { exampleInput: float([4, 2, INPUT]), dynamicAxes: { input: [0, 1] } }));
    expect(declared.layers.map((layer) => layer.type)).toEqual(['GRU']);
  });

  it('exports the layer in eval mode and leaves the modules\' training flags as they were', () => {
    const module = new nn.LSTM(INPUT, HIDDEN, { numLayers: 2, dropout: 0.3 });
    module.train();
    serializeOnnx(module, { exampleInput: float([3, 1, INPUT]) });
    expect(module.training).toBe(true);
    module.eval();
    serializeOnnx(module, { exampleInput: float([3, 1, INPUT]) });
    expect(module.training).toBe(false);
  });
});

describe('Linear, Embedding, Dropout and Sequential in ONNX Runtime', () => {
  it('Linear: Gemm for 2-D input, MatMul + Add for 3-D, and without bias', async () => {
    manualSeed(3);
    for (const [module, shape] of [
      [new nn.Linear(6, 4), [5, 6]], [new nn.Linear(6, 4), [2, 3, 6]], [new nn.Linear(6, 4, { bias: false }), [3, 6]],
    ] as [nn.Linear, number[]][]) {
      const x = float(shape);
      const bytes = serializeOnnx(module, { exampleInput: x, dynamicAxes: { input: { 0: 'batch' } } });
      const ops = opTypes(bytes);
      expect(ops).toEqual(shape.length === 2 ? ['Gemm'] : module.bias ? ['Transpose', 'MatMul', 'Add'] : ['Transpose', 'MatMul']);
      const got = await run(await session(bytes), { input: x });
      expectMatches(got.output, noGrad(() => module.forward(x)), `Linear on [${shape.join(', ')}]`);
      const wider = float([7, ...shape.slice(1)]);
      expectMatches((await run(await session(bytes), { input: wider })).output, noGrad(() => module.forward(wider)), 'Linear, dynamic batch');
    }
  });

  it('Embedding: Gather at int64 indices', async () => {
    manualSeed(4);
    const module = new nn.Embedding(10, 3, { paddingIdx: 0 });
    const ids = tensor([[1, 0, 9], [4, 4, 2]]);
    const bytes = serializeOnnx(module, { exampleInput: ids, dynamicAxes: { input: [0, 1] } });
    const got = await run(await session(bytes), { input: { int64: [1, 0, 9, 4, 4, 2, 7, 7, 7], shape: [3, 3] } });
    expectMatches(got.output, noGrad(() => module.forward(tensor([[1, 0, 9], [4, 4, 2], [7, 7, 7]]))), 'Embedding');
  });

  it('Sequential(Embedding, Dropout, Linear) and Sequential(Linear, Dropout, Linear): Dropout is the identity of eval mode', async () => {
    manualSeed(5);
    const tagger = new nn.Sequential(new nn.Embedding(12, 4), new nn.Dropout(0.5), new nn.Linear(4, 3));
    const mlp = new nn.Sequential({ hidden: new nn.Linear(4, 6), drop: new nn.Dropout(0.2), out: new nn.Linear(6, 2) });
    tagger.train();
    const ids = tensor([[3, 11], [0, 5]]);
    const taggerBytes = serializeOnnx(tagger, { exampleInput: ids, dynamicAxes: { input: [0, 1] } });
    expect(opTypes(taggerBytes)).toEqual(['Gather', 'Transpose', 'MatMul', 'Add']);
    tagger.eval();
    expectMatches((await run(await session(taggerBytes), { input: { int64: [3, 11, 0, 5], shape: [2, 2] } })).output,
      noGrad(() => tagger.forward(ids)), 'Sequential(Embedding, Dropout, Linear)');
    const x = float([3, 4]);
    const mlpBytes = serializeOnnx(mlp, { exampleInput: x });
    mlp.eval();
    expect(readOnnx(mlpBytes).layers.map((layer) => layer.name)).toEqual(['hidden', 'out']);
    expectMatches((await run(await session(mlpBytes), { input: x })).output, noGrad(() => mlp.forward(x)), 'Sequential(Linear, Dropout, Linear)');
  });

  it('a model that is only a Dropout returns its input through an Identity node', async () => {
    const x = float([2, 3]);
    const bytes = serializeOnnx(new nn.Dropout(0.5), { exampleInput: x });
    expect(opTypes(bytes)).toEqual(['Identity']);
    expectMatches((await run(await session(bytes), { input: x })).output, x, 'Dropout');
  });
});

describe('the task models in ONNX Runtime', () => {
  it.each(['lstm', 'gru'] as const)('text.CharLM (%s): next-step logits with the state in and out; two calls carrying the state equal one', async (cell) => {
    manualSeed(6);
    const model = new text.CharLM(13, { cell, embeddingDim: 6, hiddenSize: 10, numLayers: 2, dropout: 0.1 });
    const lstm = cell === 'lstm';
    const state = lstm ? [float([2, 1, 10]), float([2, 1, 10])] : [float([2, 1, 10])];
    const bytes = serializeOnnx(model, {
      exampleInput: [tensor([[1, 2, 3]]), lstm ? state : state[0]],
      dynamicAxes: { tokens: { 0: 'batch', 1: 'steps' }, h_0: { 1: 'batch' }, ...(lstm ? { c_0: { 1: 'batch' } } : {}) },
      metadata: { vocabulary: '["a","b"]' },
    });
    expect(readOnnx(bytes).metadata).toEqual({ vocabulary: '["a","b"]' });
    model.eval();
    const lm = await session(bytes);
    expect(lm.inputNames).toEqual(lstm ? ['tokens', 'h_0', 'c_0'] : ['tokens', 'h_0']);
    expect(lm.outputNames).toEqual(lstm ? ['logits', 'h_n', 'c_n'] : ['logits', 'h_n']);

    const ids = [[4, 0, 12, 7, 7], [1, 2, 3, 4, 5], [9, 9, 9, 9, 9]];
    const batchState = lstm ? [float([2, 3, 10]), float([2, 3, 10])] : [float([2, 3, 10])];
    const feedsOf = (rows: number[][], s: Float32Array[] | Tensor[]): Record<string, Feed> => {
      const shape = [2, rows.length, 10];
      const [h, c] = s.map((data) => (data instanceof Float32Array ? tensor(data, shape) : data));
      return { tokens: { int64: rows.flat(), shape: [rows.length, rows[0].length] }, h_0: h, ...(lstm ? { c_0: c } : {}) };
    };
    const whole = await run(lm, feedsOf(ids, batchState));
    const [logits, next] = noGrad(() => model.forward(ids, lstm ? [batchState[0], batchState[1]] : batchState[0]));
    expectMatches(whole.logits, logits, 'CharLM logits');
    expectMatches(whole.h_n, Array.isArray(next) ? next[0] : next, 'CharLM h_n');
    if (lstm) expectMatches(whole.c_n, (next as Tensor[])[1], 'CharLM c_n');

    // The serving loop: the first 3 tokens, then the last 2 from the returned state.
    const first = await run(lm, feedsOf(ids.map((row) => row.slice(0, 3)), batchState));
    const second = await run(lm, feedsOf(ids.map((row) => row.slice(3)), lstm ? [first.h_n.data, first.c_n.data] : [first.h_n.data]));
    const lastStep = noGrad(() => logits.narrow(1, 3, 2));
    expectMatches(second.logits, lastStep, 'CharLM logits after carrying the state');
  });

  it('forecast.Forecaster: the next values after a window, for any batch size and window length', async () => {
    manualSeed(7);
    const model = new forecast.Forecaster({ channels: 2, covariates: 3, hiddenSize: 12, numLayers: 2, window: 8 });
    const bytes = serializeOnnx(model, { exampleInput: float([4, 8, 5]), dynamicAxes: { input: { 0: 'batch', 1: 'steps' } } });
    const forecaster = await session(bytes);
    expect(forecaster.outputNames).toEqual(['prediction']);
    for (const shape of [[1, 8, 5], [6, 20, 5]]) {
      const x = float(shape);
      expectMatches((await run(forecaster, { input: x })).prediction, noGrad(() => model.forward(x)), `Forecaster on [${shape.join(', ')}]`);
    }
  });

  it('forecast.Forecaster one step at a time (online serving): the forward option with the state in and out equals Forecaster.step', async () => {
    manualSeed(11);
    const model = new forecast.Forecaster({ covariates: 2, hiddenSize: 6, numLayers: 2 });
    model.eval();
    const bytes = serializeOnnx(model, {
      exampleInput: [float([1, 1, 3]), [float([2, 1, 6]), float([2, 1, 6])]],
      forward: (g, x, state) => {
        const [output, next] = g.call(model.rnn, x, state) as [OnnxValue, OnnxArgument];
        return [g.call(model.head, output), next];
      },
      inputNames: ['input', 'h_0', 'c_0'], outputNames: ['prediction', 'h_n', 'c_n'],
      dynamicAxes: { input: { 0: 'batch', 1: 'steps' }, h_0: { 1: 'batch' }, c_0: { 1: 'batch' } },
    });
    const online = await session(bytes);
    const x = float([3, 4, 3]);
    const state = [float([2, 3, 6]), float([2, 3, 6])];
    const got = await run(online, { input: x, h_0: state[0], c_0: state[1] });
    const [predictions, next] = noGrad(() => model.step(x, [state[0], state[1]])) as [Tensor, Tensor[]];
    expectMatches(got.prediction, predictions, 'Forecaster.step predictions');
    expectMatches(got.h_n, next[0], 'Forecaster.step h_n');
    expectMatches(got.c_n, next[1], 'Forecaster.step c_n');
  });

  it('a sequence classifier (the CLI\'s) through the forward option: LSTM → last layer\'s h_n → Linear', async () => {
    manualSeed(8);
    const model = new SequenceClassifier(3, 9, 4, { cell: 'lstm', layers: 2, dropout: 0 });
    const bytes = serializeOnnx(model, {
      exampleInput: float([2, 5, 3]),
      forward: (g, x) => {
        const [, [hN]] = g.call(model.rnn, x) as [OnnxValue, OnnxValue[]];
        return g.call(model.head, g.select(hN, 0, -1));
      },
      inputNames: ['sequences'], outputNames: ['logits'], dynamicAxes: { sequences: { 0: 'batch', 1: 'steps' } },
    });
    const x = float([7, 11, 3]);
    expectMatches((await run(await session(bytes), { sequences: x })).logits, noGrad(() => model.forward(x)), 'classifier logits');
  });

  it('the graph builder\'s elementwise and activation ops: softmax(head(tanh(x) + b)) as rnnkit computes it', async () => {
    manualSeed(9);
    const head = new nn.Linear(4, 3);
    const shift = float([4]);
    const x = float([5, 4]);
    const bytes = serializeOnnx(head, {
      exampleInput: x,
      forward: (g, input) => {
        const value = input as OnnxValue;
        const b = g.constant(shift.data, shift.shape);
        const mixed = g.div(g.mul(g.sub(g.add(g.tanh(value), b), b), g.sigmoid(g.neg(g.neg(value)))), g.sigmoid(value));
        return g.softmax(g.call(head, mixed) as OnnxValue, -1);
      },
    });
    const expected = noGrad(() => softmax(head.forward(add(tanh(x), shift).sub(shift)), -1));
    expectMatches((await run(await session(bytes), { input_0: x })).output_0, expected, 'builder ops');
  });
});

describe('export options', () => {
  it.each([ONNX_OPSETS.min, ONNX_OPSETS.default, ONNX_OPSETS.max])('opset %i runs in ONNX Runtime', async (opset) => {
    manualSeed(10);
    const classifier = new nn.GRU(3, 4, { numLayers: 2, bidirectional: true });
    const x = float([2, 5, 3]);
    const bytes = serializeOnnx(classifier, { exampleInput: x, opset });
    expect(readOnnx(bytes).opset).toBe(opset);
    const [output] = noGrad(() => classifier.forward(x));
    expectMatches((await run(await session(bytes), { input: x })).output, output, `opset ${opset}`);
  });

  it('saveOnnx writes the file ONNX Runtime loads; names are the ones given', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rnnkit-onnx-'));
    try {
      const file = path.join(dir, 'lstm.onnx');
      const module = new nn.LSTM(3, 4);
      const x = float([2, 1, 3]);
      saveOnnx(module, file, { exampleInput: [x], inputNames: ['x'], outputNames: ['y', 'h', 'c'] });
      const model = await session(readFileSync(file));
      expect([model.inputNames, model.outputNames]).toEqual([['x'], ['y', 'h', 'c']]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('export errors', () => {
  const x = (): Tensor => float([3, 2, 4]);

  it('refuses an LSTM with projSize, naming the layer and the reason', () => {
    expect(() => serializeOnnx(new nn.LSTM(4, 6, { projSize: 3 }), { exampleInput: x() })).toThrow(new RangeError(
      'Cannot export the model (LSTM with projSize 3) to ONNX: the ONNX LSTM operator has no output projection (weight_hr_l*). '
      + 'Export an LSTM without projSize.'));
    const model = new nn.Sequential({ encoder: new nn.LSTM(4, 6, { projSize: 3 }) });
    expect(() => serializeOnnx(model, { exampleInput: x() })).toThrow(new RangeError(
      'Cannot export encoder (LSTM with projSize 3) to ONNX: the ONNX LSTM operator has no output projection (weight_hr_l*). '
      + 'Export an LSTM without projSize.'));
  });

  it('names a module without a converter', () => {
    class Custom extends nn.Module {
      head = new nn.Linear(4, 2);
      forward(input: Tensor): Tensor { return this.head.forward(input); }
    }
    expect(() => serializeOnnx(new Custom(), { exampleInput: x() })).toThrow(new TypeError(
      'Cannot export Custom to ONNX: rnnkit has no converter for it; describe its forward with the forward option of saveOnnx (see docs/onnx.md)'));
    const outer = new Custom();
    expect(() => serializeOnnx(new nn.Sequential({ inner: new Custom() }), { exampleInput: x() })).toThrow(
      'Cannot export inner (Custom) to ONNX');
    class Shifted extends nn.Linear {
      override forward(input: Tensor): Tensor { return super.forward(input).add(1); }
    }
    expect(() => serializeOnnx(new Shifted(4, 2), { exampleInput: x() })).toThrow('Cannot export Shifted to ONNX');
    expect(() => serializeOnnx(outer, { exampleInput: x(), forward: (g, input) => g.call(outer.head, input) })).not.toThrow();
  });

  it('checks the example input with the model\'s own errors, and refuses what ONNX export does not take', () => {
    const lstm = new nn.LSTM(4, 6);
    expect(() => serializeOnnx(lstm, { exampleInput: float([3, 2, 5]) })).toThrow(new RangeError('input.size(-1) must be equal to inputSize. Expected 4, got 5'));
    expect(() => serializeOnnx(lstm, { exampleInput: float([3, 4]) })).toThrow(new RangeError(
      'Cannot export the model (LSTM) with 2-D input to ONNX: expected batched 3-D input ([steps, batch, features])'));
    const packed = nn.packPaddedSequence(x(), [3, 1]);
    expect(() => serializeOnnx(lstm, { exampleInput: [packed] })).toThrow(new TypeError(
      'Expected padded Tensor with { lengths } for exampleInput[0] but received a PackedSequence (export [padded, null, { lengths }])'));
    expect(() => serializeOnnx(lstm, { exampleInput: [x(), null, { lengths: 'all' }] })).toThrow(new TypeError(
      'Expected array of integers for lengths but received all of type string'));
    expect(() => serializeOnnx(lstm, { exampleInput: [x(), null, { lengths: 'all' }], forward: (g, input) => g.call(lstm, input) })).toThrow(new TypeError(
      'Expected Tensor, array of numbers, array, plain object or null for exampleInput[2]["lengths"] but received all of type string'));
    expect(() => serializeOnnx(lstm, {} as never)).toThrow(new TypeError('Expected exampleInput in options but received undefined'));
    expect(() => serializeOnnx({} as never, { exampleInput: x() })).toThrow(new TypeError('Expected Module for model but received an object'));
  });

  it('checks opset, names, dynamicAxes, metadata and the file', () => {
    const gru = new nn.GRU(4, 6);
    const exampleInput = x();
    expect(() => serializeOnnx(gru, { exampleInput, opset: 12 })).toThrow(new RangeError('Expected integer between 13 and 21 for opset but received 12 of type number'));
    expect(() => serializeOnnx(gru, { exampleInput, dynamicAxes: { inputs: [0] } })).toThrow(new RangeError(
      'Expected dynamicAxes keys among the inputs (input) and outputs (output, h_n) but received inputs'));
    expect(() => serializeOnnx(gru, { exampleInput, dynamicAxes: { input: [3] } })).toThrow(new RangeError(
      'Expected integer between 0 and 2 for dynamicAxes.input axis but received 3 of type number'));
    expect(() => serializeOnnx(gru, { exampleInput, dynamicAxes: { input: { 0: 7 } } as never })).toThrow(new TypeError(
      'Expected non-empty string for the name of dynamicAxes.input axis 0 but received 7 of type number'));
    expect(() => serializeOnnx(gru, { exampleInput, inputNames: 'x' as never })).toThrow(new TypeError(
      'Expected array of non-empty strings for inputNames but received x of type string'));
    expect(() => serializeOnnx(gru, { exampleInput, outputNames: ['y', 'y'] })).toThrow(new RangeError('Expected unique output names but received y, y'));
    expect(() => serializeOnnx(gru, { exampleInput, outputNames: ['input'] })).toThrow(new RangeError(
      'Expected output names different from the input and weight names but received input'));
    expect(() => serializeOnnx(gru, { exampleInput, metadata: { n: 1 } as never })).toThrow(new TypeError('Expected string for metadata.n but received 1 of type number'));
    expect(() => serializeOnnx(gru, { exampleInput, forward: 'yes' as never })).toThrow(new TypeError('Expected function for forward but received yes of type string'));
    expect(() => saveOnnx(gru, '', { exampleInput })).toThrow(new TypeError('Expected non-empty path string for file but received  of type string'));
  });

  it('graph builder errors use rnnkit\'s words', () => {
    const head = new nn.Linear(4, 2);
    const build = (forward: (g: OnnxGraph, input: OnnxArgument) => OnnxArgument): Uint8Array => serializeOnnx(head, { exampleInput: x(), forward });
    expect(() => build((g, input) => g.select(input as OnnxValue, 3, 0))).toThrow(new RangeError('Dimension out of range (expected to be in range of [-3, 2], but got 3)'));
    expect(() => build((g, input) => g.select(input as OnnxValue, 0, 5))).toThrow(new RangeError('select(): index 5 out of range for tensor of size [3, 2, 4] at dimension 0'));
    expect(() => build((g, input) => g.add(input as OnnxValue, g.constant(new Float32Array(3))))).toThrow(new RangeError(
      'The size of tensor a (4) must match the size of tensor b (3) at non-singleton dimension 2'));
    expect(() => build((g, input) => g.call(head, [input]))).toThrow(new TypeError('Expected graph value for input but received an Array of length 1'));
  });
});

/** The op types of an exported model's nodes, in order. */
function opTypes(bytes: Uint8Array): string[] {
  return decodeModel(bytes).graph!.node.map((node) => node.op_type);
}
