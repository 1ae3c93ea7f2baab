/**
 * The built-in converters: which ONNX nodes each rnnkit module's forward becomes, and the names
 * its inputs and outputs get by default. Everything runs in eval mode (Dropout is the identity).
 * @module
 */
import { Dropout } from '../nn/dropout.js';
import { Embedding } from '../nn/embedding.js';
import { Linear } from '../nn/linear.js';
import type { Module } from '../nn/module.js';
import { LSTM, SingleStateRNN } from '../nn/rnn.js';
import { Sequential } from '../nn/sequential.js';
import { Forecaster } from '../tasks/forecast.js';
import { CharLM } from '../tasks/text.js';
import type { OnnxArgument, OnnxConverter, OnnxGraph, OnnxValue } from './graph.js';
import { convertRecurrent, requiredValue } from './recurrent.js';

/** A converter with the default names of the graph inputs (by argument path: `0`, `1.0`, `2.lengths`) and outputs (in order). */
export interface ConverterEntry {
  convert: OnnxConverter;
  inputNames: Readonly<Record<string, string>>;
  outputNames: readonly string[];
}

/** Linear: Gemm for 2-D input (as PyTorch exports it), else MatMul with the transposed weight, then Add. */
function convertLinear(graph: OnnxGraph, module: Linear, args: OnnxArgument[]): OnnxValue {
  const x = graph.float(requiredValue(args[0], 'input'));
  const weight = graph.tensor('weight', module.weight);
  const bias = module.bias ? graph.tensor('bias', module.bias) : null;
  const outShape = [...x.shape.slice(0, -1), module.outFeatures];
  if (x.rank === 2) {
    return graph.node('Gemm', bias ? [x, weight, bias] : [x, weight], { transB: { i: 1 } }, [{ dtype: 'float32', shape: outShape }])[0];
  }
  const product = graph.matmul(x, graph.permute(weight, [1, 0]));
  return bias ? graph.add(product, bias) : product;
}

/** Embedding: Gather of the weight's rows at int64 indices. */
function convertEmbedding(graph: OnnxGraph, module: Embedding, args: OnnxArgument[]): OnnxValue {
  const indices = graph.indices(requiredValue(args[0], 'input'));
  return graph.node('Gather', [graph.tensor('weight', module.weight), indices], { axis: { i: 0 } },
    [{ dtype: 'float32', shape: [...indices.shape, module.embeddingDim] }])[0];
}

/** Sequential: each child's converter on the previous result. */
function convertSequential(graph: OnnxGraph, module: Sequential, args: OnnxArgument[]): OnnxArgument {
  return module.children().reduce<OnnxArgument>((value, child) => graph.call(child, value), args[0]);
}

/** CharLM: tokens `[B, T]` → Embedding (time-major) → LSTM/GRU → Linear → logits `[B, T, V]`, and the state. */
function convertCharLM(graph: OnnxGraph, model: CharLM, args: OnnxArgument[]): OnnxArgument {
  const tokens = graph.indices(requiredValue(args[0], 'tokens'));
  const embedded = graph.call(model.embedding, graph.permute(tokens, [1, 0]));
  const [output, state] = graph.call(model.rnn, embedded, args[1] ?? null) as [OnnxValue, OnnxArgument];
  return [graph.permute(graph.call(model.head, output) as OnnxValue, [1, 0, 2]), state];
}

/** Forecaster: the recurrent layers (batch first) → the last step → Linear → the next values `[B, channels]`. */
function convertForecaster(graph: OnnxGraph, model: Forecaster, args: OnnxArgument[]): OnnxArgument {
  const [output] = graph.call(model.rnn, args[0]) as [OnnxValue, OnnxArgument];
  return graph.call(model.head, graph.select(output, 1, -1));
}

const INPUT = { 0: 'input' };
const STATES = { 1: 'h_0', '1.0': 'h_0', '1.1': 'c_0' };

const entry = <M extends Module>(convert: OnnxConverter<M>, inputNames: Record<string, string>, outputNames: string[]): ConverterEntry =>
  ({ convert: convert as OnnxConverter, inputNames, outputNames });

/** Whether `module` runs `forward` (a subclass that overrides forward computes something else). */
const runs = (module: Module, forward: (...args: never[]) => unknown): boolean => module.forward === forward;

/** The built-in converter of `module`, or null (also for a subclass that overrides forward). */
export function builtinConverter(module: Module): ConverterEntry | null {
  if (runs(module, CharLM.prototype.forward)) return entry(convertCharLM, { 0: 'tokens', ...STATES }, ['logits', 'h_n', 'c_n']);
  if (runs(module, Forecaster.prototype.forward)) return entry(convertForecaster, INPUT, ['prediction']);
  if (runs(module, LSTM.prototype.forward) || runs(module, SingleStateRNN.prototype.forward)) {
    return entry(convertRecurrent, { ...INPUT, ...STATES, '2.lengths': 'lengths' }, ['output', 'h_n', 'c_n']);
  }
  if (runs(module, Linear.prototype.forward)) return entry(convertLinear, INPUT, ['output']);
  if (runs(module, Embedding.prototype.forward)) return entry(convertEmbedding, INPUT, ['output']);
  if (runs(module, Dropout.prototype.forward)) return entry((_graph, _module, args) => args[0], INPUT, ['output']);
  if (runs(module, Sequential.prototype.forward)) return entry(convertSequential, INPUT, ['output']);
  return null;
}
