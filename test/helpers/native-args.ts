// Positional arguments of the raw binding (src/native.ts NativeBinding), for tests that call it
// directly: the same layer as the public API's opts and weights.
export interface LayerOpts {
  steps: number; batch: number; inputSize: number; hiddenSize: number; projSize?: number; reverse?: boolean;
  lengths?: ArrayLike<number> | null; nonlinearity?: 'tanh' | 'relu';
  inputMask?: Float32Array | null; recurrentMask?: Float32Array | null;
}
export interface LayerWeights {
  weightIh: Float32Array; weightHh: Float32Array; biasIh?: Float32Array | null; biasHh?: Float32Array | null;
  weightHr?: Float32Array | null;
}

export const CELL_CODES = { rnn_tanh: 0, rnn_relu: 1, lstm: 2, gru: 3 } as const;

/** cell, inputSize, hiddenSize, projSize, steps, batch, reverse, lengths, the five weights and the two masks. */
export function layerArgs(cell: keyof typeof CELL_CODES, o: LayerOpts, w: LayerWeights): unknown[] {
  return [CELL_CODES[cell], o.inputSize, o.hiddenSize, o.projSize ?? 0, o.steps, o.batch, o.reverse ?? false,
    o.lengths ? Int32Array.from(o.lengths) : null, w.weightIh, w.weightHh, w.biasIh ?? null, w.biasHh ?? null, w.weightHr ?? null,
    o.inputMask ?? null, o.recurrentMask ?? null];
}
