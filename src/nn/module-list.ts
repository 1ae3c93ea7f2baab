/**
 * `ModuleList` (PyTorch `nn.ModuleList`): holds submodules in a list so that their parameters are
 * registered (names "0", "1", …) — a plain array field of modules is not seen by `parameters()`.
 * @module
 */
import { ModuleContainer } from './container.js';
import type { Module } from './module.js';

/**
 * An indexable list of modules (PyTorch `nn.ModuleList`): registered as children `0`, `1`, …, so their
 * parameters are the list's.
 */
export class ModuleList extends ModuleContainer {
  constructor(modules: Iterable<Module> = []) {
    super();
    for (const module of modules) this.append(module);
  }

  /** A ModuleList is a container, not a layer (PyTorch's NotImplementedError). */
  forward(): never {
    throw new Error('Module [ModuleList] is missing the required "forward" function');
  }
}
