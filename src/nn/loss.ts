/**
 * Loss functions with PyTorch 1.13's semantics (values, reductions, gradients and error messages).
 *
 * Each loss is ONE tape node with a fused forward and backward: cross-entropy computes the
 * log-softmax once and its backward is `softmax − target` scaled, instead of a chain of small ops.
 * Sums run in float64 and are rounded to float32 once; the log-probabilities are kept in float32
 * (as PyTorch keeps its log_softmax output), so results agree with PyTorch to float32 rounding.
 * @module
 */
import { needsGrad } from '../tensor/autograd.js';
import { expectTensor, fromOp, shapeSize, Tensor } from '../tensor/tensor.js';
import { broadcastShapes, expandData, sumToShape } from '../tensor/strided.js';
import { describe, intInRange, isNullish, optionalObject } from '../validate.js';

/** How per-element losses are combined: averaged (`mean`), added (`sum`) or returned as is (`none`). */
export type Reduction = 'mean' | 'sum' | 'none';

/** Class indices where PyTorch takes a LongTensor: a Tensor of integral values, an array, or one number. */
export type ClassTarget = Tensor | readonly number[] | Int32Array | number;

/** Per-class rescaling weights (length C): a Tensor or plain numbers. */
export type ClassWeight = Tensor | readonly number[] | Float32Array;

/** Options of {@link nllLoss} and {@link NLLLoss}. */
export interface NllLossOptions {
  /** Rescales each class's loss (length C); the mean divides by the summed weights of the targets. */
  weight?: ClassWeight | null;
  /** Targets with this value contribute neither loss nor gradient, nor count in the mean. Default -100. */
  ignoreIndex?: number;
  /** Default 'mean'. */
  reduction?: Reduction;
}

/** Options of {@link crossEntropy} and {@link CrossEntropyLoss}. */
export interface CrossEntropyOptions extends NllLossOptions {
  /** Mixes the target with the uniform distribution: (1 − ε)·target + ε/C. Default 0, at most 1. */
  labelSmoothing?: number;
}

/** Options of the losses whose only option is `reduction`. */
export interface ReductionOptions {
  /** Default 'mean'. */
  reduction?: Reduction;
}

/** Options of {@link smoothL1Loss} and {@link SmoothL1Loss}. */
export interface SmoothL1LossOptions extends ReductionOptions {
  /** Where the loss switches from quadratic to linear; default 1, must be ≥ 0. */
  beta?: number;
}

/** Options of {@link huberLoss} and {@link HuberLoss}. */
export interface HuberLossOptions extends ReductionOptions {
  /** Where the loss switches from quadratic to linear; default 1, must be > 0. */
  delta?: number;
}

/** Options of {@link binaryCrossEntropyWithLogits} and {@link BCEWithLogitsLoss}. */
export interface BceWithLogitsOptions extends ReductionOptions {
  /** Rescales each element's loss; broadcast to the input's shape. */
  weight?: Tensor | null;
  /** Weight of the positive term (per class, broadcast over the last dimension like PyTorch). */
  posWeight?: Tensor | null;
}

// ---------------------------------------------------------------------------------------------
// Argument helpers

function optionalTensor(value: unknown, name: string): Tensor | null {
  if (isNullish(value)) return null;
  expectTensor(value, name);
  return value;
}

function reductionOf(options: Record<string, unknown>): Reduction {
  const value = options.reduction ?? 'mean';
  if (value === 'mean' || value === 'sum' || value === 'none') return value;
  // PyTorch: ValueError "avg is not a valid value for reduction".
  throw new RangeError(`${String(value)} is not a valid value for reduction`);
}

function finiteNumber(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`Expected number for ${name} but received ${describe(value)}`);
  }
  return value;
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Class indices as float64 values (so a huge or negative index is reported, not wrapped) + shape. */
function classIndices(target: ClassTarget): { values: Float64Array; shape: number[] } {
  if (typeof target === 'number') {
    return { values: Float64Array.of(intInRange(target, 'target', -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)), shape: [] };
  }
  const isTensor = target instanceof Tensor;
  if (!isTensor && !Array.isArray(target) && !(target instanceof Int32Array)) {
    throw new TypeError(`Expected Tensor, Array or Int32Array of class indices for target but received ${describe(target)}`);
  }
  const source: ArrayLike<number> = isTensor ? target.data : target;
  const values = new Float64Array(source.length);
  for (let i = 0; i < source.length; i++) {
    const v = source[i];
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      throw new TypeError(`Expected integer class index for target[${i}] but received ${describe(v)}`);
    }
    values[i] = v;
  }
  return { values, shape: isTensor ? [...target.shape] : [source.length] };
}

function classWeights(weight: unknown, classes: number, prefix: string): Float32Array | null {
  if (isNullish(weight)) return null;
  let data: Float32Array;
  let shape: readonly number[];
  if (weight instanceof Tensor) {
    data = weight.data;
    shape = weight.shape;
  } else if (Array.isArray(weight) || weight instanceof Float32Array) {
    data = Float32Array.from(weight as ArrayLike<number>);
    shape = [data.length];
  } else {
    throw new TypeError(`Expected Tensor, Array or Float32Array for weight but received ${describe(weight)}`);
  }
  if (shape.length !== 1 || data.length !== classes) {
    throw new RangeError(`${prefix}weight tensor should be defined either for all ${classes} classes or no classes but got weight tensor of shape: ${shapeText(shape)}`);
  }
  return data;
}

function labelSmoothingOf(value: unknown): number {
  const smoothing = finiteNumber(value, 'labelSmoothing', 0);
  // PyTorch ignores a negative value silently; rnnkit rejects it with PyTorch's range message.
  if (smoothing < 0 || smoothing > 1) {
    throw new RangeError(`label_smoothing must be between 0.0 and 1.0. Got: ${smoothing}`);
  }
  return smoothing;
}

// ---------------------------------------------------------------------------------------------
// Class-dimension layout: input [outer, classes, inner] with the classes at dim 1 (dim 0 for a 1-D input).

interface ClassLayout {
  outer: number;
  classes: number;
  inner: number;
  /** Shape of a per-position result: the input's shape without the class dimension. */
  rowShape: number[];
}

function classLayout(input: Tensor): ClassLayout {
  const shape = input.shape;
  if (shape.length === 0) throw new RangeError('Expected 1 or more dimensions (got 0)');
  if (shape.length === 1) return { outer: 1, classes: shape[0], inner: 1, rowShape: [] };
  return { outer: shape[0], classes: shape[1], inner: shapeSize(shape.slice(2)), rowShape: [shape[0], ...shape.slice(2)] };
}

/** PyTorch's nll_loss_nd target-shape checks, in its order and words. */
function checkIndexTargetShape(inputShape: readonly number[], targetShape: readonly number[]): void {
  const nd = inputShape.length;
  if (nd !== 1 && targetShape.length > 0 && inputShape[0] !== targetShape[0]) {
    throw new RangeError(`Expected input batch_size (${inputShape[0]}) to match target batch_size (${targetShape[0]}).`);
  }
  if (nd <= 2) {
    if (targetShape.length > 1) throw new RangeError('0D or 1D target tensor expected, multi-target not supported');
    if (targetShape.length !== nd - 1) {
      throw new RangeError(`size mismatch (got input: ${shapeText(inputShape)}, target: ${shapeText(targetShape)})`);
    }
    return;
  }
  const expected = [inputShape[0], ...inputShape.slice(2)];
  if (targetShape.length !== expected.length || targetShape.some((d, i) => d !== expected[i])) {
    throw new RangeError(`Expected target size ${shapeText(expected)}, got ${shapeText(targetShape)}`);
  }
}

/**
 * Softmax over the class dimension, saved (float32) for the backward, and each position's
 * log-sum-exp (log p_c = x_c − logSumExp[row]): one exp per element, forward and backward together.
 */
interface Softmax {
  probs: Float32Array;
  logSumExp: Float64Array;
}

function softmax(x: Float32Array, { outer, classes, inner }: ClassLayout): Softmax {
  const probs = new Float32Array(x.length);
  const logSumExp = new Float64Array(outer * inner);
  for (let n = 0, r = 0; n < outer; n++) {
    for (let k = 0; k < inner; k++, r++) {
      const base = n * classes * inner + k;
      const end = base + classes * inner;
      let max = -Infinity;
      for (let i = base; i < end; i += inner) if (x[i] > max) max = x[i];
      let sum = 0;
      for (let i = base; i < end; i += inner) {
        const e = Math.exp(x[i] - max);
        probs[i] = e;
        sum += e;
      }
      const inverse = 1 / sum;
      for (let i = base; i < end; i += inner) probs[i] *= inverse;
      logSumExp[r] = max + Math.log(sum);
    }
  }
  return { probs, logSumExp };
}

/** Reduces per-row losses; returns the output data/shape and the gradient scale of each row. */
function reduceRows(rowLoss: Float64Array, rowShape: number[], reduction: Reduction, denominator: number) {
  if (reduction === 'none') {
    return { data: Float32Array.from(rowLoss), shape: rowShape, scale: (g: Float32Array, row: number) => g[row] };
  }
  let total = 0;
  for (let r = 0; r < rowLoss.length; r++) total += rowLoss[r];
  const divisor = reduction === 'mean' ? denominator : 1;
  return { data: Float32Array.of(total / divisor), shape: [] as number[], scale: (g: Float32Array) => g[0] / divisor };
}

// ---------------------------------------------------------------------------------------------
// Class-index losses: nll and cross-entropy

interface IndexLossSpec {
  name: string;
  /** The input holds log-probabilities (nll) rather than logits (cross-entropy). */
  logProbabilities: boolean;
  smoothing: number;
}

/**
 * Per position with target t (not ignored), the loss is Σ_c q_c·(−log p_c) with
 * q = (1−ε)·w_t·onehot(t) + (ε/C)·w — PyTorch's (1−ε)·nll + (ε/C)·smooth — and its gradient on
 * the logits is (Σ_c q_c)·p − q. nll is the ε = 0 case on log-probabilities given directly.
 */
function classIndexLoss(input: Tensor, target: ClassTarget, options: Record<string, unknown>, spec: IndexLossSpec): Tensor {
  const reduction = reductionOf(options);
  const ignoreIndex = options.ignoreIndex === undefined ? -100
    : intInRange(options.ignoreIndex, 'ignoreIndex', -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const layout = classLayout(input);
  const { values: targets, shape: targetShape } = classIndices(target);
  checkIndexTargetShape(input.shape, targetShape);
  const { outer, classes: C, inner } = layout;
  const weight = classWeights(options.weight, C, '');
  const eps = spec.smoothing;
  const x = input.data;
  const sm = spec.logProbabilities ? null : softmax(x, layout);

  let weightSum = C; // Σ_c w_c, for the smoothing term
  if (weight) {
    weightSum = 0;
    for (let c = 0; c < C; c++) weightSum += weight[c];
  }
  const rowLoss = new Float64Array(outer * inner);
  let totalWeight = 0;
  for (let n = 0, r = 0; n < outer; n++) {
    for (let k = 0; k < inner; k++, r++) {
      const t = targets[r];
      if (t === ignoreIndex) continue;
      if (t < 0 || t >= C) throw new RangeError(`Target ${t} is out of bounds.`);
      const base = n * C * inner + k;
      const wt = weight ? weight[t] : 1;
      totalWeight += wt;
      if (!sm) {
        rowLoss[r] = -wt * x[base + t * inner];
        continue;
      }
      const lse = sm.logSumExp[r];
      let loss = (1 - eps) * wt * (lse - x[base + t * inner]);
      if (eps > 0) {
        let weightedLogits = 0; // Σ_c w_c·x_c, so Σ_c w_c·(−log p_c) = Σ_c w_c·lse − Σ_c w_c·x_c
        for (let c = 0, i = base; c < C; c++, i += inner) weightedLogits += (weight ? weight[c] : 1) * x[i];
        loss += (eps / C) * (weightSum * lse - weightedLogits);
      }
      rowLoss[r] = loss;
    }
  }
  const out = reduceRows(rowLoss, layout.rowShape, reduction, totalWeight);

  return fromOp(spec.name, out.data, out.shape, [input], (gradOut) => {
    const grad = new Float32Array(input.numel);
    for (let n = 0, r = 0; n < outer; n++) {
      for (let k = 0; k < inner; k++, r++) {
        const t = targets[r];
        if (t === ignoreIndex) continue;
        const s = out.scale(gradOut, r);
        const base = n * C * inner + k;
        const wt = weight ? weight[t] : 1;
        if (!sm) {
          grad[base + t * inner] = -s * wt;
          continue;
        }
        const p = sm.probs;
        const massScale = s * ((1 - eps) * wt + (eps / C) * weightSum);
        const end = base + C * inner;
        if (eps > 0) {
          const smooth = s * (eps / C);
          for (let c = 0, i = base; i < end; c++, i += inner) grad[i] = massScale * p[i] - smooth * (weight ? weight[c] : 1);
        } else {
          for (let i = base; i < end; i += inner) grad[i] = massScale * p[i];
        }
        grad[base + t * inner] -= s * (1 - eps) * wt;
      }
    }
    return [grad];
  });
}

/**
 * Cross-entropy against class probabilities (target shaped like the input): per position
 * Σ_c q_c·(−log p_c) with q_c = w_c·((1−ε)·t_c + ε/C); the mean divides by the number of positions.
 */
function probabilityCrossEntropy(input: Tensor, target: Tensor, options: Record<string, unknown>, eps: number): Tensor {
  const reduction = reductionOf(options);
  if (options.ignoreIndex !== undefined && options.ignoreIndex !== -100) {
    const ignoreIndex = intInRange(options.ignoreIndex, 'ignoreIndex', -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    if (ignoreIndex >= 0) throw new RangeError('ignore_index is not supported for floating point target');
  }
  const layout = classLayout(input);
  const { outer, classes: C, inner } = layout;
  const weight = classWeights(options.weight, C, 'cross_entropy: ');
  const { probs, logSumExp } = softmax(input.data, layout);
  const x = input.data, t = target.data;
  const massOf = (i: number, c: number): number => (weight ? weight[c] : 1) * (t[i] * (1 - eps) + eps / C);
  const rowLoss = new Float64Array(outer * inner);
  const rowMass = new Float64Array(outer * inner);
  for (let n = 0, r = 0; n < outer; n++) {
    for (let k = 0; k < inner; k++, r++) {
      const base = n * C * inner + k;
      let loss = 0, mass = 0;
      for (let c = 0, i = base; c < C; c++, i += inner) {
        const q = massOf(i, c);
        mass += q;
        loss += q * (logSumExp[r] - x[i]);
      }
      rowLoss[r] = loss;
      rowMass[r] = mass;
    }
  }
  const out = reduceRows(rowLoss, layout.rowShape, reduction, outer * inner);

  return fromOp('crossEntropy', out.data, out.shape, [input, target], (gradOut) => {
    const gradInput = input.requiresGrad ? new Float32Array(input.numel) : null;
    const gradTarget = target.requiresGrad ? new Float32Array(target.numel) : null;
    for (let n = 0, r = 0; n < outer; n++) {
      for (let k = 0; k < inner; k++, r++) {
        const s = out.scale(gradOut, r);
        const base = n * C * inner + k;
        for (let c = 0, i = base; c < C; c++, i += inner) {
          if (gradInput) gradInput[i] = s * (rowMass[r] * probs[i] - massOf(i, c));
          if (gradTarget) gradTarget[i] = s * (1 - eps) * (weight ? weight[c] : 1) * (logSumExp[r] - x[i]);
        }
      }
    }
    return [gradInput, gradTarget];
  });
}

/**
 * Cross-entropy between logits and targets, as `torch.nn.functional.cross_entropy`.
 *
 * `input` is [C], [N, C] or [N, C, d1, …] (classes at dim 1). `target` is either class indices
 * ([] / [N] / [N, d1, …]; a Tensor of integral values, an array or an Int32Array) or class
 * probabilities (a Tensor shaped like `input`). With indices, the mean divides by the summed
 * weights of the non-ignored targets; with probabilities, by the number of positions.
 * One autograd node: the backward is `(softmax − target)` scaled, from the softmax saved by the forward.
 */
export function crossEntropy(input: Tensor, target: ClassTarget, options?: CrossEntropyOptions): Tensor {
  expectTensor(input, 'input');
  const opts = optionalObject(options, 'options');
  const eps = labelSmoothingOf(opts.labelSmoothing);
  const sameShape = target instanceof Tensor && target.ndim === input.ndim && target.shape.every((d, i) => d === input.shape[i]);
  if (sameShape && input.ndim > 0) return probabilityCrossEntropy(input, target as Tensor, opts, eps);
  return classIndexLoss(input, target, opts, { name: 'crossEntropy', logProbabilities: false, smoothing: eps });
}

/**
 * Negative log-likelihood of log-probabilities `input` ([C], [N, C] or [N, C, d1, …]) at the
 * target class indices, as `torch.nn.functional.nll_loss`.
 */
export function nllLoss(input: Tensor, target: ClassTarget, options?: NllLossOptions): Tensor {
  expectTensor(input, 'input');
  return classIndexLoss(input, target, optionalObject(options, 'options'), { name: 'nllLoss', logProbabilities: true, smoothing: 0 });
}

// ---------------------------------------------------------------------------------------------
// Element-wise regression losses

const warnedShapes = new Set<string>();

/** PyTorch warns (once per call site; here once per shape pair) when input and target broadcast. */
function warnOnBroadcast(input: Tensor, target: Tensor): void {
  const key = `${shapeText(target.shape)}|${shapeText(input.shape)}`;
  if (warnedShapes.has(key)) return;
  warnedShapes.add(key);
  process.emitWarning(`Using a target size (${shapeText(target.shape)}) that is different to the input size (${shapeText(input.shape)}). This will likely lead to incorrect results due to broadcasting. Please ensure they have the same size.`);
}

const MSE = 0, L1 = 1, SMOOTH_L1 = 2, HUBER = 3;
type DifferenceKind = typeof MSE | typeof L1 | typeof SMOOTH_L1 | typeof HUBER;

// Per-element loss of a difference d (float32, as PyTorch computes it); `p` is beta or delta.
// Plain functions with a switch (not callbacks) so V8 inlines them into the loops.
function differenceLossOf(kind: DifferenceKind, d: number, p: number): number {
  const a = Math.abs(d);
  switch (kind) {
    case MSE: return d * d;
    case L1: return a;
    case SMOOTH_L1: return a < p ? (0.5 * d * d) / p : a - 0.5 * p;
    default: return a < p ? 0.5 * d * d : p * (a - 0.5 * p);
  }
}

// d loss / d input, following PyTorch's kernels to the letter: smooth L1 gives −1 for d ≤ −β,
// +1 for d ≥ β, d/β between (so β = 0, d = 0 gives −1); L1 gives sign(d) with sign(0) = 0.
function differenceSlopeOf(kind: DifferenceKind, d: number, p: number): number {
  switch (kind) {
    case MSE: return 2 * d;
    case L1: return Math.sign(d);
    case SMOOTH_L1: return d <= -p ? -1 : d >= p ? 1 : d / p;
    default: return d <= -p ? -p : d >= p ? p : d;
  }
}

// The per-element loops, each in its own small function: inlined in differenceLoss they were only
// optimized on-stack (OSR) and deoptimized again after every call ("insufficient type feedback"
// past the loop), running at ~3× the cost of a plain loop (9 vs 3 ns per element).
function sumDifferenceLosses(kind: DifferenceKind, p: number, x: Float32Array, y: Float32Array): number {
  let total = 0;
  for (let i = 0; i < x.length; i++) total += differenceLossOf(kind, Math.fround(x[i] - y[i]), p);
  return total;
}

// Σ loss(d) and, into `grad`, slope(d)·scale: a reduced loss and its gradient in one pass.
function sumDifferenceLossesAndSlopes(kind: DifferenceKind, p: number, x: Float32Array, y: Float32Array,
  scale: number, grad: Float32Array): number {
  if (kind === MSE) return sumSquaresAndSlopes(x, y, scale, grad);
  let total = 0;
  for (let i = 0; i < x.length; i++) {
    const d = Math.fround(x[i] - y[i]);
    total += differenceLossOf(kind, d, p);
    grad[i] = differenceSlopeOf(kind, d, p) * scale;
  }
  return total;
}

// The MSE case of sumDifferenceLossesAndSlopes with the kind resolved outside the loop (the same
// float operations; 1.5x faster, and MSE is the common regression loss).
function sumSquaresAndSlopes(x: Float32Array, y: Float32Array, scale: number, grad: Float32Array): number {
  let total = 0;
  for (let i = 0; i < x.length; i++) {
    const d = Math.fround(x[i] - y[i]);
    total += d * d;
    grad[i] = 2 * d * scale;
  }
  return total;
}

function fillDifferenceLosses(kind: DifferenceKind, p: number, x: Float32Array, y: Float32Array, out: Float32Array): void {
  for (let i = 0; i < x.length; i++) out[i] = differenceLossOf(kind, Math.fround(x[i] - y[i]), p);
}

function fillDifferenceSlopes(kind: DifferenceKind, p: number, x: Float32Array, y: Float32Array,
  gradOut: Float32Array, grad: Float32Array): void {
  for (let i = 0; i < x.length; i++) grad[i] = differenceSlopeOf(kind, Math.fround(x[i] - y[i]), p) * gradOut[i];
}

function fillScaledDifferenceSlopes(kind: DifferenceKind, p: number, x: Float32Array, y: Float32Array,
  scale: number, grad: Float32Array): void {
  for (let i = 0; i < x.length; i++) grad[i] = differenceSlopeOf(kind, Math.fround(x[i] - y[i]), p) * scale;
}

/**
 * A loss applied to each difference d = input − target (broadcast like PyTorch, with its warning),
 * then reduced. The backward recomputes d from the inputs instead of saving it, except for the
 * usual `loss.backward()` of a reduced loss: when recording, the forward pass also writes the
 * gradient for d(loss) = 1, which the backward then hands over (same numbers, one pass over the
 * elements instead of two: the second pass was most of the model API's overhead over the bare
 * kernels in a training step, bench/README.md).
 */
function differenceLoss(name: string, kind: DifferenceKind, param: number, input: Tensor, target: Tensor, reduction: Reduction): Tensor {
  const sameShape = input.ndim === target.ndim && input.shape.every((d, i) => d === target.shape[i]);
  if (!sameShape) warnOnBroadcast(input, target);
  const shape = sameShape ? [...input.shape] : broadcastShapes(input.shape, target.shape);
  const x = expandData(input.data, input.shape, shape);
  const y = expandData(target.data, target.shape, shape);
  const n = x.length;
  let data: Float32Array;
  let unitGrad: Float32Array | null = null; // [shape] d loss / d input for d(loss) = 1, when recording
  if (reduction === 'none') {
    data = new Float32Array(n);
    fillDifferenceLosses(kind, param, x, y, data);
  } else {
    const unitScale = reduction === 'mean' ? 1 / n : 1;
    unitGrad = input.requiresGrad && needsGrad([input, target]) ? new Float32Array(n) : null;
    const total = unitGrad ? sumDifferenceLossesAndSlopes(kind, param, x, y, unitScale, unitGrad)
      : sumDifferenceLosses(kind, param, x, y);
    data = Float32Array.of(reduction === 'mean' ? total / n : total);
  }

  return fromOp(name, data, reduction === 'none' ? shape : [], [input, target], (gradOut) => {
    let grad: Float32Array;
    if (unitGrad && gradOut[0] === 1) {
      grad = unitGrad;
      unitGrad = null; // handed over once: a second backward recomputes
    } else {
      grad = new Float32Array(n);
      if (reduction === 'none') fillDifferenceSlopes(kind, param, x, y, gradOut, grad);
      else fillScaledDifferenceSlopes(kind, param, x, y, reduction === 'mean' ? gradOut[0] / n : gradOut[0], grad);
    }
    let gradTarget: Float32Array | null = null;
    if (target.requiresGrad) {
      const negated = new Float32Array(n);
      for (let i = 0; i < n; i++) negated[i] = -grad[i];
      gradTarget = sumToShape(negated, shape, target.shape);
    }
    return [input.requiresGrad ? sumToShape(grad, shape, input.shape) : null, gradTarget];
  });
}

function regressionArgs(input: unknown, target: unknown, options: unknown) {
  const opts = optionalObject(options, 'options');
  expectTensor(input, 'input');
  expectTensor(target, 'target');
  return { input, target, opts, reduction: reductionOf(opts) };
}

/** Mean squared error (input − target)², as `torch.nn.functional.mse_loss`. */
export function mseLoss(input: Tensor, target: Tensor, options?: ReductionOptions): Tensor {
  const a = regressionArgs(input, target, options);
  return differenceLoss('mseLoss', MSE, 0, a.input, a.target, a.reduction);
}

/** Mean absolute error |input − target|, as `torch.nn.functional.l1_loss` (gradient sign(0) = 0). */
export function l1Loss(input: Tensor, target: Tensor, options?: ReductionOptions): Tensor {
  const a = regressionArgs(input, target, options);
  return differenceLoss('l1Loss', L1, 0, a.input, a.target, a.reduction);
}

/**
 * 0.5·d²/β where |d| < β, else |d| − 0.5·β; as `torch.nn.functional.smooth_l1_loss` (slope at the
 * kinks as PyTorch's kernel: β = 0, d = 0 gives −1).
 */
export function smoothL1Loss(input: Tensor, target: Tensor, options?: SmoothL1LossOptions): Tensor {
  const a = regressionArgs(input, target, options);
  const beta = finiteNumber(a.opts.beta, 'beta', 1);
  if (beta < 0) throw new RangeError('smooth_l1_loss does not support negative values for beta.');
  return differenceLoss('smoothL1Loss', SMOOTH_L1, beta, a.input, a.target, a.reduction);
}

/** 0.5·d² where |d| < δ, else δ·(|d| − 0.5·δ); as `torch.nn.functional.huber_loss`. */
export function huberLoss(input: Tensor, target: Tensor, options?: HuberLossOptions): Tensor {
  const a = regressionArgs(input, target, options);
  const delta = finiteNumber(a.opts.delta, 'delta', 1);
  if (!(delta > 0)) throw new RangeError('huber_loss does not support non-positive values for delta.');
  return differenceLoss('huberLoss', HUBER, delta, a.input, a.target, a.reduction);
}

// ---------------------------------------------------------------------------------------------
// Binary cross-entropy with logits

/**
 * `tensor` materialized at the input's `shape` (it must broadcast to it). `tensorFirst` orders the
 * operands of PyTorch's broadcast error as its kernel does ((posWeight − 1)·target vs loss·weight).
 */
function broadcastTo(tensor: Tensor, shape: readonly number[], tensorFirst: boolean): Float32Array {
  const joint = tensorFirst ? broadcastShapes(tensor.shape, shape) : broadcastShapes(shape, tensor.shape);
  if (joint.length !== shape.length || joint.some((d, i) => d !== shape[i])) {
    throw new RangeError(`output with shape ${shapeText(shape)} doesn't match the broadcast shape ${shapeText(joint)}`);
  }
  return expandData(tensor.data, tensor.shape, shape);
}

/**
 * Binary cross-entropy on logits, numerically stable, as
 * `torch.nn.functional.binary_cross_entropy_with_logits`:
 * ℓ = w·[(1 − y)·x + (1 + (p − 1)·y)·log(1 + e^(−x))], with posWeight p and weight w broadcast to the input.
 * Gradients reach the input and (if it requires them) the target.
 */
export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor, options?: BceWithLogitsOptions): Tensor {
  const a = regressionArgs(input, target, options);
  const shape = [...a.input.shape];
  if (a.target.ndim !== shape.length || a.target.shape.some((d, i) => d !== shape[i])) {
    throw new RangeError(`Target size (${shapeText(a.target.shape)}) must be the same as input size (${shapeText(shape)})`);
  }
  const weightTensor = optionalTensor(a.opts.weight, 'weight');
  const posWeightTensor = optionalTensor(a.opts.posWeight, 'posWeight');
  const w = weightTensor ? broadcastTo(weightTensor, shape, false) : null;
  const p = posWeightTensor ? broadcastTo(posWeightTensor, shape, true) : null;
  const x = input.data, y = target.data, n = x.length;
  const softplusNeg = new Float64Array(n); // log(1 + e^(−x)), stable
  const losses = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const sp = Math.max(-x[i], 0) + Math.log1p(Math.exp(-Math.abs(x[i])));
    softplusNeg[i] = sp;
    const logWeight = p ? 1 + (p[i] - 1) * y[i] : 1;
    losses[i] = ((1 - y[i]) * x[i] + logWeight * sp) * (w ? w[i] : 1);
  }
  const out = reduceRows(losses, shape, a.reduction, n);

  return fromOp('binaryCrossEntropyWithLogits', out.data, out.shape, [input, target], (gradOut) => {
    const gradInput = input.requiresGrad ? new Float32Array(n) : null;
    const gradTarget = target.requiresGrad ? new Float32Array(n) : null;
    for (let i = 0; i < n; i++) {
      const s = out.scale(gradOut, i) * (w ? w[i] : 1);
      const pw = p ? p[i] : 1;
      const sigmoid = 1 / (1 + Math.exp(-x[i]));
      // dℓ/dx = (p·y + 1 − y)·σ(x) − p·y;  dℓ/dy = −x + (p − 1)·log(1 + e^(−x)).
      if (gradInput) gradInput[i] = s * ((pw * y[i] + 1 - y[i]) * sigmoid - pw * y[i]);
      if (gradTarget) gradTarget[i] = s * (-x[i] + (pw - 1) * softplusNeg[i]);
    }
    return [gradInput, gradTarget];
  });
}

/** Short name for {@link binaryCrossEntropyWithLogits}. */
export const bceWithLogits = binaryCrossEntropyWithLogits;
