/**
 * Parameter initialization (PyTorch `nn.init`): each function fills a tensor's values IN PLACE
 * from the seeded global generator (`manualSeed`), one draw per element in row-major order, and
 * returns the tensor. Same formulas, defaults and fan rules as PyTorch; the random streams differ
 * from torch's, so load PyTorch's weights (loadStateDict) to reproduce a PyTorch run exactly.
 * @module
 */
import { randomNormal, randomUniform } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { choice, describe } from '../validate.js';

/** The nonlinearities calculateGain knows (PyTorch's names). */
export type GainNonlinearity = 'linear' | 'conv1d' | 'conv2d' | 'conv3d' | 'conv_transpose1d' | 'conv_transpose2d'
  | 'conv_transpose3d' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu';

const LINEAR_FNS = ['linear', 'conv1d', 'conv2d', 'conv3d', 'conv_transpose1d', 'conv_transpose2d', 'conv_transpose3d', 'sigmoid'];

function finite(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TypeError(`Expected finite number for ${name} but received ${describe(value)}`);
  }
  return value;
}

/** The recommended gain: 1 (linear, conv, sigmoid), 5/3 (tanh), √2 (relu), √(2/(1+slope²)) (leaky_relu, slope default 0.01), 3/4 (selu). */
export function calculateGain(nonlinearity: GainNonlinearity, param?: number): number {
  if (LINEAR_FNS.includes(nonlinearity)) return 1;
  switch (nonlinearity) {
    case 'tanh': return 5 / 3;
    case 'relu': return Math.SQRT2;
    case 'selu': return 3 / 4;
    case 'leaky_relu': {
      const slope = param === undefined ? 0.01 : finite(param, 'negative slope');
      return Math.sqrt(2 / (1 + slope * slope));
    }
  }
  throw new RangeError(`Unsupported nonlinearity ${String(nonlinearity)}`);
}

/** PyTorch's fans: fan_in = size(1)·receptive field, fan_out = size(0)·receptive field. */
export function calculateFanInAndFanOut(tensor: Tensor): [number, number] {
  if (tensor.shape.length < 2) {
    throw new RangeError('Fan in and fan out can not be computed for tensor with fewer than 2 dimensions');
  }
  const receptive = tensor.shape.slice(2).reduce((a, b) => a * b, 1);
  return [tensor.shape[1] * receptive, tensor.shape[0] * receptive];
}

/** Fills with U(a, b) (defaults 0, 1). */
export function uniform_<T extends Tensor>(tensor: T, a = 0, b = 1): T {
  const lo = finite(a, 'a'), hi = finite(b, 'b');
  const data = tensor.data;
  for (let i = 0; i < data.length; i++) data[i] = lo + (hi - lo) * randomUniform();
  return tensor.markModified();
}

/** Fills with N(mean, std²) (defaults 0, 1). */
export function normal_<T extends Tensor>(tensor: T, mean = 0, std = 1): T {
  const m = finite(mean, 'mean'), s = finite(std, 'std');
  const data = tensor.data;
  for (let i = 0; i < data.length; i++) data[i] = m + s * randomNormal();
  return tensor.markModified();
}

/** Fills with `value`. */
export function constant_<T extends Tensor>(tensor: T, value: number): T {
  tensor.data.fill(finite(value, 'val'));
  return tensor.markModified();
}

/** Fills with zeros. */
export function zeros_<T extends Tensor>(tensor: T): T {
  tensor.data.fill(0);
  return tensor.markModified();
}

/** Fills with ones. */
export function ones_<T extends Tensor>(tensor: T): T {
  tensor.data.fill(1);
  return tensor.markModified();
}

/** Xavier/Glorot uniform: U(−a, a), a = gain·√(6/(fan_in+fan_out)). */
export function xavierUniform_<T extends Tensor>(tensor: T, gain = 1): T {
  const [fanIn, fanOut] = calculateFanInAndFanOut(tensor);
  const bound = Math.sqrt(3) * finite(gain, 'gain') * Math.sqrt(2 / (fanIn + fanOut));
  return uniform_(tensor, -bound, bound);
}

/** Xavier/Glorot normal: N(0, std²), std = gain·√(2/(fan_in+fan_out)). */
export function xavierNormal_<T extends Tensor>(tensor: T, gain = 1): T {
  const [fanIn, fanOut] = calculateFanInAndFanOut(tensor);
  return normal_(tensor, 0, finite(gain, 'gain') * Math.sqrt(2 / (fanIn + fanOut)));
}

/** Options of the Kaiming initializers (PyTorch's defaults: a=0, mode='fan_in', nonlinearity='leaky_relu'). */
export interface KaimingOptions {
  /** Negative slope of the rectifier after this layer (leaky_relu only). */
  a?: number;
  /** Keep the variance of the forward pass (`fan_in`, default) or of the backward pass (`fan_out`). */
  mode?: 'fan_in' | 'fan_out';
  /** The nonlinearity after the layer, for the gain (default `leaky_relu`). */
  nonlinearity?: GainNonlinearity;
}

function kaimingStd(tensor: Tensor, options: KaimingOptions): number {
  const mode = choice(options.mode ?? 'fan_in', 'mode', ['fan_in', 'fan_out'] as const);
  const [fanIn, fanOut] = calculateFanInAndFanOut(tensor);
  const gain = calculateGain(options.nonlinearity ?? 'leaky_relu', options.a ?? 0);
  return gain / Math.sqrt(mode === 'fan_in' ? fanIn : fanOut);
}

/** Kaiming/He uniform: U(−b, b), b = gain·√(3/fan). `Linear` uses `{ a: √5 }` (→ U(±1/√fan_in)). */
export function kaimingUniform_<T extends Tensor>(tensor: T, options: KaimingOptions = {}): T {
  const bound = Math.sqrt(3) * kaimingStd(tensor, options);
  return uniform_(tensor, -bound, bound);
}

/** Kaiming/He normal: N(0, std²), std = gain/√fan. */
export function kaimingNormal_<T extends Tensor>(tensor: T, options: KaimingOptions = {}): T {
  return normal_(tensor, 0, kaimingStd(tensor, options));
}

/**
 * A (semi-)orthogonal matrix (Saxe et al.), PyTorch's algorithm: the tensor viewed as
 * [size(0), numel/size(0)] is the Q factor of a standard-normal matrix, signs fixed so that R has
 * a positive diagonal, times `gain`. Rows are orthonormal when rows ≤ columns, else columns.
 */
export function orthogonal_<T extends Tensor>(tensor: T, gain = 1): T {
  if (tensor.shape.length < 2) throw new RangeError('Only tensors with 2 or more dimensions are supported');
  const rows = tensor.shape[0];
  const cols = rows === 0 ? 0 : tensor.numel / rows;
  if (tensor.numel === 0) return tensor;
  const g = finite(gain, 'gain');
  const normal = new Float64Array(rows * cols);
  for (let i = 0; i < normal.length; i++) normal[i] = randomNormal();
  // QR of the tall matrix: [rows, cols] itself, or its transpose when rows < cols.
  const m = Math.max(rows, cols), n = Math.min(rows, cols);
  const q = orthonormalColumns(normal, m, n, rows < cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      // q is [m, n] column-major (column j at j·m); element (r, c) of the result.
      tensor.data[r * cols + c] = g * (rows >= cols ? q[c * m + r] : q[r * m + c]);
    }
  }
  return tensor.markModified();
}

/**
 * Q of the reduced QR of an [m, n] matrix (m ≥ n) with R's diagonal positive, by modified
 * Gram–Schmidt applied twice (float64; orthonormal to ~1e-15). `source` is row-major [m, n], or
 * row-major [n, m] (its transpose) when `transposed`. Returns Q column-major.
 */
function orthonormalColumns(source: Float64Array, m: number, n: number, transposed: boolean): Float64Array {
  const q = new Float64Array(m * n);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < m; i++) q[j * m + i] = transposed ? source[j * m + i] : source[i * n + j];
  }
  for (let j = 0; j < n; j++) {
    const column = q.subarray(j * m, (j + 1) * m);
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < j; k++) {
        const previous = q.subarray(k * m, (k + 1) * m);
        let dot = 0;
        for (let i = 0; i < m; i++) dot += previous[i] * column[i];
        for (let i = 0; i < m; i++) column[i] -= dot * previous[i];
      }
    }
    let norm = 0;
    for (let i = 0; i < m; i++) norm += column[i] * column[i];
    norm = Math.sqrt(norm);
    for (let i = 0; i < m; i++) column[i] /= norm;
  }
  return q;
}
