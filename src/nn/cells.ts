/**
 * Single-step cells (PyTorch `nn.RNNCell` / `nn.LSTMCell` / `nn.GRUCell`): parameters `weight_ih`,
 * `weight_hh`, `bias_ih`, `bias_hh`, one autograd node per call (the sequence kernel with T = 1).
 * @module
 */
import { CELLS, NONLINEARITIES, rnnCell, type CellName, type Nonlinearity } from '../cell-table.js';
import { Tensor } from '../tensor/index.js';
import { checkOptions, choice, describe, isNullish, optionalBool, positiveInt } from '../validate.js';
import { uniform_ } from './init.js';
import { runLayer } from './layer.js';
import { Module, Parameter } from './module.js';
import { expectTensor } from '../tensor/tensor.js';

/** Options of the cells. */
export interface CellOptions {
  /** Use bias_ih / bias_hh (default true). */
  bias?: boolean;
}

/** Shared parameters, init and checks of the three cells. */
export abstract class RNNCellBase extends Module {
  /** Features per input row. */
  readonly inputSize: number;
  /** H: hidden units. */
  readonly hiddenSize: number;
  /** Whether the cell has the biases `bias_ih` and `bias_hh`. */
  readonly bias: boolean;
  /** `[G·H, inputSize]` (G gate blocks: 1 RNN, 4 LSTM, 3 GRU), applied as `x·Wᵀ`. */
  weight_ih: Parameter;
  /** `[G·H, H]`. */
  weight_hh: Parameter;
  /** `[G·H]`, or null without biases. */
  bias_ih: Parameter | null;
  /** `[G·H]`, or null without biases. */
  bias_hh: Parameter | null;

  protected constructor(inputSize: number, hiddenSize: number, opts: Record<string, unknown>, gates: number) {
    super();
    this.inputSize = positiveInt(inputSize, 'inputSize');
    this.hiddenSize = positiveInt(hiddenSize, 'hiddenSize');
    this.bias = optionalBool(opts.bias, 'bias', true);
    const rows = gates * this.hiddenSize;
    this.weight_ih = new Parameter(new Float32Array(rows * this.inputSize), [rows, this.inputSize]);
    this.weight_hh = new Parameter(new Float32Array(rows * this.hiddenSize), [rows, this.hiddenSize]);
    this.bias_ih = this.bias ? new Parameter(new Float32Array(rows)) : null;
    this.bias_hh = this.bias ? new Parameter(new Float32Array(rows)) : null;
    this.resetParameters();
  }

  /** Every parameter U(−1/√H, 1/√H), in registration order (PyTorch's reset_parameters). */
  resetParameters(): void {
    const bound = 1 / Math.sqrt(this.hiddenSize);
    for (const param of this.parameters()) uniform_(param, -bound, bound);
  }

  /** Validates x (`[B, I]` or unbatched `[I]`); returns the batch size and whether x is batched. */
  /** Checks an input `[batch, inputSize]` (or unbatched `[inputSize]`, as batch 1). */
  protected checkInput(x: unknown): {
    /** Rows of the input (1 unbatched). */
    batch: number;
    /** Whether the input had a batch dimension. */
    batched: boolean;
  } {
    expectTensor(x, 'input');
    if (x.ndim !== 1 && x.ndim !== 2) {
      throw new RangeError(`${this.className}: Expected input to be 1-D or 2-D but received ${x.ndim}-D tensor`);
    }
    const got = x.shape[x.ndim - 1];
    if (got !== this.inputSize) throw new RangeError(`input has inconsistent input_size: got ${got} expected ${this.inputSize}`);
    return { batch: x.ndim === 2 ? x.shape[0] : 1, batched: x.ndim === 2 };
  }

  /** Validates a state (`[B, H]` or unbatched `[H]`) with PyTorch's words (`hidden0`, `hidden1`). */
  protected checkState(state: unknown, index: 0 | 1, batch: number, batched: boolean): Tensor {
    const name = index === 0 ? 'hx' : 'cx';
    expectTensor(state, name);
    const want = batched ? 2 : 1;
    if (state.ndim !== want) {
      throw new RangeError(`For ${batched ? 'batched 2-D' : 'unbatched 1-D'} input, ${name} should also be ${want}-D but got ${state.ndim}-D tensor`);
    }
    const stateBatch = batched ? state.shape[0] : 1;
    if (stateBatch !== batch) throw new RangeError(`Input batch size ${batch} doesn't match hidden${index} batch size ${stateBatch}`);
    const size = state.shape[state.ndim - 1];
    if (size !== this.hiddenSize) {
      throw new RangeError(`hidden${index} has inconsistent hidden_size: got ${size}, expected ${this.hiddenSize}`);
    }
    return state;
  }

  /** One step of `cell`; returns h' and (LSTM) c' shaped like the state. */
  protected step(cell: CellName, x: Tensor, hx: Tensor | null, cx: Tensor | null, batch: number, batched: boolean): [Tensor, Tensor | null] {
    const H = this.hiddenSize;
    const stateShape = batched ? [batch, H] : [H];
    const spec = { cell, steps: 1, batch, inputSize: this.inputSize, hiddenSize: H, projSize: 0, reverse: false, lengths: null };
    const params = { weightIh: this.weight_ih, weightHh: this.weight_hh, biasIh: this.bias_ih, biasHh: this.bias_hh, weightHr: null };
    const result = runLayer(spec, params, x, hx, cx, { output: [1, batch, H], hN: stateShape, cN: stateShape }, this.className);
    return [result.hN, result.cN];
  }

  override extraRepr(): string {
    return `${this.inputSize}, ${this.hiddenSize}${this.bias ? '' : ', bias=False'}`;
  }
}

/** `h' = act(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh)`, act tanh (default) or relu. */
export class RNNCell extends RNNCellBase {
  /** `tanh` or `relu`. */
  readonly nonlinearity: Nonlinearity;

  constructor(inputSize: number, hiddenSize: number, options: CellOptions & { nonlinearity?: Nonlinearity } = {}) {
    const opts = checkOptions(options, 'RNNCell', ['bias', 'nonlinearity']);
    const nonlinearity = choice(opts.nonlinearity ?? 'tanh', 'nonlinearity', NONLINEARITIES);
    super(inputSize, hiddenSize, opts, CELLS[rnnCell(nonlinearity)].gates);
    this.nonlinearity = nonlinearity;
  }

  /** x `[B, I]` (or `[I]`), hx `[B, H]` (or `[H]`, default zeros) → h' like hx. */
  forward(x: Tensor, hx?: Tensor | null): Tensor {
    const { batch, batched } = this.checkInput(x);
    const h = isNullish(hx) ? null : this.checkState(hx, 0, batch, batched);
    return this.step(rnnCell(this.nonlinearity), x, h, null, batch, batched)[0];
  }

  override extraRepr(): string {
    return super.extraRepr() + (this.nonlinearity === 'tanh' ? '' : `, nonlinearity=${this.nonlinearity}`);
  }
}

/** One LSTM step (gates i, f, g, o): `forward(x, [h, c]?)` → `[h', c']`. */
export class LSTMCell extends RNNCellBase {
  constructor(inputSize: number, hiddenSize: number, options: CellOptions = {}) {
    super(inputSize, hiddenSize, checkOptions(options, 'LSTMCell', ['bias']), CELLS.lstm.gates);
  }

  /** x `[B, I]` (or `[I]`), hx `[h [B, H], c [B, H]]` (default zeros) → `[h', c']`. */
  forward(x: Tensor, hx?: readonly [Tensor, Tensor] | null): [Tensor, Tensor] {
    const { batch, batched } = this.checkInput(x);
    let h: Tensor | null = null, c: Tensor | null = null;
    if (!isNullish(hx)) {
      if (!Array.isArray(hx) || hx.length !== 2) {
        throw new TypeError(`Expected [h, c] (an Array of two Tensors) for hx but received ${describe(hx)}`);
      }
      h = this.checkState(hx[0], 0, batch, batched);
      c = this.checkState(hx[1], 1, batch, batched);
    }
    const [hNext, cNext] = this.step('lstm', x, h, c, batch, batched);
    return [hNext, cNext as Tensor];
  }
}

/** One GRU step (gates r, z, n): `forward(x, h?)` → h'. */
export class GRUCell extends RNNCellBase {
  constructor(inputSize: number, hiddenSize: number, options: CellOptions = {}) {
    super(inputSize, hiddenSize, checkOptions(options, 'GRUCell', ['bias']), CELLS.gru.gates);
  }

  /** x `[B, I]` (or `[I]`), hx `[B, H]` (or `[H]`, default zeros) → h'. */
  forward(x: Tensor, hx?: Tensor | null): Tensor {
    const { batch, batched } = this.checkInput(x);
    const h = isNullish(hx) ? null : this.checkState(hx, 0, batch, batched);
    return this.step('gru', x, h, null, batch, batched)[0];
  }
}
