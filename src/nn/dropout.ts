/**
 * `Dropout` (PyTorch `nn.Dropout`): in training mode zeroes each element with probability p and
 * scales the rest by 1/(1−p) (seeded global generator); the identity in eval mode.
 * @module
 */
import { dropout } from '../tensor/activation.js';
import type { Tensor } from '../tensor/tensor.js';
import { describe } from '../validate.js';
import { Module } from './module.js';

/** Checks a dropout probability with PyTorch's message. */
export function dropoutProbability(p: unknown): number {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) {
    const message = `dropout probability has to be between 0 and 1, but got ${typeof p === 'number' ? p : describe(p)}`;
    throw typeof p === 'number' ? new RangeError(message) : new TypeError(message);
  }
  return p;
}

/**
 * Zeroes each element with probability `p` in training mode and scales the rest by 1/(1 − p) (PyTorch
 * `nn.Dropout`); the identity in eval mode.
 */
export class Dropout extends Module {
  /** The probability of zeroing an element. */
  readonly p: number;

  constructor(p = 0.5) {
    super();
    this.p = dropoutProbability(p);
  }

  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training);
  }

  override extraRepr(): string {
    return `p=${this.p}, inplace=False`;
  }
}
