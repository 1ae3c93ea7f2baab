/**
 * `Seq2Seq`: an attentional encoder–decoder (Luong, Pham & Manning 2015) composed from nn modules.
 *
 * ```
 * source ids [B, S] → sourceEmbedding → encoder (RNN/LSTM/GRU stack, optionally bidirectional)
 *                                         ├─ outputs = memory [B, S, D·Senc]   (the attention's keys and values)
 *                                         └─ final states → bridge (Linear + tanh) → decoder's initial state
 * target ids [B, T] → targetEmbedding → decoder (unidirectional stack) → queries [B, T, Sdec]
 * queries, memory → attention → context [B, T, D·Senc]
 * h̃ = tanh(combine([context; query]))  →  head  →  logits [B, T, targetVocab]
 * ```
 *
 * Training is teacher-forced and runs whole sequences through the fused native kernels: the
 * encoder and the decoder are one kernel call per layer-direction each, and the attention of all
 * T decoder steps is one batched op (the attentional state h̃ is not fed back into the decoder's
 * input, which would force a per-step loop). Decoding ({@link Seq2Seq.greedy},
 * {@link Seq2Seq.beamSearch}, or any {@link StepDecoder} search over {@link Seq2Seq.stepDecoder})
 * runs the decoder on the packed one-step path that streams use, with the encoder's keys projected
 * once.
 *
 * The bridge: decoder layer l starts from encoder layer l + (Lenc − Ldec) (the top layers), its
 * directions concatenated, through `bridge` (Linear(D·Senc → Sdec) + tanh) for h and `bridgeCell`
 * (Linear(D·Henc → Hdec), LSTM to LSTM only) for c; decoder layers below the encoder's start at
 * zero, and so does everything with `bridge: false`.
 * @module
 */
import { noGrad } from '../tensor/autograd.js';
import { dropout as applyDropout, logSoftmax, tanh } from '../tensor/activation.js';
import { zeros } from '../tensor/factories.js';
import { cat, indexSelect, narrow, permute, reshape, squeeze, transpose, unsqueeze } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { checkOptions, describe, isNullish, optionalBool } from '../validate.js';
import { Attention, type KeyMask, lengthMask } from './attention.js';
import { beamSearch, greedySearch, type Hypothesis, type StepDecoder } from './decode.js';
import { Embedding } from './embedding.js';
import { Linear } from './linear.js';
import { Module } from './module.js';
import type { Lengths } from './packed.js';
import { RNNBase } from './rnn.js';

/** The modules a {@link Seq2Seq} is made of. */
export interface Seq2SeqModules {
  /** Source token ids → vectors (its embeddingDim is the encoder's inputSize). */
  sourceEmbedding: Embedding;
  /** Any RNN / LSTM / GRU stack, optionally bidirectional, batchFirst or not. */
  encoder: RNNBase;
  /** Target token ids → vectors (its embeddingDim is the decoder's inputSize). */
  targetEmbedding: Embedding;
  /** A unidirectional RNN / LSTM / GRU stack. */
  decoder: RNNBase;
  /** querySize = the decoder's state size, keySize = the encoder's output width (directions × state size). */
  attention: Attention;
}

/** Options of {@link Seq2Seq}. */
export interface Seq2SeqOptions {
  /** Dropout on both embeddings' outputs and on h̃ before the head, in training mode (default 0). */
  dropout?: number;
  /** Start the decoder from the encoder's final states (default true); false: from zeros. */
  bridge?: boolean;
}

/** Token ids of a batch: a Tensor `[B, T]` of integers or a rectangular `number[][]`. */
export type TokenIds = Tensor | readonly (readonly number[])[];

/** A recurrent state as the modules take it: h, or [h, c] for an LSTM. */
export type RecurrentState = Tensor | [Tensor, Tensor];

/** What the encoder leaves for the decoder. */
export interface Encoded {
  /** Encoder outputs `[B, S, D·Senc]`: the attention's keys and values. */
  memory: Tensor;
  /** Keys as the attention projected them (`attention.projectKeys(memory)`). */
  projectedKeys: Tensor;
  /** Which source positions are real tokens. */
  mask: KeyMask;
  /** Valid source tokens per item. */
  lengths: Int32Array;
  /** The decoder's initial state (null = zeros). */
  state: RecurrentState | null;
}

/** The state of the rows {@link Seq2Seq.stepDecoder} decodes. */
export interface Seq2SeqDecodeState {
  /** The decoder's state: h, or [h, c] for an LSTM; null before the first step. */
  hx: RecurrentState | null;
  /** The encoder's outputs `[rows, S, D·Senc]`: the attention's values. */
  memory: Tensor;
  /** The keys as the attention projected them once. */
  projectedKeys: Tensor;
  /** The source keys each row may attend to. */
  mask: KeyMask;
  /** Batch item of each row. */
  items: Int32Array;
}

/** Options of {@link Seq2Seq.greedy}. */
export interface Seq2SeqDecodeOptions {
  /** Valid tokens per source sequence (default: all S). */
  lengths?: Lengths | null;
  /** The start token fed first. */
  bos: number;
  /** The end token. */
  eos: number;
  /** Most tokens per output, the end token included. */
  maxLength: number;
}

/** Options of {@link Seq2Seq.beamSearch}. */
export interface Seq2SeqBeamOptions extends Seq2SeqDecodeOptions {
  /** Hypotheses kept per batch item at each step. */
  beamWidth: number;
  /** Length normalization exponent (default 1: mean log-probability per token; 0: summed). */
  lengthPenalty?: number;
  /** Hypotheses per item (default beamWidth). */
  numReturn?: number;
}

/** The ids as a batch-major Int32Array `[B, T]`. */
function readIds(value: unknown, name: string): { ids: Int32Array; batch: number; steps: number } {
  if (value instanceof Tensor) {
    if (value.ndim !== 2) throw new RangeError(`Expected ${name} of shape [batch, steps] but received shape [${value.shape.join(', ')}]`);
    return { ids: Int32Array.from(value.data), batch: value.shape[0], steps: value.shape[1] };
  }
  if (!Array.isArray(value) || !value.every((row) => Array.isArray(row))) {
    throw new TypeError(`Expected Tensor [batch, steps] or number[][] for ${name} but received ${describe(value)}`);
  }
  const rows = value as number[][];
  const steps = rows.length > 0 ? rows[0].length : 0;
  if (rows.some((row) => row.length !== steps)) throw new RangeError(`Expected a rectangular number[][] for ${name} (every row of length ${steps})`);
  return { ids: Int32Array.from(rows.flat()), batch: rows.length, steps };
}

/** The ids in the layout a recurrent module reads (`[B, T]` batchFirst, else `[T, B]`) as a Tensor of indices. */
function idsFor(module: RNNBase, ids: Int32Array, batch: number, steps: number): Tensor {
  if (module.batchFirst) return new Tensor(Float32Array.from(ids), [batch, steps]);
  const out = new Float32Array(batch * steps);
  for (let b = 0; b < batch; b++) for (let t = 0; t < steps; t++) out[t * batch + b] = ids[b * steps + t];
  return new Tensor(out, [steps, batch]);
}

/** A recurrent module's output as `[B, T, F]`. */
function batchMajor(module: RNNBase, output: Tensor): Tensor {
  return module.batchFirst ? output : transpose(output, 0, 1);
}

type RecurrentCall = (input: Tensor, hx: RecurrentState | null, options?: { lengths: Int32Array }) => [Tensor, RecurrentState];
type AsyncRecurrentCall = (input: Tensor, hx: RecurrentState | null, options?: { lengths: Int32Array }) => Promise<[Tensor, RecurrentState]>;
type StepCall = (input: Tensor, hx: RecurrentState | null) => [Tensor, RecurrentState];

/**
 * An attentional encoder–decoder over the modules given (see the module notes): `forward(source, target)`
 * gives the logits of teacher-forced training; `greedy`, `beamSearch` and `stepDecoder` decode.
 */
export class Seq2Seq extends Module {
  /** Source token ids → vectors. */
  sourceEmbedding: Embedding;
  /** The encoder stack. */
  encoder: RNNBase;
  /**
   * Linear(D·Senc → Sdec), tanh after it: the decoder's initial h from the encoder's final states;
   * null with `bridge: false`.
   */
  bridge: Linear | null;
  /** Linear(D·Henc → Hdec): the decoder's initial c (LSTM to LSTM only); else null. */
  bridgeCell: Linear | null;
  /** Target token ids → vectors. */
  targetEmbedding: Embedding;
  /** The decoder stack (unidirectional). */
  decoder: RNNBase;
  /** Scores the encoder's outputs against each decoder output. */
  attention: Attention;
  /** Linear(D·Senc + Sdec → Sdec): h̃ = tanh(combine([context; query])). */
  combine: Linear;
  /** Linear(Sdec → target vocabulary): the logits. */
  head: Linear;
  /** Dropout probability on the embeddings' outputs and on h̃, in training mode. */
  readonly dropout: number;

  /**
   * @throws TypeError / RangeError when the modules do not fit together, e.g.
   *   `Expected attention.keySize 512 (encoder directions × state size = 2 × 256) but received 256`.
   */
  constructor(modules: Seq2SeqModules, options: Seq2SeqOptions = {}) {
    super();
    const m = checkOptions(modules, 'Seq2Seq module', ['sourceEmbedding', 'encoder', 'targetEmbedding', 'decoder', 'attention']);
    const o = checkOptions(options, 'Seq2Seq', ['dropout', 'bridge']);
    this.sourceEmbedding = expectModule(m.sourceEmbedding, Embedding, 'sourceEmbedding', 'Embedding');
    this.encoder = expectModule(m.encoder, RNNBase, 'encoder', 'RNN, LSTM or GRU');
    this.targetEmbedding = expectModule(m.targetEmbedding, Embedding, 'targetEmbedding', 'Embedding');
    this.decoder = expectModule(m.decoder, RNNBase, 'decoder', 'RNN, LSTM or GRU');
    this.attention = expectModule(m.attention, Attention, 'attention', 'Attention (LuongAttention, BahdanauAttention)');
    this.dropout = isNullish(o.dropout) ? 0 : checkProbability(o.dropout, 'dropout');
    const { encoder, decoder } = this;
    const keySize = encoder.numDirections * encoder.stateSize;
    expectSize(encoder.inputSize, this.sourceEmbedding.embeddingDim, 'encoder.inputSize', 'sourceEmbedding.embeddingDim');
    expectSize(decoder.inputSize, this.targetEmbedding.embeddingDim, 'decoder.inputSize', 'targetEmbedding.embeddingDim');
    if (decoder.bidirectional) throw new RangeError('Expected a unidirectional decoder but received a bidirectional one (it generates left to right)');
    expectSize(this.attention.querySize, decoder.stateSize, 'attention.querySize', 'the decoder\'s state size');
    if (this.attention.keySize !== keySize) {
      throw new RangeError(`Expected attention.keySize ${keySize} (encoder directions × state size = ${encoder.numDirections} × ${encoder.stateSize}) but received ${this.attention.keySize}`);
    }
    const bridged = optionalBool(o.bridge, 'bridge', true);
    this.bridge = bridged ? new Linear(keySize, decoder.stateSize) : null;
    this.bridgeCell = bridged && encoder.mode === 'LSTM' && decoder.mode === 'LSTM' ? new Linear(encoder.numDirections * encoder.hiddenSize, decoder.hiddenSize) : null;
    this.combine = new Linear(keySize + decoder.stateSize, decoder.stateSize);
    this.head = new Linear(decoder.stateSize, this.targetEmbedding.numEmbeddings);
  }

  /** Target vocabulary size (the head's outputs). */
  get targetVocabSize(): number {
    return this.targetEmbedding.numEmbeddings;
  }

  private embed(embedding: Embedding, module: RNNBase, ids: Int32Array, batch: number, steps: number): Tensor {
    const x = embedding.forward(idsFor(module, ids, batch, steps));
    return this.training && this.dropout > 0 ? applyDropout(x, this.dropout, true) : x;
  }

  private sourceInput(source: unknown, lengths: unknown): { x: Tensor; lengths: Int32Array; batch: number; steps: number } {
    const { ids, batch, steps } = readIds(source, 'source');
    if (batch === 0 || steps === 0) throw new RangeError(`Expected a non-empty source batch but received shape [${batch}, ${steps}]`);
    const mask = lengthMask(isNullish(lengths) ? new Int32Array(batch).fill(steps) : lengths as Lengths, batch, steps);
    const list = new Int32Array(batch);
    for (let b = 0; b < batch; b++) for (let s = 0; s < steps; s++) list[b] += mask.valid[b * steps + s];
    return { x: this.embed(this.sourceEmbedding, this.encoder, ids, batch, steps), lengths: list, batch, steps };
  }

  // Encoder outputs and final state → what the decoder needs.
  private encoded(output: Tensor, final: RecurrentState, lengths: Int32Array, batch: number, steps: number): Encoded {
    const memory = batchMajor(this.encoder, output);
    return {
      memory, projectedKeys: this.attention.projectKeys(memory), mask: lengthMask(lengths, batch, steps), lengths,
      state: this.bridgeStates(final),
    };
  }

  /** The decoder's initial state from the encoder's final one (see the module notes). */
  private bridgeStates(final: RecurrentState): RecurrentState | null {
    if (!this.bridge) return null;
    const [h, c] = Array.isArray(final) ? final : [final, null];
    const hidden = this.bridgeState(h, this.bridge, true);
    if (this.decoder.mode !== 'LSTM') return hidden;
    const cell = c && this.bridgeCell ? this.bridgeState(c, this.bridgeCell, false)
      : zeros([this.decoder.numLayers, h.shape[1], this.decoder.hiddenSize]);
    return [hidden, cell];
  }

  private bridgeState(state: Tensor, linear: Linear, squash: boolean): Tensor {
    const Lenc = this.encoder.numLayers, D = this.encoder.numDirections, Ldec = this.decoder.numLayers;
    const [, B, W] = state.shape;
    const used = Math.min(Lenc, Ldec);
    const top = narrow(reshape(state, [Lenc, D, B, W]), 0, Lenc - used, used);
    const joined = D === 1 ? reshape(top, [used, B, W]) : reshape(permute(top, 0, 2, 1, 3), [used, B, D * W]);
    const mapped = squash ? tanh(linear.forward(joined)) : linear.forward(joined);
    return used === Ldec ? mapped : cat([zeros([Ldec - used, B, linear.outFeatures]), mapped], 0);
  }

  /** Runs the encoder (see the module notes); training records the tape as usual. */
  encode(source: TokenIds, lengths?: Lengths | null): Encoded {
    const input = this.sourceInput(source, lengths);
    const run = this.encoder.forward.bind(this.encoder) as unknown as RecurrentCall;
    const [output, final] = run(input.x, null, { lengths: input.lengths });
    return this.encoded(output, final, input.lengths, input.batch, input.steps);
  }

  /** {@link encode} with the recurrent layers on the thread pool. */
  async encodeAsync(source: TokenIds, lengths?: Lengths | null): Promise<Encoded> {
    const input = this.sourceInput(source, lengths);
    const run = (this.encoder as unknown as { forwardAsync: AsyncRecurrentCall }).forwardAsync.bind(this.encoder);
    const [output, final] = await run(input.x, null, { lengths: input.lengths });
    return this.encoded(output, final, input.lengths, input.batch, input.steps);
  }

  private targetInput(target: unknown, batch: number): Tensor {
    const { ids, batch: tb, steps } = readIds(target, 'targetInput');
    if (tb !== batch) throw new RangeError(`Expected targetInput with ${batch} rows (the source batch) but received ${tb}`);
    if (steps === 0) throw new RangeError('Expected at least one target step but received none');
    return this.embed(this.targetEmbedding, this.decoder, ids, tb, steps);
  }

  // Decoder outputs [B, T, Sdec] + the encoder's memory → [logits, weights].
  private outputs(queries: Tensor, encoded: Encoded): [Tensor, Tensor] {
    const [context, weights] = this.attention.attend(queries, encoded.projectedKeys, encoded.memory, encoded.mask);
    let attentional = tanh(this.combine.forward(cat([context, queries], 2)));
    if (this.training && this.dropout > 0) attentional = applyDropout(attentional, this.dropout, true);
    return [this.head.forward(attentional), weights];
  }

  /**
   * Teacher-forced forward pass.
   * @param source `[B, S]` source ids (padded past each item's length with any valid id).
   * @param sourceLengths valid source tokens per item (each in [1, S]); default: all S.
   * @param targetInput `[B, T]` the decoder's input: the start token then the target shifted right.
   * @returns `[logits [B, T, targetVocabSize], attention weights [B, T, S]]`.
   */
  forward(source: TokenIds, sourceLengths: Lengths | null | undefined, targetInput: TokenIds): [Tensor, Tensor] {
    const encoded = this.encode(source, sourceLengths);
    const x = this.targetInput(targetInput, encoded.lengths.length);
    const run = this.decoder.forward.bind(this.decoder) as unknown as RecurrentCall;
    const [output] = run(x, encoded.state);
    return this.outputs(batchMajor(this.decoder, output), encoded);
  }

  /** {@link forward} with the recurrent layers' kernels on the thread pool (what fit awaits). */
  async forwardAsync(source: TokenIds, sourceLengths: Lengths | null | undefined, targetInput: TokenIds): Promise<[Tensor, Tensor]> {
    const encoded = await this.encodeAsync(source, sourceLengths);
    const x = this.targetInput(targetInput, encoded.lengths.length);
    const run = (this.decoder as unknown as { forwardAsync: AsyncRecurrentCall }).forwardAsync.bind(this.decoder);
    const [output] = await run(x, encoded.state);
    return this.outputs(batchMajor(this.decoder, output), encoded);
  }

  /**
   * The model as a {@link StepDecoder} for `source` (encoded now, without gradients): each step
   * runs the decoder's packed one-step path on every row and attends over the row's source.
   * Call in eval mode (greedy and beamSearch do).
   */
  stepDecoder(source: TokenIds, lengths?: Lengths | null): StepDecoder<Seq2SeqDecodeState> {
    const encoded = noGrad(() => this.encode(source, lengths));
    const S = encoded.memory.shape[1];
    const step = (this.decoder as unknown as { step: StepCall }).step.bind(this.decoder);
    return {
      vocabSize: this.targetVocabSize,
      sourceLength: S,
      initialState: () => ({
        hx: encoded.state, memory: encoded.memory, projectedKeys: encoded.projectedKeys, mask: encoded.mask,
        items: Int32Array.from(encoded.lengths, (_, b) => b),
      }),
      step: (tokens, state) => noGrad(() => {
        const x = this.targetEmbedding.forward(new Tensor(Float32Array.from(tokens), [tokens.length]));
        const [y, hx] = step(x, state.hx);
        const query = unsqueeze(y, 1);
        const [context, weights] = this.attention.attend(query, state.projectedKeys, state.memory, state.mask);
        const attentional = tanh(this.combine.forward(cat([squeeze(context, 1), y], 1)));
        const logProbs = logSoftmax(this.head.forward(attentional), 1);
        return { logProbs: logProbs.data, state: { ...state, hx }, attention: weights.data };
      }),
      reorder: (state, rows, items) => reorderState(state, rows, items, encoded.lengths),
    };
  }

  /**
   * Greedy decoding of a batch (eval mode and no gradients for the call).
   * @returns one hypothesis per source item (tokens without bos/eos, score, attention per token).
   */
  greedy(source: TokenIds, options: Seq2SeqDecodeOptions): Hypothesis[] {
    const { lengths, ...search } = checkOptions(options, 'greedy', ['lengths', 'bos', 'eos', 'maxLength']);
    return this.inEvalMode(() => {
      const decoder = this.stepDecoder(source, lengths as Lengths | null | undefined);
      return greedySearch(decoder, { ...search, batchSize: decoder.initialState().items.length } as Parameters<typeof greedySearch>[1]);
    });
  }

  /**
   * Beam search over a batch (eval mode and no gradients for the call; see src/nn/decode.ts).
   * @returns per source item, its best hypotheses, best first.
   */
  beamSearch(source: TokenIds, options: Seq2SeqBeamOptions): Hypothesis[][] {
    const { lengths, ...search } = checkOptions(options, 'beamSearch', ['lengths', 'bos', 'eos', 'maxLength', 'beamWidth', 'lengthPenalty', 'numReturn']);
    return this.inEvalMode(() => {
      const decoder = this.stepDecoder(source, lengths as Lengths | null | undefined);
      return beamSearch(decoder, { ...search, batchSize: decoder.initialState().items.length } as Parameters<typeof beamSearch>[1]);
    });
  }

  private inEvalMode<T>(fn: () => T): T {
    const modes = this.modules().map((m) => [m, m.training] as const);
    this.eval();
    try {
      return fn();
    } finally {
      for (const [m, training] of modes) m.training = training;
    }
  }

  override extraRepr(): string {
    return this.dropout > 0 ? `dropout=${this.dropout}` : '';
  }
}

/** Rows of the state for new rows (beam search); the source side moves only when rows change items. */
function reorderState(state: Seq2SeqDecodeState, rows: Int32Array, items: Int32Array, lengths: Int32Array): Seq2SeqDecodeState {
  const index = Array.from(rows);
  const selectRows = (t: Tensor): Tensor => indexSelect(t, 1, index);
  const hx = state.hx === null ? null : Array.isArray(state.hx) ? [selectRows(state.hx[0]), selectRows(state.hx[1])] as [Tensor, Tensor] : selectRows(state.hx);
  const sameItems = items.length === state.items.length && items.every((item, i) => item === state.items[i]);
  if (sameItems) return { ...state, hx };
  const sourceRows = Array.from(rows, (r) => state.items[r]);
  return {
    hx,
    memory: indexSelect(state.memory, 0, sourceRows),
    projectedKeys: indexSelect(state.projectedKeys, 0, sourceRows),
    mask: lengthMask(Array.from(items, (item) => lengths[item]), items.length, state.memory.shape[1]),
    items: Int32Array.from(items),
  };
}

// `{ prototype: T }`: RNNBase and Attention have protected constructors.
function expectModule<T>(value: unknown, type: { prototype: T }, name: string, what: string): T {
  if (!(value instanceof (type as unknown as new () => T))) throw new TypeError(`Expected ${what} for ${name} but received ${describe(value)}`);
  return value;
}

function expectSize(actual: number, expected: number, name: string, source: string): void {
  if (actual !== expected) throw new RangeError(`Expected ${name} ${expected} (${source}) but received ${actual}`);
}

function checkProbability(value: unknown, name: string): number {
  if (typeof value === 'number' && value >= 0 && value < 1) return value;
  const message = `Expected number in [0, 1) for ${name} but received ${describe(value)}`;
  throw typeof value === 'number' ? new RangeError(message) : new TypeError(message);
}
