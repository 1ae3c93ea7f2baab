/**
 * `loadOnnx` / `readOnnx`: the weights of an ONNX model's recurrent, linear and embedding layers
 * as PyTorch-named tensors for the matching rnnkit modules — for models exported from PyTorch,
 * from Keras (through tf2onnx) or by rnnkit itself.
 *
 * What is read: LSTM / GRU / RNN nodes (W, R, B → `weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`,
 * `bias_hh_l0`, gates reordered to PyTorch's i,f,g,o and r,z,n; consecutive nodes of one module
 * become its layers), Gemm and MatMul (+ Add) with a stored weight (→ Linear `weight`, `bias`),
 * and Gather from a stored table (→ Embedding `weight`). The rest of the graph (reshapes, glue) is
 * not interpreted: the caller builds the model and loads the weights into it.
 * @module
 */
import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { Embedding } from '../nn/embedding.js';
import { Linear } from '../nn/linear.js';
import type { Module } from '../nn/module.js';
import { GRU, LSTM, RNN } from '../nn/rnn.js';
import { Tensor } from '../tensor/tensor.js';
import { describe } from '../validate.js';
import { GATE_COUNT, onnxToTorch, type OnnxCell } from './gates.js';
import { AttributeType, DataType, decodeModel, type AttributeProto, type GraphProto, type NodeProto, type TensorProto } from './proto/types.js';
import { CELLS, layerSuffix, RNN_CELLS, type Nonlinearity } from '../cell-table.js';

/** The rnnkit module types an imported layer can be. */
export type OnnxLayerType = 'LSTM' | 'GRU' | 'RNN' | 'Linear' | 'Embedding';

/** One layer found in the ONNX graph. */
export interface OnnxLayer {
  /** The rnnkit module it matches. */
  type: OnnxLayerType;
  /**
   * Its module path: from the weight's name (`head.weight` → `head`) or the node's scope
   * (`/rnn/LSTM` → `rnn`, as PyTorch ≥ 1.13 and rnnkit name nodes), else made up (`lstm_0`);
   * `''` for a model that is the layer itself.
   */
  name: string;
  /** The constructor arguments of the matching module (`[inputSize, hiddenSize]`, `[inFeatures, outFeatures]`, `[numEmbeddings, embeddingDim]`). */
  sizes: [number, number];
  /** Its constructor options (`numLayers`, `bidirectional`, `bias`, `nonlinearity`; `bias` for Linear). */
  options: Record<string, unknown>;
  /** The module's weights under PyTorch's names, without the path (`weight_ih_l0`, `weight`). */
  stateDict: Record<string, Tensor>;
  /** The ONNX nodes it was read from. */
  nodes: string[];
}

/** What {@link readOnnx} finds. */
export interface OnnxImport {
  /** The layers, in graph order. */
  layers: OnnxLayer[];
  /** Every layer's weights under `path.name` (`rnn.weight_ih_l0`, `head.bias`): `model.loadStateDict(stateDict)` for a model with the same paths. */
  stateDict: Record<string, Tensor>;
  /** The default-domain opset the model declares. */
  opset: number;
  /** `producer_name producer_version` (`pytorch 1.13.0`, `rnnkit 0.1.0`, `tf2onnx 1.16`). */
  producer: string;
  /** The model's `metadata_props`. */
  metadata: Record<string, string>;
}

const LITTLE_ENDIAN_HOST = endianness() === 'LE';
const RECURRENT_OPS = new Set(['LSTM', 'GRU', 'RNN']);
/** Ops that only move data: a recurrent layer's input found through them comes from the previous layer. */
const LAYOUT_OPS = new Set(['Squeeze', 'Unsqueeze', 'Reshape', 'Transpose', 'Identity', 'Dropout']);

/** The graph with its constants and producers indexed. */
class GraphIndex {
  private readonly initializers = new Map<string, TensorProto>();
  private readonly producers = new Map<string, NodeProto>();
  private readonly consumers = new Map<string, NodeProto[]>();

  constructor(graph: GraphProto) {
    for (const tensor of graph.initializer) this.initializers.set(tensor.name, tensor);
    for (const node of graph.node) {
      for (const output of node.output) this.producers.set(output, node);
      for (const input of node.input) {
        const list = this.consumers.get(input);
        if (list) list.push(node);
        else this.consumers.set(input, [node]);
      }
    }
  }

  producer(name: string): NodeProto | undefined {
    return this.producers.get(name);
  }

  consumersOf(name: string): NodeProto[] {
    return this.consumers.get(name) ?? [];
  }

  /** Whether `name` is stored in the model (an initializer or a Constant), not computed from the inputs. */
  stored(name: string): boolean {
    return this.initializers.has(name) || this.producers.get(name)?.op_type === 'Constant';
  }

  /**
   * The stored float tensor behind `name` (an initializer or a Constant node's value, possibly
   * through Identity or a Transpose), with the initializer's name; null when it is computed.
   */
  constant(name: string): { name: string; dims: number[]; data: Float32Array } | null {
    if (!name) return null;
    const stored = this.initializers.get(name);
    if (stored) return floatTensor(name, stored);
    const node = this.producers.get(name);
    if (node?.op_type === 'Constant') {
      const value = attribute(node, 'value')?.t;
      return value ? floatTensor(name, value) : null;
    }
    if (node?.op_type === 'Identity') return this.constant(node.input[0]);
    if (node?.op_type === 'Transpose') {
      const source = this.constant(node.input[0]);
      if (!source || source.dims.length !== 2) return null;
      if ((attribute(node, 'perm')?.ints ?? [1, 0])[0] === 0) return source;
      return { name: source.name, dims: [source.dims[1], source.dims[0]], data: transpose2d(source.data, source.dims) };
    }
    return null;
  }
}

function attribute(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute.find((a) => a.name === name);
}

function intAttribute(node: NodeProto, name: string, fallback: number): number {
  return attribute(node, name)?.i ?? fallback;
}

function stringAttribute(node: NodeProto, name: string, fallback: string): string {
  const value = attribute(node, name);
  return value?.type === AttributeType.STRING && value.s ? new TextDecoder().decode(value.s) : fallback;
}

function stringsAttribute(node: NodeProto, name: string): string[] | null {
  const value = attribute(node, name);
  return value ? (value.strings ?? []).map((s) => new TextDecoder().decode(s)) : null;
}

/** A stored tensor's values as float32 (FLOAT or DOUBLE, raw or typed fields); null for other types (indices, shapes). */
function floatTensor(name: string, tensor: TensorProto): { name: string; dims: number[]; data: Float32Array } | null {
  const double = tensor.data_type === DataType.DOUBLE;
  if (tensor.data_type !== DataType.FLOAT && !double) return null;
  if ((tensor.external_data ?? []).length > 0 || tensor.data_location === 1) {
    throw new RangeError(`Cannot read ${name}: its data is in an external file (save the model with its weights inside)`);
  }
  const count = tensor.dims.reduce((a, b) => a * b, 1);
  const raw = tensor.raw_data;
  let data: Float32Array;
  if (raw && raw.length > 0 && !double && LITTLE_ENDIAN_HOST) {
    // A copy (new Uint8Array, not Buffer's slice, which is a view): raw_data need not be 4-byte aligned in the file.
    data = new Float32Array(new Uint8Array(raw).buffer, 0, Math.min(count, raw.length >> 2));
  } else if (raw && raw.length > 0) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength); // little-endian whatever the host
    data = double ? Float32Array.from({ length: count }, (_, i) => view.getFloat64(8 * i, true))
      : Float32Array.from({ length: count }, (_, i) => view.getFloat32(4 * i, true));
  } else {
    data = Float32Array.from((double ? tensor.double_data : tensor.float_data) ?? []);
  }
  if (data.length !== count) throw new RangeError(`Cannot read ${name}: ${data.length} values for dims [${tensor.dims.join(', ')}]`);
  return { name, dims: tensor.dims, data };
}

function transpose2d(data: Float32Array, [rows, cols]: number[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/** `/encoder/rnn/LSTM_1` → `encoder.rnn`; null for a name without a scope. */
function scopeOf(node: NodeProto): string | null {
  const match = /^\/(.*)\/[^/]+$/.exec(node.name);
  return match ? match[1].split('/').join('.') : node.name.startsWith('/') ? '' : null;
}

/** `head.weight` → `head` (PyTorch keeps its parameter names for the weights it stores as they are). */
function pathOfWeight(name: string, suffix: string): string | null {
  return name.endsWith(`.${suffix}`) ? name.slice(0, -suffix.length - 1) : name === suffix ? '' : null;
}

/** A layer before naming: `scope` is the path its names suggest (null: none). */
type FoundLayer = Omit<OnnxLayer, 'name'> & { scope: string | null };

const nodeLabel = (node: NodeProto): string => `${node.op_type} node${node.name ? ` ${node.name}` : ''}`;

// ---------------------------------------------------------------------------------------------
// Recurrent layers

/** One ONNX recurrent node, read and checked. */
interface RecurrentNode {
  node: NodeProto;
  cell: OnnxCell;
  hiddenSize: number;
  directions: number;
  nonlinearity: Nonlinearity;
  W: { name: string; dims: number[]; data: Float32Array };
  R: Float32Array;
  B: Float32Array | null;
}

/** Throws unless the node computes what rnnkit's module of the same cell computes. */
function checkRecurrentSemantics(node: NodeProto, cell: OnnxCell, directions: number, index: GraphIndex): Nonlinearity {
  const label = nodeLabel(node);
  const refuse = (why: string): never => {
    throw new RangeError(`Cannot import ${label}: ${why}`);
  };
  if (attribute(node, 'clip')) refuse('it clips the cell input (clip), which rnnkit layers do not');
  if (cell === 'LSTM' && intAttribute(node, 'input_forget', 0) !== 0) refuse('it couples the input and forget gates (input_forget = 1)');
  const peepholes = node.input[7] ? index.constant(node.input[7]) : null;
  if (node.input[7] && (!peepholes || peepholes.data.some((p) => p !== 0))) refuse('it has peephole weights (P), which PyTorch and rnnkit LSTMs do not');
  if (cell === 'GRU' && intAttribute(node, 'linear_before_reset', 0) !== 1) {
    refuse('linear_before_reset is 0 (the reset gate applied before W_hn·h, as in Keras by default); PyTorch and rnnkit apply it after (linear_before_reset = 1)');
  }
  const activations = stringsAttribute(node, 'activations');
  const defaults: Record<OnnxCell, string[]> = { LSTM: ['Sigmoid', 'Tanh', 'Tanh'], GRU: ['Sigmoid', 'Tanh'], RNN: ['Tanh'] };
  const perDirection = defaults[cell].length;
  if (activations === null) return 'tanh';
  // The vanilla RNN cells' activations (Tanh, Relu), each rnnkit's cell of one nonlinearity.
  const rnnCells = RNN_CELLS.map((name) => CELLS[name].rnn!);
  for (let d = 0; d < directions; d++) {
    const used = activations.slice(d * perDirection, (d + 1) * perDirection);
    if (cell === 'RNN' && rnnCells.some((rnn) => rnn.onnxActivation === used[0]) && used[0] === activations[0]) continue;
    if (cell !== 'RNN' && used.join() === defaults[cell].join()) continue;
    const expected = cell === 'RNN' ? `${rnnCells.map((rnn) => rnn.onnxActivation).join(' or ')} in both directions` : defaults[cell].join(', ');
    refuse(`its activations (${activations.join(', ')}) are not ${expected}`);
  }
  return cell === 'RNN' ? rnnCells.find((rnn) => rnn.onnxActivation === activations[0])!.nonlinearity : 'tanh';
}

function readRecurrent(node: NodeProto, index: GraphIndex): RecurrentNode {
  const cell = node.op_type as OnnxCell;
  const direction = stringAttribute(node, 'direction', 'forward');
  if (direction === 'reverse') {
    throw new RangeError(`Cannot import ${nodeLabel(node)}: it runs the reverse direction only; rnnkit layers run forward, or both directions (bidirectional)`);
  }
  const directions = direction === 'bidirectional' ? 2 : 1;
  const nonlinearity = checkRecurrentSemantics(node, cell, directions, index);
  const W = index.constant(node.input[1]), R = index.constant(node.input[2]);
  if (!W || !R) throw new RangeError(`Cannot import ${nodeLabel(node)}: its weights W and R are computed in the graph, not stored in it`);
  const B = node.input[3] ? index.constant(node.input[3]) : null;
  if (node.input[3] && !B) throw new RangeError(`Cannot import ${nodeLabel(node)}: its bias B is computed in the graph, not stored in it`);
  const hiddenSize = intAttribute(node, 'hidden_size', R.dims[2]);
  const rows = GATE_COUNT[cell] * hiddenSize;
  if (W.dims.length !== 3 || W.dims[0] !== directions || W.dims[1] !== rows || R.data.length !== directions * rows * hiddenSize
    || (B && B.data.length !== directions * 2 * rows)) {
    throw new RangeError(`Cannot import ${nodeLabel(node)}: W [${W.dims.join(', ')}], R [${R.dims.join(', ')}]`
      + `${B ? `, B [${B.dims.join(', ')}]` : ''} do not fit ${directions} direction(s) of ${GATE_COUNT[cell]} gates × hidden_size ${hiddenSize}`);
  }
  return { node, cell, hiddenSize, directions, nonlinearity, W, R: R.data, B: B?.data ?? null };
}

/** The recurrent node whose output Y feeds `node`'s input X through layout ops only, if any. */
function previousLayer(node: NodeProto, index: GraphIndex): NodeProto | null {
  let name = node.input[0];
  let producer = index.producer(name);
  while (producer && LAYOUT_OPS.has(producer.op_type)) {
    name = producer.input[0];
    producer = index.producer(name);
  }
  return producer && RECURRENT_OPS.has(producer.op_type) && producer.output[0] === name ? producer : null;
}

/** Consecutive nodes of the same kind and size chained output to input are the layers of one module. */
function sameModule(previous: RecurrentNode, next: RecurrentNode): boolean {
  return previous.cell === next.cell && previous.hiddenSize === next.hiddenSize && previous.directions === next.directions
    && previous.nonlinearity === next.nonlinearity && scopeOf(previous.node) === scopeOf(next.node)
    && next.W.dims[2] === previous.directions * previous.hiddenSize;
}

function recurrentStateDict(layers: RecurrentNode[], bias: boolean): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  layers.forEach(({ cell, hiddenSize: H, directions: D, W, R, B }, layer) => {
    const rows = GATE_COUNT[cell] * H, inputSize = W.dims[2];
    for (let d = 0; d < D; d++) {
      const suffix = layerSuffix(layer, d);
      out[`weight_ih${suffix}`] = new Tensor(onnxToTorch(cell, W.data.subarray(d * rows * inputSize, (d + 1) * rows * inputSize)), [rows, inputSize]);
      out[`weight_hh${suffix}`] = new Tensor(onnxToTorch(cell, R.subarray(d * rows * H, (d + 1) * rows * H)), [rows, H]);
      if (!bias) continue;
      // A layer stored without B has zero biases (ONNX's default) where the module has them.
      const biases = B ?? new Float32Array(D * 2 * rows);
      out[`bias_ih${suffix}`] = new Tensor(onnxToTorch(cell, biases.subarray(2 * d * rows, (2 * d + 1) * rows)), [rows]);
      out[`bias_hh${suffix}`] = new Tensor(onnxToTorch(cell, biases.subarray((2 * d + 1) * rows, (2 * d + 2) * rows)), [rows]);
    }
  });
  return out;
}

function recurrentLayer(layers: RecurrentNode[]): FoundLayer {
  const first = layers[0];
  const bias = layers.some((layer) => layer.B !== null);
  const options: Record<string, unknown> = { numLayers: layers.length, bidirectional: first.directions === 2, bias };
  if (first.cell === 'RNN') options.nonlinearity = first.nonlinearity;
  return {
    type: first.cell, scope: scopeOf(first.node), sizes: [first.W.dims[2], first.hiddenSize], options,
    stateDict: recurrentStateDict(layers, bias), nodes: layers.map((layer) => layer.node.name),
  };
}

// ---------------------------------------------------------------------------------------------
// Linear and Embedding

function linearLayer(node: NodeProto, weight: Float32Array, outFeatures: number, inFeatures: number, bias: Float32Array | null, scope: string | null): FoundLayer {
  const stateDict: Record<string, Tensor> = { weight: new Tensor(weight, [outFeatures, inFeatures]) };
  if (bias) stateDict.bias = new Tensor(bias.slice(), [outFeatures]);
  return { type: 'Linear', scope, sizes: [inFeatures, outFeatures], options: { bias: bias !== null }, stateDict, nodes: [node.name] };
}

/** A bias added to `value`'s only consumer (an Add with a stored `[n]` or `[1, n]` tensor), or null. */
function addedBias(value: string, n: number, index: GraphIndex): { bias: Float32Array; node: NodeProto } | null {
  const consumers = index.consumersOf(value);
  if (consumers.length !== 1 || consumers[0].op_type !== 'Add') return null;
  const add = consumers[0];
  const other = index.constant(add.input[add.input[0] === value ? 1 : 0]);
  return other && other.data.length === n ? { bias: other.data, node: add } : null;
}

function readGemm(node: NodeProto, index: GraphIndex): FoundLayer | null {
  const weight = index.constant(node.input[1]);
  if (!weight || weight.dims.length !== 2 || index.stored(node.input[0])) return null;
  if (intAttribute(node, 'transA', 0) !== 0 || (attribute(node, 'alpha')?.f ?? 1) !== 1 || (attribute(node, 'beta')?.f ?? 1) !== 1) {
    throw new RangeError(`Cannot import ${nodeLabel(node)} as a Linear layer: it has transA, alpha or beta other than 0, 1, 1`);
  }
  const transB = intAttribute(node, 'transB', 0) === 1;
  const [outFeatures, inFeatures] = transB ? weight.dims : [weight.dims[1], weight.dims[0]];
  const bias = node.input[2] ? index.constant(node.input[2]) : null;
  if (node.input[2] && (!bias || bias.data.length !== outFeatures)) return null;
  const scope = pathOfWeight(weight.name, 'weight') ?? scopeOf(node);
  return linearLayer(node, transB ? weight.data.slice() : transpose2d(weight.data, weight.dims), outFeatures, inFeatures, bias?.data ?? null, scope);
}

function readMatMul(node: NodeProto, index: GraphIndex): FoundLayer | null {
  const weight = index.constant(node.input[1]);
  if (!weight || weight.dims.length !== 2 || index.stored(node.input[0])) return null;
  const [inFeatures, outFeatures] = weight.dims;
  const added = addedBias(node.output[0], outFeatures, index);
  const layer = linearLayer(node, transpose2d(weight.data, weight.dims), outFeatures, inFeatures, added?.bias ?? null,
    pathOfWeight(weight.name, 'weight') ?? scopeOf(node));
  if (added) layer.nodes.push(added.node.name);
  return layer;
}

function readGather(node: NodeProto, index: GraphIndex): FoundLayer | null {
  const table = index.constant(node.input[0]);
  if (!table || table.dims.length !== 2 || intAttribute(node, 'axis', 0) !== 0 || index.stored(node.input[1])) return null;
  return {
    type: 'Embedding', scope: pathOfWeight(table.name, 'weight') ?? scopeOf(node), sizes: [table.dims[0], table.dims[1]],
    options: {}, stateDict: { weight: new Tensor(table.data.slice(), [table.dims[0], table.dims[1]]) }, nodes: [node.name],
  };
}

// ---------------------------------------------------------------------------------------------
// Public API

/** Paths for the layers: their scope where it is known and unique, else `lstm_0`, `linear_1`, …. */
function nameLayers(found: FoundLayer[]): OnnxLayer[] {
  const taken = new Set<string>();
  const counts = new Map<string, number>();
  const scopes = found.map((layer) => layer.scope);
  return found.map(({ scope, ...layer }) => {
    let name = scope !== null && scopes.filter((s) => s === scope).length === 1 ? scope : null;
    while (name === null || taken.has(name)) {
      const n = counts.get(layer.type) ?? 0;
      counts.set(layer.type, n + 1);
      name = `${layer.type.toLowerCase()}_${n}`;
    }
    taken.add(name);
    return { ...layer, name };
  });
}

/**
 * The layers (and their PyTorch-named weights) of an ONNX model given as bytes.
 * @throws RangeError for bytes that are not an ONNX model, and naming the node for a layer whose
 *   computation rnnkit's module does not match (a GRU with linear_before_reset = 0, peepholes,
 *   clipping, other activations, a reverse-only direction).
 */
export function readOnnx(bytes: Uint8Array): OnnxImport {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`Expected Uint8Array for bytes but received ${describe(bytes)}`);
  let model;
  try {
    model = decodeModel(bytes);
  } catch (error) {
    throw new RangeError(`Expected an ONNX model (protobuf ModelProto) but the bytes do not decode: ${(error as Error).message}`);
  }
  const graph = model.graph;
  if (!graph || graph.node.length === 0 || model.opset_import.length === 0) {
    throw new RangeError('Expected an ONNX model (protobuf ModelProto with a graph and an opset) but received bytes without one');
  }
  const index = new GraphIndex(graph);
  // Layers in graph order; a recurrent module's entry grows as its later layers are met.
  const found: (FoundLayer | RecurrentNode[])[] = [];
  const moduleOf = new Map<NodeProto, RecurrentNode[]>();
  for (const node of graph.node) {
    if (node.domain && node.domain !== 'ai.onnx') continue;
    if (RECURRENT_OPS.has(node.op_type)) {
      const current = readRecurrent(node, index);
      const previous = previousLayer(node, index);
      const module = previous ? moduleOf.get(previous) : undefined;
      if (module && sameModule(module[module.length - 1], current)) {
        module.push(current);
        moduleOf.set(node, module);
      } else {
        moduleOf.set(node, [current]);
        found.push(moduleOf.get(node)!);
      }
      continue;
    }
    const layer = node.op_type === 'Gemm' ? readGemm(node, index) : node.op_type === 'MatMul' ? readMatMul(node, index)
      : node.op_type === 'Gather' ? readGather(node, index) : null;
    if (layer) found.push(layer);
  }
  const completed = found.map((entry) => (Array.isArray(entry) ? recurrentLayer(entry) : entry));
  const layers = nameLayers(completed);
  const stateDict: Record<string, Tensor> = {};
  for (const layer of layers) {
    for (const [key, tensor] of Object.entries(layer.stateDict)) stateDict[layer.name ? `${layer.name}.${key}` : key] = tensor;
  }
  const opset = model.opset_import.find((entry) => entry.domain === '' || entry.domain === 'ai.onnx')?.version ?? 0;
  const producer = [model.producer_name, model.producer_version].filter(Boolean).join(' ');
  const metadata = Object.fromEntries((model.metadata_props ?? []).map(({ key, value }) => [key, value]));
  return { layers, stateDict, opset, producer, metadata };
}

/** {@link readOnnx} of a file. */
export function loadOnnx(file: string): OnnxImport {
  if (typeof file !== 'string' || file === '') throw new TypeError(`Expected non-empty path string for file but received ${describe(file)}`);
  return readOnnx(readFileSync(file));
}

/**
 * A new rnnkit module for an imported layer (`nn.LSTM`, `nn.GRU`, `nn.RNN`, `nn.Linear`,
 * `nn.Embedding`) holding its weights. Forward options that are not in the weights
 * (`batchFirst`, dropout) are the defaults; pass `options` to set them.
 */
export function moduleFromOnnx(layer: OnnxLayer, options: Record<string, unknown> = {}): Module {
  const [a, b] = layer.sizes;
  const all = { ...layer.options, ...options };
  const modules: Record<OnnxLayerType, () => Module> = {
    LSTM: () => new LSTM(a, b, all), GRU: () => new GRU(a, b, all), RNN: () => new RNN(a, b, all),
    Linear: () => new Linear(a, b, all), Embedding: () => new Embedding(a, b, all),
  };
  const module = modules[layer.type]();
  module.loadStateDict(layer.stateDict);
  return module;
}
