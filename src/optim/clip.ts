/**
 * Gradient clipping, as torch.nn.utils.clip_grad_norm_ / clip_grad_value_ (1.13): the total norm
 * over all gradients (as if concatenated), then every gradient scaled by
 * min(1, maxNorm / (total + 1e-6)) — computed with PyTorch's float32 roundings. The reductions and
 * the scaling run in native code.
 * @module
 */
import { expectTensor, Tensor } from '../tensor/tensor.js';
import { describe } from '../validate.js';
import { optimBinding } from './native.js';

const f32 = Math.fround;

function gradsOf(parameters: unknown, fn: string): Float32Array[] {
  let list: unknown[];
  if (parameters instanceof Tensor) list = [parameters];
  else if (typeof parameters === 'object' && parameters !== null && Symbol.iterator in parameters) {
    list = [...(parameters as Iterable<unknown>)];
  } else {
    throw new TypeError(`Expected Tensor or iterable of Tensors for parameters of ${fn} but received ${describe(parameters)}`);
  }
  return list.flatMap((p) => {
    expectTensor(p, `each of the parameters of ${fn}`);
    return p.grad === null ? [] : [p.grad.data];
  });
}

function finiteNumber(value: unknown, name: string): number {
  if (typeof value !== 'number') throw new TypeError(`Expected number for ${name} but received ${describe(value)}`);
  return value;
}

// torch.norm of one float32 tensor: accumulated in double here, rounded to float32.
function tensorNorm(grad: Float32Array, normType: number): number {
  const sum = optimBinding().normPowerSum(grad, normType);
  if (normType === Infinity || normType === 0) return f32(sum);
  return f32(normType === 2 ? Math.sqrt(sum) : sum ** (1 / normType));
}

// torch.norm of the stacked per-gradient norms.
function normOfNorms(norms: number[], normType: number): number {
  if (normType === Infinity) return norms.reduce((a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b)));
  if (normType === 0) return norms.filter((n) => n !== 0).length;
  const sum = norms.reduce((acc, n) => acc + Math.abs(n) ** normType, 0);
  return f32(normType === 2 ? Math.sqrt(sum) : sum ** (1 / normType));
}

/** Options of {@link clipGradNorm_}. */
export interface ClipGradNormOptions {
  /** Throw when the total norm is NaN or infinite (default false: the gradients are scaled anyway). */
  errorIfNonfinite?: boolean;
}

/**
 * Scales the gradients of `parameters` in place so that their total `normType`-norm is at most
 * `maxNorm`; returns the total norm before clipping (a float32 value, as PyTorch's tensor holds).
 * Parameters without a gradient are ignored; no gradients give 0.
 * @param normType p of the p-norm (p ≥ 0), `Infinity` or `'inf'` for the max norm (default 2).
 * @throws RangeError for a negative normType; Error `The total norm of order 2 for gradients from
 *   \`parameters\` is non-finite, …` when errorIfNonfinite is set.
 */
export function clipGradNorm_(
  parameters: Tensor | Iterable<Tensor>, maxNorm: number, normType: number | 'inf' = 2, options: ClipGradNormOptions = {},
): number {
  const grads = gradsOf(parameters, 'clipGradNorm_');
  const max = finiteNumber(maxNorm, 'maxNorm');
  const p = normType === 'inf' ? Infinity : finiteNumber(normType, 'normType');
  if (!(p >= 0)) throw new RangeError(`Expected non-negative number or Infinity for normType but received ${describe(normType)}`);
  if (grads.length === 0) return 0;
  const total = normOfNorms(grads.map((g) => tensorNorm(g, p)), p);
  if (options.errorIfNonfinite && !Number.isFinite(total)) {
    throw new Error(`The total norm of order ${p} for gradients from \`parameters\` is non-finite, so it cannot be clipped. `
      + 'To disable this error and scale the gradients by the non-finite norm anyway, set `errorIfNonfinite: false`');
  }
  // max_norm / (total_norm + 1e-6) on a float32 tensor: Tensor.__rdiv__ is reciprocal() * max_norm.
  const coefficient = f32(f32(1 / f32(total + f32(1e-6))) * f32(max));
  const clamped = Number.isNaN(coefficient) ? coefficient : Math.min(coefficient, 1);
  if (clamped !== 1) for (const g of grads) optimBinding().scaleInPlace(g, clamped);
  return total;
}

/** Clamps every gradient of `parameters` to [−clipValue, clipValue] in place (NaN stays NaN). */
export function clipGradValue_(parameters: Tensor | Iterable<Tensor>, clipValue: number): void {
  const grads = gradsOf(parameters, 'clipGradValue_');
  const value = finiteNumber(clipValue, 'clipValue');
  for (const g of grads) optimBinding().clampInPlace(g, -value, value);
}
