/**
 * `ModuleList` (PyTorch `nn.ModuleList`): holds submodules in a list so that their parameters are
 * registered (names "0", "1", …) — a plain array field of modules is not seen by `parameters()`.
 * @module
 */
import { describe } from '../validate.js';
import { Module } from './module.js';

export class ModuleList extends Module {
  constructor(modules: Iterable<Module> = []) {
    super();
    for (const module of modules) this.append(module);
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
    if (!(module instanceof Module)) throw new TypeError(`Expected Module for module ${this.length} but received ${describe(module)}`);
    this.registerModule(String(this.length), module);
    return this;
  }

  [Symbol.iterator](): Iterator<Module> {
    return this.children()[Symbol.iterator]();
  }

  /** A ModuleList is a container, not a layer (PyTorch's NotImplementedError). */
  forward(): never {
    throw new Error('Module [ModuleList] is missing the required "forward" function');
  }
}
