/**
 * `Optimizer`: torch.optim.Optimizer's bookkeeping — parameter groups with per-group options,
 * per-parameter state, `zeroGrad()`, `step()`, `stateDict()` / `loadStateDict()` — with PyTorch's
 * (1.13) rules and error messages. Subclasses (SGD, Adam, …) validate options and run the native
 * per-element update of each parameter.
 * @module
 */
import { Tensor } from '../tensor/tensor.js';
import { describe, expectObject } from '../validate.js';

/** Marks an option without a default (SGD's lr): every parameter group must then set it. */
export const required: unique symbol = Symbol('required');

/** Per-parameter state: a step count and Float32Array buffers (exp_avg, momentum buffer, …). */
export type ParamState = Record<string, number | Float32Array>;

/** A parameter group: its tensors and its options (plus anything a scheduler stores, e.g. initialLr). */
export interface ParamGroup {
  /** The group's parameters. */
  params: Tensor[];
  /** The group's learning rate (what schedulers change). */
  lr: number;
  [option: string]: unknown;
}

/** A parameter group as given to the constructor or `addParamGroup`: options override the defaults. */
export type ParamGroupSpec<O> = Partial<O> & {
  /** The group's parameters. */
  params: Tensor | Iterable<Tensor>;
  [option: string]: unknown;
};

/** What optimizers take: tensors, or parameter groups. */
export type Params<O = Record<string, unknown>> = Iterable<Tensor> | Iterable<ParamGroupSpec<O>>;

/**
 * `stateDict()`: parameters are numbered in group order (as PyTorch does); state values are copies.
 * `loadStateDict` also accepts plain number arrays for the buffers (e.g. after a JSON round trip).
 */
export interface OptimizerStateDict {
  /** Per-parameter state by the parameter's number (group order), values copied. */
  state: Record<number, Record<string, number | Float32Array | number[]>>;
  /** Each group's options, its parameters as their numbers. */
  paramGroups: Array<Record<string, unknown> & {
    /** The group's parameters, by number. */
    params: number[];
  }>;
}

// Deep copy of a group option (betas is an array; everything else is a primitive).
function copyValue<T>(value: T): T {
  if (Array.isArray(value)) return value.map(copyValue) as T;
  if (value instanceof Float32Array) return value.slice() as T;
  return value;
}

function toParamList(params: unknown): Tensor[] {
  if (params instanceof Tensor) return [params];
  if (params instanceof Set) {
    throw new TypeError('optimizer parameters need to be organized in ordered collections, but the ordering of '
      + 'tensors in sets will change between runs. Please use a list instead.');
  }
  if (typeof params !== 'object' || params === null || !(Symbol.iterator in params)) {
    throw new TypeError(`Expected Tensor or iterable of Tensors for params but received ${describe(params)}`);
  }
  return [...(params as Iterable<Tensor>)];
}

/**
 * Base of the optimizers (PyTorch `torch.optim.Optimizer`): parameter groups with their options, per-parameter
 * state, `step()`, `zeroGrad()`, `stateDict()` and `loadStateDict()`.
 */
export abstract class Optimizer<G extends ParamGroup = ParamGroup> {
  /** The constructor's options with the defaults filled in (new groups start from these). */
  readonly defaults: Readonly<Record<string, unknown>>;
  /** The parameter groups; change `lr` (or other options) here between steps, as schedulers do. */
  readonly paramGroups: G[] = [];
  /** Per-parameter state, created on a parameter's first update. */
  readonly state = new Map<Tensor, ParamState>();
  /** Completed `step()` calls (schedulers warn, like PyTorch, when they step before the optimizer). */
  stepCount = 0;

  /**
   * @throws TypeError `params argument given to the optimizer should be an iterable of Tensors or
   *   dicts, but got Tensor`; RangeError `optimizer got an empty parameter list`; the errors of
   *   {@link addParamGroup} and the subclass's option checks.
   */
  protected constructor(params: unknown, defaults: Record<string, unknown>) {
    this.checkOptions(defaults);
    this.defaults = Object.freeze({ ...defaults });
    if (params instanceof Tensor) {
      throw new TypeError('params argument given to the optimizer should be an iterable of Tensors or dicts, but got Tensor');
    }
    if (typeof params !== 'object' || params === null || !(Symbol.iterator in params)) {
      throw new TypeError(`params argument given to the optimizer should be an iterable of Tensors or dicts, but got ${describe(params)}`);
    }
    const list = [...(params as Iterable<unknown>)];
    if (list.length === 0) throw new RangeError('optimizer got an empty parameter list');
    const groups = list[0] instanceof Tensor ? [{ params: list }] : list;
    for (const group of groups) this.addParamGroup(group as ParamGroupSpec<unknown>);
  }

  /**
   * Adds a group; options it does not set come from the defaults.
   * @throws TypeError for a non-object group, non-Tensor params, or a missing required option
   *   (`parameter group didn't specify a value of required optimization parameter lr`);
   *   RangeError `can't optimize a non-leaf Tensor`, `some parameters appear in more than one parameter group`.
   */
  addParamGroup(groupSpec: ParamGroupSpec<unknown>): void {
    const spec = expectObject(groupSpec, 'param group');
    const params = toParamList(spec.params);
    for (const p of params) {
      if (!(p instanceof Tensor)) {
        throw new TypeError(`optimizer can only optimize Tensors, but one of the params is ${describe(p)}`);
      }
      if (p.gradFn !== null) throw new RangeError("can't optimize a non-leaf Tensor");
    }
    const group: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(spec)) if (key !== 'params') group[key] = copyValue(value);
    for (const [key, value] of Object.entries(this.defaults)) {
      if (key in group && group[key] !== undefined) continue;
      if (value === required) {
        throw new TypeError(`parameter group didn't specify a value of required optimization parameter ${key}`);
      }
      group[key] = copyValue(value);
    }
    group.params = params;
    if (new Set(params).size !== params.length) {
      process.emitWarning('optimizer contains a parameter group with duplicate parameters; in future, this will cause an error; '
        + 'see github.com/pytorch/pytorch/issues/40967 for more information');
    }
    const taken = new Set(this.paramGroups.flatMap((g) => g.params));
    if (params.some((p) => taken.has(p))) throw new RangeError('some parameters appear in more than one parameter group');
    this.checkOptions(group);
    this.paramGroups.push(group as G);
  }

  /**
   * Clears the gradients of every parameter: zero-filled in place (torch 1.13's default), or
   * dropped (`grad = null`) with `{ setToNone: true }`.
   */
  zeroGrad(options: { setToNone?: boolean } = {}): void {
    const setToNone = options.setToNone ?? false;
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        if (p.grad === null) continue;
        if (setToNone) p.grad = null;
        else p.grad.data.fill(0);
      }
    }
  }

  /**
   * One update of every parameter that has a gradient (parameters with `grad === null` or
   * `requiresGrad === false` are skipped). `closure` (re-evaluating the loss) runs first; its value
   * is returned.
   */
  step<T = undefined>(closure?: () => T): T | undefined {
    const loss = closure?.();
    for (const group of this.paramGroups) this.paramsWithGrad(group);  // every gradient checked before any update
    for (const group of this.paramGroups) {
      this.updateGroup(group);
      for (const p of this.paramsWithGrad(group)) p.markModified();
    }
    this.stepCount++;
    return loss;
  }

  /** A copy of the options and state: parameters become their index in group order. */
  stateDict(): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    const paramGroups = this.paramGroups.map((group) => {
      const packed: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(group)) if (key !== 'params') packed[key] = copyValue(value);
      const params = group.params.map((p) => {
        if (!index.has(p)) index.set(p, index.size);
        return index.get(p) as number;
      });
      return { ...packed, params };
    });
    const state: OptimizerStateDict['state'] = {};
    for (const [p, s] of this.state) {
      const i = index.get(p);
      if (i === undefined) continue;
      state[i] = Object.fromEntries(Object.entries(s).map(([key, value]) => [key, copyValue(value)]));
    }
    return { state, paramGroups };
  }

  /**
   * Restores options and state saved by `stateDict()` (from an optimizer over parameters of the
   * same group sizes and shapes). Values are copied.
   * @throws RangeError `loaded state dict has a different number of parameter groups`,
   *   `loaded state dict contains a parameter group that doesn't match the size of optimizer's group`,
   *   or a state buffer whose length is not its parameter's.
   */
  loadStateDict(stateDict: OptimizerStateDict): void {
    const dict = expectObject(stateDict, 'stateDict');
    const savedGroups = dict.paramGroups as OptimizerStateDict['paramGroups'];
    if (!Array.isArray(savedGroups)) throw new TypeError(`Expected array for stateDict.paramGroups but received ${describe(savedGroups)}`);
    const savedState = expectObject(dict.state, 'stateDict.state');
    if (savedGroups.length !== this.paramGroups.length) {
      throw new RangeError('loaded state dict has a different number of parameter groups');
    }
    savedGroups.forEach((saved, i) => {
      if (!Array.isArray(saved?.params) || saved.params.length !== this.paramGroups[i].params.length) {
        throw new RangeError("loaded state dict contains a parameter group that doesn't match the size of optimizer's group");
      }
    });
    const byIndex = new Map<unknown, Tensor>();
    savedGroups.forEach((saved, i) => saved.params.forEach((id, j) => byIndex.set(String(id), this.paramGroups[i].params[j])));
    const restored = new Map<Tensor, ParamState>();
    for (const [id, entry] of Object.entries(savedState)) {
      const p = byIndex.get(id);
      if (p !== undefined) restored.set(p, restoreParamState(entry, p, id));
    }
    const groups = savedGroups.map((saved, i) => {
      const group: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(saved)) if (key !== 'params') group[key] = copyValue(value);
      group.params = this.paramGroups[i].params;
      this.checkOptions(group);
      return group as G;
    });
    this.paramGroups.splice(0, this.paramGroups.length, ...groups);
    this.state.clear();
    for (const [p, s] of restored) this.state.set(p, s);
  }

  /** Parameters of a group that get an update this step (each gradient checked against its parameter's size). */
  protected paramsWithGrad(group: G): Array<Tensor & {
    /** The parameter's gradient, present. */
    grad: Tensor;
  }> {
    const params = group.params.filter((p): p is Tensor & { grad: Tensor } => p.grad !== null && p.requiresGrad);
    for (const p of params) {
      if (p.grad.data.length !== p.data.length) {
        throw new RangeError(`Expected grad of ${p.data.length} elements (the size of its parameter, shape [${p.shape.join(', ')}]) ` +
          `but received ${p.grad.data.length}`);
      }
    }
    return params;
  }

  /** The state of `p`, created empty on first use. */
  protected stateOf(p: Tensor): ParamState {
    let s = this.state.get(p);
    if (s === undefined) {
      s = {};
      this.state.set(p, s);
    }
    return s;
  }

  /** Checks the options of a group (or the defaults, where `required` stands for a missing value). */
  protected abstract checkOptions(group: Record<string, unknown>): void;

  /** Updates every parameter of the group that has a gradient. */
  protected abstract updateGroup(group: G): void;
}

// One parameter's saved state: buffers must have the parameter's length.
function restoreParamState(entry: unknown, p: Tensor, id: string): ParamState {
  const saved = expectObject(entry, `stateDict.state[${id}]`);
  const state: ParamState = {};
  for (const [key, value] of Object.entries(saved)) {
    if (typeof value === 'number') {
      state[key] = value;
      continue;
    }
    const name = `stateDict.state[${id}].${key}`;
    if (!(value instanceof Float32Array) && !Array.isArray(value)) {
      throw new TypeError(`Expected number, Float32Array or array of numbers for ${name} but received ${describe(value)}`);
    }
    if (value.length !== p.numel) {
      throw new RangeError(`Expected length ${p.numel} for ${name} (numel of its parameter) but received length ${value.length}`);
    }
    state[key] = Float32Array.from(value as ArrayLike<number>);
  }
  return state;
}

// ---- Option checks shared by the optimizers (PyTorch's messages) -------------------------------

/** A number option: `Expected number for momentum but received true of type boolean`. */
export function numberOption(group: Record<string, unknown>, name: string): number | typeof required {
  const value = group[name];
  if (value === required) return required;
  if (typeof value !== 'number') throw new TypeError(`Expected number for ${name} but received ${describe(value)}`);
  return value;
}

/** `Invalid learning rate: -1` unless 0 ≤ value (NaN fails, as in PyTorch). */
export function nonNegative(group: Record<string, unknown>, name: string, what: string): void {
  const value = numberOption(group, name);
  if (value !== required && !(value >= 0)) throw new RangeError(`Invalid ${what}: ${value}`);
}

/** A boolean option: `Expected boolean for nesterov but received 1 of type number`. */
export function boolOption(group: Record<string, unknown>, name: string): boolean {
  const value = group[name];
  if (typeof value !== 'boolean') throw new TypeError(`Expected boolean for ${name} but received ${describe(value)}`);
  return value;
}

/**
 * The options object of a constructor: only the known names (PyTorch rejects unknown keyword
 * arguments): `Unexpected option lrr for SGD: expected one of lr, momentum, …`.
 */
export function checkOptionNames(options: unknown, known: readonly string[], className: string): Record<string, unknown> {
  if (options === undefined) return {};
  const object = expectObject(options, `${className} options`);
  for (const key of Object.keys(object)) {
    if (!known.includes(key)) throw new TypeError(`Unexpected option ${key} for ${className}: expected one of ${known.join(', ')}`);
  }
  return object;
}

/** Fills `undefined` options with defaults. */
export function withDefaults(options: Record<string, unknown>, defaults: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(options)) if (value !== undefined) result[key] = value;
  return result;
}
