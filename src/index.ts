/**
 * rnnkit: recurrent neural networks (RNN, LSTM, GRU) for Node.js with hand-vectorized C++ kernels
 * and PyTorch semantics.
 * @module
 */
export * from './sequence.js';
export * from './runtime.js';
export * from './tensor/index.js';
export { loadBinding, packageRoot, REQUIRED_NAPI_VERSION } from './native.js';
