/**
 * Gate order between PyTorch (rnnkit) and ONNX. Both stack the gates' rows in one matrix per
 * weight, in different orders: LSTM i,f,g,o (PyTorch) vs i,o,f,c (ONNX); GRU r,z,n vs z,r,h;
 * RNN has one block. Biases: PyTorch keeps b_ih and b_hh; ONNX concatenates them as B = [Wb, Rb].
 * @module
 */

import { CELLS, type CellInfo } from '../cell-table.js';

/** The recurrent cells ONNX has an operator for. */
export type OnnxCell = CellInfo['onnxOp'];

/** Gates (row blocks) per cell. */
export const GATE_COUNT = Object.fromEntries(Object.values(CELLS).map((cell) => [cell.onnxOp, cell.gates])) as Record<OnnxCell, number>;

/** ONNX block k is PyTorch block TORCH_BLOCK_OF_ONNX[cell][k]. */
const TORCH_BLOCK_OF_ONNX: Record<OnnxCell, readonly number[]> = {
  LSTM: [0, 3, 1, 2], // i, o, f, c  ←  i(0), o(3), f(1), g(2)
  GRU: [1, 0, 2], //     z, r, h  ←  z(1), r(0), n(2)
  RNN: [0],
};

/** PyTorch block k is ONNX block ONNX_BLOCK_OF_TORCH[cell][k]. */
const ONNX_BLOCK_OF_TORCH: Record<OnnxCell, readonly number[]> = {
  LSTM: [0, 2, 3, 1], // i, f, g, o  ←  i(0), f(2), c(3), o(1)
  GRU: [1, 0, 2],
  RNN: [0],
};

/** `data` (`gates` equal blocks of rows) with its blocks in the order `sourceBlock[k]` for block k, written into `out` at `offset`. */
function permuteBlocks(data: Float32Array, sourceBlock: readonly number[], out: Float32Array, offset: number): void {
  const block = data.length / sourceBlock.length;
  sourceBlock.forEach((source, k) => out.set(data.subarray(source * block, (source + 1) * block), offset + k * block));
}

/** PyTorch-ordered rows (a weight `[G·H, cols]` or a bias `[G·H]`) in ONNX order, into `out` at `offset`. */
export function torchToOnnx(cell: OnnxCell, data: Float32Array, out: Float32Array, offset = 0): void {
  permuteBlocks(data, TORCH_BLOCK_OF_ONNX[cell], out, offset);
}

/** ONNX-ordered rows in PyTorch order (a new array). */
export function onnxToTorch(cell: OnnxCell, data: Float32Array): Float32Array {
  const out = new Float32Array(data.length);
  permuteBlocks(data, ONNX_BLOCK_OF_TORCH[cell], out, 0);
  return out;
}
