/**
 * Truncated backpropagation through time: a long batch is cut along time into chunks of `steps`;
 * each chunk is one forward, backward and optimizer step, and the state the model returns is
 * DETACHED and passed to the next chunk (the values carry over, the gradient stops at the chunk
 * boundary). fit does this with `tbptt: { steps }`; {@link timeChunks} and {@link detachState}
 * are the pieces for a hand-written loop.
 * @module
 */
import { Tensor } from '../tensor/tensor.js';
import { narrow } from '../tensor/shape.js';
import { checkOptions, describe, positiveInt } from '../validate.js';
import type { Batch } from './batch.js';

/** fit's `tbptt` option. */
export interface TbpttOptions {
  /** Time steps per chunk. */
  steps: number;
  /** The time dimension of the input (and of per-step targets): 1 (default, batch-first `[B, T, …]`) or 0 (time-major). */
  timeDim?: 0 | 1;
}

/** Validates fit's `tbptt` option (undefined → null). */
export function checkTbptt(value: unknown): Required<TbpttOptions> | null {
  if (value === undefined || value === null) return null;
  const o = checkOptions(value, 'tbptt', ['steps', 'timeDim'], 'tbptt');
  const steps = positiveInt(o.steps, 'tbptt.steps');
  const timeDim = o.timeDim ?? 1;
  if (timeDim !== 0 && timeDim !== 1) {
    throw new RangeError(`Expected 0 or 1 for tbptt.timeDim but received ${describe(timeDim)}`);
  }
  return { steps, timeDim };
}

/**
 * The chunks of `batch` along time: the input cut into `steps`-long pieces (the last may be
 * shorter); per-step targets (a Tensor with the input's T at `timeDim`) cut alike, other targets
 * repeated; lengths clamped to each chunk (0 once a sequence has ended: its state then passes
 * through unchanged).
 */
export function* timeChunks(batch: Batch, options: Required<TbpttOptions>): Generator<Batch> {
  const { steps, timeDim } = options;
  const input = batch.input;
  if (!(input instanceof Tensor) || input.ndim <= timeDim) {
    throw new TypeError(`Expected Tensor input with a time dimension ${timeDim} for truncated BPTT but received ${describe(input)}`);
  }
  const total = input.shape[timeDim];
  const target = batch.target;
  const perStep = target instanceof Tensor && target.ndim > timeDim && target.shape[timeDim] === total;
  for (let start = 0; start < total; start += steps) {
    const size = Math.min(steps, total - start);
    const lengths = batch.lengths ? batch.lengths.map((l) => Math.max(0, Math.min(l - start, size))) : null;
    const tokens = lengths ? lengths.reduce((a, b) => a + b, 0) : Math.round((batch.tokens * size) / total);
    yield {
      input: narrow(input, timeDim, start, size),
      target: perStep ? narrow(target, timeDim, start, size) : target,
      lengths,
      size: batch.size,
      tokens,
      raw: batch.raw,
    };
  }
}

/** The state with every Tensor detached (nested arrays and objects kept), for the next chunk. */
export function detachState<S>(state: S): S {
  if (state instanceof Tensor) return state.detach() as S;
  if (Array.isArray(state)) return state.map(detachState) as S;
  if (typeof state === 'object' && state !== null && Object.getPrototypeOf(state) === Object.prototype) {
    return Object.fromEntries(Object.entries(state).map(([k, v]) => [k, detachState(v)])) as S;
  }
  return state;
}
