/**
 * How large a model the training commands may build, checked from the flags before anything is
 * allocated: `--hidden 2147483647` passes as an integer, but its weights could never be made, and
 * the library's allocation failure would name neither the flag nor the size. Two bounds:
 * - every weight matrix within the largest tensor the library handles ({@link MAX_DIM} elements);
 * - weights, their gradients and Adam's two moments (16 bytes a parameter, a lower bound of what
 *   training needs) within the machine's memory.
 * @module
 */
import os from 'node:os';
import { CELLS } from '../cell-table.js';
import { MAX_DIM } from '../validate.js';
import { CliError } from './errors.js';

/** A recurrent model of the CLI: [Embedding →] LSTM/GRU layers → Linear. */
export interface ModelShape {
  cell: 'lstm' | 'gru';
  /** Features per step into the first recurrent layer. */
  inputSize: number;
  hidden: number;
  layers: number;
  /** Outputs of the Linear head. */
  outputs: number;
  /** Character embedding (text models): vocabulary × dimension. */
  embedding?: { vocab: number; dim: number };
}

/**
 * Parameter tensors of one kind: name, rows × columns, how many the model has (layers after the
 * first are alike: counted, not listed, so `--layers 2147483647` costs nothing to check), and the
 * flag (with its value) that sized them most.
 */
interface Part {
  name: string;
  rows: number;
  columns: number;
  count: number;
  flag: string;
}

function partsOf(shape: ModelShape, inputFlag: string): Part[] {
  const gates = CELLS[shape.cell].gates * shape.hidden;
  const hidden = `--hidden ${shape.hidden}`;
  const parts: Part[] = [
    { name: 'weight_ih_l0', rows: gates, columns: shape.inputSize, count: 1, flag: shape.inputSize > shape.hidden ? inputFlag : hidden },
    { name: 'weight_hh_l0', rows: gates, columns: shape.hidden, count: shape.layers, flag: hidden },
    { name: 'bias_ih_l0', rows: 1, columns: gates, count: 2 * shape.layers, flag: hidden },
    { name: 'weight_ih_l1', rows: gates, columns: shape.hidden, count: shape.layers - 1, flag: hidden },
    { name: 'head.weight', rows: shape.outputs, columns: shape.hidden, count: 1, flag: hidden },
    { name: 'head.bias', rows: 1, columns: shape.outputs, count: 1, flag: hidden },
  ];
  if (shape.embedding) parts.push({ name: 'embedding.weight', rows: shape.embedding.vocab, columns: shape.embedding.dim, count: 1, flag: `--embedding ${shape.embedding.dim}` });
  return parts.filter((part) => part.count > 0);
}

const gigabytes = (bytes: number): string => `${(bytes / 1e9).toFixed(1)} GB`;

/**
 * Throws a usage error naming the flags when the model can not be built here.
 * @param inputFlag what sets the first layer's input size, as a message names it: `--features 3`
 * @param memory bytes the machine has (default: all of its memory)
 */
export function checkModelSize(shape: ModelShape, inputFlag: string, memory = os.totalmem()): void {
  const parts = partsOf(shape, inputFlag);
  for (const part of parts) {
    const elements = part.rows * part.columns;
    if (elements > MAX_DIM) {
      throw new CliError(`${part.flag} is too large: ${part.name} would have ${part.rows} × ${part.columns} = ${BigInt(part.rows) * BigInt(part.columns)} elements, `
        + `more than the ${MAX_DIM} a tensor holds`);
    }
  }
  const parameters = parts.reduce((sum, part) => sum + part.count * part.rows * part.columns, 0);
  const bytes = 16 * parameters;
  if (bytes > memory) {
    const flags = [`--hidden ${shape.hidden}`, `--layers ${shape.layers}`, ...(shape.embedding ? [`--embedding ${shape.embedding.dim}`] : [])];
    throw new CliError(`${flags.join(', ')} make a model of ${parameters} parameters: training it needs at least ${gigabytes(bytes)} `
      + `(weights, gradients and Adam's two moments), more than this machine's ${gigabytes(memory)}; lower --hidden or --layers`);
  }
}
