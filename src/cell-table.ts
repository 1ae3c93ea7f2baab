/**
 * The recurrent cells in one table: the native layer's names, gate counts, the binding's cell
 * codes, PyTorch's mode names and ONNX's operators, and the names of a layer's parameters. Every
 * module that spells one of these (sequence.ts, nn/, onnx/, tasks/, cli/) reads it here.
 * @module
 */

/** The cell names of the native layer. */
export type CellName = 'rnn_tanh' | 'rnn_relu' | 'lstm' | 'gru';

/** PyTorch's mode names (`nn.RNNBase.mode`). */
export type RNNMode = 'RNN_TANH' | 'RNN_RELU' | 'LSTM' | 'GRU';

/** The nonlinearity of a vanilla RNN (PyTorch `nonlinearity`): each is a cell of its own. */
export type Nonlinearity = 'tanh' | 'relu';

/** What every layer of one cell kind shares. */
export interface CellInfo {
  /** Gate blocks stacked in the rows of each weight (G): 1 RNN, 4 LSTM (i, f, g, o), 3 GRU (r, z, n). */
  readonly gates: number;
  /** The binding's code for the cell (native/binding/sequence_args.cpp `kCells`). */
  readonly code: number;
  /** PyTorch's mode name. */
  readonly mode: RNNMode;
  /** Whether the cell carries a cell state c beside h (LSTM: c0, cN, dc0, dcN). */
  readonly cellState: boolean;
  /** The ONNX operator that computes it. */
  readonly onnxOp: 'RNN' | 'LSTM' | 'GRU';
  /** A vanilla RNN's nonlinearity and its ONNX `RNN` activation; absent for the gated cells. */
  readonly rnn?: { readonly nonlinearity: Nonlinearity; readonly onnxActivation: string };
}

/** The cells, in the binding's code order. */
export const CELLS: Readonly<Record<CellName, CellInfo>> = {
  rnn_tanh: { gates: 1, code: 0, mode: 'RNN_TANH', cellState: false, onnxOp: 'RNN', rnn: { nonlinearity: 'tanh', onnxActivation: 'Tanh' } },
  rnn_relu: { gates: 1, code: 1, mode: 'RNN_RELU', cellState: false, onnxOp: 'RNN', rnn: { nonlinearity: 'relu', onnxActivation: 'Relu' } },
  lstm: { gates: 4, code: 2, mode: 'LSTM', cellState: true, onnxOp: 'LSTM' },
  gru: { gates: 3, code: 3, mode: 'GRU', cellState: false, onnxOp: 'GRU' },
};

/** Every cell name, in the binding's code order. */
export const CELL_NAMES = Object.keys(CELLS) as readonly CellName[];

/** The cell of a PyTorch mode. */
export const CELL_OF_MODE: Readonly<Record<RNNMode, CellName>> = { RNN_TANH: 'rnn_tanh', RNN_RELU: 'rnn_relu', LSTM: 'lstm', GRU: 'gru' };

/** The vanilla RNN cells: a cell per nonlinearity. */
export const RNN_CELLS = CELL_NAMES.filter((name) => CELLS[name].rnn !== undefined);

/** The nonlinearities of the vanilla RNN cells, in the table's order. */
export const NONLINEARITIES: readonly Nonlinearity[] = RNN_CELLS.map((name) => CELLS[name].rnn!.nonlinearity);

/** The vanilla RNN cell of a nonlinearity. */
export function rnnCell(nonlinearity: Nonlinearity): CellName {
  return RNN_CELLS.find((name) => CELLS[name].rnn!.nonlinearity === nonlinearity)!;
}

/**
 * A layer's parameters in PyTorch's registration order: the name stem (`weight_ih` in
 * `weight_ih_l0`) and the key of the sequence API's weights (`weightIh`). Biases are both present or
 * both absent; `weight_hr` only for an LSTM with a projection.
 */
export const LAYER_PARAMETERS = [
  { stem: 'weight_ih', key: 'weightIh' },
  { stem: 'weight_hh', key: 'weightHh' },
  { stem: 'bias_ih', key: 'biasIh' },
  { stem: 'bias_hh', key: 'biasHh' },
  { stem: 'weight_hr', key: 'weightHr' },
] as const;

/** PyTorch's name stem of one of a layer's parameters (`weight_ih`, …). */
export type LayerParameterStem = (typeof LAYER_PARAMETERS)[number]['stem'];

/** PyTorch's suffix of layer k, direction d: `_l0`, `_l1_reverse`. */
export function layerSuffix(layer: number, direction: number): string {
  return `_l${layer}${direction === 1 ? '_reverse' : ''}`;
}
