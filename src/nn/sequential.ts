/**
 * `Sequential` (PyTorch `nn.Sequential`): modules applied in order, each output the next input.
 * Children are named "0", "1", … (parameters `0.weight`, `1.bias`, …) or by the keys of an object.
 * @module
 */
import type { Tensor } from '../tensor/index.js';
import { describe } from '../validate.js';
import { Module } from './module.js';

type AnyForward = (input: unknown) => unknown;

export class Sequential extends Module {
  /** `new Sequential(a, b, c)` (names "0", "1", "2") or `new Sequential({ embed: a, head: b })`. */
  constructor(...modules: Module[] | [Record<string, Module>]) {
    super();
    const first = modules[0];
    if (modules.length === 1 && !(first instanceof Module) && typeof first === 'object' && first !== null) {
      for (const [name, module] of Object.entries(first)) this.registerModule(name, module);
    } else {
      (modules as unknown[]).forEach((module, i) => {
        if (!(module instanceof Module)) throw new TypeError(`Expected Module for module ${i} but received ${describe(module)}`);
        this.registerModule(String(i), module);
      });
    }
  }

  /** Number of modules. */
  get length(): number {
    return this.namedChildren().length;
  }

  /** The module at position `index` (negative counts from the end). */
  at(index: number): Module {
    const children = this.children();
    const i = index < 0 ? index + children.length : index;
    if (!Number.isInteger(i) || i < 0 || i >= children.length) throw new RangeError(`index ${index} is out of range`);
    return children[i];
  }

  /** Appends a module under the next integer name; returns this. */
  append(module: Module): this {
    this.registerModule(String(this.length), module);
    return this;
  }

  [Symbol.iterator](): Iterator<Module> {
    return this.children()[Symbol.iterator]();
  }

  /** Feeds `input` through every module in order; `T` types the last module's result (default Tensor). */
  forward<T = Tensor>(input: unknown): T {
    let value = input;
    for (const module of this.children()) value = (module.forward as AnyForward).call(module, value);
    return value as T;
  }
}
