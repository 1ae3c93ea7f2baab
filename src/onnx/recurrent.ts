/**
 * nn.LSTM / nn.GRU / nn.RNN → one ONNX LSTM / GRU / RNN node per layer (each node runs both
 * directions of its layer). What the export does to match PyTorch's semantics:
 * - gates reordered (ONNX LSTM i,o,f,c; GRU z,r,h) and b_ih, b_hh concatenated into B;
 * - GRU with `linear_before_reset = 1` (PyTorch applies r after W_hn·h + b_hn);
 * - `lengths` → `sequence_lens` (int32): ONNX Runtime, like rnnkit, keeps each item's state
 *   after its length, writes zero outputs there, and starts the reverse direction at the item's
 *   own last step;
 * - batchFirst by Transposes (ONNX Runtime does not run the operators' `layout = 1`);
 * - between layers, Y `[T, D, B, H]` becomes `[T, B, D·H]` (directions concatenated on features);
 * - `h_0`/`c_0` `[D·L, B, H]` are sliced per layer and the final states concatenated back, in
 *   PyTorch's index order `layer·D + direction`.
 * An LSTM with `projSize` is refused: the ONNX LSTM has no projection.
 * @module
 */
import type { RNNBase } from '../nn/rnn.js';
import { GATE_COUNT, torchToOnnx, type OnnxCell } from './gates.js';
import { OnnxValue, type OnnxArgument, type OnnxGraph } from './graph.js';
import { CELL_OF_MODE, CELLS } from '../cell-table.js';


/** `argument` as a value (or null when absent), else a TypeError naming `name`. */
export function optionalValue(argument: OnnxArgument, name: string): OnnxValue | null {
  if (argument === null || argument === undefined) return null;
  if (!(argument instanceof OnnxValue)) throw new TypeError(`Expected graph value for ${name} but received ${describeArgument(argument)}`);
  return argument;
}

/** `argument` as a value, else a TypeError naming `name`. */
export function requiredValue(argument: OnnxArgument, name: string): OnnxValue {
  const value = optionalValue(argument, name);
  if (value === null) throw new TypeError(`Expected graph value for ${name} but received ${String(argument)}`);
  return value;
}

function describeArgument(argument: OnnxArgument): string {
  return Array.isArray(argument) ? `an Array of length ${argument.length}` : 'an object';
}

/** The module's state argument: `[h_0, c_0]` for an LSTM, `h_0` otherwise (either may be null). */
function initialStates(module: RNNBase, state: OnnxArgument): { h0: OnnxValue | null; c0: OnnxValue | null } {
  if (module.mode !== 'LSTM') return { h0: optionalValue(state, 'hx'), c0: null };
  if (state === null || state === undefined) return { h0: null, c0: null };
  if (!Array.isArray(state) || state.length !== 2) {
    throw new TypeError(`Expected [h_0, c_0] for the LSTM state but received ${describeArgument(state as OnnxArgument)}`);
  }
  return { h0: requiredValue(state[0], 'h_0'), c0: requiredValue(state[1], 'c_0') };
}

/** ONNX's W, R and B of layer `layer` (both directions stacked), from the module's PyTorch-named weights. */
function layerWeights(module: RNNBase, cell: OnnxCell, layer: number): { W: Float32Array; R: Float32Array; B: Float32Array | null; inputSize: number } {
  const D = module.numDirections, rows = GATE_COUNT[cell] * module.hiddenSize;
  const inputSize = layer === 0 ? module.inputSize : D * module.hiddenSize;
  const W = new Float32Array(D * rows * inputSize), R = new Float32Array(D * rows * module.hiddenSize);
  const B = module.bias ? new Float32Array(D * 2 * rows) : null;
  for (let direction = 0; direction < D; direction++) {
    const [weightIh, weightHh, biasIh, biasHh] = module.allWeights[layer * D + direction];
    torchToOnnx(cell, weightIh.data, W, direction * rows * inputSize);
    torchToOnnx(cell, weightHh.data, R, direction * rows * module.hiddenSize);
    if (B) {
      torchToOnnx(cell, biasIh.data, B, direction * 2 * rows);
      torchToOnnx(cell, biasHh.data, B, direction * 2 * rows + rows);
    }
  }
  return { W, R, B, inputSize };
}

/**
 * The converter of RNN, LSTM and GRU: `forward(input, hx?, { lengths }?)` →
 * `[output, h_n]` or `[output, [h_n, c_n]]`.
 * @throws RangeError for a projected LSTM or input that is not 3-D.
 */
export function convertRecurrent(graph: OnnxGraph, module: RNNBase, args: OnnxArgument[]): OnnxArgument {
  const path = graph.pathOf(module) || 'the model';
  if (module.projSize > 0) {
    throw new RangeError(`Cannot export ${path} (LSTM with projSize ${module.projSize}) to ONNX: the ONNX LSTM operator has no `
      + 'output projection (weight_hr_l*). Export an LSTM without projSize.');
  }
  const input = graph.float(requiredValue(args[0], 'input'));
  if (input.rank !== 3) {
    throw new RangeError(`Cannot export ${path} (${module.className}) with ${input.rank}-D input to ONNX: expected batched 3-D input `
      + `(${module.batchFirst ? '[batch, steps, features]' : '[steps, batch, features]'})`);
  }
  const cellInfo = CELLS[CELL_OF_MODE[module.mode]];
  const cell = cellInfo.onnxOp;
  const { h0, c0 } = initialStates(module, args[1]);
  const options = args[2];
  const rawLengths = options !== null && typeof options === 'object' && !Array.isArray(options) && !(options instanceof OnnxValue)
    ? optionalValue((options as Record<string, OnnxArgument>).lengths, 'lengths') : null;
  const lengths = rawLengths ? graph.int32(rawLengths) : null;
  const D = module.numDirections, H = module.hiddenSize;
  // ONNX Runtime ends an empty sequence (length 0) with zero states; rnnkit with its initial state.
  const empty = lengths && h0 ? graph.reshape(graph.equal(lengths, graph.constant(Int32Array.of(0), [])), [1, -1, 1]) : null;
  const final = (state: OnnxValue | null, last: OnnxValue): OnnxValue => (empty && state ? graph.where(empty, state, last) : last);
  let x = module.batchFirst ? graph.permute(input, [1, 0, 2]) : input;
  const [steps, batch] = x.shape;
  const finalH: OnnxValue[] = [], finalC: OnnxValue[] = [];
  for (let layer = 0; layer < module.numLayers; layer++) {
    const { W, R, B, inputSize } = layerWeights(module, cell, layer);
    const rows = GATE_COUNT[cell] * H;
    const layerState = (state: OnnxValue | null): OnnxValue | null => (state ? graph.slice(graph.float(state), 0, layer * D, (layer + 1) * D) : null);
    const initialH = layerState(h0), initialC = layerState(c0);
    const inputs = [
      x, graph.parameter(`W_l${layer}`, W, [D, rows, inputSize]), graph.parameter(`R_l${layer}`, R, [D, rows, H]),
      B ? graph.parameter(`B_l${layer}`, B, [D, 2 * rows]) : null, lengths, initialH,
    ];
    if (cell === 'LSTM') inputs.push(initialC);
    const attributes = {
      hidden_size: { i: H }, direction: { s: D === 2 ? 'bidirectional' : 'forward' },
      ...(cell === 'GRU' ? { linear_before_reset: { i: 1 } } : {}),
      ...(cellInfo.rnn ? { activations: { strings: new Array<string>(D).fill(cellInfo.rnn.onnxActivation) } } : {}),
    };
    const stateShape = { dtype: 'float32' as const, shape: [D, batch, H] };
    const outputs = graph.node(cell, inputs, attributes, [
      { dtype: 'float32', shape: [steps, D, batch, H] }, stateShape, ...(cell === 'LSTM' ? [stateShape] : []),
    ]);
    x = D === 1 ? graph.squeeze(outputs[0], 1) : graph.reshape(graph.permute(outputs[0], [0, 2, 1, 3]), [0, 0, -1]);
    finalH.push(final(initialH, outputs[1]));
    if (cell === 'LSTM') finalC.push(final(initialC, outputs[2]));
  }
  const output = module.batchFirst ? graph.permute(x, [1, 0, 2]) : x;
  const hN = graph.cat(finalH, 0);
  return cell === 'LSTM' ? [output, [hN, graph.cat(finalC, 0)]] : [output, hN];
}
