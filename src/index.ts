/**
 * rnnkit: recurrent neural networks (RNN, LSTM, GRU) for Node.js with hand-vectorized C++ kernels
 * and PyTorch semantics.
 * @module
 */
export * from './sequence.js';
export * from './runtime.js';
export * from './tensor/index.js';
export * as nn from './nn/index.js';
export {
  loadSafetensors, readSafetensors, readSafetensorsHeader, saveSafetensors, serializeSafetensors,
  MAX_SAFETENSORS_HEADER_SIZE, type SafetensorsContents, type SafetensorsDtype, type SafetensorsHeader,
  type SafetensorsInput, type SafetensorsTensorInfo, type SafetensorsReadOptions,
} from './io/safetensors.js';
export { readWordVectors, WordVectors, type ReadWordVectorsOptions } from './io/word-vectors.js';
export * as optim from './optim/index.js';
export {
  loadBinding, packageRoot, REQUIRED_NAPI_VERSION, type NativeBinding, type NativeHandle, type LayerArgs, type CallArgs,
  type WeightArgs, type MaskArgs, type ForwardArgs, type BackwardArgs, type PreparedArgs,
} from './native.js';
export {
  saveCheckpoint, saveCheckpointAsync, loadCheckpoint, loadCheckpointAsync, readCheckpointInfo, CHECKPOINT_KEYS,
  CHECKPOINT_FORMAT_VERSION, type SaveCheckpointOptions, type LoadCheckpointOptions, type CheckpointInfo,
  type CheckpointEnvironment, type Stateful, type JsonValue,
} from './train/checkpoint.js';
export * from './data/index.js';
export * from './train/index.js';
export * as forecast from './tasks/forecast.js';
export * as svg from './tasks/svg.js';
export * as text from './tasks/text.js';
export * as textclass from './tasks/textclass.js';
export * as seq2seq from './tasks/seq2seq.js';
export {
  saveOnnx, serializeOnnx, loadOnnx, readOnnx, moduleFromOnnx, OnnxGraph, OnnxValue, ONNX_OPSETS, type OnnxExportOptions,
  type OnnxArgument, type OnnxAttribute, type OnnxConverter, type OnnxDim, type OnnxElementType, type OnnxImport,
  type OnnxLayer, type OnnxLayerType, type InitializerData,
} from './onnx/index.js';
