/**
 * `OnnxGraph`: the builder an export writes its ONNX graph with. Every value carries its element
 * type and a shape whose dimensions are sizes or symbolic names (the dynamic axes), computed op
 * by op, so the exported inputs and outputs declare exactly which axes may vary.
 *
 * The exporter builds the graph by calling each module's converter ({@link OnnxGraph.call}); a
 * model without a built-in converter describes its forward with the same calls (`saveOnnx`'s
 * `forward` option): `g.call(module, …)` for a submodule and the tensor ops below (named as in
 * rnnkit's tensor API: `add`, `tanh`, `select`, `transpose`, …) for the glue.
 * @module
 */
import { Tensor } from '../tensor/tensor.js';
import { describe } from '../validate.js';
import type { Module } from '../nn/module.js';

/** A dimension: a size, or the name of a dynamic axis. */
export type OnnxDim = number | string;

/** The element types rnnkit exports: float32 data, int64 indices, int32 sequence lengths, bool masks. */
export type OnnxElementType = 'float32' | 'int64' | 'int32' | 'bool';

/** An attribute of a node, tagged with its ONNX type. */
export type OnnxAttribute =
  | {
    /** An INT attribute. */
    i: number;
  }
  | {
    /** A FLOAT attribute. */
    f: number;
  }
  | {
    /** A STRING attribute. */
    s: string;
  }
  | {
    /** An INTS attribute. */
    ints: readonly number[];
  }
  | {
    /** A FLOATS attribute. */
    floats: readonly number[];
  }
  | {
    /** A STRINGS attribute. */
    strings: readonly string[];
  };

/** The data of an initializer. */
export type InitializerData = Float32Array | Int32Array | BigInt64Array;

/**
 * A tensor of the graph: a graph input, an initializer (weights, constants) or a node's output.
 * Its name is fixed when the model is serialized (outputs take their public names then).
 */
export class OnnxValue {
  /** @internal */
  constructor(
    /** The value's name in the graph. */
    public name: string,
    /** Element type; null for a graph input whose first use decides it (see {@link OnnxGraph}). */
    public dtype: OnnxElementType | null,
    /** Sizes and dynamic-axis names. */
    public shape: OnnxDim[],
  ) {}

  /** Number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }
}

/** A node as recorded (values by reference, so renaming a value renames every use). @internal */
export interface RecordedNode {
  opType: string;
  name: string;
  inputs: (OnnxValue | null)[];
  outputs: OnnxValue[];
  attributes: Record<string, OnnxAttribute>;
}

/** An initializer as recorded. @internal */
export interface RecordedInitializer {
  value: OnnxValue;
  data: InitializerData;
}

/** What a converter receives and returns: values, nested in arrays and objects as forward's arguments and results are. */
export type OnnxArgument = OnnxValue | null | undefined | readonly OnnxArgument[] | { readonly [key: string]: OnnxArgument };

/**
 * Emits the nodes of one module's forward: `args` are forward's arguments with every tensor
 * replaced by its graph value. Returns forward's result in the same form.
 */
export type OnnxConverter<M extends Module = Module> = (graph: OnnxGraph, module: M, args: OnnxArgument[]) => OnnxArgument;

/** Joins symbolic dimensions into one name (`T*2`), or multiplies sizes. */
function productDim(dims: readonly OnnxDim[]): OnnxDim {
  if (dims.every((d): d is number => typeof d === 'number')) return dims.reduce((a, b) => a * b, 1);
  return dims.filter((d) => d !== 1).join('*');
}

/** NumPy broadcasting of two shapes whose dims may be names (a name meets 1 → the name; a size > 1 wins over a name). */
function broadcastDims(a: readonly OnnxDim[], b: readonly OnnxDim[]): OnnxDim[] {
  const n = Math.max(a.length, b.length);
  const out: OnnxDim[] = [];
  for (let d = 0; d < n; d++) {
    const x = a[d - (n - a.length)] ?? 1;
    const y = b[d - (n - b.length)] ?? 1;
    if (typeof x === 'number' && typeof y === 'number' && x !== y && x !== 1 && y !== 1) {
      throw new RangeError(`The size of tensor a (${x}) must match the size of tensor b (${y}) at non-singleton dimension ${d}`);
    }
    out.push(x === 1 ? y : y === 1 ? x : typeof x === 'number' ? x : y);
  }
  return out;
}

/** A dimension index in [-rank, rank) normalized to [0, rank), with rnnkit's error message. */
function normalizeAxis(dim: number, rank: number): number {
  if (!Number.isInteger(dim) || dim < -rank || dim >= rank) {
    throw new RangeError(`Dimension out of range (expected to be in range of [${-rank}, ${rank - 1}], but got ${dim})`);
  }
  return dim < 0 ? dim + rank : dim;
}

/**
 * The graph being exported. Values are created by graph inputs, {@link parameter} /
 * {@link constant}, and ops; node names follow the module path as PyTorch 1.13 does (`/rnn/LSTM`).
 *
 * Graph inputs made from rnnkit tensors (which are all float) take their element type from their
 * first use: int64 where ONNX wants indices (an Embedding's Gather), int32 where it wants sequence
 * lengths, float32 otherwise; a later use that needs another type gets a Cast.
 */
export class OnnxGraph {
  /** The opset the graph is written for. */
  readonly opset: number;
  /** @internal */ readonly nodes: RecordedNode[] = [];
  /** @internal */ readonly initializers: RecordedInitializer[] = [];
  private readonly usedNames = new Set<string>();
  private readonly parameterValues = new Map<unknown, OnnxValue>();
  private readonly scopes: string[] = [];
  private readonly modulePaths: Map<Module, string>;
  private readonly converterOf: (module: Module) => OnnxConverter;

  /** @internal */
  constructor(opset: number, root: Module, converterOf: (module: Module) => OnnxConverter) {
    this.opset = opset;
    this.modulePaths = new Map(root.namedModules().map(([name, module]) => [module, name]));
    this.converterOf = converterOf;
  }

  // ---------------------------------------------------------------------------------------------
  // Values

  /** A name not used yet: `base`, else `base_1`, `base_2`, … */
  uniqueName(base: string): string {
    let name = base;
    for (let i = 1; this.usedNames.has(name); i++) name = `${base}_${i}`;
    this.usedNames.add(name);
    return name;
  }

  /** @internal A graph input (its dtype null until its first use, unless given). */
  input(name: string, shape: OnnxDim[], dtype: OnnxElementType | null = null): OnnxValue {
    return new OnnxValue(this.uniqueName(name), dtype, shape);
  }

  /**
   * An initializer holding `data` (a module's weights, or a constant), named `name` inside the
   * current module's path (`rnn.W_l0`). The same `key` (e.g. a shared Parameter) gives the same value.
   */
  parameter(name: string, data: InitializerData, shape: readonly number[], key: unknown = null): OnnxValue {
    const known = key === null ? undefined : this.parameterValues.get(key);
    if (known) return known;
    const scope = this.scopes.length > 0 ? this.scopes[this.scopes.length - 1] : '';
    const value = new OnnxValue(this.uniqueName(scope ? `${scope}.${name}` : name), elementTypeOf(data), [...shape]);
    this.initializers.push({ value, data });
    if (key !== null) this.parameterValues.set(key, value);
    return value;
  }

  /** A module's tensor (a Parameter) as an initializer under its own name (`head.weight`). */
  tensor(name: string, tensor: Tensor): OnnxValue {
    return this.parameter(name, tensor.data, tensor.shape, tensor);
  }

  /** A constant: float32 from a Float32Array, int32 from an Int32Array, int64 from a BigInt64Array or from plain numbers. */
  constant(values: InitializerData | readonly number[], shape?: readonly number[]): OnnxValue {
    const data = Array.isArray(values) ? BigInt64Array.from(values as number[], (v) => BigInt(v)) : values as InitializerData;
    return this.parameter('const', data, shape ?? [data.length]);
  }

  // ---------------------------------------------------------------------------------------------
  // Types of graph inputs

  /** `value` as float32: fixes a still-untyped graph input, casts int values. */
  float(value: OnnxValue): OnnxValue {
    return this.asType(value, 'float32');
  }

  /** `value` as int64 indices (Gather). */
  indices(value: OnnxValue): OnnxValue {
    return this.asType(value, 'int64');
  }

  /** `value` as int32 (an RNN's sequence_lens). */
  int32(value: OnnxValue): OnnxValue {
    return this.asType(value, 'int32');
  }

  private asType(value: OnnxValue, dtype: OnnxElementType): OnnxValue {
    if (value.dtype === null) value.dtype = dtype;
    if (value.dtype === dtype) return value;
    return this.node('Cast', [value], { to: { i: DATA_TYPES[dtype] } }, [{ dtype, shape: value.shape }])[0];
  }

  // Shape ops keep int values int; an untyped graph input they meet first becomes float32.
  private typed(value: OnnxValue): OnnxValue & { dtype: OnnxElementType } {
    return (value.dtype === null ? this.float(value) : value) as OnnxValue & { dtype: OnnxElementType };
  }

  // ---------------------------------------------------------------------------------------------
  // Modules and nodes

  /**
   * Runs `module`'s converter on `args` (its forward's arguments, tensors replaced by values):
   * nodes and weights it adds are named after the module's path in the exported model.
   * @throws TypeError naming the module when it has no converter.
   */
  call(module: Module, ...args: OnnxArgument[]): OnnxArgument {
    const path = this.modulePaths.get(module) ?? this.uniqueName(module.className.toLowerCase());
    this.scopes.push(path);
    try {
      return this.converterOf(module)(this, module, args);
    } finally {
      this.scopes.pop();
    }
  }

  /** The exported path of `module` (`''` for the model itself), as used in its weights' names. */
  pathOf(module: Module): string {
    return this.modulePaths.get(module) ?? module.className.toLowerCase();
  }

  /**
   * Adds a node of `opType` (default domain) and returns its outputs, one per entry of `outputs`.
   * Null inputs are ONNX's omitted optional inputs.
   */
  node(opType: string, inputs: readonly (OnnxValue | null)[], attributes: Record<string, OnnxAttribute>,
    outputs: readonly { dtype: OnnxElementType; shape: OnnxDim[] }[]): OnnxValue[] {
    const scope = this.scopes.length > 0 ? this.scopes[this.scopes.length - 1] : '';
    const name = this.uniqueName(`/${scope ? `${scope.split('.').join('/')}/` : ''}${opType}`);
    const values = outputs.map((out, i) => new OnnxValue(this.uniqueName(`${name}_output_${i}`), out.dtype, out.shape));
    this.nodes.push({ opType, name, inputs: [...inputs], outputs: values, attributes });
    return values;
  }

  private unary(opType: string, x: OnnxValue, attributes: Record<string, OnnxAttribute> = {}): OnnxValue {
    const value = this.float(x);
    return this.node(opType, [value], attributes, [{ dtype: 'float32', shape: value.shape }])[0];
  }

  private binary(opType: string, a: OnnxValue, b: OnnxValue): OnnxValue {
    const x = this.float(a), y = this.float(b);
    return this.node(opType, [x, y], {}, [{ dtype: 'float32', shape: broadcastDims(x.shape, y.shape) }])[0];
  }

  // ---------------------------------------------------------------------------------------------
  // Tensor ops (rnnkit's names and dimension conventions)

  /** a + b (broadcasting). */
  add(a: OnnxValue, b: OnnxValue): OnnxValue { return this.binary('Add', a, b); }
  /** a − b (broadcasting). */
  sub(a: OnnxValue, b: OnnxValue): OnnxValue { return this.binary('Sub', a, b); }
  /** a · b elementwise (broadcasting). */
  mul(a: OnnxValue, b: OnnxValue): OnnxValue { return this.binary('Mul', a, b); }
  /** a / b (broadcasting). */
  div(a: OnnxValue, b: OnnxValue): OnnxValue { return this.binary('Div', a, b); }
  /** tanh(x). */
  tanh(x: OnnxValue): OnnxValue { return this.unary('Tanh', x); }
  /** σ(x). */
  sigmoid(x: OnnxValue): OnnxValue { return this.unary('Sigmoid', x); }
  /** max(x, 0). */
  relu(x: OnnxValue): OnnxValue { return this.unary('Relu', x); }
  /** eˣ. */
  exp(x: OnnxValue): OnnxValue { return this.unary('Exp', x); }
  /** ln x. */
  log(x: OnnxValue): OnnxValue { return this.unary('Log', x); }
  /** −x. */
  neg(x: OnnxValue): OnnxValue { return this.unary('Neg', x); }
  /** Softmax over `dim`. */
  softmax(x: OnnxValue, dim: number): OnnxValue { return this.unary('Softmax', x, { axis: { i: normalizeAxis(dim, x.rank) } }); }
  /** Log-softmax over `dim`. */
  logSoftmax(x: OnnxValue, dim: number): OnnxValue { return this.unary('LogSoftmax', x, { axis: { i: normalizeAxis(dim, x.rank) } }); }

  /** Matrix product with NumPy broadcasting (`[…, m, k] × [k, n]`). */
  matmul(a: OnnxValue, b: OnnxValue): OnnxValue {
    const x = this.float(a), y = this.float(b);
    if (x.rank < 2 || y.rank < 2) throw new RangeError(`matmul: Expected tensors of at least 2 dimensions but received ${x.rank}-D and ${y.rank}-D`);
    const batch = broadcastDims(x.shape.slice(0, -2), y.shape.slice(0, -2));
    return this.node('MatMul', [x, y], {}, [{ dtype: 'float32', shape: [...batch, x.shape[x.rank - 2], y.shape[y.rank - 1]] }])[0];
  }

  /** The dimensions reordered (`permute(x, [1, 0, 2])`). */
  permute(value: OnnxValue, dims: readonly number[]): OnnxValue {
    const x = this.typed(value);
    if (dims.length !== x.rank) throw new RangeError(`permute: Expected ${x.rank} dimensions for dims but received ${dims.length}`);
    const perm = dims.map((d) => normalizeAxis(d, x.rank));
    if (new Set(perm).size !== perm.length) throw new RangeError(`permute: Expected each dimension once in dims but received [${dims.join(', ')}]`);
    return this.node('Transpose', [x], { perm: { ints: perm } }, [{ dtype: x.dtype, shape: perm.map((d) => x.shape[d]) }])[0];
  }

  /** Dimensions `dim0` and `dim1` swapped. */
  transpose(x: OnnxValue, dim0: number, dim1: number): OnnxValue {
    const perm = x.shape.map((_, d) => d);
    const a = normalizeAxis(dim0, x.rank), b = normalizeAxis(dim1, x.rank);
    [perm[a], perm[b]] = [perm[b], perm[a]];
    return this.permute(x, perm);
  }

  /**
   * `x` reshaped; in `shape`, 0 keeps that dimension of `x` and −1 takes what is left (ONNX
   * Reshape), so the graph stays valid when dynamic axes change size.
   */
  reshape(x: OnnxValue, shape: readonly number[]): OnnxValue {
    const source = this.typed(x);
    const out: OnnxDim[] = shape.map((d, i) => (d === 0 ? source.shape[i] : d));
    const rest = shape.indexOf(-1);
    if (rest >= 0) {
      // What -1 stands for: the dims of x not kept by a 0, divided by the sizes given.
      const remaining = productDim(source.shape.filter((_, i) => shape[i] !== 0));
      const given = productDim(shape.filter((d) => d > 0));
      out[rest] = typeof remaining === 'number' && typeof given === 'number' ? remaining / given
        : given === 1 ? remaining : `${remaining}/${given}`;
    }
    return this.node('Reshape', [source, this.constant(shape)], {}, [{ dtype: source.dtype!, shape: out }])[0];
  }

  /** The slice at `index` of dimension `dim`, that dimension removed (negative index counts from the end). */
  select(value: OnnxValue, dim: number, index: number): OnnxValue {
    const x = this.typed(value);
    const axis = normalizeAxis(dim, x.rank);
    if (!Number.isInteger(index)) throw new TypeError(`Expected integer for index but received ${describe(index)}`);
    const size = x.shape[axis];
    if (typeof size === 'number' && (index < -size || index >= size)) {
      throw new RangeError(`select(): index ${index} out of range for tensor of size [${x.shape.join(', ')}] at dimension ${dim}`);
    }
    const shape = x.shape.filter((_, d) => d !== axis);
    return this.node('Gather', [x, this.constant(BigInt64Array.of(BigInt(index)), [])], { axis: { i: axis } },
      [{ dtype: x.dtype, shape }])[0];
  }

  /** Rows `[start, end)` of dimension `dim` (constant bounds). */
  slice(value: OnnxValue, dim: number, start: number, end: number): OnnxValue {
    const x = this.typed(value);
    const axis = normalizeAxis(dim, x.rank);
    const shape = [...x.shape];
    shape[axis] = end - start;
    return this.node('Slice', [x, this.constant([start]), this.constant([end]), this.constant([axis])], {},
      [{ dtype: x.dtype, shape }])[0];
  }

  /** Dimension `dim` (of size 1) removed. */
  squeeze(value: OnnxValue, dim: number): OnnxValue {
    const x = this.typed(value);
    const axis = normalizeAxis(dim, x.rank);
    return this.node('Squeeze', [x, this.constant([axis])], {}, [{ dtype: x.dtype, shape: x.shape.filter((_, d) => d !== axis) }])[0];
  }

  /** A dimension of size 1 inserted at `dim`. */
  unsqueeze(value: OnnxValue, dim: number): OnnxValue {
    const x = this.typed(value);
    const axis = normalizeAxis(dim, x.rank + 1);
    const shape = [...x.shape];
    shape.splice(axis, 0, 1);
    return this.node('Unsqueeze', [x, this.constant([axis])], {}, [{ dtype: x.dtype, shape }])[0];
  }

  /** The values joined along `dim`. */
  cat(parts: readonly OnnxValue[], dim: number): OnnxValue {
    const values = parts.map((part) => this.typed(part));
    if (values.length === 1) return values[0];
    const axis = normalizeAxis(dim, values[0].rank);
    const shape = [...values[0].shape];
    shape[axis] = values.slice(1).reduce<OnnxDim>((total, v) => (typeof total === 'number' && typeof v.shape[axis] === 'number'
      ? total + (v.shape[axis] as number) : `${total}+${v.shape[axis]}`), values[0].shape[axis]);
    return this.node('Concat', values, { axis: { i: axis } }, [{ dtype: values[0].dtype, shape }])[0];
  }

  /** `a == b` elementwise (broadcasting), a bool mask. */
  equal(a: OnnxValue, b: OnnxValue): OnnxValue {
    const x = this.typed(a), y = this.typed(b);
    return this.node('Equal', [x, y], {}, [{ dtype: 'bool', shape: broadcastDims(x.shape, y.shape) }])[0];
  }

  /** `a` where `condition` (a bool mask) holds, else `b` (broadcasting). */
  where(condition: OnnxValue, a: OnnxValue, b: OnnxValue): OnnxValue {
    const x = this.typed(a), y = this.typed(b);
    return this.node('Where', [condition, x, y], {}, [{ dtype: x.dtype, shape: broadcastDims(condition.shape, broadcastDims(x.shape, y.shape)) }])[0];
  }

  /** `x` under another name (a graph output that is a graph input or another output). @internal */
  identity(value: OnnxValue): OnnxValue {
    const x = this.typed(value);
    return this.node('Identity', [x], {}, [{ dtype: x.dtype, shape: x.shape }])[0];
  }
}

/** The ONNX element type of initializer data. */
export function elementTypeOf(data: InitializerData): OnnxElementType {
  return data instanceof Float32Array ? 'float32' : data instanceof Int32Array ? 'int32' : 'int64';
}

/** ONNX's `TensorProto.DataType` of an element type. */
export const DATA_TYPES: Record<OnnxElementType, number> = { float32: 1, int32: 6, int64: 7, bool: 9 };
