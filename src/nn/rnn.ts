/**
 * RNN, LSTM and GRU modules (PyTorch `nn.RNN` / `nn.LSTM` / `nn.GRU`): stacked, optionally
 * bidirectional, with PyTorch's parameter names, shapes, init, returns and error messages.
 *
 * Each layer-direction runs as one fused native kernel call and is one autograd node
 * (src/nn/layer.ts); between layers the directions are concatenated on features and, in training
 * mode, dropout is applied. The kernels are time-major: `batchFirst` input/output is transposed
 * in JS. Variable-length batches: `forward(x, hx, { lengths })` or a {@link PackedSequence}.
 *
 * Variational dropout (Gal & Ghahramani 2016; Keras' `dropout` / `recurrent_dropout`): with
 * `inputDropout` / `recurrentDropout`, each layer-direction draws, per forward call in training
 * mode, one mask per sequence for its input `[B, I]` and one for its recurrent state `[B, S]`,
 * and the fused kernels apply the same masks at every step (forward and backward).
 * @module
 */
import {
  CELL_OF_MODE, CELLS, LAYER_PARAMETERS, layerSuffix, NONLINEARITIES, rnnCell, type LayerParameterStem, type Nonlinearity,
  type RNNMode,
} from '../cell-table.js';
import type { PreparedLayer } from '../sequence.js';
import {
  cat, dropout as applyDropout, reshape, select, shapeSize, stack, Tensor as TensorClass, transpose, type Tensor,
} from '../tensor/index.js';
import {
  checkOptions, choice, describe, intList, isNullish, MAX_DIM, optionalBool, optionalIntInRange, positiveInt,
} from '../validate.js';
import { dropoutMask } from '../tensor/activation.js';
import { uniform_ } from './init.js';
import { packedLayer, layerCall, type LayerCall, type LayerParams, type LayerResult } from './layer.js';
import { isGradEnabled } from '../tensor/autograd.js';
import { Module, Parameter } from './module.js';
import { PackedSequence, type Lengths } from './packed.js';
import { RecurrentStream, layerViews, stepLayers, type StreamOptions } from './stream.js';
import { expectTensor } from '../tensor/tensor.js';

export type { RNNMode } from '../cell-table.js';

/** Options shared by RNN, LSTM and GRU (PyTorch's keyword arguments, camelCase). */
export interface RNNBaseOptions {
  /** Stacked layers (default 1). */
  numLayers?: number;
  /** Use bias_ih / bias_hh (default true). */
  bias?: boolean;
  /** Input and output are `[B, T, *]` instead of `[T, B, *]` (states are not affected). Default false. */
  batchFirst?: boolean;
  /** Dropout probability on the outputs of every layer but the last, in training mode (default 0). */
  dropout?: number;
  /** Add a reverse direction; outputs concatenate [forward, reverse] on features (default false). */
  bidirectional?: boolean;
  /**
   * Variational input dropout (default 0): in training mode each layer-direction zeroes input
   * features with this probability (scaling the rest by 1/(1−p)) with ONE mask per sequence, the
   * same at every time step (Keras' `dropout`; PyTorch's `dropout` above is a fresh mask per element
   * between layers). Layers after the first read the previous layer's output through their own mask.
   */
  inputDropout?: number;
  /**
   * Variational recurrent dropout (default 0; Keras' `recurrent_dropout`): in training mode
   * `h_{t−1}` enters `W_hh` as `h_{t−1} ⊙ m` with one mask `m [B, S]` per sequence, layer and
   * direction, the same at every step; the state itself, the output and `hN` are not masked. Off
   * in eval mode; streams and `step` (inference) ignore both variational options.
   */
  recurrentDropout?: number;
}

/** Options of {@link RNN}. */
export interface RNNOptions extends RNNBaseOptions {
  /** `tanh` (default) or `relu`. */
  nonlinearity?: Nonlinearity;
}

/** Options of {@link LSTM}. */
export interface LSTMOptions extends RNNBaseOptions {
  /** Project h to this size with `weight_hr` (0 = none, default; must be < hiddenSize). */
  projSize?: number;
}

/** Options of a forward call. */
export interface RecurrentForwardOptions {
  /**
   * Valid steps per batch item (each in [0, T]) for a padded batch: PyTorch's packed-sequence
   * semantics without packing — past its length an item's state stops changing, its output is zero,
   * and the reverse direction starts at the item's own last step. The output keeps all T steps
   * (like `pad_packed_sequence(..., total_length=T)`). A length of 0 is allowed (hN = h0).
   */
  lengths?: Lengths | null;
}

const BASE_OPTION_KEYS = ['numLayers', 'bias', 'batchFirst', 'dropout', 'bidirectional', 'inputDropout', 'recurrentDropout'] as const;

function checkDropout(value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    const message = 'dropout should be a number in range [0, 1] representing the probability of an element being zeroed';
    throw typeof value === 'number' ? new RangeError(message) : new TypeError(message);
  }
  return value;
}

function probability(value: unknown, name: string): number {
  if (value === undefined) return 0;
  if (typeof value === 'number' && value >= 0 && value <= 1) return value;
  const message = `Expected number between 0 and 1 for ${name} but received ${describe(value)}`;
  throw typeof value === 'number' ? new RangeError(message) : new TypeError(message);
}

function checkProjSize(value: unknown, hiddenSize: number): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`Expected integer for projSize but received ${describe(value)}`);
  }
  if (value < 0) throw new RangeError('proj_size should be a positive integer or zero to disable projections');
  if (value >= hiddenSize) throw new RangeError('proj_size has to be smaller than hidden_size');
  return value;
}

const tuple = (shape: readonly number[]): string => `(${shape.join(', ')})`;
const list = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/** What the layer stack returns before the public shapes are applied. */
interface StackResult {
  output: Tensor | PackedSequence;
  hN: Tensor;
  cN: Tensor | null;
}

/** The input after validation: time-major tensor data and sizes. */
interface CheckedInput {
  timeMajor: Tensor;
  steps: number;
  batch: number;
  batched: boolean;
  packed: boolean;
  lengths: Int32Array | null;
}

/** Shared machinery of RNN, LSTM and GRU. */
export abstract class RNNBase extends Module {
  /** PyTorch's mode name: `RNN_TANH`, `RNN_RELU`, `LSTM` or `GRU`. */
  readonly mode: RNNMode;
  /** Features per time step of the input. */
  readonly inputSize: number;
  /** H: hidden units per layer and direction. */
  readonly hiddenSize: number;
  /** Stacked layers. */
  readonly numLayers: number;
  /** Whether the layers have the biases `bias_ih_l{k}` and `bias_hh_l{k}`. */
  readonly bias: boolean;
  /**
   * Whether input and output are `[batch, steps, features]` instead of `[steps, batch, features]` (the states
   * are not affected).
   */
  readonly batchFirst: boolean;
  /** Dropout probability on the outputs of every layer but the last, in training mode. */
  readonly dropout: number;
  /** Whether each layer also runs the sequence in reverse, its output concatenated to the forward one's. */
  readonly bidirectional: boolean;
  /** Variational dropout on each layer's input (one mask per sequence; see {@link RNNBaseOptions}). */
  readonly inputDropout: number;
  /** Variational dropout on h where W_hh reads it (one mask per sequence; see {@link RNNBaseOptions}). */
  readonly recurrentDropout: number;
  /** 0 except for a projected LSTM. */
  readonly projSize: number;

  protected constructor(mode: RNNMode, inputSize: number, hiddenSize: number, opts: Record<string, unknown>) {
    super();
    this.mode = mode;
    this.inputSize = positiveInt(inputSize, 'inputSize');
    this.hiddenSize = positiveInt(hiddenSize, 'hiddenSize');
    this.numLayers = optionalIntInRange(opts.numLayers, 'numLayers', 1, MAX_DIM, 1);
    this.bias = optionalBool(opts.bias, 'bias', true);
    this.batchFirst = optionalBool(opts.batchFirst, 'batchFirst', false);
    this.dropout = checkDropout(opts.dropout);
    this.bidirectional = optionalBool(opts.bidirectional, 'bidirectional', false);
    this.inputDropout = probability(opts.inputDropout, 'inputDropout');
    this.recurrentDropout = probability(opts.recurrentDropout, 'recurrentDropout');
    this.projSize = checkProjSize(opts.projSize, this.hiddenSize);
    if (this.dropout > 0 && this.numLayers === 1) {
      process.emitWarning('dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects '
        + `num_layers greater than 1, but got dropout=${this.dropout} and num_layers=${this.numLayers}`, 'UserWarning');
    }
    this.registerLayerParameters();
    this.resetParameters();
  }

  /** 2 when bidirectional, else 1. */
  get numDirections(): number {
    return this.bidirectional ? 2 : 1;
  }

  /** S: the width of h (projSize when projecting, else hiddenSize). */
  get stateSize(): number {
    return this.projSize > 0 ? this.projSize : this.hiddenSize;
  }

  /** Parameter names of layer k, direction d, in PyTorch's order (weight_ih, weight_hh, bias_ih, bias_hh, weight_hr). */
  layerParameterNames(layer: number, direction: number): string[] {
    const suffix = layerSuffix(layer, direction);
    return this.layerStems().map((stem) => stem + suffix);
  }

  // The parameters every layer has, in PyTorch's order: biases with `bias`, weight_hr with a projection.
  private layerStems(): LayerParameterStem[] {
    return LAYER_PARAMETERS.map(({ stem }) => stem)
      .filter((stem) => (stem === 'bias_ih' || stem === 'bias_hh' ? this.bias : stem !== 'weight_hr' || this.projSize > 0));
  }

  // PyTorch's registration order: layer by layer, forward direction first.
  private registerLayerParameters(): void {
    const gateRows = CELLS[CELL_OF_MODE[this.mode]].gates * this.hiddenSize;
    const S = this.stateSize;
    for (let layer = 0; layer < this.numLayers; layer++) {
      for (let direction = 0; direction < this.numDirections; direction++) {
        const layerInput = layer === 0 ? this.inputSize : S * this.numDirections;
        const shapes: Record<LayerParameterStem, number[]> = {
          weight_ih: [gateRows, layerInput], weight_hh: [gateRows, S], bias_ih: [gateRows], bias_hh: [gateRows],
          weight_hr: [this.projSize, this.hiddenSize],
        };
        const suffix = layerSuffix(layer, direction);
        for (const stem of this.layerStems()) {
          const shape = shapes[stem];
          this.registerParameter(stem + suffix, new Parameter(new Float32Array(shapeSize(shape)), shape));
        }
      }
    }
  }

  /** The parameters per layer-direction (PyTorch `all_weights`). */
  get allWeights(): Parameter[][] {
    const result: Parameter[][] = [];
    for (let layer = 0; layer < this.numLayers; layer++) {
      for (let direction = 0; direction < this.numDirections; direction++) {
        result.push(this.layerParameterNames(layer, direction).map((name) => this.parameterNamed(name)));
      }
    }
    return result;
  }

  private parameterNamed(name: string): Parameter {
    const value = (this as unknown as Record<string, unknown>)[name];
    if (!(value instanceof Parameter)) throw new Error(`${this.className} has no parameter ${name}`);
    return value;
  }

  /**
   * Each layer's weights packed for one-step inference ({@link stream}, `step`): packed on first
   * use, again when a parameter changed (`_version`) or was replaced, or `setIsa` was called.
   * @throws RangeError for a bidirectional module (its reverse direction needs the whole sequence).
   * @internal
   */
  preparedLayers(): PreparedLayer[] {
    if (this.bidirectional) {
      throw new RangeError(`${this.className} streaming runs one direction: the reverse direction of a bidirectional layer needs the whole sequence (use forward)`);
    }
    const layers: PreparedLayer[] = []; // a plain loop: this runs on every stream step
    for (let layer = 0; layer < this.numLayers; layer++) {
      const sizes = { cell: CELL_OF_MODE[this.mode], inputSize: layer === 0 ? this.inputSize : this.stateSize, hiddenSize: this.hiddenSize, projSize: this.projSize };
      layers.push(packedLayer(sizes, this.layerParams(layer, 0)));
    }
    return layers;
  }

  /**
   * A {@link RecurrentStream}: this module's state for `batchSize` sequences (default 1), advanced
   * one time step per `step(x)` — online prediction with packed weights, no autograd.
   */
  stream(options?: StreamOptions): RecurrentStream {
    return new RecurrentStream(this, options);
  }

  /**
   * One time step of the whole stack on validated input: returns the output `[B, S]` (or `[S]`
   * unbatched) and the new states in the public shapes.
   * @internal
   */
  protected stepStack(input: unknown, h0: unknown, c0: unknown, hasState: boolean): { output: Tensor; hN: Tensor; cN: Tensor | null } {
    const layers = this.preparedLayers();
    expectTensor(input, 'input');
    if (input.ndim !== 1 && input.ndim !== 2) {
      throw new RangeError(`${this.className}.step: Expected input to be 1-D or 2-D but received ${input.ndim}-D tensor`);
    }
    this.checkInputSize(input);
    const batched = input.ndim === 2;
    const batch = batched ? input.shape[0] : 1;
    const checked: CheckedInput = { timeMajor: input, steps: 1, batch, batched, packed: false, lengths: null };
    const L = this.numLayers, S = this.stateSize, H = this.hiddenSize;
    const lstm = this.mode === 'LSTM';
    const h = new Float32Array(L * batch * S);
    const c = lstm ? new Float32Array(L * batch * H) : null;
    if (hasState) {
      const message = lstm ? 'Expected hidden[{which}] size {expected}, got {got}' : 'Expected hidden size {expected}, got {got}';
      h.set(this.checkStepState(h0, 'h', checked, message.replace('{which}', '0')).data);
      if (c) c.set(this.checkStepState(c0, 'c', checked, message.replace('{which}', '1')).data);
    }
    const y = stepLayers(layers, batch, input.data, layerViews(h, L), c ? layerViews(c, L) : null).slice();
    const stateShape = (width: number): number[] => (batched ? [L, batch, width] : [L, width]);
    return {
      output: new TensorClass(y, batched ? [batch, S] : [S]),
      hN: new TensorClass(h, stateShape(S)),
      cN: c ? new TensorClass(c, stateShape(H)) : null,
    };
  }

  private checkStepState(state: unknown, which: 'h' | 'c', checked: CheckedInput, message: string): Tensor {
    const want = checked.batched ? 3 : 2;
    if (state instanceof TensorClass && state.ndim !== want) {
      const kind = checked.batched ? 'batched 2-D' : 'unbatched 1-D';
      throw new RangeError(`For ${kind} input to step, ${which}x should be ${want}-D but got ${state.ndim}-D tensor`);
    }
    return this.checkState(state, which, checked, message);
  }

  /** Every parameter U(−1/√H, 1/√H), drawn in registration order (PyTorch's reset_parameters). */
  resetParameters(): void {
    const bound = 1 / Math.sqrt(this.hiddenSize);
    for (const param of this.parameters()) uniform_(param, -bound, bound);
  }

  private layerParams(layer: number, direction: number): LayerParams {
    // Property names made once per layer-direction: streams look the parameters up every step.
    const names = (this.layerParamNames[layer * 2 + direction] ??= Object.fromEntries(
      LAYER_PARAMETERS.map(({ stem, key }) => [key, stem + layerSuffix(layer, direction)])) as Record<keyof LayerParams, string>);
    const self = this as unknown as Record<string, unknown>;
    const get = (name: string): Parameter | null => (self[name] instanceof Parameter ? self[name] as Parameter : null);
    return {
      weightIh: this.parameterNamed(names.weightIh), weightHh: this.parameterNamed(names.weightHh),
      biasIh: get(names.biasIh), biasHh: get(names.biasHh), weightHr: get(names.weightHr),
    };
  }

  private readonly layerParamNames: Array<Record<keyof LayerParams, string>> = [];

  /**
   * Validates the input (PyTorch's checks and words) and makes it time-major.
   * @internal
   */
  protected checkInput(input: unknown, options: RecurrentForwardOptions | undefined): CheckedInput {
    if (input instanceof PackedSequence) {
      if (!isNullish(options?.lengths)) throw new TypeError('Expected no lengths option for a PackedSequence input (it carries its lengths)');
      const padded = input.padded;
      if (padded.ndim !== 3) throw new RangeError(`input must have 3 dimensions, got ${padded.ndim}`);
      this.checkInputSize(padded);
      return { timeMajor: padded, steps: padded.shape[0], batch: padded.shape[1], batched: true, packed: true, lengths: input.lengths };
    }
    if (!(input instanceof TensorClass)) throw new TypeError(`Expected Tensor or PackedSequence for input but received ${describe(input)}`);
    if (input.ndim !== 2 && input.ndim !== 3) {
      throw new RangeError(`${this.className}: Expected input to be 2-D or 3-D but received ${input.ndim}-D tensor`);
    }
    const batched = input.ndim === 3;
    this.checkInputSize(input);
    const [steps, batch] = !batched ? [input.shape[0], 1] : this.batchFirst ? [input.shape[1], input.shape[0]] : [input.shape[0], input.shape[1]];
    const timeMajor = batched && this.batchFirst ? transpose(input, 0, 1) : input;
    const raw = options?.lengths;
    const lengths = isNullish(raw) ? null
      : intList(raw instanceof TensorClass ? Array.from(raw.data) : raw, 'lengths', batch, 'batch', 0, steps);
    return { timeMajor, steps, batch, batched, packed: false, lengths };
  }

  private checkInputSize(input: Tensor): void {
    const got = input.shape[input.ndim - 1];
    if (got !== this.inputSize) {
      throw new RangeError(`input.size(-1) must be equal to inputSize. Expected ${this.inputSize}, got ${got}`);
    }
  }

  /**
   * Checks a given initial state: its rank (`For batched 3-D input, hx should also be 3-D …`) and
   * shape (`Expected hidden size (2, 3, 20), got [1, 3, 20]`); unbatched states are compared as
   * PyTorch does, after inserting the batch axis.
   * @internal
   */
  protected checkState(state: unknown, which: 'h' | 'c', checked: CheckedInput, message: string): Tensor {
    expectTensor(state, which === 'h' ? 'hx' : 'cx');
    const width = which === 'c' ? this.hiddenSize : this.stateSize;
    const expected = [this.numLayers * this.numDirections, checked.batch, width];
    const got = checked.batched ? state.shape : [state.shape[0], 1, ...state.shape.slice(1)];
    if (got.length !== 3 || got.some((d, i) => d !== expected[i])) {
      throw new RangeError(message.replace('{expected}', tuple(expected)).replace('{got}', list(got)));
    }
    return state;
  }

  /** @internal The rank check for RNN/GRU's hx (LSTM words it for the pair). */
  protected checkStateRank(state: unknown, batched: boolean): void {
    if (!(state instanceof TensorClass)) return;
    const want = batched ? 3 : 2;
    if (state.ndim !== want) {
      throw new RangeError(`For ${batched ? 'batched 3-D' : 'unbatched 2-D'} input, hx should also be ${want}-D but got ${state.ndim}-D tensor`);
    }
  }

  /**
   * The whole stack on validated input and states (null = zeros), as a generator that yields each
   * layer-direction's kernel call and receives its result, so one loop serves the synchronous
   * `forward` and the thread-pool `forwardAsync` ({@link runSync} / {@link runAsync}).
   * @internal
   */
  protected *stackSteps(checked: CheckedInput, h0: Tensor | null, c0: Tensor | null): Generator<LayerCall, StackResult, LayerResult> {
    const { steps, batch, lengths } = checked;
    const S = this.stateSize, H = this.hiddenSize, D = this.numDirections;
    const shapes = { output: [steps, batch, S], hN: [batch, S], cN: [batch, H] };
    const recording = isGradEnabled(); // fixed for the whole call, even across awaits
    let layerInput = checked.timeMajor;
    const finalH: Tensor[] = [];
    const finalC: Tensor[] = [];
    for (let layer = 0; layer < this.numLayers; layer++) {
      const outputs: Tensor[] = [];
      for (let direction = 0; direction < D; direction++) {
        const index = layer * D + direction;
        const inputSize = layer === 0 ? this.inputSize : S * D;
        const spec = {
          cell: CELL_OF_MODE[this.mode], steps, batch, inputSize, hiddenSize: H, projSize: this.projSize, reverse: direction === 1, lengths,
          ...this.variationalMasks(batch, inputSize),
        };
        const result: LayerResult = yield layerCall(spec, this.layerParams(layer, direction), layerInput,
          h0 ? select(h0, 0, index) : null, c0 ? select(c0, 0, index) : null,
          shapes, this.mode + layerSuffix(layer, direction), recording);
        outputs.push(result.output);
        finalH.push(result.hN);
        if (result.cN) finalC.push(result.cN);
      }
      layerInput = D === 2 ? cat(outputs, 2) : outputs[0];
      if (this.training && this.dropout > 0 && layer < this.numLayers - 1) layerInput = applyDropout(layerInput, this.dropout, true);
    }
    return this.publicShapes(checked, layerInput, stack(finalH, 0), finalC.length > 0 ? stack(finalC, 0) : null);
  }

  /**
   * One layer-direction's variational dropout masks for a batch (training mode only): `[B, I]` then
   * `[B, S]`, drawn from the global RNG in that order (each as {@link dropoutMask}), so a seed — or
   * a checkpoint's saved RNG state — gives the same masks.
   */
  private variationalMasks(batch: number, inputSize: number): { inputMask: Float32Array | null; recurrentMask: Float32Array | null } {
    if (!this.training) return { inputMask: null, recurrentMask: null };
    return {
      inputMask: this.inputDropout > 0 ? dropoutMask(batch * inputSize, this.inputDropout) : null,
      recurrentMask: this.recurrentDropout > 0 ? dropoutMask(batch * this.stateSize, this.recurrentDropout) : null,
    };
  }

  // Time-major [T, B, D·S] → batchFirst / unbatched / packed forms; states [D·L, B, *] or [D·L, *].
  private publicShapes(checked: CheckedInput, output: Tensor, hN: Tensor, cN: Tensor | null): StackResult {
    if (checked.packed) return { output: new PackedSequence(output, checked.lengths as Int32Array), hN, cN };
    if (!checked.batched) {
      const unbatch = (t: Tensor): Tensor => reshape(t, [t.shape[0], t.shape[2]]);
      return { output: unbatch(output), hN: unbatch(hN), cN: cN ? unbatch(cN) : null };
    }
    return { output: this.batchFirst ? transpose(output, 0, 1) : output, hN, cN };
  }

  /**
   * RNN and GRU: one state tensor.
   * @internal
   */
  protected hiddenOnlySteps(input: Tensor | PackedSequence, hx: Tensor | null | undefined,
    options: RecurrentForwardOptions | undefined): Generator<LayerCall, StackResult, LayerResult> {
    const checked = this.checkInput(input, options);
    let h0: Tensor | null = null;
    if (!isNullish(hx)) {
      if (!checked.packed) this.checkStateRank(hx, checked.batched);
      h0 = this.checkState(hx, 'h', checked, 'Expected hidden size {expected}, got {got}');
    }
    return this.stackSteps(checked, h0, null);
  }

  override extraRepr(): string {
    let s = `${this.inputSize}, ${this.hiddenSize}`;
    if (this.projSize !== 0) s += `, proj_size=${this.projSize}`;
    if (this.numLayers !== 1) s += `, num_layers=${this.numLayers}`;
    if (!this.bias) s += ', bias=False';
    if (this.batchFirst) s += ', batch_first=True';
    if (this.dropout !== 0) s += `, dropout=${this.dropout}`;
    if (this.bidirectional) s += ', bidirectional=True';
    if (this.inputDropout !== 0) s += `, input_dropout=${this.inputDropout}`;
    if (this.recurrentDropout !== 0) s += `, recurrent_dropout=${this.recurrentDropout}`;
    return s;
  }
}

/** Runs the stack's kernel calls on this thread. */
function runSync(steps: Generator<LayerCall, StackResult, LayerResult>): StackResult {
  let next = steps.next();
  while (!next.done) next = steps.next(next.value.run());
  return next.value;
}

/** Runs the stack's kernel calls on the libuv thread pool, one after another. */
async function runAsync(steps: Generator<LayerCall, StackResult, LayerResult>): Promise<StackResult> {
  let next = steps.next();
  while (!next.done) next = steps.next(await next.value.runAsync());
  return next.value;
}

/** Rejects projSize for RNN/GRU with PyTorch's message. */
function rejectProjSize(opts: Record<string, unknown>): void {
  if ('projSize' in opts) throw new TypeError('proj_size argument is only supported for LSTM, not RNN or GRU');
}

/** RNN and GRU: one state tensor, `forward(x, h0?)` → `[output, hN]`. */
export abstract class SingleStateRNN extends RNNBase {
  /**
   * @param input `[T, B, inputSize]` (`[B, T, inputSize]` with batchFirst), unbatched `[T, inputSize]`, or a PackedSequence.
   * @param hx `[D·numLayers, B, hiddenSize]` (unbatched `[D·numLayers, hiddenSize]`), default zeros.
   * @returns `[output [T, B, D·hiddenSize], hN [D·numLayers, B, hiddenSize]]`.
   */
  forward(input: Tensor, hx?: Tensor | null, options?: RecurrentForwardOptions): [Tensor, Tensor];
  forward(input: PackedSequence, hx?: Tensor | null): [PackedSequence, Tensor];
  forward(input: Tensor | PackedSequence, hx?: Tensor | null, options?: RecurrentForwardOptions): [Tensor | PackedSequence, Tensor] {
    const { output, hN } = runSync(this.hiddenOnlySteps(input, hx, options));
    return [output, hN];
  }

  /**
   * {@link forward} with each layer's kernel on the libuv thread pool (the event loop stays free).
   * Inputs and parameters must not change until the promise settles; `loss.backwardAsync()` runs the
   * backward on the pool too.
   */
  forwardAsync(input: Tensor, hx?: Tensor | null, options?: RecurrentForwardOptions): Promise<[Tensor, Tensor]>;
  forwardAsync(input: PackedSequence, hx?: Tensor | null): Promise<[PackedSequence, Tensor]>;
  async forwardAsync(input: Tensor | PackedSequence, hx?: Tensor | null, options?: RecurrentForwardOptions): Promise<[Tensor | PackedSequence, Tensor]> {
    const { output, hN } = await runAsync(this.hiddenOnlySteps(input, hx, options));
    return [output, hN];
  }

  /**
   * One time step (streaming inference; see {@link stream} to keep the state for you): what
   * `forward` gives for a one-step sequence, with weights packed once and no autograd.
   * @param input `[B, inputSize]`, or unbatched `[inputSize]`.
   * @param hx `[numLayers, B, hiddenSize]` (unbatched `[numLayers, hiddenSize]`), default zeros.
   * @returns `[output [B, hiddenSize], hN [numLayers, B, hiddenSize]]` (unbatched without B).
   */
  step(input: Tensor, hx?: Tensor | null): [Tensor, Tensor] {
    const { output, hN } = this.stepStack(input, hx, null, !isNullish(hx));
    return [output, hN];
  }
}

/**
 * Elman RNN: `h_t = act(x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh)`, act tanh (default) or relu.
 * `forward(x, h0?)` → `[output, hN]`.
 */
export class RNN extends SingleStateRNN {
  /** `tanh` (default) or `relu`. */
  readonly nonlinearity: Nonlinearity;

  constructor(inputSize: number, hiddenSize: number, options: RNNOptions = {}) {
    const opts = checkOptions(options, 'RNN', [...BASE_OPTION_KEYS, 'nonlinearity', 'projSize']);
    rejectProjSize(opts);
    const nonlinearity = choice(opts.nonlinearity ?? 'tanh', 'nonlinearity', NONLINEARITIES);
    super(CELLS[rnnCell(nonlinearity)].mode, inputSize, hiddenSize, opts);
    this.nonlinearity = nonlinearity;
  }
}

/** Gated recurrent unit (gates r, z, n; `b_hn` inside `r ⊙ (…)`). `forward(x, h0?)` → `[output, hN]`. */
export class GRU extends SingleStateRNN {
  constructor(inputSize: number, hiddenSize: number, options: RNNBaseOptions = {}) {
    const opts = checkOptions(options, 'GRU', [...BASE_OPTION_KEYS, 'projSize']);
    rejectProjSize(opts);
    super('GRU', inputSize, hiddenSize, opts);
  }
}

/**
 * Long short-term memory (gates i, f, g, o), optionally projected (`projSize`).
 * `forward(x, [h0, c0]?)` → `[output, [hN, cN]]`.
 */
export class LSTM extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, options: LSTMOptions = {}) {
    super('LSTM', inputSize, hiddenSize, checkOptions(options, 'LSTM', [...BASE_OPTION_KEYS, 'projSize']));
  }

  /**
   * @param input `[T, B, inputSize]` (`[B, T, inputSize]` with batchFirst), unbatched `[T, inputSize]`, or a PackedSequence.
   * @param hx `[h0 [D·numLayers, B, S], c0 [D·numLayers, B, hiddenSize]]` (S = projSize || hiddenSize;
   *   unbatched without B), default zeros.
   * @returns `[output [T, B, D·S], [hN, cN]]`.
   */
  forward(input: Tensor, hx?: readonly [Tensor, Tensor] | null, options?: RecurrentForwardOptions): [Tensor, [Tensor, Tensor]];
  forward(input: PackedSequence, hx?: readonly [Tensor, Tensor] | null): [PackedSequence, [Tensor, Tensor]];
  forward(input: Tensor | PackedSequence, hx?: readonly [Tensor, Tensor] | null,
    options?: RecurrentForwardOptions): [Tensor | PackedSequence, [Tensor, Tensor]] {
    const { output, hN, cN } = runSync(this.lstmSteps(input, hx, options));
    return [output, [hN, cN as Tensor]];
  }

  /**
   * {@link forward} with each layer's kernel on the libuv thread pool (the event loop stays free).
   * Inputs and parameters must not change until the promise settles; `loss.backwardAsync()` runs the
   * backward on the pool too.
   */
  forwardAsync(input: Tensor, hx?: readonly [Tensor, Tensor] | null, options?: RecurrentForwardOptions): Promise<[Tensor, [Tensor, Tensor]]>;
  forwardAsync(input: PackedSequence, hx?: readonly [Tensor, Tensor] | null): Promise<[PackedSequence, [Tensor, Tensor]]>;
  async forwardAsync(input: Tensor | PackedSequence, hx?: readonly [Tensor, Tensor] | null,
    options?: RecurrentForwardOptions): Promise<[Tensor | PackedSequence, [Tensor, Tensor]]> {
    const { output, hN, cN } = await runAsync(this.lstmSteps(input, hx, options));
    return [output, [hN, cN as Tensor]];
  }

  /**
   * One time step (streaming inference; see {@link stream} to keep the state for you): what
   * `forward` gives for a one-step sequence, with weights packed once and no autograd.
   * @param input `[B, inputSize]`, or unbatched `[inputSize]`.
   * @param hx `[h0 [numLayers, B, S], c0 [numLayers, B, hiddenSize]]` (unbatched without B), default zeros.
   * @returns `[output [B, S], [hN, cN]]` (S = projSize || hiddenSize).
   */
  step(input: Tensor, hx?: readonly [Tensor, Tensor] | null): [Tensor, [Tensor, Tensor]] {
    if (!isNullish(hx) && (!Array.isArray(hx) || hx.length !== 2)) {
      throw new TypeError(`Expected [h0, c0] (an Array of two Tensors) for hx but received ${describe(hx)}`);
    }
    const { output, hN, cN } = this.stepStack(input, hx?.[0], hx?.[1], !isNullish(hx));
    return [output, [hN, cN as Tensor]];
  }

  // Validates input and (h0, c0) with PyTorch's checks, then the stack's steps.
  private lstmSteps(input: Tensor | PackedSequence, hx: readonly [Tensor, Tensor] | null | undefined,
    options: RecurrentForwardOptions | undefined): Generator<LayerCall, StackResult, LayerResult> {
    const checked = this.checkInput(input, options);
    let h0: Tensor | null = null, c0: Tensor | null = null;
    if (!isNullish(hx)) {
      if (!Array.isArray(hx) || hx.length !== 2) {
        throw new TypeError(`Expected [h0, c0] (an Array of two Tensors) for hx but received ${describe(hx)}`);
      }
      const [h, c] = hx as unknown[];
      if (!checked.packed && h instanceof TensorClass && c instanceof TensorClass) {
        const want = checked.batched ? 3 : 2;
        if (h.ndim !== want || c.ndim !== want) {
          const kind = checked.batched ? 'batched 3-D' : 'unbatched 2-D';
          throw new RangeError(`For ${kind} input, hx and cx should also be ${want}-D but got (${h.ndim}-D, ${c.ndim}-D) tensors`);
        }
      }
      h0 = this.checkState(h, 'h', checked, 'Expected hidden[0] size {expected}, got {got}');
      c0 = this.checkState(c, 'c', checked, 'Expected hidden[1] size {expected}, got {got}');
    }
    return this.stackSteps(checked, h0, c0);
  }
}
