/**
 * The low-level sequence API: one layer, one direction, of an RNN, LSTM or GRU over a whole
 * sequence, forward and backward, on plain Float32Arrays in PyTorch's shapes and gate order.
 *
 * Layout is time-major and row-major: input `[T, B, I]` (T = steps, B = batch, I = inputSize),
 * H = hiddenSize, S = projSize || hiddenSize (width of h and of the output), G = gates
 * (4 LSTM: i, f, g, o; 3 GRU: r, z, n; 1 RNN). Synchronous calls read their inputs in place (zero
 * copy); outputs are new arrays over rnnkit's own memory. The `…Async` twins run on the libuv thread
 * pool on copies of their inputs taken when they are called (so the caller may reuse, transfer or
 * drop them at once); gradients they accumulate are written into the given arrays when the promise
 * settles (it rejects, writing nothing, if one was detached or resized meanwhile). The training
 * cache is an opaque {@link SequenceCache}.
 * @module
 */
import { CELL_NAMES, CELLS, NONLINEARITIES, rnnCell, type CellName, type Nonlinearity } from './cell-table.js';
import { binding, type NativeHandle } from './native.js';
import {
  boundedProduct, choice, count, describe, expectAbsent, expectObject, float32Dims, intList, isNullish, optionalBool,
  optionalIntInRange, optionalObject, positiveInt, type Dims,
} from './validate.js';

export type { CellName, Nonlinearity } from './cell-table.js';

/** Sizes and options of one sequence layer in one direction. */
export interface SequenceOptions {
  /** T: time steps in `input`. */
  steps: number;
  /** B: sequences processed together. */
  batch: number;
  /** I: features per step of `input`. */
  inputSize: number;
  /** H: hidden units. */
  hiddenSize: number;
  /** P: LSTM projection size (PyTorch `proj_size`), 0 (default) = none; must be < hiddenSize. */
  projSize?: number;
  /** Process steps T−1 … 0 (the second direction of a bidirectional layer). Default false. */
  reverse?: boolean;
  /**
   * Valid steps per batch item, each an integer in [0, steps]; null/undefined = all `steps`.
   * Past an item's length its state stays unchanged and its output is zero (packed sequences);
   * in reverse, each item starts at its own last step.
   */
  lengths?: ArrayLike<number> | null;
  /**
   * Variational dropout on the input (Gal & Ghahramani 2016): `[B, I]` multipliers, typically 0 or
   * 1/(1−p), used at EVERY step — the layer reads `x_t ⊙ inputMask`. null/undefined = none. The
   * backward pass must be given the same masks as the forward.
   */
  inputMask?: Float32Array | null;
  /**
   * Recurrent dropout: `[B, S]` multipliers applied to `h_{t−1}` where `W_hh` reads it, the same at
   * every step (the state itself, the output and `hN` are not masked). null/undefined = none.
   */
  recurrentMask?: Float32Array | null;
}

/** Options of a vanilla RNN layer. */
export interface RnnOptions extends SequenceOptions {
  /** Default 'tanh'. */
  nonlinearity?: Nonlinearity;
}

/** PyTorch's parameters of one layer and direction, row-major, applied as `x·Wᵀ`. */
export interface SequenceWeights {
  /** `[G·H, I]` (`weight_ih_l{k}`). */
  weightIh: Float32Array;
  /** `[G·H, S]` (`weight_hh_l{k}`). */
  weightHh: Float32Array;
  /** `[G·H]`; `biasIh` and `biasHh` both or neither (PyTorch `bias=False`). */
  biasIh?: Float32Array | null;
  /** `[G·H]`. */
  biasHh?: Float32Array | null;
  /** `[P, H]` (`weight_hr_l{k}`), required iff projSize > 0. */
  weightHr?: Float32Array | null;
}

/** Weight gradients, same shapes as {@link SequenceWeights}; backward ADDS into them (+=). Bias gradients are required iff the weights have biases. */
export interface SequenceGrads {
  /** `[G·H, I]`. */
  weightIh: Float32Array;
  /** `[G·H, S]`. */
  weightHh: Float32Array;
  /** `[G·H]`. */
  biasIh?: Float32Array | null;
  /** `[G·H]`. */
  biasHh?: Float32Array | null;
  /** `[P, H]`, iff projSize > 0. */
  weightHr?: Float32Array | null;
}

/** What a forward pass returns. */
export interface ForwardResult {
  /** `[T, B, S]`, zero at steps past an item's length. */
  output: Float32Array;
  /** `[B, S]` final hidden state (each item's state at its own last step). */
  hN: Float32Array;
  /** `[B, H]` final cell state (LSTM only). */
  cN?: Float32Array;
  /** Training cache for the backward pass: non-null iff `training` was true. */
  cache: SequenceCache | null;
}

/** What a backward pass returns (weight gradients are accumulated into `grads`). */
export interface BackwardResult {
  /** `[T, B, I]` gradient of the input; null when `upstream.inputGrad` is false. */
  dInput: Float32Array | null;
  /** `[B, S]` gradient of the initial hidden state. */
  dh0: Float32Array;
  /** `[B, H]` gradient of the initial cell state (LSTM only). */
  dc0?: Float32Array;
}

/** Initial state and mode of an LSTM forward pass. */
export interface LstmState {
  /** `[B, S]`, default zeros. */
  h0?: Float32Array | null;
  /** `[B, H]`, default zeros. */
  c0?: Float32Array | null;
  /** Write the cache backward needs. Default false (inference). */
  training?: boolean;
}

/** Initial state and mode of a GRU or RNN forward pass. */
export interface HiddenState {
  /** `[B, H]`, default zeros. */
  h0?: Float32Array | null;
  /** Write the cache backward needs. Default false (inference). */
  training?: boolean;
}

/** Gradients flowing into an LSTM backward pass; missing ones are zeros. */
export interface LstmUpstream extends InputGradOption {
  /** `[T, B, S]` gradient of `output`. */
  dOutput?: Float32Array | null;
  /** `[B, S]` gradient of `hN`. */
  dhN?: Float32Array | null;
  /** `[B, H]` gradient of `cN`. */
  dcN?: Float32Array | null;
}

/** Whether backward computes the input gradient. */
export interface InputGradOption {
  /** Default true; false skips the `dInput` GEMM (e.g. a first layer whose input needs no gradient). */
  inputGrad?: boolean;
}

/** Gradients flowing into a GRU or RNN backward pass; missing ones are zeros. */
export interface HiddenUpstream extends InputGradOption {
  /** `[T, B, H]` gradient of `output`. */
  dOutput?: Float32Array | null;
  /** `[B, H]` gradient of `hN`. */
  dhN?: Float32Array | null;
}

/**
 * What a training-mode forward keeps for its backward pass: opaque memory of the native core (no
 * JavaScript can change it, or free it under a running backward). Pass it to the matching backward
 * with the same options, weights and input; {@link release} returns its memory at once (otherwise
 * it goes when the object is garbage collected).
 */
export class SequenceCache {
  /** @internal */
  readonly handle: NativeHandle;
  /** Floats it holds ({@link cacheSize}). */
  readonly floats: number;
  /** @internal The sizes of the forward that made it. */
  readonly layout: string;
  private released = false;

  /** @internal */
  constructor(handle: NativeHandle, floats: number, layout: string) {
    this.handle = handle;
    this.floats = floats;
    this.layout = layout;
  }

  /** Whether {@link release} was called. */
  get isReleased(): boolean {
    return this.released;
  }

  /** Returns its memory now (a backward already running keeps its own reference); using it afterwards throws. */
  release(): void {
    this.released = true;
    binding().releaseCache(this.handle);
  }

  /** @internal A consuming backward released it. */
  markConsumed(): void {
    this.released = true;
  }
}

// What a cache must match: everything that fixes the size and layout of its memory.
function layoutOf(c: CheckedCall): string {
  return `${c.cell} with steps ${c.steps}, batch ${c.batch}, inputSize ${c.inputSize}, hiddenSize ${c.hiddenSize}, ` +
    `projSize ${c.projSize}, reverse ${c.reverse}${c.recurrentMask ? ', recurrentMask' : ''}`;
}

/** @internal One layer and direction's arguments, already checked: what nn/layer.ts builds from its own parameters. */
export interface CheckedCall {
  cell: CellName;
  steps: number;
  batch: number;
  inputSize: number;
  hiddenSize: number;
  projSize: number;
  reverse: boolean;
  lengths: Int32Array | null;
  weights: SequenceWeights;
  /** Variational dropout masks `[B, I]` / `[B, S]` (see {@link SequenceOptions}), or null. */
  inputMask: Float32Array | null;
  recurrentMask: Float32Array | null;
}

type NativeLayerArgs = [number, number, number, number, number, number, boolean, Int32Array | null,
  Float32Array, Float32Array, Float32Array | null, Float32Array | null, Float32Array | null, Float32Array | null, Float32Array | null];

function layerArgs(c: CheckedCall): NativeLayerArgs {
  const w = c.weights;
  return [CELLS[c.cell].code, c.inputSize, c.hiddenSize, c.projSize, c.steps, c.batch, c.reverse, c.lengths,
    w.weightIh, w.weightHh, w.biasIh ?? null, w.biasHh ?? null, w.weightHr ?? null, c.inputMask, c.recurrentMask];
}

/**
 * A new zero-filled array for a result. A failed allocation is V8's catchable RangeError here, given
 * a clearer message (from C++, V8 would abort the process instead).
 */
function resultArray(floats: number, what: string): Float32Array {
  try {
    return new Float32Array(floats);
  } catch (error) {
    throw new RangeError(`${what}: could not allocate ${floats * 4} bytes for a result (${(error as Error).message})`);
  }
}

/** The binding's passes for its memory check. */
const enum Pass { Forward = 0, TrainingForward = 1, Backward = 2, ConsumingBackward = 3 }

function weightFloats(w: SequenceWeights): number {
  return w.weightIh.length + w.weightHh.length + (w.biasIh?.length ?? 0) + (w.biasHh?.length ?? 0) + (w.weightHr?.length ?? 0);
}

/**
 * Refuses a call whose memory (the results it is about to allocate, the binding's working memory
 * and cache, and for async calls the copies of what it reads) is over the limit: before the results
 * exist, so a huge call fails at once with the bytes it needs.
 */
function checkMemory(c: CheckedCall, pass: Pass, resultFloats: number, async: boolean): void {
  const copies = async ? resultFloats + weightFloats(c.weights) + c.steps * c.batch * (c.inputSize + (c.projSize || c.hiddenSize)) : 0;
  binding().checkSequenceMemory(CELLS[c.cell].code, c.inputSize, c.hiddenSize, c.projSize, c.steps, c.batch,
    c.inputMask !== null, c.recurrentMask !== null, pass, 4 * (resultFloats + copies));
}

// The arrays a forward writes (after its memory check), and the result built around them.
function forwardOutputs(c: CheckedCall, training: boolean, async: boolean) {
  const S = c.projSize || c.hiddenSize, what = `${c.cell} forward`;
  checkMemory(c, training ? Pass.TrainingForward : Pass.Forward, c.batch * ((c.steps + 1) * S + (CELLS[c.cell].cellState ? c.hiddenSize : 0)), async);
  return {
    output: resultArray(c.steps * c.batch * S, what),
    hN: resultArray(c.batch * S, what),
    cN: CELLS[c.cell].cellState ? resultArray(c.batch * c.hiddenSize, what) : null,
  };
}
type ForwardOutputs = ReturnType<typeof forwardOutputs>;

function forwardResult(c: CheckedCall, out: ForwardOutputs, cache: NativeHandle | null): ForwardResult {
  const result: ForwardResult = { output: out.output, hN: out.hN, cache: cache ? new SequenceCache(cache, cacheFloats(c), layoutOf(c)) : null };
  if (out.cN) result.cN = out.cN;
  return result;
}

function cacheFloats(c: CheckedCall): number {
  return binding().cacheSize(CELLS[c.cell].code, c.inputSize, c.hiddenSize, c.projSize, c.steps, c.batch, c.recurrentMask !== null);
}

/** @internal Forward with checked arguments (no validation here). */
export function checkedForward(c: CheckedCall, input: Float32Array, h0: Float32Array | null, c0: Float32Array | null,
  training: boolean): ForwardResult {
  const out = forwardOutputs(c, training, false);
  return forwardResult(c, out, binding().sequenceForward(...layerArgs(c), input, h0, c0, out.output, out.hN, out.cN, training));
}

/** @internal {@link checkedForward} on the libuv pool. */
export async function checkedForwardAsync(c: CheckedCall, input: Float32Array, h0: Float32Array | null,
  c0: Float32Array | null, training: boolean): Promise<ForwardResult> {
  const out = forwardOutputs(c, training, true);
  return forwardResult(c, out, await binding().sequenceForwardAsync(...layerArgs(c), input, h0, c0, out.output, out.hN, out.cN, training));
}

/** @internal Gradients flowing into a checked backward. */
export interface CheckedUpstream {
  dOutput: Float32Array | null;
  dhN: Float32Array | null;
  dcN: Float32Array | null;
  inputGrad: boolean;
}

/** @internal What a checked backward returns: the input gradients and fresh weight gradients. */
export interface CheckedBackwardResult extends BackwardResult {
  grads: SequenceGrads;
}

type GradArrays = [Float32Array, Float32Array, Float32Array | null, Float32Array | null, Float32Array | null];

// The arrays a backward writes (dInput only when wanted; after its memory check, which counts fresh
// gradients too when `grads` is null), and its positional arguments after the layer's.
function backwardArgsFor(c: CheckedCall, input: Float32Array, cache: SequenceCache, grads: GradArrays | null, up: CheckedUpstream,
  consume: boolean, async: boolean) {
  const S = c.projSize || c.hiddenSize, what = `${c.cell} backward`;
  const resultFloats = (up.inputGrad ? c.steps * c.batch * c.inputSize : 0) + c.batch * S +
    (CELLS[c.cell].cellState ? c.batch * c.hiddenSize : 0) + (grads ? 0 : weightFloats(c.weights));
  checkMemory(c, consume ? Pass.ConsumingBackward : Pass.Backward, resultFloats, async);
  const gradients = grads ?? gradArrays(freshGrads(c));
  const result: BackwardResult = {
    dInput: up.inputGrad ? resultArray(c.steps * c.batch * c.inputSize, what) : null,
    dh0: resultArray(c.batch * S, what),
  };
  if (CELLS[c.cell].cellState) result.dc0 = resultArray(c.batch * c.hiddenSize, what);
  const args = [...layerArgs(c), input, cache.handle, ...gradients, up.dOutput, up.dhN, up.dcN, result.dInput, result.dh0,
    result.dc0 ?? null, consume] as const;
  return { result, args, gradients };
}

function freshGrads(c: CheckedCall): SequenceGrads {
  const w = c.weights, what = `${c.cell} backward`;
  const like = (a: Float32Array | null | undefined) => (a ? resultArray(a.length, what) : null);
  return { weightIh: like(w.weightIh)!, weightHh: like(w.weightHh)!, biasIh: like(w.biasIh), biasHh: like(w.biasHh), weightHr: like(w.weightHr) };
}

function gradArrays(g: SequenceGrads): GradArrays {
  return [g.weightIh, g.weightHh, g.biasIh ?? null, g.biasHh ?? null, g.weightHr ?? null];
}
function gradsOf([weightIh, weightHh, biasIh, biasHh, weightHr]: GradArrays): SequenceGrads {
  return { weightIh, weightHh, biasIh, biasHh, weightHr };
}

/**
 * @internal Backward with checked arguments, returning fresh weight gradients. It consumes the
 * cache: the gate gradients take the place of its gate activations, and it is released.
 */
export function checkedBackward(c: CheckedCall, input: Float32Array, cache: SequenceCache, up: CheckedUpstream): CheckedBackwardResult {
  const { result, args, gradients } = backwardArgsFor(c, input, cache, null, up, true, false);
  binding().sequenceBackward(...args);
  cache.markConsumed();
  return { ...result, grads: gradsOf(gradients) };
}

/** @internal {@link checkedBackward} on the libuv pool. */
export async function checkedBackwardAsync(c: CheckedCall, input: Float32Array, cache: SequenceCache,
  up: CheckedUpstream): Promise<CheckedBackwardResult> {
  const { result, args, gradients } = backwardArgsFor(c, input, cache, null, up, true, true);
  const pending = binding().sequenceBackwardAsync(...args);
  cache.markConsumed();
  await pending;
  return { ...result, grads: gradsOf(gradients) };
}

// Validated sizes, in the order and words of native/binding/sequence.cpp.
interface Shape {
  cell: CellName;
  steps: number; batch: number; inputSize: number; hiddenSize: number; projSize: number;
  reverse: boolean; lengths: Int32Array | null;
  inputMask: Float32Array | null; recurrentMask: Float32Array | null;
  gates: number; state: number; stateName: string;
}

function projSizeOf(cell: CellName, value: unknown, hiddenSize: number): number {
  if (cell === 'lstm') return optionalIntInRange(value, 'projSize', 0, hiddenSize - 1, 0);
  if (value === undefined || value === 0) return 0;
  const message = `Expected 0 for projSize because cell is ${cell} but received ${describe(value)}`;
  throw typeof value === 'number' ? new RangeError(message) : new TypeError(message);
}

type LayerShape = Pick<Shape, 'cell' | 'inputSize' | 'hiddenSize' | 'projSize' | 'gates' | 'state' | 'stateName'>;
type CallShape = Pick<Shape, 'steps' | 'batch' | 'reverse' | 'lengths'>;

function parseCallCounts(opts: Record<string, unknown>): { steps: number; batch: number } {
  const steps = positiveInt(opts.steps, 'steps'), batch = positiveInt(opts.batch, 'batch');
  boundedProduct([['steps', steps], ['batch', batch]]);
  return { steps, batch };
}

// inputSize, hiddenSize, projSize: what a layer's weights fix.
function parseLayerSizes(cell: CellName, opts: Record<string, unknown>): LayerShape {
  const inputSize = positiveInt(opts.inputSize, 'inputSize');
  const hiddenSize = positiveInt(opts.hiddenSize, 'hiddenSize');
  const projSize = projSizeOf(cell, opts.projSize, hiddenSize);
  boundedProduct([['gates', CELLS[cell].gates], ['hiddenSize', hiddenSize]]);
  return layerShape({ cell, inputSize, hiddenSize, projSize });
}

// The layer's checked sizes and what follows from them: gates, and the width of h (S) by name.
function layerShape({ cell, inputSize, hiddenSize, projSize }: CheckedLayerSizes): LayerShape {
  const state = projSize > 0 ? projSize : hiddenSize;
  const stateName = projSize > 0 ? 'projSize' : 'hiddenSize';
  return { cell, inputSize, hiddenSize, projSize, gates: CELLS[cell].gates, state, stateName };
}

// reverse and lengths: how one call walks its steps.
function parseDirection(opts: Record<string, unknown>, steps: number, batch: number): CallShape {
  const reverse = optionalBool(opts.reverse, 'reverse', false);
  const lengths = isNullish(opts.lengths) ? null : intList(opts.lengths, 'lengths', batch, 'batch', 0, steps);
  return { steps, batch, reverse, lengths };
}

function parseShape(cell: CellName, value: unknown): Shape {
  const opts = expectObject(value, 'opts');
  const { steps, batch } = parseCallCounts(opts);
  const layer = parseLayerSizes(cell, opts);
  const inputMask = isNullish(opts.inputMask) ? null : float32Dims(opts.inputMask, 'inputMask', [['batch', batch], ['inputSize', layer.inputSize]]);
  const recurrentMask = isNullish(opts.recurrentMask) ? null
    : float32Dims(opts.recurrentMask, 'recurrentMask', [['batch', batch], [layer.stateName, layer.state]]);
  return { ...layer, ...parseDirection(opts, steps, batch), inputMask, recurrentMask };
}

function optionalArray(value: unknown, name: string, dims: Dims, allowed: boolean, reason: string): Float32Array | null {
  if (!allowed) {
    expectAbsent(value, name, reason);
    return null;
  }
  return isNullish(value) ? null : float32Dims(value, name, dims);
}

// Required when `wanted`, else must be null/undefined.
function maybeArray(value: unknown, name: string, dims: Dims, wanted: boolean, reason: string): Float32Array | null {
  return wanted ? float32Dims(value, name, dims) : optionalArray(value, name, dims, false, reason);
}

// Weights (prefix '') or their gradients (prefix 'grads.') share names and shapes.
function parseWeightSet(obj: Record<string, unknown>, prefix: string, hasBias: boolean, s: LayerShape): SequenceGrads {
  const G = s.gates, H = s.hiddenSize;
  const biasDims: Dims = [['gates', G], ['hiddenSize', H]];
  const noBias = 'the weights have no biases';
  return {
    weightIh: float32Dims(obj.weightIh, `${prefix}weightIh`, [['gates', G], ['hiddenSize', H], ['inputSize', s.inputSize]]),
    weightHh: float32Dims(obj.weightHh, `${prefix}weightHh`, [['gates', G], ['hiddenSize', H], [s.stateName, s.state]]),
    biasIh: maybeArray(obj.biasIh, `${prefix}biasIh`, biasDims, hasBias, noBias),
    biasHh: maybeArray(obj.biasHh, `${prefix}biasHh`, biasDims, hasBias, noBias),
    weightHr: maybeArray(obj.weightHr, `${prefix}weightHr`, [['projSize', s.projSize], ['hiddenSize', H]], s.projSize > 0, 'projSize is 0'),
  };
}

function parseWeights(value: unknown, s: LayerShape): { weights: SequenceWeights; hasBias: boolean } {
  const obj = expectObject(value, 'weights');
  if (isNullish(obj.biasIh) !== isNullish(obj.biasHh)) {
    throw new TypeError(`Expected biasIh and biasHh both or neither but received only ${isNullish(obj.biasIh) ? 'biasHh' : 'biasIh'}`);
  }
  const hasBias = !isNullish(obj.biasIh);
  return { weights: parseWeightSet(obj, '', hasBias, s), hasBias };
}

// The arguments every sequence call starts with, validated and copied into plain objects.
function parseCommon(cell: CellName, opts: unknown, w: unknown, input: unknown) {
  const shape = parseShape(cell, opts);
  const { weights, hasBias } = parseWeights(w, shape);
  const x = float32Dims(input, 'input', [['steps', shape.steps], ['batch', shape.batch], ['inputSize', shape.inputSize]]);
  const call: CheckedCall = {
    cell, steps: shape.steps, batch: shape.batch, inputSize: shape.inputSize, hiddenSize: shape.hiddenSize,
    projSize: shape.projSize, reverse: shape.reverse, lengths: shape.lengths, weights, inputMask: shape.inputMask,
    recurrentMask: shape.recurrentMask,
  };
  return { shape, hasBias, x, call };
}

interface ForwardArgs { call: CheckedCall; x: Float32Array; h0: Float32Array | null; c0: Float32Array | null; training: boolean }
interface BackwardArgs { call: CheckedCall; x: Float32Array; cache: SequenceCache; grads: SequenceGrads; up: CheckedUpstream }

function forwardArgs(cell: CellName, opts: unknown, w: unknown, input: unknown, state: unknown): ForwardArgs {
  const { shape: s, x, call } = parseCommon(cell, opts, w, input);
  const st = optionalObject(state, 'state');
  const notLstm = `cell is ${cell}`;
  const h0 = optionalArray(st.h0, 'h0', [['batch', s.batch], [s.stateName, s.state]], true, '');
  const c0 = optionalArray(st.c0, 'c0', [['batch', s.batch], ['hiddenSize', s.hiddenSize]], CELLS[cell].cellState, notLstm);
  const training = optionalBool(st.training, 'training', false);
  return { call, x, h0, c0, training };
}

function expectCache(value: unknown, call: CheckedCall): SequenceCache {
  if (!(value instanceof SequenceCache)) {
    throw new TypeError(`Expected SequenceCache (the cache of a training-mode forward) for cache but received ${describe(value)}`);
  }
  if (value.isReleased) throw new TypeError('Expected a cache that was not released for cache but received a released one');
  const layout = layoutOf(call);
  if (value.layout !== layout) {
    throw new RangeError(`Expected the cache of a forward of ${layout} for cache but received one of ${value.layout}`);
  }
  return value;
}

function backwardArgs(cell: CellName, opts: unknown, w: unknown, input: unknown, cache: unknown, grads: unknown, upstream: unknown): BackwardArgs {
  const { shape: s, hasBias, x, call } = parseCommon(cell, opts, w, input);
  const c = expectCache(cache, call);
  const g = parseWeightSet(expectObject(grads, 'grads'), 'grads.', hasBias, s);
  const up = optionalObject(upstream, 'upstream');
  const dOutput = optionalArray(up.dOutput, 'dOutput', [['steps', s.steps], ['batch', s.batch], [s.stateName, s.state]], true, '');
  const dhN = optionalArray(up.dhN, 'dhN', [['batch', s.batch], [s.stateName, s.state]], true, '');
  const dcN = optionalArray(up.dcN, 'dcN', [['batch', s.batch], ['hiddenSize', s.hiddenSize]], CELLS[cell].cellState, `cell is ${cell}`);
  const inputGrad = optionalBool(up.inputGrad, 'inputGrad', true);
  return { call, x, cache: c, grads: g, up: { dOutput, dhN, dcN, inputGrad } };
}

const forward = (a: ForwardArgs): ForwardResult => checkedForward(a.call, a.x, a.h0, a.c0, a.training);
const forwardAsync = (a: ForwardArgs): Promise<ForwardResult> => checkedForwardAsync(a.call, a.x, a.h0, a.c0, a.training);

// Accumulates into the caller's gradient arrays (the contract of the public backward).
function backward(a: BackwardArgs): BackwardResult {
  const { result, args } = backwardArgsFor(a.call, a.x, a.cache, gradArrays(a.grads), a.up, false, false);
  binding().sequenceBackward(...args);
  return result;
}
async function backwardAsync(a: BackwardArgs): Promise<BackwardResult> {
  const { result, args } = backwardArgsFor(a.call, a.x, a.cache, gradArrays(a.grads), a.up, false, true);
  await binding().sequenceBackwardAsync(...args);
  return result;
}

function rnnCellOf(opts: unknown): CellName {
  const nonlinearity = (typeof opts === 'object' && opts !== null ? (opts as RnnOptions).nonlinearity : undefined) ?? 'tanh';
  return rnnCell(choice(nonlinearity, 'nonlinearity', NONLINEARITIES));
}

/** Floats in the training cache of `cell` with these options (what a training-mode forward keeps). */
export function cacheSize(cell: CellName, opts: SequenceOptions): number {
  const s = parseShape(choice(cell, 'cell', CELL_NAMES), opts);
  return binding().cacheSize(CELLS[s.cell].code, s.inputSize, s.hiddenSize, s.projSize, s.steps, s.batch, s.recurrentMask !== null);
}

/**
 * LSTM forward over a sequence (PyTorch `nn.LSTM`, one layer and direction; gates i, f, g, o).
 * @param opts sizes; `projSize` > 0 adds the projection `h = (o ⊙ tanh c)·W_hrᵀ`.
 * @param w weights; @param input `[T, B, I]`; @param state `h0 [B, S]`, `c0 [B, H]`, `training`.
 * @throws TypeError / RangeError naming the argument and the expected value.
 */
export function lstmForward(opts: SequenceOptions, w: SequenceWeights, input: Float32Array, state?: LstmState): ForwardResult {
  return forward(forwardArgs('lstm', opts, w, input, state));
}

/**
 * LSTM backward (BPTT) from the cache of a training-mode {@link lstmForward} with the same
 * opts, weights and input. Adds weight gradients into `grads`.
 */
export function lstmBackward(opts: SequenceOptions, w: SequenceWeights, input: Float32Array, cache: SequenceCache,
  grads: SequenceGrads, upstream: LstmUpstream): BackwardResult {
  return backward(backwardArgs('lstm', opts, w, input, cache, grads, upstream));
}

/** GRU forward over a sequence (PyTorch `nn.GRU`; gates r, z, n; `b_hn` inside `r ⊙ (…)`). */
export function gruForward(opts: SequenceOptions, w: SequenceWeights, input: Float32Array, state?: HiddenState): ForwardResult {
  return forward(forwardArgs('gru', opts, w, input, state));
}

/** GRU backward from the cache of a training-mode {@link gruForward}; adds into `grads`. */
export function gruBackward(opts: SequenceOptions, w: SequenceWeights, input: Float32Array, cache: SequenceCache,
  grads: SequenceGrads, upstream: HiddenUpstream): BackwardResult {
  return backward(backwardArgs('gru', opts, w, input, cache, grads, upstream));
}

/** Vanilla RNN forward (PyTorch `nn.RNN`): `h' = act(W_ih x + b_ih + W_hh h + b_hh)`. */
export function rnnForward(opts: RnnOptions, w: SequenceWeights, input: Float32Array, state?: HiddenState): ForwardResult {
  return forward(forwardArgs(rnnCellOf(opts), opts, w, input, state));
}

/** Vanilla RNN backward from the cache of a training-mode {@link rnnForward}; adds into `grads`. */
export function rnnBackward(opts: RnnOptions, w: SequenceWeights, input: Float32Array, cache: SequenceCache,
  grads: SequenceGrads, upstream: HiddenUpstream): BackwardResult {
  return backward(backwardArgs(rnnCellOf(opts), opts, w, input, cache, grads, upstream));
}

/** {@link lstmForward} on the libuv thread pool. Rejects (never throws) on bad arguments. */
export async function lstmForwardAsync(opts: SequenceOptions, w: SequenceWeights, input: Float32Array, state?: LstmState): Promise<ForwardResult> {
  return forwardAsync(forwardArgs('lstm', opts, w, input, state));
}

/** {@link lstmBackward} on the libuv thread pool; `grads` are written when the promise resolves. */
export async function lstmBackwardAsync(opts: SequenceOptions, w: SequenceWeights, input: Float32Array, cache: SequenceCache,
  grads: SequenceGrads, upstream: LstmUpstream): Promise<BackwardResult> {
  return backwardAsync(backwardArgs('lstm', opts, w, input, cache, grads, upstream));
}

/** {@link gruForward} on the libuv thread pool. */
export async function gruForwardAsync(opts: SequenceOptions, w: SequenceWeights, input: Float32Array, state?: HiddenState): Promise<ForwardResult> {
  return forwardAsync(forwardArgs('gru', opts, w, input, state));
}

/** {@link gruBackward} on the libuv thread pool. */
export async function gruBackwardAsync(opts: SequenceOptions, w: SequenceWeights, input: Float32Array, cache: SequenceCache,
  grads: SequenceGrads, upstream: HiddenUpstream): Promise<BackwardResult> {
  return backwardAsync(backwardArgs('gru', opts, w, input, cache, grads, upstream));
}

/** {@link rnnForward} on the libuv thread pool. */
export async function rnnForwardAsync(opts: RnnOptions, w: SequenceWeights, input: Float32Array, state?: HiddenState): Promise<ForwardResult> {
  return forwardAsync(forwardArgs(rnnCellOf(opts), opts, w, input, state));
}

/** {@link rnnBackward} on the libuv thread pool. */
export async function rnnBackwardAsync(opts: RnnOptions, w: SequenceWeights, input: Float32Array, cache: SequenceCache,
  grads: SequenceGrads, upstream: HiddenUpstream): Promise<BackwardResult> {
  return backwardAsync(backwardArgs(rnnCellOf(opts), opts, w, input, cache, grads, upstream));
}

type PreparedArgs = Parameters<ReturnType<typeof binding>['preparedForward']>;

/** The sizes a {@link PreparedLayer}'s weights fix. */
export interface LayerSizes {
  /** I: features per step of the input. */
  inputSize: number;
  /** H: hidden units. */
  hiddenSize: number;
  /** P: LSTM projection size, 0 (default) = none. */
  projSize?: number;
}

/** The sizes of one {@link PreparedLayer.forward} call. */
export type PreparedCallOptions = Pick<SequenceOptions, 'steps' | 'batch' | 'reverse' | 'lengths'>;

/**
 * Where {@link PreparedLayer.forward} writes: per key, absent = a new array, `null` = not
 * computed, a Float32Array of the right length = written in place. `hN` and `cN` may be the very
 * arrays passed as `h0` and `c0` (a stream's state, updated in place); no other array may overlap.
 */
export interface PreparedOutputs {
  /** `[T, B, S]`. */
  output?: Float32Array | null;
  /** `[B, S]`. */
  hN?: Float32Array | null;
  /** `[B, H]`, LSTM only. */
  cN?: Float32Array | null;
}

/** What {@link PreparedLayer.forward} returns: the arrays written (null where not computed). */
export interface PreparedResult {
  /** `[T, B, S]`, or null when not computed. */
  output: Float32Array | null;
  /** `[B, S]`, or null when not computed. */
  hN: Float32Array | null;
  /** `[B, H]` (LSTM), or null when not computed. */
  cN?: Float32Array | null;
}

/** @internal The sizes of a layer, already checked (what nn/layer.ts takes from a module's own parameters). */
export interface CheckedLayerSizes {
  cell: CellName;
  inputSize: number;
  hiddenSize: number;
  projSize: number;
}

// Marks the constructor call of PreparedLayer.checked (no code outside this module can pass it).
const CHECKED: unique symbol = Symbol('checked arguments');

/**
 * One layer and direction with its weights packed once for the multiply kernels of the ISA active
 * now, for many inference calls: streaming one step per call, where packing the weights again each
 * call would cost more than the step. The weights are copied: after changing them, make a new one.
 * `forward` gives the numbers of {@link lstmForward} (etc.) with the same weights, bit for bit
 * (synchronous: a step takes microseconds; `forwardAsync` runs on the thread pool). No cache:
 * inference only.
 */
export class PreparedLayer {
  /** The cell kind. */
  readonly cell: CellName;
  /** I: features per step of the input. */
  readonly inputSize: number;
  /** H: hidden units. */
  readonly hiddenSize: number;
  /** P: LSTM projection size, 0 = none. */
  readonly projSize: number;
  /** The ISA whose kernels the weights were packed for (the layer keeps using them). */
  readonly isa: string;
  /** @internal The binding's handle. */
  readonly handle: NativeHandle;
  private readonly shape: LayerShape;

  /**
   * @param cell 'lstm' | 'gru' | 'rnn_tanh' | 'rnn_relu'
   * @param sizes inputSize, hiddenSize, projSize; @param w the layer's weights (copied).
   * @throws TypeError / RangeError naming the argument and the expected value.
   */
  constructor(cell: CellName, sizes: LayerSizes, w: SequenceWeights);
  /** @internal Arguments already checked (see {@link PreparedLayer.checked}). */
  constructor(checked: typeof CHECKED, sizes: CheckedLayerSizes, w: SequenceWeights);
  constructor(cell: CellName | typeof CHECKED, sizes: LayerSizes | CheckedLayerSizes, w: SequenceWeights) {
    const checked = cell === CHECKED;
    this.shape = checked ? layerShape(sizes as CheckedLayerSizes) : parseLayerSizes(choice(cell, 'cell', CELL_NAMES), expectObject(sizes, 'opts'));
    const weights = checked ? w : parseWeights(w, this.shape).weights;
    ({ cell: this.cell, inputSize: this.inputSize, hiddenSize: this.hiddenSize, projSize: this.projSize } = this.shape);
    this.handle = binding().prepareLayer(CELLS[this.cell].code, this.inputSize, this.hiddenSize, this.projSize,
      weights.weightIh, weights.weightHh, weights.biasIh ?? null, weights.biasHh ?? null, weights.weightHr ?? null);
    this.isa = binding().isa();
  }

  /**
   * @internal Packs weights whose sizes the caller already checked (nn/layer.ts: a module's own
   * parameters), without validating them again.
   */
  static checked(sizes: CheckedLayerSizes, w: SequenceWeights): PreparedLayer {
    return new PreparedLayer(CHECKED, sizes, w);
  }

  /**
   * @internal One time step in place, on arguments the caller checked (streams, `module.step`,
   * one-step inference): input `[B, I]`; `h [B, S]` and (LSTM) `c [B, H]` hold the state before
   * the step and after it. The one route to the packed one-step kernels.
   */
  step(batch: number, input: Float32Array, h: Float32Array, c: Float32Array | null): void {
    binding().preparedStep(this.handle, batch, input, h, c);
  }

  /**
   * Inference forward over `opts.steps` steps: input `[T, B, I]`, state `h0 [B, S]`, `c0 [B, H]`
   * (default zeros), outputs as {@link PreparedOutputs} says.
   */
  forward(opts: PreparedCallOptions, input: Float32Array, state?: LstmState | HiddenState, out?: PreparedOutputs): PreparedResult {
    const { args, result } = this.callArgs(opts, input, state, out);
    binding().preparedForward(...args);
    return result;
  }

  /**
   * {@link forward} on the libuv thread pool (the event loop stays free). Do not touch the arrays
   * until the promise settles. Rejects (never throws) on bad arguments.
   */
  async forwardAsync(opts: PreparedCallOptions, input: Float32Array, state?: LstmState | HiddenState, out?: PreparedOutputs): Promise<PreparedResult> {
    const { args, result } = this.callArgs(opts, input, state, out);
    await binding().preparedForwardAsync(...args);
    return result;
  }

  // Validated arguments of the binding's preparedForward, and the result around the arrays it writes.
  private callArgs(opts: unknown, input: unknown, state: unknown, out: unknown): { args: PreparedArgs; result: PreparedResult } {
    const o = expectObject(opts, 'opts');
    const { steps, batch } = parseCallCounts(o);
    const call = parseDirection(o, steps, batch);
    const s = { ...this.shape, ...call };
    const x = float32Dims(input, 'input', [['steps', steps], ['batch', batch], ['inputSize', s.inputSize]]);
    const st = optionalObject(state, 'state');
    const lstm = CELLS[s.cell].cellState, notLstm = `cell is ${s.cell}`;
    const hiddenDims: Dims = [['batch', batch], [s.stateName, s.state]];
    const cellDims: Dims = [['batch', batch], ['hiddenSize', s.hiddenSize]];
    const h0 = optionalArray(st.h0, 'h0', hiddenDims, true, '');
    const c0 = optionalArray(st.c0, 'c0', cellDims, lstm, notLstm);
    const outs = optionalObject(out, 'out');
    const outputDims: Dims = [['steps', steps], ['batch', batch], [s.stateName, s.state]];
    // Absent: a new array (its memory checked first); null: not computed; an array: written in place.
    const fresh = (key: 'output' | 'hN' | 'cN', dims: Dims, allowed: boolean) => (outs[key] === undefined && allowed ? count(dims) : 0);
    binding().checkPreparedMemory(this.handle, steps, batch,
      4 * (fresh('output', outputDims, true) + fresh('hN', hiddenDims, true) + fresh('cN', cellDims, lstm)));
    const outArray = (key: 'output' | 'hN' | 'cN', dims: Dims, allowed: boolean): Float32Array | null =>
      outs[key] === undefined ? (allowed ? resultArray(count(dims), `${s.cell} prepared forward`) : null)
        : outs[key] === null && allowed ? null : optionalArray(outs[key], `out.${key}`, dims, allowed, notLstm);
    const output = outArray('output', outputDims, true);
    const hN = outArray('hN', hiddenDims, true);
    const cN = outArray('cN', cellDims, lstm);
    const result: PreparedResult = lstm ? { output, hN, cN } : { output, hN };
    return { args: [this.handle, steps, batch, call.reverse, call.lengths, x, h0, c0, output, hN, cN], result };
  }
}
