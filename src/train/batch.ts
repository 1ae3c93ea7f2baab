/**
 * The contract between the training loop and the model: what a batch is, how the model is called,
 * what it returns, and how the loss is computed.
 *
 * **Batches.** A loader yields `[input, target]` (the default collate of `[x, y]` items), an object
 * `{ input, target?, lengths? }` (padCollate, records), or a bare input (prediction).
 *
 * **Calling the model** (unless fit's `forward` hook says otherwise):
 * `model.forwardAsync ?? model.forward` is called with PyTorch's recurrent signature
 * `(input, state?, { lengths }?)` — `state` is passed only with truncated BPTT or lengths (null =
 * zeros), `{ lengths }` only when the batch has lengths. It returns a Tensor, or `[output, state]`
 * (as `nn.LSTM` does; required with truncated BPTT). Define `forwardAsync` (awaiting the recurrent
 * layers' `forwardAsync`) to train off the event loop. Examples:
 *
 * ```ts
 * class Classifier extends nn.Module {            // sequence classification: LSTM → last step → Linear
 *   lstm = new nn.LSTM(16, 64, { batchFirst: true });
 *   head = new nn.Linear(64, 5);
 *   async forwardAsync(x: Tensor, state?: [Tensor, Tensor] | null, options?: { lengths?: Int32Array }) {
 *     const [, [h]] = await this.lstm.forwardAsync(x, state, options);
 *     return this.head.forward(h.select(0, -1));  // hN of the last layer: each item's own last step
 *   }
 *   forward(x: Tensor) { … same, synchronous … }
 * }
 * // language model: forwardAsync(tokens, state) → [logits [B, T, V], newState], loss 'crossEntropy'
 * // forecasting: forwardAsync(window) → prediction [B, F], loss 'mse'
 * ```
 *
 * Or pass `forward: (model, batch, state) => …` to fit / evaluate / predict for any other shape of
 * model (several inputs, extra arguments); it returns the same Tensor or `[output, state]`.
 * @module
 */
import type { Module } from '../nn/module.js';
import { crossEntropy, huberLoss, l1Loss, mseLoss, nllLoss, smoothL1Loss, binaryCrossEntropyWithLogits } from '../nn/loss.js';
import { Module as ModuleClass } from '../nn/module.js';
import { Tensor } from '../tensor/tensor.js';
import { reshape } from '../tensor/shape.js';
import { describe, isNullish } from '../validate.js';

/**
 * What a loader yields to fit, evaluate and predict: `[input, target]` (the default collate of
 * `[x, y]` items), a record `{ input, target?, lengths? }` (padCollate), or a bare input Tensor.
 */
export type BatchLike = Tensor | readonly unknown[] | {
  /** What the model takes. */
  readonly input: unknown;
  /** What the loss compares the output with (absent for prediction). */
  readonly target?: unknown;
  /** Valid steps per sequence, passed to the model with the input. */
  readonly lengths?: unknown;
};

/** Batches for fit, evaluate and predict: a DataLoader, or any (async) iterable of batches. */
export type BatchSource<B extends BatchLike = BatchLike> = Iterable<B> | AsyncIterable<B>;

/** A batch as the loop sees it; `B` is what the loader yielded. */
export interface Batch<B = unknown> {
  /** What the model takes (usually a Tensor `[B, T, …]`). */
  input: unknown;
  /** What the loss compares the output with; undefined for prediction. */
  target?: unknown;
  /** Valid steps of each sequence of a padded batch. */
  lengths?: Int32Array | null;
  /** Items in the batch: lengths.length, else dim 0 of the target (or of the input). */
  size: number;
  /** Tokens (for tokens/s): Σ lengths, else B·T of a Tensor input with 2+ dims, else size. */
  tokens: number;
  /** The batch as the loader yielded it (for a `forward` hook that needs more than input and target). */
  raw: B;
}

/** A custom way to call the model: returns the output Tensor, or `[output, state]`. */
export type ForwardHook<M = Module, B = unknown> = (model: M, batch: Batch<B>, state: unknown) => unknown;

/** The loss: a built-in name, an nn loss module (`new nn.CrossEntropyLoss()`), or `(output, target, batch) => scalar Tensor`. */
export type LossSpec = 'crossEntropy' | 'nll' | 'mse' | 'l1' | 'smoothL1' | 'huber' | 'bceWithLogits'
  | Module | ((output: Tensor, target: unknown, batch: Batch) => Tensor);

/** A resolved loss function. */
export type LossFn = (output: Tensor, target: unknown, batch: Batch) => Tensor;

function lengthsOf(value: unknown): Int32Array | null {
  if (isNullish(value)) return null;
  if (value instanceof Int32Array) return value;
  if (value instanceof Tensor) return Int32Array.from(value.data);
  if (Array.isArray(value) || ArrayBuffer.isView(value)) return Int32Array.from(value as ArrayLike<number>);
  throw new TypeError(`Expected Int32Array, array or Tensor for batch lengths but received ${describe(value)}`);
}

const firstDim = (value: unknown): number | undefined => {
  if (value instanceof Tensor) return value.ndim > 0 ? value.shape[0] : 1;
  if (Array.isArray(value)) return value.length;
  return undefined;
};

/** Normalizes a loader's batch (see the module notes); `where` names it in errors. */
export function toBatch(raw: unknown, where: string): Batch {
  let input: unknown, target: unknown, lengths: Int32Array | null = null;
  if (Array.isArray(raw) && raw.length >= 1 && (raw[0] instanceof Tensor || Array.isArray(raw[0]))) {
    [input, target] = raw;
  } else if (typeof raw === 'object' && raw !== null && !(raw instanceof Tensor) && 'input' in raw) {
    const record = raw as { input: unknown; target?: unknown; lengths?: unknown };
    ({ input, target } = record);
    lengths = lengthsOf(record.lengths);
  } else if (raw instanceof Tensor) {
    input = raw;
  } else {
    throw new TypeError(`Expected [input, target], { input, target, lengths } or a Tensor for ${where} but received ${describe(raw)}`);
  }
  const size = lengths?.length ?? firstDim(target) ?? firstDim(input) ?? 1;
  let tokens = size;
  if (lengths) tokens = lengths.reduce((a, b) => a + b, 0);
  else if (input instanceof Tensor && input.ndim >= 2) tokens = input.shape[0] * input.shape[1];
  return { input, target, lengths, size, tokens, raw };
}

// Class logits [..., C] against indices [...]: flatten the leading dims (PyTorch wants C at dim 1).
function classLoss(fn: typeof crossEntropy | typeof nllLoss): LossFn {
  return (output, target) => {
    if (output.ndim <= 2) return fn(output, target as Tensor);
    const classes = output.shape[output.ndim - 1];
    const sameShape = target instanceof Tensor && target.ndim === output.ndim;
    const flatTarget = target instanceof Tensor ? reshape(target, sameShape ? [-1, classes] : [-1]) : target;
    return fn(reshape(output, [-1, classes]), flatTarget as Tensor);
  };
}

const asTensor = (target: unknown, loss: string): Tensor => {
  if (!(target instanceof Tensor)) throw new TypeError(`Expected Tensor target for loss ${loss} but received ${describe(target)}`);
  return target;
};

const BUILT_IN_LOSSES: Record<string, LossFn> = {
  crossEntropy: classLoss(crossEntropy),
  nll: classLoss(nllLoss),
  mse: (o, t) => mseLoss(o, reshapeLike(asTensor(t, 'mse'), o)),
  l1: (o, t) => l1Loss(o, reshapeLike(asTensor(t, 'l1'), o)),
  smoothL1: (o, t) => smoothL1Loss(o, reshapeLike(asTensor(t, 'smoothL1'), o)),
  huber: (o, t) => huberLoss(o, reshapeLike(asTensor(t, 'huber'), o)),
  bceWithLogits: (o, t) => binaryCrossEntropyWithLogits(o, reshapeLike(asTensor(t, 'bceWithLogits'), o)),
};

// [B] targets against [B, 1] outputs (a one-unit head): same elements, the output's shape.
function reshapeLike(target: Tensor, output: Tensor): Tensor {
  return target.numel === output.numel && target.ndim !== output.ndim ? reshape(target, [...output.shape]) : target;
}

/**
 * The loss function for fit's `loss` option. Built-in names treat the LAST dim of the output as
 * the classes (`crossEntropy`, `nll`: logits `[B, T, V]` against indices `[B, T]` are flattened;
 * padded targets at −100 are ignored) and accept `[B]` targets for `[B, 1]` outputs (regression).
 * @throws RangeError `Expected one of crossEntropy, nll, mse, … or a loss module or function for loss but received ce of type string`
 */
export function resolveLoss(spec: unknown): LossFn {
  if (typeof spec === 'function') return spec as LossFn;
  if (spec instanceof ModuleClass) return (output, target) => (spec as unknown as { forward(o: Tensor, t: unknown): Tensor }).forward(output, target);
  if (typeof spec === 'string' && Object.hasOwn(BUILT_IN_LOSSES, spec)) return BUILT_IN_LOSSES[spec];
  const message = `Expected one of ${Object.keys(BUILT_IN_LOSSES).join(', ')} or a loss module or function for loss but received ${describe(spec)}`;
  throw typeof spec === 'string' ? new RangeError(message) : new TypeError(message);
}

/** What a model call produced. */
export interface ModelResult {
  /** The model's output. */
  output: Tensor;
  /** The state the model returned (with `[output, state]`), else undefined. */
  state: unknown;
}

type Callable = (...args: unknown[]) => unknown;

/**
 * Calls the model on a batch (see the module notes): the `forward` hook, or
 * `model.forwardAsync ?? model.forward` with `(input, state?, { lengths }?)`.
 * @param passState whether to pass `state` even without lengths (truncated BPTT).
 */
export async function callModel(model: Module, batch: Batch, forward: ForwardHook | undefined, state: unknown,
  passState: boolean): Promise<ModelResult> {
  let result: unknown;
  if (forward) {
    result = await forward(model, batch, state);
  } else {
    const m = model as unknown as { forward: Callable; forwardAsync?: Callable };
    const run = typeof m.forwardAsync === 'function' ? m.forwardAsync : m.forward;
    const args: unknown[] = [batch.input];
    if (passState || batch.lengths) args.push(state ?? null);
    if (batch.lengths) args.push({ lengths: batch.lengths });
    result = await run.apply(model, args);
  }
  if (result instanceof Tensor) return { output: result, state: undefined };
  if (Array.isArray(result) && result[0] instanceof Tensor) return { output: result[0], state: result[1] };
  throw new TypeError(`Expected the model to return a Tensor or [output Tensor, state] but received ${describe(result)}`);
}

/** Resolves after pending I/O callbacks and timers had their turn (between batches). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
