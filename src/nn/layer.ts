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
import { CELLS, LAYER_PARAMETERS } from '../cell-table.js';
import { isaChangeCount } from '../runtime.js';
import {
  PreparedLayer, checkedBackward, checkedBackwardAsync, checkedForward, checkedForwardAsync, type CheckedBackwardResult,
  type CheckedCall, type CheckedUpstream, type ForwardResult, type SequenceWeights,
} from '../sequence.js';
import { isGradEnabled } from '../tensor/autograd.js';
import { Tensor, fromOp } from '../tensor/tensor.js';

/**
 * Sizes and options of one layer-direction (time-major): a {@link CheckedCall} without the weights
 * (the layer has them as parameters), the dropout masks optional.
 */
export type LayerSpec = Omit<CheckedCall, 'weights' | 'inputMask' | 'recurrentMask'>
  & Partial<Pick<CheckedCall, 'inputMask' | 'recurrentMask'>>;

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

/**
 * A layer-direction ready to run: on this thread, or on the libuv pool. Its backward likewise
 * (Tensor.backward() / backwardAsync()).
 */
export interface LayerCall {
  run(): LayerResult;
  runAsync(): Promise<LayerResult>;
}

const PARAM_KEYS = LAYER_PARAMETERS.map(({ key }) => key);

/**
 * Runs one layer-direction. `x` holds `[T, B, I]` floats, `h0` `[B, S]`, `c0` `[B, H]` (LSTM), in
 * any shape with those element counts (the tensors' data is read as is).
 */
export function runLayer(spec: LayerSpec, params: LayerParams, x: Tensor, h0: Tensor | null, c0: Tensor | null,
  shapes: LayerShapes, name: string): LayerResult {
  return layerCall(spec, params, x, h0, c0, shapes, name).run();
}

/**
 * {@link runLayer} as a call to make later, on this thread or on the libuv pool; `recording`
 * defaults to the grad mode now.
 */
export function layerCall(spec: LayerSpec, params: LayerParams, x: Tensor, h0: Tensor | null, c0: Tensor | null,
  shapes: LayerShapes, name: string, recording?: boolean): LayerCall {
  const weights: SequenceWeights = {
    weightIh: params.weightIh.data, weightHh: params.weightHh.data, biasIh: params.biasIh?.data ?? null,
    biasHh: params.biasHh?.data ?? null, weightHr: params.weightHr?.data ?? null,
  };
  const call: CheckedCall = { ...spec, weights, inputMask: spec.inputMask ?? null, recurrentMask: spec.recurrentMask ?? null };
  const inputs = [x, h0, c0, ...PARAM_KEYS.map((key) => params[key])].filter((t): t is Tensor => t !== null);
  const record = (recording ?? isGradEnabled()) && inputs.some((t) => t.requiresGrad);
  const h0Data = h0?.data ?? null, c0Data = c0?.data ?? null;
  const wrap = (result: ForwardResult): LayerResult => wrapResult(result, { call, params, x, h0, c0, inputs, record, shapes, name });
  const runAsync = async (): Promise<LayerResult> => wrap(await checkedForwardAsync(call, x.data, h0Data, c0Data, record));
  if (!record && spec.steps === 1 && spec.lengths === null && call.inputMask === null && call.recurrentMask === null) {
    // One step of inference (cells, one-step sequences): the packed step, weights packed once, not
    // on every call. Async calls stay on the pool, with the same numbers.
    return { run: () => packedStep(spec, params, x, h0Data, c0Data, shapes), runAsync };
  }
  return { run: () => wrap(checkedForward(call, x.data, h0Data, c0Data, record)), runAsync };
}

// One step through the layer's packed weights, from h0 / c0 (null = zeros) into new state arrays.
function packedStep(spec: LayerSpec, params: LayerParams, x: Tensor, h0: Float32Array | null, c0: Float32Array | null,
  shapes: LayerShapes): LayerResult {
  const state = (initial: Float32Array | null, floats: number) => (initial ? initial.slice() : new Float32Array(floats));
  const h = state(h0, spec.batch * (spec.projSize || spec.hiddenSize));
  const c = CELLS[spec.cell].cellState ? state(c0, spec.batch * spec.hiddenSize) : null;
  packedLayer(spec, params).step(spec.batch, x.data, h, c);
  return { output: new Tensor(h.slice(), shapes.output), hN: new Tensor(h, shapes.hN), cN: c ? new Tensor(c, shapes.cN) : null };
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
  const layer = PreparedLayer.checked({ cell: spec.cell, inputSize: spec.inputSize, hiddenSize: spec.hiddenSize, projSize: spec.projSize }, {
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
  call: CheckedCall;
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
// The node's backward consumes the training cache (as PyTorch frees the graph after backward): its
// memory holds the gate gradients, then serves the next step instead of waiting for the GC.
function wrapResult(result: ForwardResult, context: WrapContext): LayerResult {
  const { call, params, x, h0, c0, inputs, shapes, name } = context;
  if (!context.record) {
    return {
      output: new Tensor(result.output, shapes.output),
      hN: new Tensor(result.hN, shapes.hN),
      cN: result.cN ? new Tensor(result.cN, shapes.cN) : null,
    };
  }
  const cache = result.cache!;
  const stash: { dOutput: Float32Array | null; dcN: Float32Array | null } = { dOutput: null, dcN: null };
  // BPTT once for output, hN and cN: the upstream gradients, and the kernel's result as input gradients.
  const upstream = (dhN: Float32Array): CheckedUpstream => {
    if (cache.isReleased) {
      throw new Error(`Trying to backward through ${name} a second time: its cache was released after the first backward`);
    }
    const up = { dOutput: stash.dOutput, dhN, dcN: stash.dcN, inputGrad: x.requiresGrad };
    stash.dOutput = null;
    stash.dcN = null;
    return up;
  };
  const inputGrads = (back: CheckedBackwardResult): (Float32Array | null)[] => {
    const stateGrads: (Float32Array | null)[] = [];
    if (h0) stateGrads.push(back.dh0);
    if (c0) stateGrads.push(back.dc0 ?? null);
    const paramGrads = PARAM_KEYS.filter((key) => params[key] !== null).map((key) => back.grads[key] as Float32Array);
    return [back.dInput, ...stateGrads, ...paramGrads];
  };
  // A node with both backward forms (fromOp makes sync-only nodes; recording is already decided here).
  const hN = new Tensor(result.hN, shapes.hN, true, {
    name,
    inputs,
    backward: (dhN) => inputGrads(checkedBackward(call, x.data, cache, upstream(dhN))),
    backwardAsync: async (dhN) => inputGrads(await checkedBackwardAsync(call, x.data, cache, upstream(dhN))),
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
