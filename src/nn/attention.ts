/**
 * Attention over a sequence of keys (an encoder's outputs): Bahdanau's additive score and Luong's
 * dot and general scores, with padding masked out from the source `lengths`.
 *
 * `forward(query, keys, values?, { lengths })` → `[context, weights]`:
 * - query `[B, Tq, Dq]` (a whole decoder sequence at once) or `[B, Dq]` (one decoder step);
 * - keys `[B, S, Dk]`, values `[B, S, Dv]` (default: the keys);
 * - weights `[B, Tq, S]` = softmax of the scores over the valid keys; keys at or past
 *   `lengths[b]` (or where `keyPaddingMask` is nonzero, PyTorch's `key_padding_mask` convention)
 *   get a weight of exactly 0 and no gradient;
 * - context `[B, Tq, Dv]` = weights · values (without the Tq axis for a 2-D query).
 *
 * The scores are fused ops (one tape node each, like the losses): the dot product runs one batched GEMM
 * call without transposing the keys, and the additive score keeps its tanh values for
 * the backward instead of materializing a chain of broadcast ops. {@link Attention.projectKeys}
 * splits off the part that depends on the keys only, so a decoder that attends step by step
 * projects the encoder's outputs once.
 * @module
 */
import { gemmBatched, matmul } from '../tensor/linalg.js';
import { squeeze, unsqueeze } from '../tensor/shape.js';
import { expectTensor, fromOp, Tensor } from '../tensor/tensor.js';
import { checkOptions, choice, intList, isNullish, positiveInt } from '../validate.js';
import { Linear } from './linear.js';
import { Module } from './module.js';
import type { Lengths } from './packed.js';

/** Options of an attention call. */
export interface AttentionForwardOptions {
  /** Valid keys per batch item (each in [1, S]): keys at or past the length get weight 0. */
  lengths?: Lengths | null;
  /** `[B, S]`, nonzero where a key is padding (PyTorch's `key_padding_mask`); an alternative to `lengths`. */
  keyPaddingMask?: Tensor | null;
}

/** Which keys each batch item may attend to: `valid[b·S + s]` is 1 for a key it attends to. */
export interface KeyMask {
  /** B: batch items. */
  batch: number;
  /** S: keys per item. */
  keys: number;
  /** `[B·S]`: 1 where item b may attend to key s, 0 where the key is padding. */
  valid: Uint8Array;
}

/**
 * The mask of a padded batch from its lengths: key s of item b is valid when s < lengths[b].
 * @throws RangeError when a length is outside [1, keys] (an item with no key has nothing to attend to).
 */
export function lengthMask(lengths: Lengths, batch: number, keys: number): KeyMask {
  const list = intList(lengths instanceof Tensor ? Array.from(lengths.data) : lengths, 'lengths', batch, 'batch', 1, keys);
  const valid = new Uint8Array(batch * keys);
  for (let b = 0; b < batch; b++) valid.fill(1, b * keys, b * keys + list[b]);
  return { batch, keys, valid };
}

/** The mask of PyTorch's `key_padding_mask` (nonzero = padding). */
function paddingMask(mask: unknown, batch: number, keys: number): KeyMask {
  expectTensor(mask, 'keyPaddingMask');
  if (mask.ndim !== 2 || mask.shape[0] !== batch || mask.shape[1] !== keys) {
    throw new RangeError(`Expected keyPaddingMask of shape [${batch}, ${keys}] (batch, keys) but received shape [${mask.shape.join(', ')}]`);
  }
  const valid = new Uint8Array(batch * keys);
  for (let b = 0; b < batch; b++) {
    let any = false;
    for (let s = 0; s < keys; s++) {
      valid[b * keys + s] = mask.data[b * keys + s] === 0 ? 1 : 0;
      any ||= valid[b * keys + s] === 1;
    }
    if (!any) throw new RangeError(`Expected at least one key that is not padding for keyPaddingMask[${b}] but received none`);
  }
  return { batch, keys, valid };
}

/** The mask an attention call's options describe, or null (every key valid). */
export function keyMaskOf(options: AttentionForwardOptions | undefined, batch: number, keys: number): KeyMask | null {
  const o = checkOptions(options ?? {}, 'attention', ['lengths', 'keyPaddingMask']);
  if (!isNullish(o.lengths) && !isNullish(o.keyPaddingMask)) {
    throw new TypeError('Expected lengths or keyPaddingMask but received both');
  }
  if (!isNullish(o.lengths)) return lengthMask(o.lengths as Lengths, batch, keys);
  if (!isNullish(o.keyPaddingMask)) return paddingMask(o.keyPaddingMask, batch, keys);
  return null;
}

/**
 * Softmax of `scores [B, T, S]` over S restricted to the valid keys: masked keys get exactly 0
 * and no gradient (the values there are never read, so they may be anything, even NaN); so do
 * weights below float32's normal range (< 1.2e-38).
 */
export function maskedSoftmax(scores: Tensor, mask: KeyMask | null): Tensor {
  const [B, T, S] = scores.shape;
  const x = scores.data;
  const out = new Float32Array(x.length);
  for (let b = 0; b < B; b++) {
    const valid = mask ? mask.valid.subarray(b * S, (b + 1) * S) : null;
    for (let t = 0; t < T; t++) softmaxRow(x, out, (b * T + t) * S, S, valid);
  }
  return fromOp('maskedSoftmax', out, scores.shape, [scores], (g) => {
    // dx = y·(g − Σ g·y); y is 0 at masked keys, so their gradient is 0 too.
    const gx = new Float32Array(g.length);
    for (let row = 0; row < B * T; row++) {
      const base = row * S;
      let dot = 0;
      for (let s = 0; s < S; s++) dot += g[base + s] * out[base + s];
      for (let s = 0; s < S; s++) gx[base + s] = out[base + s] === 0 ? 0 : out[base + s] * (g[base + s] - dot);
    }
    return [gx];
  });
}

// Smallest normal float32. Trained attention is nearly hard: the other weights of a row fall below
// it (5 % of a trained G2P model's weights), and subnormal inputs slow every native GEMM that reads
// them (the weighted sum, both backward products) by microcode assists.
const FLOAT32_MIN_NORMAL = 1.1754943508222875e-38;

// One row of a masked softmax, max-shifted, summed in float64; weights below the float32 normal
// range are 0 (they contribute < 1e-38 of the row).
function softmaxRow(x: Float32Array, out: Float32Array, base: number, S: number, valid: Uint8Array | null): void {
  let max = -Infinity;
  for (let s = 0; s < S; s++) if ((!valid || valid[s]) && x[base + s] > max) max = x[base + s];
  let sum = 0;
  for (let s = 0; s < S; s++) {
    if (valid && !valid[s]) continue;
    const e = Math.exp(x[base + s] - max);
    out[base + s] = e;
    sum += e;
  }
  const inverse = 1 / sum;
  for (let s = 0; s < S; s++) {
    const weight = out[base + s] * inverse;
    out[base + s] = weight < FLOAT32_MIN_NORMAL ? 0 : weight;
  }
}

/**
 * `scores[b, t, s] = query[b, t] · keys[b, s]`: query `[B, T, D]`, keys `[B, S, D]` → `[B, T, S]`,
 * one batched GEMM call with the keys read transposed in place.
 */
export function dotScores(query: Tensor, keys: Tensor): Tensor {
  const [B, T, D] = query.shape, S = keys.shape[1];
  const q = query.data, k = keys.data;
  const out = new Float32Array(B * T * S);
  gemmBatched(B, T, S, D, q, k, out, false, true);
  return fromOp('dotScores', out, [B, T, S], [query, keys], (g) => {
    const gq = query.requiresGrad ? new Float32Array(q.length) : null;
    const gk = keys.requiresGrad ? new Float32Array(k.length) : null;
    if (gq) gemmBatched(B, T, D, S, g, k, gq); // g·K per item
    if (gk) gemmBatched(B, S, D, T, g, q, gk, true, false); // gᵀ·Q per item
    return [gq, gk];
  });
}

/**
 * Bahdanau's additive score `scores[b, t, s] = v · tanh(q[b, t] + k[b, s]) + bias`: projected
 * queries `[B, T, A]`, projected keys `[B, S, A]`, `v` `[1, A]` (a Linear's weight), `bias` `[1]` or
 * null → `[B, T, S]`. The tanh values are kept for the backward (B·T·S·A floats).
 */
export function additiveScores(query: Tensor, keys: Tensor, v: Tensor, bias: Tensor | null): Tensor {
  const [B, T, A] = query.shape, S = keys.shape[1];
  const q = query.data, k = keys.data, w = v.data;
  const hidden = new Float32Array(B * T * S * A);
  const out = new Float32Array(B * T * S);
  const b0 = bias ? bias.data[0] : 0;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const qRow = (b * T + t) * A;
      for (let s = 0; s < S; s++) {
        const kRow = (b * S + s) * A, hRow = ((b * T + t) * S + s) * A;
        let score = 0;
        for (let a = 0; a < A; a++) {
          const h = Math.tanh(q[qRow + a] + k[kRow + a]);
          hidden[hRow + a] = h;
          score += w[a] * h;
        }
        out[(b * T + t) * S + s] = score + b0;
      }
    }
  }
  const inputs = bias ? [query, keys, v, bias] : [query, keys, v];
  return fromOp('additiveScores', out, [B, T, S], inputs, (g) => {
    const gq = new Float32Array(q.length), gk = new Float32Array(k.length), gv = new Float32Array(A);
    let gb = 0;
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        const qRow = (b * T + t) * A;
        for (let s = 0; s < S; s++) {
          const gs = g[(b * T + t) * S + s];
          if (gs === 0) continue;
          gb += gs;
          const kRow = (b * S + s) * A, hRow = ((b * T + t) * S + s) * A;
          for (let a = 0; a < A; a++) {
            const h = hidden[hRow + a];
            const pre = gs * w[a] * (1 - h * h); // d score / d (q + k)
            gq[qRow + a] += pre;
            gk[kRow + a] += pre;
            gv[a] += gs * h;
          }
        }
      }
    }
    return bias ? [gq, gk, gv, Float32Array.of(gb)] : [gq, gk, gv];
  });
}

function expectRank3(value: unknown, name: string, what: string): Tensor {
  expectTensor(value, name);
  if (value.ndim !== 3) throw new RangeError(`Expected ${name} of shape ${what} but received shape [${value.shape.join(', ')}]`);
  return value;
}

/**
 * The base of the attention modules: `forward` checks shapes, scores (subclass), masks, takes the
 * softmax and the weighted sum of the values. Decoders that attend step by step call
 * {@link projectKeys} once and {@link attend} per step.
 */
export abstract class Attention extends Module {
  /** Width of a query (the decoder's state). */
  readonly querySize: number;
  /** Width of a key (the encoder's output). */
  readonly keySize: number;

  protected constructor(querySize: number, keySize: number) {
    super();
    this.querySize = positiveInt(querySize, 'querySize');
    this.keySize = positiveInt(keySize, 'keySize');
  }

  /** The part of the score that depends on the keys only: `[B, S, keySize]` → `[B, S, *]`. */
  abstract projectKeys(keys: Tensor): Tensor;

  /** Scores `[B, Tq, S]` of queries `[B, Tq, querySize]` against projected keys. */
  abstract score(query: Tensor, projectedKeys: Tensor): Tensor;

  /**
   * Attention with keys projected by {@link projectKeys} (shapes unchecked: `forward` checks them).
   * @returns `[context [B, Tq, Dv], weights [B, Tq, S]]`.
   */
  attend(query: Tensor, projectedKeys: Tensor, values: Tensor, mask: KeyMask | null): [Tensor, Tensor] {
    const weights = maskedSoftmax(this.score(query, projectedKeys), mask);
    return [matmul(weights, values), weights];
  }

  /**
   * @param query `[B, Tq, querySize]`, or `[B, querySize]` for one step.
   * @param keys `[B, S, keySize]`.
   * @param values `[B, S, Dv]`; default: the keys.
   * @returns `[context [B, Tq, Dv], weights [B, Tq, S]]` (`[B, Dv]`, `[B, S]` for a 2-D query).
   * @throws TypeError / RangeError for inputs of the wrong type or shape, lengths outside [1, S].
   */
  forward(query: Tensor, keys: Tensor, values?: Tensor | null, options?: AttentionForwardOptions): [Tensor, Tensor] {
    const oneStep = query instanceof Tensor && query.ndim === 2;
    const q = oneStep ? unsqueeze(query, 1) : expectRank3(query, 'query', '[batch, queries, querySize] or [batch, querySize]');
    const k = expectRank3(keys, 'keys', '[batch, keys, keySize]');
    const v = isNullish(values) ? k : expectRank3(values, 'values', '[batch, keys, valueSize]');
    const [B, , Dq] = q.shape;
    const [Bk, S, Dk] = k.shape;
    if (Dq !== this.querySize) throw new RangeError(`Expected query of width ${this.querySize} (querySize) but received shape [${query.shape.join(', ')}]`);
    if (Bk !== B || Dk !== this.keySize) {
      throw new RangeError(`Expected keys of shape [${B}, keys, ${this.keySize}] (batch, keys, keySize) but received shape [${k.shape.join(', ')}]`);
    }
    if (v.shape[0] !== B || v.shape[1] !== S) {
      throw new RangeError(`Expected values of shape [${B}, ${S}, valueSize] (batch, keys, valueSize) but received shape [${v.shape.join(', ')}]`);
    }
    if (S === 0) throw new RangeError('Expected at least one key but received keys of shape [' + k.shape.join(', ') + ']');
    const [context, weights] = this.attend(q, this.projectKeys(k), v, keyMaskOf(options, B, S));
    return oneStep ? [squeeze(context, 1), squeeze(weights, 1)] : [context, weights];
  }
}

/** Scoring methods of {@link LuongAttention}. */
export type LuongMethod = 'dot' | 'general';

/** Options of {@link LuongAttention}. */
export interface LuongAttentionOptions {
  /** `dot`: `qᵀk` (querySize must equal keySize); `general` (default): `qᵀ·Wa·k`. */
  method?: LuongMethod;
}

/**
 * Luong's multiplicative attention (Luong, Pham & Manning 2015): `score = qᵀk` (`dot`) or
 * `qᵀ·Wa·k` (`general`, `Wa` a Linear(keySize → querySize) without bias, parameter `Wa.weight`).
 */
export class LuongAttention extends Attention {
  /** `dot` (`qᵀk`) or `general` (`qᵀ·Wa·k`). */
  readonly method: LuongMethod;
  /** The `general` method's Linear(keySize → querySize) without bias; null for `dot`. */
  Wa: Linear | null;

  /**
   * @throws RangeError `Expected querySize equal to keySize for the dot method but received 8 and 16`.
   */
  constructor(querySize: number, keySize: number, options: LuongAttentionOptions = {}) {
    super(querySize, keySize);
    const o = checkOptions(options, 'LuongAttention', ['method']);
    this.method = o.method === undefined ? 'general' : choice(o.method, 'method', ['dot', 'general'] as const);
    if (this.method === 'dot' && querySize !== keySize) {
      throw new RangeError(`Expected querySize equal to keySize for the dot method but received ${querySize} and ${keySize}`);
    }
    this.Wa = this.method === 'general' ? new Linear(keySize, querySize, { bias: false }) : null;
  }

  projectKeys(keys: Tensor): Tensor {
    return this.Wa ? this.Wa.forward(keys) : keys;
  }

  score(query: Tensor, projectedKeys: Tensor): Tensor {
    return dotScores(query, projectedKeys);
  }

  override extraRepr(): string {
    return `${this.querySize}, ${this.keySize}, method=${this.method}`;
  }
}

/**
 * Bahdanau's additive attention (Bahdanau, Cho & Bengio 2014), as in PyTorch's seq2seq tutorial:
 * `score = Va(tanh(Wa(q) + Ua(k)))` with `Wa` Linear(querySize → A), `Ua` Linear(keySize → A),
 * `Va` Linear(A → 1) (parameters `Wa.weight`, `Wa.bias`, `Ua.weight`, `Ua.bias`, `Va.weight`,
 * `Va.bias`); A = `attentionSize`, default querySize.
 */
export class BahdanauAttention extends Attention {
  /** A: the width of the hidden layer of the score. */
  readonly attentionSize: number;
  /** Linear(querySize → A) on the query. */
  Wa: Linear;
  /** Linear(keySize → A) on the keys (applied once per source, in `projectKeys`). */
  Ua: Linear;
  /** Linear(A → 1): the score. */
  Va: Linear;

  constructor(querySize: number, keySize: number, attentionSize?: number) {
    super(querySize, keySize);
    this.attentionSize = attentionSize === undefined ? this.querySize : positiveInt(attentionSize, 'attentionSize');
    this.Wa = new Linear(this.querySize, this.attentionSize);
    this.Ua = new Linear(this.keySize, this.attentionSize);
    this.Va = new Linear(this.attentionSize, 1);
  }

  projectKeys(keys: Tensor): Tensor {
    return this.Ua.forward(keys);
  }

  score(query: Tensor, projectedKeys: Tensor): Tensor {
    return additiveScores(this.Wa.forward(query), projectedKeys, this.Va.weight, this.Va.bias);
  }

  override extraRepr(): string {
    return `${this.querySize}, ${this.keySize}, attention_size=${this.attentionSize}`;
  }
}
