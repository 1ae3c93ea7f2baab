/**
 * `Module`: the base class of every layer and model, with PyTorch's bookkeeping — parameters and
 * submodules found by name, `stateDict()` / `loadStateDict()` with PyTorch's keys and error
 * messages, `train()` / `eval()`, `zeroGrad()`.
 *
 * Registration works like PyTorch's attribute assignment: a `Parameter` or a `Module` stored in an
 * own property of the module (a class field, or `this.x = …` in the constructor) is registered
 * under the property's name, in property order — so
 * `class Net extends Module { embedding = new Embedding(…); lstm = new LSTM(…); head = new Linear(…) }`
 * has parameters `embedding.weight`, `lstm.weight_ih_l0`, …, `head.bias`, in that order.
 * (JavaScript orders integer-like keys such as `"0"` before the others: `Sequential` uses only those.)
 * @module
 */
import { Tensor } from '../tensor/tensor.js';
import { describe, isNullish, optionalBool, optionalObject } from '../validate.js';

/**
 * A Tensor that is a module's parameter (PyTorch `nn.Parameter`): a leaf that requires a gradient
 * by default. Assigning one to a module's property registers it.
 */
export class Parameter extends Tensor {
  /** Wraps `data` (a Tensor's values are shared, not copied) as a parameter. */
  constructor(data: Tensor | Float32Array, shape?: readonly number[], requiresGrad = true) {
    if (data instanceof Tensor) super(data.data, shape ?? data.shape, requiresGrad);
    else super(data, shape ?? [data.length], requiresGrad);
  }
}

/** What `loadStateDict` accepts: any object with a Float32Array `data` and a `shape`. */
export interface TensorLike {
  /** The values, row-major. */
  readonly data: Float32Array;
  /** The dimensions. */
  readonly shape: readonly number[];
}

/** Names → tensors, as `stateDict()` returns them (a plain object, in registration order), or a Map. */
export type StateDict = Record<string, TensorLike> | Map<string, TensorLike>;

/** What `loadStateDict` returns (PyTorch's `_IncompatibleKeys`). */
export interface IncompatibleKeys {
  /** Parameters and buffers the module has that the state dict lacked. */
  missingKeys: string[];
  /** Entries of the state dict that the module has no parameter or buffer for. */
  unexpectedKeys: string[];
}

const shapeText = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

function isTensorLike(value: unknown): value is TensorLike {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as TensorLike;
  return candidate.data instanceof Float32Array && Array.isArray(candidate.shape);
}

/**
 * Base class of the modules (PyTorch `nn.Module`): registers parameters and child modules as they are
 * assigned, and gives `parameters()`, `stateDict()`, `loadStateDict()`, `train()` / `eval()`.
 */
export abstract class Module {
  /** Training mode (dropout active); set with `train()` / `eval()`. */
  training = true;

  /** Runs the module. Subclasses define the signature. */
  abstract forward(...args: never[]): unknown;

  /** The class name, as PyTorch prints it in errors (`LSTM`, `Sequential`, …). */
  get className(): string {
    return this.constructor.name;
  }

  /**
   * Registers `param` under `name` (PyTorch `register_parameter`); null removes it (like a
   * parameter registered as None: absent from parameters() and stateDict()).
   */
  registerParameter(name: string, param: Parameter | null): void {
    checkMemberName(name, 'parameter');
    if (param !== null && !(param instanceof Parameter)) {
      throw new TypeError(`Expected Parameter or null for parameter ${name} but received ${describe(param)}`);
    }
    (this as unknown as Record<string, unknown>)[name] = param;
  }

  /** Registers `module` under `name` and returns it (PyTorch `add_module`). */
  registerModule<M extends Module>(name: string, module: M): M {
    checkMemberName(name, 'module');
    if (!(module instanceof Module)) {
      throw new TypeError(`Expected Module for module ${name} but received ${describe(module)}`);
    }
    (this as unknown as Record<string, unknown>)[name] = module;
    return module;
  }

  /** This module's own parameters, in registration order (not deduplicated, like PyTorch's `_parameters`). */
  protected localParameters(): [string, Parameter][] {
    return Object.entries(this).filter((entry): entry is [string, Parameter] => entry[1] instanceof Parameter);
  }

  /** Direct submodules with their names, in registration order (each module once). */
  namedChildren(): [string, Module][] {
    const seen = new Set<Module>();
    const result: [string, Module][] = [];
    for (const [name, child] of this.rawChildren()) {
      if (seen.has(child)) continue;
      seen.add(child);
      result.push([name, child]);
    }
    return result;
  }

  private rawChildren(): [string, Module][] {
    return Object.entries(this).filter((entry): entry is [string, Module] => entry[1] instanceof Module);
  }

  /** Direct submodules. */
  children(): Module[] {
    return this.namedChildren().map(([, child]) => child);
  }

  /** This module and all below it, pre-order, each once, with dotted names (`''` for this one). */
  namedModules(prefix = ''): [string, Module][] {
    const result: [string, Module][] = [];
    const seen = new Set<Module>();
    const visit = (module: Module, name: string): void => {
      if (seen.has(module)) return;
      seen.add(module);
      result.push([name, module]);
      for (const [childName, child] of module.rawChildren()) visit(child, name ? `${name}.${childName}` : childName);
    };
    visit(this, prefix);
    return result;
  }

  /** This module and all below it, pre-order, each once. */
  modules(): Module[] {
    return this.namedModules().map(([, module]) => module);
  }

  /**
   * Parameters with PyTorch's dotted names (`lstm.weight_ih_l0`, `0.weight`), in registration
   * order; a parameter shared by several modules appears once, under its first name.
   */
  namedParameters(prefix = '', recurse = true): [string, Parameter][] {
    const modules: [string, Module][] = recurse ? this.namedModules(prefix) : [[prefix, this]];
    const seen = new Set<Parameter>();
    const result: [string, Parameter][] = [];
    for (const [modulePrefix, module] of modules) {
      for (const [name, param] of module.localParameters()) {
        if (seen.has(param)) continue;
        seen.add(param);
        result.push([modulePrefix ? `${modulePrefix}.${name}` : name, param]);
      }
    }
    return result;
  }

  /** The unique parameters in registration order (what an optimizer takes). */
  parameters(recurse = true): Parameter[] {
    return this.namedParameters('', recurse).map(([, param]) => param);
  }

  /**
   * Name → tensor for every parameter, PyTorch's keys and order (a parameter shared by two modules
   * appears under both names, as in PyTorch). The tensors are detached VIEWS sharing the live
   * parameters' memory, like PyTorch's `state_dict()`: they change when the model trains. Snapshot
   * with `new Tensor(t.data.slice(), t.shape)`.
   */
  stateDict(): Record<string, Tensor> {
    const result: Record<string, Tensor> = {};
    this.walkWithPrefix('', (module, prefix) => {
      for (const [name, param] of module.localParameters()) result[prefix + name] = new Tensor(param.data, param.shape);
    });
    return result;
  }

  // Pre-order over every (module, prefix) pair, shared modules included each time (PyTorch's
  // state_dict / load_state_dict recursion, which has no memo).
  private walkWithPrefix(prefix: string, visit: (module: Module, prefix: string) => void): void {
    visit(this, prefix);
    for (const [name, child] of this.rawChildren()) child.walkWithPrefix(`${prefix}${name}.`, visit);
  }

  /**
   * Copies `stateDict`'s values into the parameters (in place: optimizers holding the parameters
   * keep working). Keys, order of checks and messages are PyTorch's:
   * `Error(s) in loading state_dict for LSTM:\n\tMissing key(s) in state_dict: "weight_hh_l0". `,
   * `Unexpected key(s) in state_dict: "x". `, and — even when `strict` is false — `size mismatch for
   * weight_ih_l0: copying a param with shape [40, 7] from checkpoint, the shape in current model is
   * [40, 8].` Unlike PyTorch, loading is atomic: when it throws, no parameter has changed.
   * @param options.strict missing or unexpected keys are errors (default true); otherwise they are
   *   only reported in the result.
   * @returns the missing and unexpected keys.
   */
  loadStateDict(stateDict: StateDict, options?: { strict?: boolean }): IncompatibleKeys {
    const strict = optionalBool(optionalObject(options, 'options').strict, 'strict', true);
    const entries = stateDictEntries(stateDict);
    const keys = [...entries.keys()];
    const missingKeys: string[] = [];
    const unexpectedKeys: string[] = [];
    const errors: string[] = [];
    const copies: [Parameter, Float32Array][] = [];
    this.walkWithPrefix('', (module, prefix) => {
      const local = module.localParameters();
      for (const [name, param] of local) {
        const key = prefix + name;
        if (!entries.has(key)) {
          missingKeys.push(key);
          continue;
        }
        const value = entries.get(key);
        if (!isTensorLike(value)) {
          errors.push(`While copying the parameter named "${key}", expected Tensor or Tensor-like object from checkpoint but received ${describe(value)}`);
        } else if (!sameShape(value.shape, param.shape) || value.data.length !== param.data.length) {
          errors.push(`size mismatch for ${key}: copying a param with shape ${shapeText(value.shape)} from checkpoint, the shape in current model is ${shapeText(param.shape)}.`);
        } else {
          copies.push([param, value.data]);
        }
      }
      const known = new Set([...local.map(([name]) => name), ...module.rawChildren().map(([name]) => name)]);
      for (const key of keys) {
        if (key.startsWith(prefix) && !known.has(key.slice(prefix.length).split('.', 1)[0])) unexpectedKeys.push(key);
      }
    });
    if (strict) {
      if (unexpectedKeys.length > 0) errors.unshift(`Unexpected key(s) in state_dict: ${quoteList(unexpectedKeys)}. `);
      if (missingKeys.length > 0) errors.unshift(`Missing key(s) in state_dict: ${quoteList(missingKeys)}. `);
    }
    if (errors.length > 0) {
      throw new Error(`Error(s) in loading state_dict for ${this.className}:\n\t${errors.join('\n\t')}`);
    }
    for (const [param, data] of copies) {
      param.data.set(data);
      param.markModified();
    }
    return { missingKeys, unexpectedKeys };
  }

  /** Sets training mode here and below (dropout on); returns this. */
  train(mode = true): this {
    const flag = optionalBool(mode, 'mode', true);
    for (const module of this.modules()) module.training = flag;
    return this;
  }

  /** Evaluation mode (same as `train(false)`); returns this. */
  eval(): this {
    return this.train(false);
  }

  /**
   * Clears the parameters' gradients with PyTorch 1.13's default (`set_to_none=False`): existing
   * gradients are filled with zeros in place, missing ones stay null. `setToNone: true` sets them
   * all to null instead (PyTorch 2's default), which skips the memset.
   */
  zeroGrad(options?: boolean | { setToNone?: boolean }): void {
    const setToNone = typeof options === 'boolean' ? options
      : optionalBool(optionalObject(options, 'options').setToNone, 'setToNone', false);
    for (const param of this.parameters()) {
      if (param.grad === null) continue;
      if (setToNone) param.grad = null;
      else param.grad.data.fill(0);
    }
  }

  /** Calls fn on every submodule (children first) and then on this module, like PyTorch's `apply`; returns this. */
  apply(fn: (module: Module) => void): this {
    for (const child of this.children()) child.apply(fn);
    fn(this);
    return this;
  }

  /** Sets requiresGrad on every parameter (PyTorch `requires_grad_`, e.g. to freeze a module); returns this. */
  requiresGrad_(requiresGrad = true): this {
    const flag = optionalBool(requiresGrad, 'requiresGrad', true);
    for (const param of this.parameters()) param.requiresGrad = flag;
    return this;
  }

  /** Extra text inside the module's printout (PyTorch `extra_repr`). */
  extraRepr(): string {
    return '';
  }

  /** A PyTorch-style printout: `LSTM(10, 20, num_layers=2)`, children indented. */
  toString(): string {
    const children = this.rawChildren();
    const extra = this.extraRepr();
    if (children.length === 0) return `${this.className}(${extra})`;
    const lines = children.map(([name, child]) => `  (${name}): ${String(child).split('\n').join('\n  ')}`);
    if (extra) lines.unshift(`  ${extra}`);
    return `${this.className}(\n${lines.join('\n')}\n)`;
  }
}

function checkMemberName(name: unknown, kind: string): void {
  if (typeof name !== 'string' || name === '' || name.includes('.')) {
    throw new TypeError(`Expected non-empty string without "." for ${kind} name but received ${describe(name)}`);
  }
}

function stateDictEntries(value: unknown): Map<string, unknown> {
  if (value instanceof Map) return value as Map<string, unknown>;
  if (isNullish(value) || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`Expected state_dict to be dict-like (an object or a Map) but received ${describe(value)}`);
  }
  return new Map(Object.entries(value as Record<string, unknown>));
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

const quoteList = (keys: string[]): string => keys.map((key) => `"${key}"`).join(', ');
