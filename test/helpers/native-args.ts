// Positional arguments of the raw binding (src/native.ts NativeBinding), for tests that call it
// directly: the same layer as the public API's opts and weights.
import { CELLS, type CellName } from '../../src/cell-table.js';

export interface LayerOpts {
  steps: number; batch: number; inputSize: number; hiddenSize: number; projSize?: number; reverse?: boolean;
  lengths?: ArrayLike<number> | null; nonlinearity?: 'tanh' | 'relu';
  inputMask?: Float32Array | null; recurrentMask?: Float32Array | null;
}
export interface LayerWeights {
  weightIh: Float32Array; weightHh: Float32Array; biasIh?: Float32Array | null; biasHh?: Float32Array | null;
  weightHr?: Float32Array | null;
}

/** The binding's cell codes. */
export const CELL_CODES = Object.fromEntries(Object.entries(CELLS).map(([name, cell]) => [name, cell.code])) as Record<CellName, number>;

/** cell, inputSize, hiddenSize, projSize, steps, batch, reverse, lengths, the five weights and the two masks. */
export function layerArgs(cell: keyof typeof CELL_CODES, o: LayerOpts, w: LayerWeights): unknown[] {
  return [CELL_CODES[cell], o.inputSize, o.hiddenSize, o.projSize ?? 0, o.steps, o.batch, o.reverse ?? false,
    o.lengths ? Int32Array.from(o.lengths) : null, w.weightIh, w.weightHh, w.biasIh ?? null, w.biasHh ?? null, w.weightHr ?? null,
    o.inputMask ?? null, o.recurrentMask ?? null];
}

const stateOf = (cell: keyof typeof CELL_CODES, o: LayerOpts) => o.projSize || o.hiddenSize;

/** sequenceForward's arguments: the layer, input, h0, c0, fresh result arrays, training. */
export function forwardArgs(cell: keyof typeof CELL_CODES, o: LayerOpts, w: LayerWeights, x: Float32Array,
  training = false): unknown[] {
  const S = stateOf(cell, o);
  return [...layerArgs(cell, o, w), x, null, null, new Float32Array(o.steps * o.batch * S), new Float32Array(o.batch * S),
    CELLS[cell].cellState ? new Float32Array(o.batch * o.hiddenSize) : null, training];
}

/** sequenceBackward's arguments: the layer, input, cache, gradients, upstream, fresh result arrays. */
export function backwardArgs(cell: keyof typeof CELL_CODES, o: LayerOpts, w: LayerWeights, x: Float32Array, cache: unknown,
  grads: LayerWeights, dOutput: Float32Array | null, inputGrad = true): unknown[] {
  const S = stateOf(cell, o);
  return [...layerArgs(cell, o, w), x, cache, grads.weightIh, grads.weightHh, grads.biasIh ?? null, grads.biasHh ?? null,
    grads.weightHr ?? null, dOutput, null, null, inputGrad ? new Float32Array(x.length) : null, new Float32Array(o.batch * S),
    CELLS[cell].cellState ? new Float32Array(o.batch * o.hiddenSize) : null, false];
}
