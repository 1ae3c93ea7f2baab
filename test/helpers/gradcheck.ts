// Central finite differences for tensor ops. The op runs in float32, so the check uses a large
// step (eps = 1e-2 · max(1, |x|), measured as the actual float32 distance between x+ and x−) and
// compares with a relative tolerance (default 1e-2 of max(1, |numeric|, |analytic|)).
// The scalar being differentiated is Σ out·w with fixed random weights w (summed in float64), so
// every output element contributes with a different weight.
import { Tensor } from '../../src/tensor/index.js';

export interface GradcheckOptions {
  eps?: number;
  tolerance?: number;
  /** Indices of inputs to check (default: all that require grad). */
  inputs?: number[];
}

// Deterministic weights in [0.5, 1.5) with alternating sign, independent of the global RNG.
function outputWeights(n: number): Float64Array {
  const w = new Float64Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    w[i] = (0.5 + s / 2 ** 32) * (i % 2 === 0 ? 1 : -1);
  }
  return w;
}

function weightedSum(out: Tensor, w: Float64Array): number {
  let s = 0;
  for (let i = 0; i < out.numel; i++) s += out.data[i] * w[i];
  return s;
}

/** Throws with the worst mismatch when analytic and numeric gradients of fn disagree. */
export function gradcheck(fn: (...inputs: Tensor[]) => Tensor, inputs: Tensor[], options: GradcheckOptions = {}): void {
  const eps = options.eps ?? 1e-2, tolerance = options.tolerance ?? 1e-2;
  for (const x of inputs) x.grad = null;
  const out = fn(...inputs);
  const w = outputWeights(out.numel);
  out.backward(new Tensor(Float32Array.from(w), out.shape));
  const which = options.inputs ?? inputs.map((_, i) => i).filter((i) => inputs[i].requiresGrad);
  for (const k of which) {
    const x = inputs[k];
    const analytic = x.grad?.data ?? new Float32Array(x.numel);
    for (let i = 0; i < x.numel; i++) {
      const original = x.data[i];
      const h = eps * Math.max(1, Math.abs(original));
      x.data[i] = original + h;
      const up = x.data[i];
      const fPlus = weightedSum(fn(...inputs), w);
      x.data[i] = original - h;
      const down = x.data[i];
      const fMinus = weightedSum(fn(...inputs), w);
      x.data[i] = original;
      const numeric = (fPlus - fMinus) / (up - down);
      const scale = Math.max(1, Math.abs(numeric), Math.abs(analytic[i]));
      if (!(Math.abs(numeric - analytic[i]) <= tolerance * scale)) {
        throw new Error(`gradcheck: input ${k} element ${i}: analytic ${analytic[i]} vs numeric ${numeric}`);
      }
    }
  }
}

/** Flattens nested expected values. */
function flat(values: unknown): number[] {
  if (values instanceof Tensor) return Array.from(values.data);
  if (ArrayBuffer.isView(values)) return Array.from(values as Float32Array);
  return Array.isArray(values) ? values.flatMap(flat) : [values as number];
}

/** Throws unless tensor (or array) matches expected values elementwise within tolerance (abs + rel). */
export function assertValues(actual: Tensor | ArrayLike<number> | null | undefined, expected: unknown, tolerance = 1e-6, shape?: number[]): void {
  if (!actual) throw new Error('assertValues: got null');
  if (actual instanceof Tensor && shape && JSON.stringify(actual.shape) !== JSON.stringify(shape)) {
    throw new Error(`assertValues: shape [${actual.shape}] != [${shape}]`);
  }
  const got = Array.from(actual instanceof Tensor ? actual.data : actual);
  const want = flat(expected);
  if (got.length !== want.length) throw new Error(`assertValues: length ${got.length} != ${want.length}: [${got}]`);
  got.forEach((v, i) => {
    const w = want[i];
    const ok = Number.isNaN(w) ? Number.isNaN(v) : v === w || Math.abs(v - w) <= tolerance * Math.max(1, Math.abs(w));
    if (!ok) throw new Error(`assertValues: element ${i}: got ${v}, expected ${w} (tolerance ${tolerance})\n got [${got}]`);
  });
}
