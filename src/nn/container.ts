/**
 * `ModuleContainer`: what `Sequential` and `ModuleList` share — PyTorch gives both the same list
 * behaviour (len, indexing, append, iteration) over their children, kept here once so the two
 * cannot disagree on it.
 * @module
 */
import { Module } from './module.js';

/** Children as an ordered list: counted, indexed, appended to under the next integer name, iterated. */
export abstract class ModuleContainer extends Module {
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

  /**
   * Appends a module under the next integer name; returns this.
   * @throws TypeError `Expected Module for module 2 but received …` (registerModule's check).
   */
  append(module: Module): this {
    this.registerModule(String(this.length), module);
    return this;
  }

  /** The modules, in order. */
  [Symbol.iterator](): Iterator<Module> {
    return this.children()[Symbol.iterator]();
  }
}
