/**
 * Streaming inference for RNN / LSTM / GRU modules: one time step per call with the state carried
 * between calls (online prediction, sampling, serving many sessions at once as one batch).
 *
 * Each layer's weights are packed once for the kernels ({@link PreparedLayer}) and packed again
 * only when a parameter changed (its `_version`: optimizer steps, `loadStateDict`, `nn.init`), was
 * replaced, or the ISA changed. A step gives the numbers the module's `forward` gives at that time
 * step, bit for bit. No autograd (outputs do not require grad) and no dropout: train with `forward`.
 * @module
 */
import type { PreparedLayer } from '../sequence.js';
import { expectTensor, Tensor } from '../tensor/tensor.js';
import { checkOptions, describe, intInRange, positiveInt } from '../validate.js';

/** What a stream needs of its module (RNNBase implements it). */
export interface StreamableModule {
  /** The module's class name, for messages. */
  readonly className: string;
  /** Features per step of the input. */
  readonly inputSize: number;
  /** H: hidden units per layer. */
  readonly hiddenSize: number;
  /** Stacked layers. */
  readonly numLayers: number;
  /** S: the width of h (projSize when projecting, else hiddenSize). */
  readonly stateSize: number;
  /** PyTorch's mode name (`LSTM`: the stream carries c too). */
  readonly mode: string;
  /** One packed layer per stacked layer, current with the parameters. */
  preparedLayers(): PreparedLayer[];
}

/** Options of {@link RecurrentStream}. */
export interface StreamOptions {
  /** Independent sequences stepped together (each with its own state). Default 1. */
  batchSize?: number;
}

/** A stack's state `[L, B, W]` as one view per layer (made once: `subarray` is not free per step). */
export function layerViews(state: Float32Array, layers: number): Float32Array[] {
  const width = state.length / layers;
  const views: Float32Array[] = []; // a plain loop: `step()` calls this every step
  for (let l = 0; l < layers; l++) views.push(state.subarray(l * width, (l + 1) * width));
  return views;
}

/**
 * One time step of every layer, in place: `h[l] [B, S]` and `c[l] [B, H]` (LSTM; else null) are
 * layer l's state before and after. Returns the last layer's new h (`h[L − 1]` itself).
 */
export function stepLayers(layers: PreparedLayer[], batch: number, x: Float32Array, h: Float32Array[],
  c: Float32Array[] | null): Float32Array {
  let input = x;
  for (let l = 0; l < layers.length; l++) {
    layers[l].step(batch, input, h[l], c ? c[l] : null);
    input = h[l]; // one step without lengths: the output is the new h
  }
  return input;
}

/**
 * A module's recurrent state for `batchSize` independent sequences, advanced one time step per
 * {@link step}. Made by `module.stream()`; any number of streams can share one module.
 *
 * ```ts
 * const stream = lstm.stream();            // batch of 1, zero state
 * for (const x of readings) {
 *   const y = stream.step(x);              // x [inputSize] → y [1, S]
 * }
 * stream.reset();                          // start a new sequence
 * ```
 */
export class RecurrentStream {
  /** The module whose layers the stream steps. */
  readonly module: StreamableModule;
  /** Sequences stepped together. */
  readonly batchSize: number;
  private readonly h: Float32Array;
  private readonly c: Float32Array | null;
  private readonly hLayers: Float32Array[];
  private readonly cLayers: Float32Array[] | null;

  constructor(module: StreamableModule, options?: StreamOptions) {
    this.module = module;
    const opts = checkOptions(options, 'stream', ['batchSize']);
    this.batchSize = opts.batchSize === undefined ? 1 : positiveInt(opts.batchSize, 'batchSize');
    module.preparedLayers(); // checks the module can stream (one direction) before any step
    const L = module.numLayers, B = this.batchSize;
    this.h = new Float32Array(L * B * module.stateSize);
    this.c = module.mode === 'LSTM' ? new Float32Array(L * B * module.hiddenSize) : null;
    this.hLayers = layerViews(this.h, L);
    this.cLayers = this.c ? layerViews(this.c, L) : null;
  }

  /**
   * Advances every sequence by one time step.
   * @param input `[batchSize, inputSize]`: a Tensor (`[inputSize]` also accepted when batchSize
   *   is 1), or a Float32Array or array of numbers holding batchSize·inputSize values.
   * @returns the last layer's output for this step, `[batchSize, S]` (S = projSize || hiddenSize).
   * @throws TypeError / RangeError for input of the wrong type or size.
   */
  step(input: Tensor | Float32Array | readonly number[]): Tensor {
    const x = this.inputData(input);
    const y = stepLayers(this.module.preparedLayers(), this.batchSize, x, this.hLayers, this.cLayers);
    return new Tensor(y.slice(), [this.batchSize, this.module.stateSize]);
  }

  /** The state now (copies): `h [numLayers, batchSize, S]`, `c [numLayers, batchSize, hiddenSize]` (LSTM, else null). */
  get state(): {
    /** `[numLayers, batchSize, S]`. */
    h: Tensor;
    /** `[numLayers, batchSize, hiddenSize]` (LSTM), else null. */
    c: Tensor | null;
  } {
    const L = this.module.numLayers, B = this.batchSize;
    return {
      h: new Tensor(this.h.slice(), [L, B, this.module.stateSize]),
      c: this.c ? new Tensor(this.c.slice(), [L, B, this.module.hiddenSize]) : null,
    };
  }

  /**
   * Replaces the state (copied in): `h [numLayers, batchSize, S]` and, for an LSTM,
   * `c [numLayers, batchSize, hiddenSize]` — e.g. a `forward` call's `hN`/`cN` to continue from.
   */
  setState(h: Tensor, c?: Tensor | null): void {
    const L = this.module.numLayers, B = this.batchSize;
    this.h.set(checkState(h, 'h', [L, B, this.module.stateSize]));
    if (this.c) this.c.set(checkState(c, 'c', [L, B, this.module.hiddenSize]));
    else if (c !== undefined && c !== null) throw new TypeError(`Expected no c for a ${this.module.className} stream but received ${describe(c)}`);
  }

  /** Zeros the state of every sequence, or of batch item `item` only (a new sequence in that slot). */
  reset(item?: number): void {
    if (item === undefined) {
      this.h.fill(0);
      this.c?.fill(0);
      return;
    }
    const b = intInRange(item, 'item', 0, this.batchSize - 1);
    zeroItem(this.h, this.module.numLayers, this.batchSize, b);
    if (this.c) zeroItem(this.c, this.module.numLayers, this.batchSize, b);
  }

  private inputData(input: unknown): Float32Array {
    const B = this.batchSize, I = this.module.inputSize;
    if (input instanceof Tensor) {
      const ok = (input.ndim === 2 && input.shape[0] === B && input.shape[1] === I) || (B === 1 && input.ndim === 1 && input.shape[0] === I);
      if (!ok) {
        throw new RangeError(`Expected input of shape [${B}, ${I}] (batchSize, inputSize)${B === 1 ? ` or [${I}]` : ''} but received shape [${input.shape.join(', ')}]`);
      }
      return input.data;
    }
    const numbers = Array.isArray(input) && input.every((v) => typeof v === 'number');
    const array = input instanceof Float32Array ? input : numbers ? Float32Array.from(input as number[]) : null;
    if (array === null) throw new TypeError(`Expected Tensor, Float32Array or array of numbers for input but received ${describe(input)}`);
    if (array.length !== B * I) {
      throw new RangeError(`Expected ${B * I} values for input (batchSize·inputSize = ${B}·${I}) but received ${array.length}`);
    }
    return array;
  }
}

function checkState(state: unknown, name: string, shape: number[]): Float32Array {
  expectTensor(state, name);
  if (state.ndim !== shape.length || state.shape.some((d, i) => d !== shape[i])) {
    throw new RangeError(`Expected ${name} of shape [${shape.join(', ')}] but received shape [${state.shape.join(', ')}]`);
  }
  return state.data;
}

// Zeros batch item b of a [L, B, W] state.
function zeroItem(state: Float32Array, layers: number, batch: number, b: number): void {
  const width = state.length / (layers * batch);
  for (let l = 0; l < layers; l++) state.fill(0, (l * batch + b) * width, (l * batch + b + 1) * width);
}
