/**
 * One recurrent layer in one direction as ONE autograd node around the native sequence kernels
 * (src/sequence.ts): forward in training mode keeps the kernel's cache, backward runs BPTT once
 * for all three results (output, hN, cN) and returns every input's gradient.
 *
 * The tape has single-output nodes, so the node IS `hN`, and `output` / `cN` are small satellite
 * nodes on top of it: their backward only stashes d(output) / d(cN) and passes a zero [B, S] array
 * down to `hN`, whose backward (run after both, by topological order) feeds all three upstream
 * gradients to one kernel call. Nothing of size T·B·S is ever summed or copied by the tape.
 * @module
 */
import { isaChangeCount } from '../runtime.js';
import {
  PreparedLayer, type CellName, type PreparedResult, gruBackward, gruBackwardAsync, gruForward, gruForwardAsync, lstmBackward, lstmBackwardAsync, lstmForward,
  lstmForwardAsync, rnnBackward, rnnBackwardAsync, rnnForward, rnnForwardAsync, type BackwardResult, type ForwardResult,
  type SequenceGrads, type SequenceOptions, type SequenceWeights,
} from '../sequence.js';
import { isGradEnabled } from '../tensor/autograd.js';
import { Tensor, fromOp } from '../tensor/tensor.js';

/** Sizes and options of one layer-direction (time-major). */
export interface LayerSpec {
  cell: CellName;
  steps: number;
  batch: number;
  inputSize: number;
  hiddenSize: number;
  /** 0 = none (LSTM only). */
  projSize: number;
  reverse: boolean;
  lengths: Int32Array | null;
}

/** The layer's parameters in PyTorch's shapes; biases both or neither. */
export interface LayerParams {
  weightIh: Tensor;
  weightHh: Tensor;
  biasIh: Tensor | null;
  biasHh: Tensor | null;
  weightHr: Tensor | null;
}

/** Results; shapes are the caller's (`outputShape` etc.), data is time-major `[T, B, S]`, `[B, S]`, `[B, H]`. */
export interface LayerResult {
  output: Tensor;
  hN: Tensor;
  cN: Tensor | null;
}

/** Shapes to give the three results (e.g. without the batch axis for unbatched input). */
export interface LayerShapes {
  output: readonly number[];
  hN: readonly number[];
  cN: readonly number[];
}

type Forward = (opts: SequenceOptions, w: SequenceWeights, input: Float32Array, state: object) => ForwardResult;
type ForwardAsync = (opts: SequenceOptions, w: SequenceWeights, input: Float32Array, state: object) => Promise<ForwardResult>;
type Backward = (opts: SequenceOptions, w: SequenceWeights, input: Float32Array, cache: Float32Array,
  grads: SequenceGrads, upstream: object) => BackwardResult;
type BackwardAsync = (...args: Parameters<Backward>) => Promise<BackwardResult>;

interface Kernel {
  forward: Forward;
  forwardAsync: ForwardAsync;
  backward: Backward;
  backwardAsync: BackwardAsync;
  nonlinearity?: 'tanh' | 'relu';
}

const LSTM_KERNEL = { forward: lstmForward, forwardAsync: lstmForwardAsync, backward: lstmBackward, backwardAsync: lstmBackwardAsync };
const GRU_KERNEL = { forward: gruForward, forwardAsync: gruForwardAsync, backward: gruBackward, backwardAsync: gruBackwardAsync };
const RNN_KERNEL = { forward: rnnForward, forwardAsync: rnnForwardAsync, backward: rnnBackward, backwardAsync: rnnBackwardAsync };
const KERNELS: Record<CellName, Kernel> = {
  lstm: LSTM_KERNEL,
  gru: GRU_KERNEL,
  rnn_tanh: { ...RNN_KERNEL, nonlinearity: 'tanh' },
  rnn_relu: { ...RNN_KERNEL, nonlinearity: 'relu' },
};

/**
 * A layer-direction ready to run: on this thread, or on the libuv pool. Its backward likewise
 * (Tensor.backward() / backwardAsync()).
 */
export interface LayerCall {
  run(): LayerResult;
  runAsync(): Promise<LayerResult>;
}

const PARAM_KEYS = ['weightIh', 'weightHh', 'biasIh', 'biasHh', 'weightHr'] as const;

/**
 * Runs one layer-direction. `x` holds `[T, B, I]` floats, `h0` `[B, S]`, `c0` `[B, H]` (LSTM), in
 * any shape with those element counts (the tensors' data is read as is).
 */
export function runLayer(spec: LayerSpec, params: LayerParams, x: Tensor, h0: Tensor | null, c0: Tensor | null,
  shapes: LayerShapes, name: string): LayerResult {
  return prepareLayer(spec, params, x, h0, c0, shapes, name).run();
}

/** {@link runLayer} split into preparation and a sync or async run; `recording` defaults to the grad mode now. */
export function prepareLayer(spec: LayerSpec, params: LayerParams, x: Tensor, h0: Tensor | null, c0: Tensor | null,
  shapes: LayerShapes, name: string, recording?: boolean): LayerCall {
  const kernel = KERNELS[spec.cell];
  const opts = {
    steps: spec.steps, batch: spec.batch, inputSize: spec.inputSize, hiddenSize: spec.hiddenSize,
    projSize: spec.projSize, reverse: spec.reverse, lengths: spec.lengths, nonlinearity: kernel.nonlinearity,
  };
  const weights: SequenceWeights = {
    weightIh: params.weightIh.data, weightHh: params.weightHh.data, biasIh: params.biasIh?.data ?? null,
    biasHh: params.biasHh?.data ?? null, weightHr: params.weightHr?.data ?? null,
  };
  const inputs = [x, h0, c0, ...PARAM_KEYS.map((key) => params[key])].filter((t): t is Tensor => t !== null);
  const record = (recording ?? isGradEnabled()) && inputs.some((t) => t.requiresGrad);
  const state = { h0: h0?.data ?? null, c0: c0?.data ?? null, training: record };
  if (!record && spec.steps === 1) {
    // One step of inference (streaming, cells): with the weights packed once, not on every call.
    const packedState = state.c0 ? { h0: state.h0, c0: state.c0 } : { h0: state.h0 };
    const wrapPacked = (r: PreparedResult): LayerResult => ({
      output: new Tensor(r.output as Float32Array, shapes.output),
      hN: new Tensor(r.hN as Float32Array, shapes.hN),
      cN: r.cN ? new Tensor(r.cN, shapes.cN) : null,
    });
    return {
      run: () => wrapPacked(packedLayer(spec, params).forward(opts, x.data, packedState)),
      runAsync: async () => wrapPacked(await packedLayer(spec, params).forwardAsync(opts, x.data, packedState)),
    };
  }
  const wrap = (result: ForwardResult): LayerResult => wrapResult(result, { kernel, opts, weights, params, x, h0, c0, inputs, record, shapes, name });
  return {
    run: () => wrap(kernel.forward(opts, weights, x.data, state)),
    runAsync: async () => wrap(await kernel.forwardAsync(opts, weights, x.data, state)),
  };
}

// ---- Packed weights for inference ----------------------------------------------------------------

interface PackedEntry {
  params: (Tensor | null)[];
  versions: number[];
  isaChanges: number;
  layer: PreparedLayer;
}
const packedLayers = new WeakMap<Tensor, PackedEntry>();

/**
 * The layer's weights packed for inference ({@link PreparedLayer}), cached per `weightIh` tensor and
 * packed again when one of the layer's parameters was replaced or changed (`_version`: optimizer
 * steps, `loadStateDict`, `nn.init`, `markModified()`), or `setIsa` was called.
 */
export function packedLayer(spec: Pick<LayerSpec, 'cell' | 'inputSize' | 'hiddenSize' | 'projSize'>, params: LayerParams): PreparedLayer {
  const list = PARAM_KEYS.map((key) => params[key]);
  const entry = packedLayers.get(params.weightIh);
  if (entry && entry.layer.cell === spec.cell && entry.isaChanges === isaChangeCount() && isCurrent(entry, list)) return entry.layer;
  const layer = new PreparedLayer(spec.cell, { inputSize: spec.inputSize, hiddenSize: spec.hiddenSize, projSize: spec.projSize }, {
    weightIh: params.weightIh.data, weightHh: params.weightHh.data, biasIh: params.biasIh?.data, biasHh: params.biasHh?.data,
    weightHr: params.weightHr?.data,
  });
  packedLayers.set(params.weightIh, { params: list, versions: list.map((p) => p?._version ?? 0), isaChanges: isaChangeCount(), layer });
  return layer;
}

// Checked on every step: a plain loop over the five parameter slots.
function isCurrent(entry: PackedEntry, params: (Tensor | null)[]): boolean {
  for (let i = 0; i < params.length; i++) {
    const p = params[i];
    if (p !== entry.params[i] || (p !== null && p._version !== entry.versions[i])) return false;
  }
  return true;
}

interface WrapContext {
  kernel: Kernel;
  opts: SequenceOptions;
  weights: SequenceWeights;
  params: LayerParams;
  x: Tensor;
  h0: Tensor | null;
  c0: Tensor | null;
  inputs: Tensor[];
  record: boolean;
  shapes: LayerShapes;
  name: string;
}

// The kernel's arrays as tensors; when recording, hN is the node and output / cN its satellites.
function wrapResult(result: ForwardResult, context: WrapContext): LayerResult {
  const { kernel, opts, weights, params, x, h0, c0, inputs, shapes, name } = context;
  if (!context.record) {
    return {
      output: new Tensor(result.output, shapes.output),
      hN: new Tensor(result.hN, shapes.hN),
      cN: result.cN ? new Tensor(result.cN, shapes.cN) : null,
    };
  }
  const cache = result.cache as Float32Array;
  const stash: { dOutput: Float32Array | null; dcN: Float32Array | null } = { dOutput: null, dcN: null };
  // BPTT once for output, hN and cN: the kernel's arguments, and its result as input gradients.
  const backwardArgs = (dhN: Float32Array): [Parameters<Backward>, SequenceGrads] => {
    const grads = {
      weightIh: new Float32Array(weights.weightIh.length),
      weightHh: new Float32Array(weights.weightHh.length),
      biasIh: weights.biasIh ? new Float32Array(weights.biasIh.length) : null,
      biasHh: weights.biasHh ? new Float32Array(weights.biasHh.length) : null,
      weightHr: weights.weightHr ? new Float32Array(weights.weightHr.length) : null,
    };
    const upstream = { dOutput: stash.dOutput, dhN, dcN: stash.dcN, inputGrad: x.requiresGrad };
    stash.dOutput = null;
    stash.dcN = null;
    return [[opts, weights, x.data, cache, grads, upstream], grads];
  };
  const inputGrads = (back: BackwardResult, grads: SequenceGrads): (Float32Array | null)[] => {
    const stateGrads: (Float32Array | null)[] = [];
    if (h0) stateGrads.push(back.dh0);
    if (c0) stateGrads.push(back.dc0 ?? null);
    const paramGrads = PARAM_KEYS.filter((key) => params[key] !== null).map((key) => grads[key] as Float32Array);
    return [back.dInput, ...stateGrads, ...paramGrads];
  };
  // A node with both backward forms (fromOp makes sync-only nodes; recording is already decided here).
  const hN = new Tensor(result.hN, shapes.hN, true, {
    name,
    inputs,
    backward: (dhN) => {
      const [args, grads] = backwardArgs(dhN);
      return inputGrads(kernel.backward(...args), grads);
    },
    backwardAsync: async (dhN) => {
      const [args, grads] = backwardArgs(dhN);
      return inputGrads(await kernel.backwardAsync(...args), grads);
    },
  });
  const stateSize = result.hN.length;
  const output = fromOp(`${name}.output`, result.output, shapes.output, [hN], (dOutput) => {
    stash.dOutput = dOutput;
    return [new Float32Array(stateSize)];
  });
  const cN = result.cN
    ? fromOp(`${name}.cN`, result.cN, shapes.cN, [hN], (dcN) => {
      stash.dcN = dcN;
      return [new Float32Array(stateSize)];
    })
    : null;
  return { output, hN, cN };
}
