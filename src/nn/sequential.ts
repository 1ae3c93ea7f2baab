/**
 * `Sequential` (PyTorch `nn.Sequential`): modules applied in order, each output the next input.
 * Children are named "0", "1", … (parameters `0.weight`, `1.bias`, …) or by the keys of an object.
 * @module
 */
import type { Tensor } from '../tensor/index.js';
import { describe } from '../validate.js';
import { ModuleContainer } from './container.js';
import { Module } from './module.js';

type AnyForward = (input: unknown) => unknown;

/**
 * Modules run one after another (PyTorch `nn.Sequential`), each taking the previous one's output;
 * registered as children `0`, `1`, … or by the names given.
 */
export class Sequential extends ModuleContainer {
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

  /** Feeds `input` through every module in order; `T` types the last module's result (default Tensor). */
  forward<T = Tensor>(input: unknown): T {
    let value = input;
    for (const module of this.children()) value = (module.forward as AnyForward).call(module, value);
    return value as T;
  }
}
