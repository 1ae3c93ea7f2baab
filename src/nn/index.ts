/**
 * `nn`: modules with PyTorch's names, shapes, parameter names and semantics.
 * `import { nn } from 'rnnkit'; const lstm = new nn.LSTM(10, 20, { numLayers: 2 });`
 * @module
 */
export { Module, Parameter, type IncompatibleKeys, type StateDict, type TensorLike } from './module.js';
export { Linear, type LinearOptions } from './linear.js';
export { Embedding, embedding, type EmbeddingOptions } from './embedding.js';
export { Dropout } from './dropout.js';
export { Sequential } from './sequential.js';
export { ModuleList } from './module-list.js';
export {
  RNNBase, SingleStateRNN, RNN, LSTM, GRU, type RNNMode, type RNNBaseOptions, type RNNOptions, type LSTMOptions,
  type RecurrentForwardOptions,
} from './rnn.js';
export { RecurrentStream, type StreamOptions, type StreamableModule } from './stream.js';
export { RNNCellBase, RNNCell, LSTMCell, GRUCell, type CellOptions } from './cells.js';
export {
  PackedSequence, packPaddedSequence, padPackedSequence, padSequence, packSequence, type Lengths,
} from './packed.js';
export { poolSequence, type PoolingMode, type PoolingOptions } from './pooling.js';
export * as init from './init.js';
export * from './loss.js';
export * from './loss-modules.js';
export {
  Attention, LuongAttention, BahdanauAttention, lengthMask, maskedSoftmax, dotScores, additiveScores,
  type AttentionForwardOptions, type KeyMask, type LuongMethod, type LuongAttentionOptions,
} from './attention.js';
export {
  greedySearch, beamSearch, type StepDecoder, type StepResult, type Hypothesis, type GreedyOptions, type BeamSearchOptions,
} from './decode.js';
export {
  Seq2Seq, type RecurrentState, type Seq2SeqModules, type Seq2SeqOptions, type TokenIds, type Encoded, type Seq2SeqDecodeState,
  type Seq2SeqDecodeOptions, type Seq2SeqBeamOptions,
} from './seq2seq.js';
