/**
 * `saveOnnx` / `serializeOnnx`: an rnnkit model as an ONNX model, PyTorch's `torch.onnx.export`
 * way — the example input fixes the graph inputs (and is run through the model once, which checks
 * it), `dynamicAxes` names the axes that may vary, the model runs in eval mode.
 * @module
 */
import { writeFileSync, readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import path from 'node:path';
import { packageRoot } from '../native.js';
import { Module } from '../nn/module.js';
import { PackedSequence } from '../nn/packed.js';
import { noGrad } from '../tensor/autograd.js';
import { Tensor } from '../tensor/tensor.js';
import { describe, expectObject, intInRange, isNullish, optionalIntInRange } from '../validate.js';
import { builtinConverter } from './converters.js';
import {
  DATA_TYPES, OnnxGraph, OnnxValue, type InitializerData, type OnnxArgument, type OnnxAttribute, type OnnxDim,
  type RecordedNode,
} from './graph.js';
import { AttributeType, encodeModel, type AttributeProto, type ModelProto, type ValueInfoProto } from './proto/types.js';

/** Opsets the exporter writes (every operator it emits has the same semantics across them). */
export const ONNX_OPSETS = {
  /** The oldest opset written. */
  min: 13,
  /** The newest opset written. */
  max: 21,
  /** The opset written unless one is asked for. */
  default: 17,
} as const;

/** The ONNX IR version that goes with an opset (onnx/docs/Versioning.md). */
function irVersion(opset: number): number {
  return opset <= 14 ? 7 : opset <= 18 ? 8 : opset <= 20 ? 9 : 10;
}

/** Options of {@link saveOnnx} and {@link serializeOnnx} (`torch.onnx.export`'s, camelCase). */
export interface OnnxExportOptions {
  /**
   * The model's forward arguments for one example call (PyTorch's `args`): a Tensor, or an array
   * of arguments — `[x]`, `[x, [h0, c0]]`, `[x, null, { lengths }]`. Each tensor (and `lengths`)
   * becomes a graph input shaped like it; the call is run once to check the arguments.
   */
  exampleInput: unknown;
  /** Names of the graph inputs in argument order (default per model: `input`, `h_0`, `c_0`, `lengths`, `tokens`, …). */
  inputNames?: readonly string[];
  /** Names of the graph outputs in result order (default per model: `output`, `h_n`, `c_n`, `logits`, `prediction`, …). */
  outputNames?: readonly string[];
  /**
   * Axes whose size may vary, per input or output name: `{ input: { 0: 'batch', 1: 'steps' } }`,
   * or a list of axes (`{ input: [0, 1] }`, named `input_dim0`, …). Every other axis is fixed to
   * the example's size. Output axes follow from the inputs' and need listing only to rename them.
   */
  dynamicAxes?: Readonly<Record<string, Readonly<Record<number, string>> | readonly number[]>>;
  /** ONNX opset, 13 to 21 (default 17). */
  opset?: number;
  /**
   * The model's forward written with the graph builder, for a model without a built-in converter:
   * `(graph, ...args) => result` with the example's tensors as graph values, e.g.
   * `(g, x) => g.call(model.head, g.select((g.call(model.rnn, x) as OnnxValue[])[0], 1, -1))`.
   */
  forward?: (graph: OnnxGraph, ...args: OnnxArgument[]) => OnnxArgument;
  /** Strings stored in the model's `metadata_props` (e.g. a vocabulary as JSON). */
  metadata?: Readonly<Record<string, string>>;
}

/** A graph input or output as the exporter hands it over. */
interface NamedValue {
  name: string;
  value: OnnxValue;
}

// ---------------------------------------------------------------------------------------------
// Arguments → graph inputs

/** Whether `value` is a (nested) array of numbers; returns its shape, or null. */
function numericShape(value: unknown): number[] | null {
  if (typeof value === 'number') return [];
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return [(value as unknown as ArrayLike<number>).length];
  if (!Array.isArray(value) || value.length === 0) return null;
  const inner = numericShape(value[0]);
  if (inner === null) return null;
  return value.every((item) => JSON.stringify(numericShape(item)) === JSON.stringify(inner)) ? [value.length, ...inner] : null;
}

/** Replaces every tensor of the example arguments by a new graph input. */
class InputBinder {
  readonly inputs: NamedValue[] = [];

  constructor(
    private readonly graph: OnnxGraph,
    private readonly userNames: readonly string[],
    private readonly defaultNames: Readonly<Record<string, string>>,
    private readonly dynamicAxes: DynamicAxes,
  ) {}

  bind(argument: unknown, path: string[]): OnnxArgument {
    const where = `exampleInput${path.map((key) => `[${/^\d+$/.test(key) ? key : JSON.stringify(key)}]`).join('')}`;
    if (isNullish(argument)) return null;
    if (argument instanceof PackedSequence) {
      throw new TypeError(`Expected padded Tensor with { lengths } for ${where} but received a PackedSequence (export [padded, null, { lengths }])`);
    }
    const shape = argument instanceof Tensor ? [...argument.shape] : numericShape(argument);
    if (shape !== null) return this.input(path, shape);
    if (Array.isArray(argument)) return argument.map((item, i) => this.bind(item, [...path, String(i)]));
    if (typeof argument === 'object' && Object.getPrototypeOf(argument) === Object.prototype) {
      return Object.fromEntries(Object.entries(argument as Record<string, unknown>).map(([key, item]) => [key, this.bind(item, [...path, key])]));
    }
    throw new TypeError(`Expected Tensor, array of numbers, array, plain object or null for ${where} but received ${describe(argument)}`);
  }

  private input(path: string[], shape: number[]): OnnxValue {
    const index = this.inputs.length;
    const name = this.userNames[index] ?? this.defaultNames[path.join('.')] ?? `input_${index}`;
    const value = this.graph.input(name, this.dynamicAxes.apply(name, shape));
    if (value.name !== name) throw new RangeError(`Expected unique names for the graph inputs but received ${name} twice`);
    this.inputs.push({ name, value });
    return value;
  }
}

// ---------------------------------------------------------------------------------------------
// Dynamic axes

/** `dynamicAxes`, checked: every name must end up as an input or an output, every axis in range. */
class DynamicAxes {
  private readonly axes = new Map<string, Map<number, string>>();
  private readonly used = new Set<string>();

  constructor(option: unknown) {
    if (isNullish(option)) return;
    for (const [name, spec] of Object.entries(expectObject(option, 'dynamicAxes'))) {
      const entries: [number, string][] = Array.isArray(spec) ? spec.map((axis) => [axis as number, `${name}_dim${String(axis)}`])
        : Object.entries(expectObject(spec, `dynamicAxes.${name}`)).map(([axis, label]) => [Number(axis), label as string]);
      for (const [axis, label] of entries) {
        if (typeof label !== 'string' || label === '') {
          throw new TypeError(`Expected non-empty string for the name of dynamicAxes.${name} axis ${axis} but received ${describe(label)}`);
        }
      }
      this.axes.set(name, new Map(entries));
    }
  }

  /** `shape` with the axes named for `name` replaced by their names. */
  apply(name: string, shape: readonly OnnxDim[]): OnnxDim[] {
    const axes = this.axes.get(name);
    if (!axes) return [...shape];
    this.used.add(name);
    const out = [...shape];
    for (const [axis, label] of axes) {
      intInRange(axis, `dynamicAxes.${name} axis`, 0, shape.length - 1);
      out[axis] = label;
    }
    return out;
  }

  /** Throws for a name that is neither an input nor an output. */
  checkAllUsed(inputs: readonly NamedValue[], outputs: readonly NamedValue[]): void {
    for (const name of this.axes.keys()) {
      if (this.used.has(name)) continue;
      throw new RangeError(`Expected dynamicAxes keys among the inputs (${inputs.map((v) => v.name).join(', ')}) `
        + `and outputs (${outputs.map((v) => v.name).join(', ')}) but received ${name}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Results → graph outputs

/** The leaves of a nested result, in order (nulls skipped). */
function flatten<T>(result: unknown, isLeaf: (value: unknown) => value is T): T[] {
  if (isLeaf(result)) return [result];
  if (Array.isArray(result)) return result.flatMap((item) => flatten(item, isLeaf));
  if (result !== null && typeof result === 'object') return Object.values(result).flatMap((item) => flatten(item, isLeaf));
  return [];
}

const isValue = (value: unknown): value is OnnxValue => value instanceof OnnxValue;
const isTensor = (value: unknown): value is Tensor => value instanceof Tensor;

/** Runs the model once on the example (eval mode, no gradients): checks the arguments with the model's own errors. */
function runExample(model: Module, args: unknown[]): Tensor[] {
  const modes = model.modules().map((module) => [module, module.training] as const);
  model.eval();
  try {
    return flatten(noGrad(() => (model.forward as (...a: unknown[]) => unknown)(...args)), isTensor);
  } finally {
    for (const [module, training] of modes) module.training = training;
  }
}

/** Throws when the graph's output shapes disagree with what the model computed (a converter bug, not a user error). */
function checkAgainstExample(outputs: readonly NamedValue[], expected: readonly Tensor[], modelName: string): void {
  const mismatch = outputs.length !== expected.length ? `${outputs.length} outputs instead of ${expected.length}`
    : outputs.map(({ name, value }, i) => {
      const shape = expected[i].shape;
      const same = value.rank === shape.length && value.shape.every((d, k) => typeof d === 'string' || d === shape[k]);
      return same ? null : `${name} is [${value.shape.join(', ')}] instead of [${shape.join(', ')}]`;
    }).find((text) => text !== null);
  if (mismatch) throw new Error(`ONNX export of ${modelName} is inconsistent with its forward: ${mismatch}`);
}

// ---------------------------------------------------------------------------------------------
// Serialization

function littleEndianBytes(data: InitializerData): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (endianness() === 'LE') return bytes;
  const swapped = new Uint8Array(bytes.length);
  const width = data.BYTES_PER_ELEMENT;
  for (let i = 0; i < bytes.length; i++) swapped[i] = bytes[i - (i % width) + width - 1 - (i % width)];
  return swapped;
}

function attributeProto(name: string, attribute: OnnxAttribute): AttributeProto {
  const text = new TextEncoder();
  if ('i' in attribute) return { name, type: AttributeType.INT, i: attribute.i };
  if ('f' in attribute) return { name, type: AttributeType.FLOAT, f: attribute.f };
  if ('s' in attribute) return { name, type: AttributeType.STRING, s: text.encode(attribute.s) };
  if ('ints' in attribute) return { name, type: AttributeType.INTS, ints: [...attribute.ints] };
  if ('floats' in attribute) return { name, type: AttributeType.FLOATS, floats: [...attribute.floats] };
  return { name, type: AttributeType.STRINGS, strings: attribute.strings.map((s) => text.encode(s)) };
}

function valueInfo({ name, value }: NamedValue): ValueInfoProto {
  const dim = value.shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d }));
  return { name, type: { tensor_type: { elem_type: DATA_TYPES[value.dtype ?? 'float32'], shape: { dim } } } };
}

/** The nodes and initializers the outputs depend on (a converter may leave unused results behind). */
function reachable(graph: OnnxGraph, outputs: readonly OnnxValue[]): { nodes: RecordedNode[]; needed: Set<OnnxValue> } {
  const needed = new Set<OnnxValue>(outputs);
  const nodes: RecordedNode[] = [];
  for (let k = graph.nodes.length - 1; k >= 0; k--) {
    const node = graph.nodes[k];
    if (!node.outputs.some((value) => needed.has(value))) continue;
    nodes.unshift(node);
    for (const input of node.inputs) if (input) needed.add(input);
  }
  return { nodes, needed };
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

function modelProto(graph: OnnxGraph, name: string, inputs: NamedValue[], outputs: NamedValue[], metadata: Record<string, string>): ModelProto {
  const { nodes, needed } = reachable(graph, outputs.map((output) => output.value));
  const node = nodes.map(({ opType, name: nodeName, inputs: nodeInputs, outputs: nodeOutputs, attributes }) => {
    const names = nodeInputs.map((value) => value?.name ?? '');
    while (names.length > 0 && names[names.length - 1] === '') names.pop();
    return {
      name: nodeName, op_type: opType, input: names, output: nodeOutputs.map((value) => value.name),
      attribute: Object.entries(attributes).map(([key, attribute]) => attributeProto(key, attribute)),
    };
  });
  const initializer = graph.initializers.filter(({ value }) => needed.has(value)).map(({ value, data }) => ({
    name: value.name, dims: value.shape as number[], data_type: DATA_TYPES[value.dtype ?? 'float32'], raw_data: littleEndianBytes(data),
  }));
  return {
    ir_version: irVersion(graph.opset),
    opset_import: [{ domain: '', version: graph.opset }],
    producer_name: 'rnnkit',
    producer_version: packageVersion(),
    graph: { name, node, initializer, input: inputs.map(valueInfo), output: outputs.map(valueInfo) },
    metadata_props: Object.entries(metadata).map(([key, value]) => ({ key, value })),
  };
}

// ---------------------------------------------------------------------------------------------
// Public API

function stringList(value: unknown, name: string): string[] {
  if (isNullish(value)) return [];
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item === '')) {
    throw new TypeError(`Expected array of non-empty strings for ${name} but received ${describe(value)}`);
  }
  return value as string[];
}

function stringRecord(value: unknown, name: string): Record<string, string> {
  const record = isNullish(value) ? {} : expectObject(value, name);
  for (const [key, item] of Object.entries(record)) {
    if (typeof item !== 'string') throw new TypeError(`Expected string for ${name}.${key} but received ${describe(item)}`);
  }
  return record as Record<string, string>;
}

/** The `forward` option: a function, or absent (the model's built-in converter). */
function customForward(forward: unknown): NonNullable<OnnxExportOptions['forward']> | null {
  if (isNullish(forward)) return null;
  if (typeof forward !== 'function') throw new TypeError(`Expected function for forward but received ${describe(forward)}`);
  return forward as NonNullable<OnnxExportOptions['forward']>;
}

function noConverter(module: Module, path: string): TypeError {
  const what = path ? `${path} (${module.className})` : module.className;
  return new TypeError(`Cannot export ${what} to ONNX: rnnkit has no converter for it; describe its forward with the `
    + 'forward option of saveOnnx (see docs/onnx.md)');
}

/**
 * The graph outputs: each result under its name (a result that is a graph input or an earlier
 * output goes through an Identity), with its dynamic axes.
 */
function nameOutputs(graph: OnnxGraph, results: OnnxValue[], inputs: readonly NamedValue[], nameOf: (index: number) => string,
  dynamicAxes: DynamicAxes): NamedValue[] {
  const taken = new Set(inputs.map((input) => input.value));
  const outputs = results.map((result, i): NamedValue => {
    const name = nameOf(i);
    if (inputs.some((input) => input.name === name) || graph.initializers.some((init) => init.value.name === name)) {
      throw new RangeError(`Expected output names different from the input and weight names but received ${name}`);
    }
    const value = taken.has(result) ? graph.identity(result) : result;
    taken.add(value);
    value.name = name;
    value.shape = dynamicAxes.apply(name, value.shape);
    return { name, value };
  });
  if (new Set(outputs.map((output) => output.name)).size !== outputs.length) {
    throw new RangeError(`Expected unique output names but received ${outputs.map((output) => output.name).join(', ')}`);
  }
  return outputs;
}

/**
 * The ONNX model (protobuf bytes) of `model`'s forward on inputs like `options.exampleInput`.
 *
 * Built in: `nn.LSTM`, `nn.GRU`, `nn.RNN` (layers, bidirectional, batchFirst, `lengths` →
 * `sequence_lens`, initial states as inputs), `Linear` (Gemm / MatMul + Add), `Embedding`
 * (Gather), `Dropout` (identity: the export is of eval mode), `Sequential`, `text.CharLM`
 * (logits and state out for tokens and state in) and `forecast.Forecaster`; any other model
 * through `options.forward`. Weights keep their PyTorch names where ONNX takes them as they are
 * (`head.weight`); recurrent weights are stored in ONNX's gate order as `rnn.W_l0`, `rnn.R_l0`, `rnn.B_l0`.
 * @throws TypeError for a module without a converter (naming it), bad options or example input;
 *   RangeError for what ONNX cannot express (an LSTM's `projSize`), an opset out of range, unknown dynamicAxes names.
 */
export function serializeOnnx(model: Module, options: OnnxExportOptions): Uint8Array {
  if (!(model instanceof Module)) throw new TypeError(`Expected Module for model but received ${describe(model)}`);
  const opts = expectObject(options, 'options');
  if (!('exampleInput' in opts) || opts.exampleInput === undefined) throw new TypeError('Expected exampleInput in options but received undefined');
  const args = Array.isArray(opts.exampleInput) ? opts.exampleInput as unknown[] : [opts.exampleInput];
  const opset = optionalIntInRange(opts.opset, 'opset', ONNX_OPSETS.min, ONNX_OPSETS.max, ONNX_OPSETS.default);
  const inputNames = stringList(opts.inputNames, 'inputNames');
  const outputNames = stringList(opts.outputNames, 'outputNames');
  const metadata = stringRecord(opts.metadata, 'metadata');
  const dynamicAxes = new DynamicAxes(opts.dynamicAxes);
  const forward = customForward(opts.forward);
  const root = forward ? null : builtinConverter(model);
  if (!forward && !root) throw noConverter(model, '');
  const expected = forward ? null : runExample(model, args);

  const graph: OnnxGraph = new OnnxGraph(opset, model, (module) => {
    const entry = builtinConverter(module);
    if (!entry) throw noConverter(module, graph.pathOf(module));
    return entry.convert;
  });
  const binder = new InputBinder(graph, inputNames, root?.inputNames ?? {}, dynamicAxes);
  const bound = args.map((argument, i) => binder.bind(argument, [String(i)]));
  const results = flatten(forward ? forward(graph, ...bound) : graph.call(model, ...bound), isValue);

  const outputs = nameOutputs(graph, results, binder.inputs, (i) => outputNames[i] ?? root?.outputNames[i] ?? `output_${i}`, dynamicAxes);
  dynamicAxes.checkAllUsed(binder.inputs, outputs);
  if (expected) checkAgainstExample(outputs, expected, model.className);
  return encodeModel(modelProto(graph, model.className, binder.inputs, outputs, metadata));
}

/**
 * Writes `model` as an ONNX file (see {@link serializeOnnx} for what is exported and the options),
 * to be run by ONNX Runtime (`onnxruntime-node`, Python, C#, Java, C++) or any ONNX tool.
 */
export function saveOnnx(model: Module, file: string, options: OnnxExportOptions): void {
  if (typeof file !== 'string' || file === '') throw new TypeError(`Expected non-empty path string for file but received ${describe(file)}`);
  writeFileSync(file, serializeOnnx(model, options));
}
