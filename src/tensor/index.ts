/**
 * The tensor layer: `Tensor`, factories, ops with autograd, the seeded RNG and grad mode.
 * Every op is a function here and a method on Tensor (`add(a, b)` = `a.add(b)`).
 * @module
 */
export { Tensor, fromOp, normalizeDim, shapeSize, type NestedArray } from './tensor.js';
export { noGrad, isGradEnabled, type AsyncBackwardFn, type BackwardFn, type GradNode } from './autograd.js';
export { manualSeed, getRngState, setRngState } from './random.js';
export {
  tensor, zeros, ones, full, rand, randn, randint, arange, linspace,
  zerosLike, onesLike, fullLike, randLike, randnLike, type TensorOptions, type SizeAndOptions,
} from './factories.js';
export {
  add, sub, mul, div, pow, maximum, minimum, eq, ne, lt, le, gt, ge,
  neg, exp, log, sqrt, abs, clamp, where, maskedFill, type TensorLike,
} from './elementwise.js';
export { tanh, sigmoid, relu, leakyRelu, softmax, logSoftmax, dropout } from './activation.js';
export { sum, mean, variance, std, logsumexp, max, min, argmax, argmin, type Dims } from './reduce.js';
export {
  reshape, view, flatten, unsqueeze, squeeze, permute, transpose, t, expand, expandAs,
  select, narrow, slice, unbind, split, chunk, indexSelect, gather, cat, stack, clone, contiguous,
  type SizeArgs, type IndexLike,
} from './shape.js';
export { matmul, linear } from './linalg.js';
export { broadcastShapes } from './strided.js';
