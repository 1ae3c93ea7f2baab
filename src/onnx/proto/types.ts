/**
 * The ONNX protobuf messages rnnkit writes and reads, as plain objects (field names as in
 * onnx.proto), and their binary encoding through the code pbf generated from onnx.proto
 * (`./onnx-pbf.ts`). Only the fields rnnkit uses are typed; the decoder fills the others too.
 * @module
 */
import { PbfReader, PbfWriter } from 'pbf';
import { readModelProto, writeModelProto } from './onnx-pbf.js';

/** `TensorProto.DataType` values rnnkit meets. */
export const DataType = { FLOAT: 1, INT32: 6, INT64: 7, DOUBLE: 11 } as const;

/** `AttributeProto.AttributeType` values. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

export interface TensorProto {
  name: string;
  dims: number[];
  data_type: number;
  raw_data?: Uint8Array;
  float_data?: number[];
  int32_data?: number[];
  int64_data?: number[];
  double_data?: number[];
  /** Non-empty when the values live in another file (external data). */
  external_data?: { key: string; value: string }[];
  data_location?: number;
}

export interface AttributeProto {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProto;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
}

export interface NodeProto {
  name: string;
  op_type: string;
  domain?: string;
  input: string[];
  output: string[];
  attribute: AttributeProto[];
}

/** One dimension: a size (`dim_value`) or a symbolic name (`dim_param`), never both. */
export interface DimensionProto {
  dim_value?: number;
  dim_param?: string;
}

export interface ValueInfoProto {
  name: string;
  type?: { tensor_type?: { elem_type: number; shape?: { dim: DimensionProto[] } } };
  doc_string?: string;
}

export interface GraphProto {
  name: string;
  node: NodeProto[];
  initializer: TensorProto[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  value_info?: ValueInfoProto[];
  doc_string?: string;
}

export interface OperatorSetIdProto {
  domain: string;
  version: number;
}

export interface ModelProto {
  ir_version: number;
  opset_import: OperatorSetIdProto[];
  producer_name?: string;
  producer_version?: string;
  doc_string?: string;
  graph?: GraphProto;
  metadata_props?: { key: string; value: string }[];
}

/** The protobuf bytes of `model`. */
export function encodeModel(model: ModelProto): Uint8Array {
  const writer = new PbfWriter();
  writeModelProto(model, writer);
  return writer.finish();
}

/**
 * Decodes ONNX protobuf bytes. Protobuf has no magic number: bytes that are not a model either
 * throw (malformed wire data) or decode to a message without a graph, which the caller rejects.
 */
export function decodeModel(bytes: Uint8Array): ModelProto {
  const reader = new PbfReader(bytes);
  return readModelProto(reader, reader.length) as ModelProto;
}
