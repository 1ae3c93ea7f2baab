// loadOnnx / readOnnx: the weights of ONNX models as PyTorch-named tensors for rnnkit modules.
// Models exported by PyTorch 1.13's torch.onnx.export (test/fixtures/onnx/make_torch_onnx.py) give
// back PyTorch's state_dict bit for bit, and rnnkit computes PyTorch's outputs with them; models
// rnnkit exports come back as the module's own stateDict. What rnnkit's layers cannot compute is
// refused, naming the node.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  cat, forecast, loadOnnx, manualSeed, moduleFromOnnx, nn, noGrad, randn, readOnnx, serializeOnnx, tensor, text, type Tensor,
} from '../src/index.js';
import { decodeModel, encodeModel, type ModelProto, type NodeProto } from '../src/onnx/proto/types.js';
import { expectMatches, run, session } from './helpers/onnx.js';

const FIXTURES = new URL('./fixtures/onnx/', import.meta.url);

interface Entry { shape: number[]; data: number[] }
interface TorchRecord {
  stateDict: Record<string, Entry>;
  inputs: Record<string, Entry>;
  outputs: Record<string, Entry>;
}

const fixtureFile = (name: string): string => new URL(`${name}.onnx`, FIXTURES).pathname;
const record = (name: string): TorchRecord => JSON.parse(readFileSync(new URL(`${name}.json`, FIXTURES), 'utf8')) as TorchRecord;
const asTensor = (entry: Entry): Tensor => tensor(Float32Array.from(entry.data), entry.shape);

/** Every tensor of `actual` has the shape and the exact float32 bits of `expected`. */
function expectSameWeights(actual: Record<string, { data: Float32Array; shape: readonly number[] }>, expected: Record<string, { data: Float32Array; shape: readonly number[] }>): void {
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
  for (const [name, tensorValue] of Object.entries(expected)) {
    expect(actual[name].shape, name).toEqual([...tensorValue.shape]);
    expect(Buffer.from(actual[name].data.buffer, actual[name].data.byteOffset, actual[name].data.byteLength)
      .equals(Buffer.from(tensorValue.data.buffer, tensorValue.data.byteOffset, tensorValue.data.byteLength)), `${name} bits`).toBe(true);
  }
}

describe('models exported by PyTorch 1.13 (torch.onnx.export)', () => {
  it.each(['charlm_lstm', 'classifier_gru', 'tagger_rnn'])('%s: the weights are PyTorch\'s state_dict, bit for bit', (name) => {
    const imported = loadOnnx(fixtureFile(name));
    expect(imported.producer).toBe('pytorch 1.13.0');
    expect(imported.opset).toBe(14);
    const expected = Object.fromEntries(Object.entries(record(name).stateDict).map(([key, entry]) => [key, asTensor(entry)]));
    expectSameWeights(imported.stateDict, expected);
  });

  it('charlm_lstm loads into text.CharLM, which then computes PyTorch\'s logits and states (and so does ONNX Runtime on the file)', async () => {
    const imported = loadOnnx(fixtureFile('charlm_lstm'));
    expect(imported.layers.map(({ type, name, sizes, options, nodes }) => ({ type, name, sizes, options, nodes }))).toEqual([
      { type: 'Embedding', name: 'embedding', sizes: [11, 5], options: {}, nodes: ['/embedding/Gather'] },
      { type: 'LSTM', name: 'rnn', sizes: [5, 7], options: { numLayers: 2, bidirectional: false, bias: true }, nodes: ['/rnn/LSTM', '/rnn/LSTM_1'] },
      { type: 'Linear', name: 'head', sizes: [7, 11], options: { bias: true }, nodes: ['/head/MatMul', '/head/Add'] },
    ]);
    const model = new text.CharLM(11, { embeddingDim: 5, hiddenSize: 7, numLayers: 2 });
    model.loadStateDict(imported.stateDict);
    const { inputs, outputs } = record('charlm_lstm');
    const tokens = asTensor(inputs.tokens);
    const [logits, [h, c]] = noGrad(() => model.forward(tokens, [asTensor(inputs.h_0), asTensor(inputs.c_0)])) as [Tensor, Tensor[]];
    const torchOutputs = Object.fromEntries(Object.entries(outputs).map(([key, entry]) => [key, asTensor(entry)]));
    const asOrt = (t: Tensor): { data: Float32Array; dims: number[] } => ({ data: t.data, dims: [...t.shape] });
    expectMatches(asOrt(logits), torchOutputs.logits, 'rnnkit logits vs PyTorch');
    expectMatches(asOrt(h), torchOutputs.h_n, 'rnnkit h_n vs PyTorch');
    expectMatches(asOrt(c), torchOutputs.c_n, 'rnnkit c_n vs PyTorch');
    const ort = await run(await session(readFileSync(fixtureFile('charlm_lstm'))), {
      tokens: { int64: inputs.tokens.data, shape: inputs.tokens.shape }, h_0: asTensor(inputs.h_0), c_0: asTensor(inputs.c_0),
    });
    expectMatches(ort.logits, logits, 'ONNX Runtime on PyTorch\'s file vs rnnkit');
  });

  it('classifier_gru and tagger_rnn: moduleFromOnnx builds the layers, which compute PyTorch\'s outputs', () => {
    const gru = loadOnnx(fixtureFile('classifier_gru'));
    expect(gru.layers.map((layer) => [layer.type, layer.name, layer.sizes, layer.options])).toEqual([
      ['GRU', 'rnn', [3, 6], { numLayers: 2, bidirectional: true, bias: true }], ['Linear', 'head', [12, 4], { bias: true }],
    ]);
    const rnn = moduleFromOnnx(gru.layers[0], { batchFirst: true }) as nn.GRU;
    const head = moduleFromOnnx(gru.layers[1]) as nn.Linear;
    const classifier = record('classifier_gru');
    const logits = noGrad(() => {
      const [, hN] = rnn.forward(asTensor(classifier.inputs.input));
      return head.forward(cat([hN.select(0, -2), hN.select(0, -1)], 1));
    });
    expectMatches({ data: logits.data, dims: [...logits.shape] }, asTensor(classifier.outputs.logits), 'GRU classifier vs PyTorch');

    const relu = loadOnnx(fixtureFile('tagger_rnn'));
    expect(relu.layers[0].options).toEqual({ numLayers: 1, bidirectional: true, bias: false, nonlinearity: 'relu' });
    const [tagRnn, tagHead] = relu.layers.map((layer) => moduleFromOnnx(layer)) as [nn.RNN, nn.Linear];
    const tagger = record('tagger_rnn');
    const tags = noGrad(() => tagHead.forward(tagRnn.forward(asTensor(tagger.inputs.input))[0]));
    expectMatches({ data: tags.data, dims: [...tags.shape] }, asTensor(tagger.outputs.output), 'ReLU RNN tagger vs PyTorch');
  });
});

describe('models exported by rnnkit come back as their stateDict', () => {
  const x = (): Tensor => randn([4, 2, 3]);
  const cases: [string, () => nn.Module, unknown[]][] = [
    ['2-layer bidirectional LSTM', () => new nn.LSTM(3, 5, { numLayers: 2, bidirectional: true }), [x()]],
    ['GRU without bias', () => new nn.GRU(3, 5, { bias: false }), [x()]],
    ['3-layer ReLU RNN', () => new nn.RNN(3, 5, { numLayers: 3, nonlinearity: 'relu' }), [x()]],
    ['CharLM (GRU)', () => new text.CharLM(9, { cell: 'gru', embeddingDim: 4, hiddenSize: 6 }), [tensor([[1, 2, 3]])]],
    ['Forecaster', () => new forecast.Forecaster({ channels: 2, covariates: 1, hiddenSize: 6, numLayers: 2 }), [randn([2, 5, 3])]],
    ['named Sequential', () => new nn.Sequential({ embed: new nn.Embedding(7, 3), proj: new nn.Linear(3, 2) }), [tensor([[1, 6]])]],
  ];
  it.each(cases)('%s', (_label, make, exampleInput) => {
    manualSeed(3);
    const module = make();
    const imported = readOnnx(serializeOnnx(module, { exampleInput }));
    expect(imported.producer).toMatch(/^rnnkit \d+\.\d+\.\d+/);
    expectSameWeights(imported.stateDict, module.stateDict() as Record<string, Tensor>);
    const fresh = make();
    fresh.loadStateDict(imported.stateDict); // strict: every parameter, no other key
    expectSameWeights(fresh.stateDict() as Record<string, Tensor>, module.stateDict() as Record<string, Tensor>);
  });

  it('layers without scoped node names get made-up names; separate recurrent modules stay separate', () => {
    manualSeed(4);
    const model = new nn.Sequential(new nn.GRU(3, 4), new nn.GRU(3, 4));
    const bytes = serializeOnnx(model, {
      exampleInput: x(),
      forward: (g, input) => [g.call(model.at(0), input), g.call(model.at(1), input)],
    });
    expect(readOnnx(bytes).layers.map((layer) => layer.name)).toEqual(['0', '1']);
    const unnamed = rewrite(bytes, (proto) => proto.graph!.node.forEach((node) => { node.name = ''; }));
    const layers = readOnnx(unnamed).layers;
    expect(layers.map((layer) => layer.name)).toEqual(['gru_0', 'gru_1']);
    expectSameWeights(layers[1].stateDict, (model.at(1) as nn.GRU).stateDict() as Record<string, Tensor>);
  });
});

/** `bytes` decoded, changed by `edit`, encoded again. */
function rewrite(bytes: Uint8Array, edit: (model: ModelProto) => void): Uint8Array {
  const model = decodeModel(bytes);
  edit(model);
  return encodeModel(model);
}

const recurrentNode = (model: ModelProto): NodeProto => model.graph!.node.find((node) => ['LSTM', 'GRU', 'RNN'].includes(node.op_type))!;

describe('import errors', () => {
  manualSeed(5);
  const gruBytes = serializeOnnx(new nn.GRU(3, 4), { exampleInput: randn([2, 1, 3]) });
  const lstmBytes = serializeOnnx(new nn.LSTM(3, 4), { exampleInput: randn([2, 1, 3]) });

  it('refuses what is not an ONNX model', () => {
    expect(() => readOnnx(new TextEncoder().encode('{"not": "onnx"}'))).toThrow(RangeError);
    expect(() => readOnnx(new Uint8Array(0))).toThrow(new RangeError(
      'Expected an ONNX model (protobuf ModelProto with a graph and an opset) but received bytes without one'));
    expect(() => readOnnx('model.onnx' as never)).toThrow(new TypeError('Expected Uint8Array for bytes but received model.onnx of type string'));
    expect(() => loadOnnx('')).toThrow(new TypeError('Expected non-empty path string for file but received  of type string'));
  });

  it('refuses recurrent nodes that compute something else than rnnkit\'s layers, naming the node', () => {
    const set = (bytes: Uint8Array, change: (node: NodeProto) => void): Uint8Array => rewrite(bytes, (model) => change(recurrentNode(model)));
    const attribute = (name: string, value: object) => (node: NodeProto): void => {
      node.attribute = [...node.attribute.filter((a) => a.name !== name), { name, ...value } as NodeProto['attribute'][number]];
    };
    expect(() => readOnnx(set(gruBytes, attribute('linear_before_reset', { type: 2, i: 0 })))).toThrow(new RangeError(
      'Cannot import GRU node /GRU: linear_before_reset is 0 (the reset gate applied before W_hn·h, as in Keras by default); '
      + 'PyTorch and rnnkit apply it after (linear_before_reset = 1)'));
    expect(() => readOnnx(set(lstmBytes, attribute('direction', { type: 3, s: new TextEncoder().encode('reverse') })))).toThrow(new RangeError(
      'Cannot import LSTM node /LSTM: it runs the reverse direction only; rnnkit layers run forward, or both directions (bidirectional)'));
    expect(() => readOnnx(set(lstmBytes, attribute('clip', { type: 1, f: 3 })))).toThrow(new RangeError(
      'Cannot import LSTM node /LSTM: it clips the cell input (clip), which rnnkit layers do not'));
    expect(() => readOnnx(set(lstmBytes, attribute('input_forget', { type: 2, i: 1 })))).toThrow(new RangeError(
      'Cannot import LSTM node /LSTM: it couples the input and forget gates (input_forget = 1)'));
    const strings = (...names: string[]) => ({ type: 8, strings: names.map((n) => new TextEncoder().encode(n)) });
    expect(() => readOnnx(set(lstmBytes, attribute('activations', strings('Sigmoid', 'Tanh', 'Relu'))))).toThrow(new RangeError(
      'Cannot import LSTM node /LSTM: its activations (Sigmoid, Tanh, Relu) are not Sigmoid, Tanh, Tanh'));
    expect(readOnnx(set(lstmBytes, attribute('activations', strings('Sigmoid', 'Tanh', 'Tanh')))).layers[0].type).toBe('LSTM');
    const peephole = rewrite(lstmBytes, (model) => {
      model.graph!.initializer.push({ name: 'P', dims: [1, 12], data_type: 1, raw_data: new Uint8Array(48).fill(1) });
      const node = recurrentNode(model);
      node.input = [...node.input, '', '', '', '', '', ''].slice(0, 7).concat('P');
    });
    expect(() => readOnnx(peephole)).toThrow(new RangeError(
      'Cannot import LSTM node /LSTM: it has peephole weights (P), which PyTorch and rnnkit LSTMs do not'));
    const computed = set(lstmBytes, (node) => { node.input[1] = 'input'; });
    expect(() => readOnnx(computed)).toThrow(new RangeError('Cannot import LSTM node /LSTM: its weights W and R are computed in the graph, not stored in it'));
    const external = rewrite(lstmBytes, (model) => {
      const weights = model.graph!.initializer.find((init) => init.name === 'W_l0')!;
      weights.raw_data = undefined;
      weights.external_data = [{ key: 'location', value: 'weights.bin' }];
      weights.data_location = 1;
    });
    expect(() => readOnnx(external)).toThrow(new RangeError('Cannot read W_l0: its data is in an external file (save the model with its weights inside)'));
  });
});
