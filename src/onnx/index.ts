/**
 * ONNX: export rnnkit models for ONNX Runtime (`saveOnnx`), and read the recurrent, linear and
 * embedding weights of ONNX models into rnnkit (`loadOnnx`). See docs/onnx.md.
 * @module
 */
export { saveOnnx, serializeOnnx, ONNX_OPSETS, type OnnxExportOptions } from './export.js';
export {
  OnnxGraph, OnnxValue, type OnnxArgument, type OnnxAttribute, type OnnxConverter, type OnnxDim, type OnnxElementType,
  type InitializerData,
} from './graph.js';
export { loadOnnx, readOnnx, moduleFromOnnx, type OnnxImport, type OnnxLayer, type OnnxLayerType } from './import.js';
