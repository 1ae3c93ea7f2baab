/**
 * Sequence to sequence from pairs of token sequences: grapheme-to-phoneme, transliteration, small
 * translation tasks. Builds on {@link Seq2Seq} (src/nn/seq2seq.ts).
 *
 * ```ts
 * import { seq2seq } from 'rnnkit';
 * const pairs = seq2seq.parsePairs(tsvText, 'pairs.tsv');        // "source<TAB>target" lines
 * const vocabs = seq2seq.Seq2SeqVocabs.fromPairs(pairs);
 * const model = seq2seq.createModel(vocabs, { hiddenSize: 128, attention: 'general' });
 * const history = await seq2seq.train(model, vocabs, trainPairs, { validation: validPairs, epochs: 20 });
 * const { wer, per } = seq2seq.evaluate(model, vocabs, testPairs, { beamWidth: 5 });
 * const [best] = seq2seq.translate(model, vocabs, [['h', 'e', 'l', 'l', 'o']], { beamWidth: 5 });
 * seq2seq.save('model.safetensors', model, vocabs);               // weights + vocabularies + config
 * ```
 *
 * Tokens: a side of the pairs is read as characters (Unicode code points) or as space-separated
 * tokens. Each vocabulary starts with the specials `<pad>` (0), `<s>` (1), `</s>` (2), `<unk>` (3).
 * A source token the vocabulary lacks is read as `<unk>` at inference (its embedding is the
 * untrained initial one, so expect poorer output) and reported in the result's `unknown` list.
 * @module
 */
import { DataLoader } from '../data/loader.js';
import { readSafetensors, saveSafetensors } from '../io/safetensors.js';
import { LuongAttention, BahdanauAttention, type Attention } from '../nn/attention.js';
import type { Hypothesis } from '../nn/decode.js';
import { Embedding } from '../nn/embedding.js';
import { crossEntropy } from '../nn/loss.js';
import { GRU, LSTM } from '../nn/rnn.js';
import { Seq2Seq } from '../nn/seq2seq.js';
import { Adam } from '../optim/adam.js';
import { OneCycleLR } from '../optim/one-cycle.js';
import { ReduceLROnPlateau } from '../optim/plateau.js';
import { getRngState, setRngState } from '../tensor/random.js';
import { reshape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { yieldToEventLoop } from '../train/batch.js';
import { EarlyStopping, type Callback, type EpochLogs } from '../train/callbacks.js';
import { fit, type History } from '../train/fit.js';
import { editDistance } from './edit-distance.js';

export { editDistance };
import type { ProgressSetting } from '../train/progress.js';
import {
  checkOptions, choice, describe, expectObject, intInRange, isNullish, optionalBool, positiveInt, positiveNumber,
} from '../validate.js';

// ---------------------------------------------------------------------------------------------
// Tokens and vocabularies

/** How a side of the pairs is split into tokens. */
export type Tokenization = 'chars' | 'spaces';

/** The special tokens, in id order. */
export const SPECIALS = ['<pad>', '<s>', '</s>', '<unk>'] as const;
/** The id of `<pad>`. */
export const PAD = 0;
/** The id of `<s>`, the start token the decoder is fed first. */
export const BOS = 1;
/** The id of `</s>`, the end token. */
export const EOS = 2;
/** The id of `<unk>`. */
export const UNK = 3;

/** The tokens of `text`: its characters (code points), or its space-separated words. */
export function tokenize(text: string, mode: Tokenization): string[] {
  if (mode === 'chars') return [...text];
  return text.split(/\s+/).filter((token) => token !== '');
}

/** Tokens back to text. */
export function detokenize(tokens: readonly string[], mode: Tokenization): string {
  return tokens.join(mode === 'chars' ? '' : ' ');
}

/** A vocabulary: the specials, then the tokens in first-seen order. */
export class TokenVocab {
  /** Every token by id: the specials first. */
  readonly tokens: readonly string[];
  /** How text of this side is split into tokens. */
  readonly tokenization: Tokenization;
  private readonly ids: Map<string, number>;

  /** @param tokens the tokens after the specials (distinct, no special among them). */
  constructor(tokens: readonly string[], tokenization: Tokenization) {
    if (!Array.isArray(tokens)) throw new TypeError(`Expected array of strings for tokens but received ${describe(tokens)}`);
    this.tokenization = choice(tokenization, 'tokenization', ['chars', 'spaces'] as const);
    const list = [...SPECIALS as readonly string[]];
    tokens.forEach((token, i) => {
      if (typeof token !== 'string' || token === '') throw new TypeError(`Expected non-empty string for tokens[${i}] but received ${describe(token)}`);
      if (list.includes(token)) throw new RangeError(`Expected distinct tokens other than ${SPECIALS.join(' ')} for tokens but received ${JSON.stringify(token)} at ${i}`);
      list.push(token);
    });
    this.tokens = Object.freeze(list);
    this.ids = new Map(list.map((token, id) => [token, id]));
  }

  /** The vocabulary of the token sequences (every token seen, in first-seen order). */
  static fromSequences(sequences: readonly (readonly string[])[], tokenization: Tokenization): TokenVocab {
    const seen = new Set<string>();
    for (const sequence of sequences) for (const token of sequence) seen.add(token);
    return new TokenVocab([...seen], tokenization);
  }

  /** Tokens, specials included (the embedding's rows / the head's outputs). */
  get size(): number {
    return this.tokens.length;
  }

  /** The id of `token`, or −1. */
  idOf(token: string): number {
    return this.ids.get(token) ?? -1;
  }

  /** The ids of `tokens`; a token outside the vocabulary becomes `<unk>` and is listed in `unknown`. */
  encode(tokens: readonly string[]): {
    /** The id of each token. */
    ids: Int32Array;
    /** The tokens that became `<unk>`. */
    unknown: string[];
  } {
    const ids = new Int32Array(tokens.length);
    const unknown: string[] = [];
    tokens.forEach((token, i) => {
      const id = this.ids.get(token);
      if (id === undefined || id < SPECIALS.length) unknown.push(token);
      ids[i] = id === undefined || id < SPECIALS.length ? UNK : id;
    });
    return { ids, unknown };
  }

  /** The tokens of `ids` (specials included as their names). */
  decode(ids: ArrayLike<number>): string[] {
    return Array.from(ids, (id, i) => {
      const token = this.tokens[id];
      if (token === undefined) throw new RangeError(`Expected integer between 0 and ${this.size - 1} for ids[${i}] but received ${describe(id)}`);
      return token;
    });
  }

  /** The JSON form, for {@link TokenVocab.fromJSON}. */
  toJSON(): {
    /** Every token by id. */
    tokens: string[];
    /** How text is split into these tokens. */
    tokenization: Tokenization;
  } {
    return { tokens: this.tokens.slice(SPECIALS.length), tokenization: this.tokenization };
  }

  /** A vocabulary from its JSON form ({@link TokenVocab.toJSON}). */
  static fromJSON(json: unknown): TokenVocab {
    const o = expectObject(typeof json === 'string' ? JSON.parse(json) as unknown : json, 'vocabulary JSON');
    return new TokenVocab(o.tokens as string[], o.tokenization as Tokenization);
  }
}

/** A pair of token sequences (and the line it came from, when parsed). */
export interface Pair {
  /** The source tokens. */
  source: string[];
  /** The target tokens. */
  target: string[];
  /** The line of the text it was parsed from (from 1). */
  line?: number;
}

/** The source and target vocabularies of a model. */
export class Seq2SeqVocabs {
  /**
   * @param source The source side's vocabulary.
   * @param target The target side's vocabulary.
   */
  constructor(readonly source: TokenVocab, readonly target: TokenVocab) {}

  /** The vocabularies of `pairs`, each side split as `tokenization` says. */
  static fromPairs(pairs: readonly Pair[], tokenization: { source: Tokenization; target: Tokenization } = { source: 'chars', target: 'chars' }): Seq2SeqVocabs {
    return new Seq2SeqVocabs(
      TokenVocab.fromSequences(pairs.map((p) => p.source), tokenization.source),
      TokenVocab.fromSequences(pairs.map((p) => p.target), tokenization.target),
    );
  }
}

/** Options of {@link parsePairs}. */
export interface ParsePairsOptions {
  /** How to split the source side: 'chars', 'spaces', or 'auto' (default: spaces when a source field has a space). */
  source?: Tokenization | 'auto';
  /** Same for the target side. */
  target?: Tokenization | 'auto';
}

/** What {@link parsePairs} returns. */
export interface ParsedPairs {
  /** The pairs, in text order. */
  pairs: Pair[];
  /** How each side was split into tokens. */
  tokenization: {
    /** How the source side was split. */
    source: Tokenization;
    /** How the target side was split. */
    target: Tokenization;
  };
}

/**
 * Reads tab-separated pairs, one per line: `source<TAB>target` (blank lines and a trailing `\r`
 * ignored). `file` names the text in errors.
 * @throws RangeError `pairs.tsv line 7: expected 2 tab-separated fields (source, target) but found 1`,
 *   or `… line 7: empty target`.
 */
export function parsePairs(text: string, file: string, options: ParsePairsOptions = {}): ParsedPairs {
  if (typeof text !== 'string') throw new TypeError(`Expected string for text but received ${describe(text)}`);
  const o = checkOptions(options, 'parsePairs', ['source', 'target']);
  const modes = ['chars', 'spaces', 'auto'] as const;
  const sourceMode = o.source === undefined ? 'auto' : choice(o.source, 'source', modes);
  const targetMode = o.target === undefined ? 'auto' : choice(o.target, 'target', modes);
  const fields: { source: string; target: string; line: number }[] = [];
  text.replace(/^\uFEFF/, '').split('\n').forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return;
    const parts = line.split('\t');
    if (parts.length !== 2) throw new RangeError(`${file} line ${i + 1}: expected 2 tab-separated fields (source, target) but found ${parts.length}`);
    const [source, target] = parts.map((p) => p.trim());
    if (source === '') throw new RangeError(`${file} line ${i + 1}: empty source`);
    if (target === '') throw new RangeError(`${file} line ${i + 1}: empty target`);
    fields.push({ source, target, line: i + 1 });
  });
  if (fields.length === 0) throw new RangeError(`${file}: no pairs (expected lines of source<TAB>target)`);
  const resolve = (mode: Tokenization | 'auto', side: 'source' | 'target'): Tokenization =>
    (mode !== 'auto' ? mode : fields.some((f) => /\s/.test(f[side])) ? 'spaces' : 'chars');
  const tokenization = { source: resolve(sourceMode, 'source'), target: resolve(targetMode, 'target') };
  const pairs = fields.map((f) => ({ source: tokenize(f.source, tokenization.source), target: tokenize(f.target, tokenization.target), line: f.line }));
  return { pairs, tokenization };
}

// ---------------------------------------------------------------------------------------------
// Model

/** The attention scores {@link createModel} offers. */
export type AttentionKind = 'dot' | 'general' | 'additive';

/** Options of {@link createModel}. */
export interface Seq2SeqModelOptions {
  /** 'lstm' (default) or 'gru', for encoder and decoder. */
  cell?: 'lstm' | 'gru';
  /** Embedding size of both sides (default 64). */
  embeddingDim?: number;
  /** Encoder units per direction (default 128); the decoder has directions × this many. */
  hiddenSize?: number;
  /** Layers of the encoder and of the decoder (default 1). */
  numLayers?: number;
  /** Bidirectional encoder (default true). */
  bidirectional?: boolean;
  /** Luong 'dot', Luong 'general' (default) or Bahdanau 'additive' scores. */
  attention?: AttentionKind;
  /** Dropout on embeddings and the attentional state, and between stacked layers (default 0.1). */
  dropout?: number;
}

/** A model's full configuration (what {@link save} stores). */
export interface Seq2SeqModelConfig extends Required<Seq2SeqModelOptions> {
  /** Tokens of the source vocabulary, the specials included. */
  sourceVocabSize: number;
  /** Tokens of the target vocabulary, the specials included. */
  targetVocabSize: number;
}

const MODEL_KEYS = ['cell', 'embeddingDim', 'hiddenSize', 'numLayers', 'bidirectional', 'attention', 'dropout'];

/** The configuration of `options` with the defaults filled in. */
export function modelConfig(vocabs: Seq2SeqVocabs, options: Seq2SeqModelOptions = {}): Seq2SeqModelConfig {
  const o = checkOptions(options, 'createModel', MODEL_KEYS);
  return {
    cell: o.cell === undefined ? 'lstm' : choice(o.cell, 'cell', ['lstm', 'gru'] as const),
    embeddingDim: o.embeddingDim === undefined ? 64 : positiveInt(o.embeddingDim, 'embeddingDim'),
    hiddenSize: o.hiddenSize === undefined ? 128 : positiveInt(o.hiddenSize, 'hiddenSize'),
    numLayers: o.numLayers === undefined ? 1 : positiveInt(o.numLayers, 'numLayers'),
    bidirectional: optionalBool(o.bidirectional, 'bidirectional', true),
    attention: o.attention === undefined ? 'general' : choice(o.attention, 'attention', ['dot', 'general', 'additive'] as const),
    dropout: o.dropout === undefined ? 0.1 : probability(o.dropout, 'dropout'),
    sourceVocabSize: vocabs.source.size,
    targetVocabSize: vocabs.target.size,
  };
}

/**
 * A {@link Seq2Seq} for the vocabularies: Embedding → (bi)LSTM/GRU encoder, a decoder of
 * directions × hiddenSize units, attention, combine and head.
 */
export function createModel(vocabs: Seq2SeqVocabs, options: Seq2SeqModelOptions = {}): Seq2Seq {
  return modelFromConfig(modelConfig(vocabs, options));
}

function modelFromConfig(c: Seq2SeqModelConfig): Seq2Seq {
  const Recurrent = c.cell === 'lstm' ? LSTM : GRU;
  const directions = c.bidirectional ? 2 : 1;
  const decoderSize = directions * c.hiddenSize;
  const between = c.numLayers > 1 ? c.dropout : 0;
  const attention: Attention = c.attention === 'additive'
    ? new BahdanauAttention(decoderSize, decoderSize)
    : new LuongAttention(decoderSize, decoderSize, { method: c.attention });
  return new Seq2Seq({
    sourceEmbedding: new Embedding(c.sourceVocabSize, c.embeddingDim, { paddingIdx: PAD }),
    encoder: new Recurrent(c.embeddingDim, c.hiddenSize, { numLayers: c.numLayers, bidirectional: c.bidirectional, dropout: between }),
    targetEmbedding: new Embedding(c.targetVocabSize, c.embeddingDim, { paddingIdx: PAD }),
    decoder: new Recurrent(c.embeddingDim, decoderSize, { numLayers: c.numLayers, dropout: between }),
    attention,
  }, { dropout: c.dropout });
}

/** The configuration of a model made by {@link createModel} (read off its modules). */
export function configOf(model: Seq2Seq): Seq2SeqModelConfig {
  const { encoder, attention } = model;
  const kind: AttentionKind = attention instanceof BahdanauAttention ? 'additive' : (attention as LuongAttention).method;
  return {
    cell: encoder.mode === 'GRU' ? 'gru' : 'lstm', embeddingDim: model.sourceEmbedding.embeddingDim, hiddenSize: encoder.hiddenSize,
    numLayers: encoder.numLayers, bidirectional: encoder.bidirectional, attention: kind, dropout: model.dropout,
    sourceVocabSize: model.sourceEmbedding.numEmbeddings, targetVocabSize: model.targetVocabSize,
  };
}

function probability(value: unknown, name: string): number {
  if (typeof value === 'number' && value >= 0 && value < 1) return value;
  const message = `Expected number in [0, 1) for ${name} but received ${describe(value)}`;
  throw typeof value === 'number' ? new RangeError(message) : new TypeError(message);
}

// ---------------------------------------------------------------------------------------------
// Batches

/** A pair as ids: the source, and the target with `</s>` appended. */
export interface EncodedPair {
  /** The source's token ids. */
  source: Int32Array;
  /** The target's token ids, `</s>` last. */
  target: Int32Array;
}

/** What the training loop's batches hold (`input` goes to the model, `target` to the loss). */
interface PairBatch {
  input: { source: Tensor; lengths: Int32Array; targetInput: Tensor };
  /** `[B, T]` next tokens, −100 past each target's end (ignored by the loss). */
  target: Tensor;
  /** Target tokens per item (for tokens/s). */
  lengths: Int32Array;
}

const IGNORE = -100;

/**
 * Pairs encoded with a model's vocabularies, held in two flat Int32Arrays: a hundred thousand
 * pairs are a handful of objects instead of hundreds of thousands, which keeps the garbage
 * collector's full marks short (training triggers them often: it allocates large typed arrays,
 * and a mark walks every live object). Items are `{ source, target }` views; targets end with `</s>`.
 */
export class PairDataset {
  private constructor(private readonly sources: Int32Array, private readonly targets: Int32Array,
    private readonly sourceStarts: Int32Array, private readonly targetStarts: Int32Array) {}

  /**
   * Encodes `pairs` (`name` says what they are in errors); tokens outside the vocabularies become `<unk>`.
   * @throws TypeError / RangeError for an empty array, a malformed pair or an empty source.
   */
  static fromPairs(pairs: readonly Pair[], vocabs: Seq2SeqVocabs, name = 'pairs'): PairDataset {
    if (!Array.isArray(pairs) || pairs.length === 0) throw new RangeError(`Expected a non-empty array of pairs for ${name} but received ${describe(pairs)}`);
    const sourceStarts = new Int32Array(pairs.length + 1), targetStarts = new Int32Array(pairs.length + 1);
    pairs.forEach((pair, i) => {
      if (typeof pair !== 'object' || pair === null || !Array.isArray(pair.source) || !Array.isArray(pair.target)) {
        throw new TypeError(`Expected { source: string[], target: string[] } for ${name}[${i}] but received ${describe(pair)}`);
      }
      if (pair.source.length === 0) throw new RangeError(`Expected a non-empty source for ${name}[${i}] but received none`);
      sourceStarts[i + 1] = sourceStarts[i] + pair.source.length;
      targetStarts[i + 1] = targetStarts[i] + pair.target.length + 1;
    });
    const sources = new Int32Array(sourceStarts[pairs.length]), targets = new Int32Array(targetStarts[pairs.length]);
    pairs.forEach((pair, i) => {
      sources.set(vocabs.source.encode(pair.source).ids, sourceStarts[i]);
      targets.set(vocabs.target.encode(pair.target).ids, targetStarts[i]);
      targets[targetStarts[i + 1] - 1] = EOS;
    });
    return new PairDataset(sources, targets, sourceStarts, targetStarts);
  }

  /** Pairs in the dataset. */
  get length(): number {
    return this.sourceStarts.length - 1;
  }

  /** Source tokens of item `index`. */
  sourceLength(index: number): number {
    return this.sourceStarts[index + 1] - this.sourceStarts[index];
  }

  /** Pair `index` as ids (views, not copies). */
  get(index: number): EncodedPair {
    return {
      source: this.sources.subarray(this.sourceStarts[index], this.sourceStarts[index + 1]),
      target: this.targets.subarray(this.targetStarts[index], this.targetStarts[index + 1]),
    };
  }
}

/** Source ids padded with `<pad>` into `[B, S]`, and their lengths. */
function padSources(sources: readonly Int32Array[]): { source: Tensor; lengths: Int32Array } {
  const lengths = Int32Array.from(sources, (s) => s.length);
  const S = Math.max(...lengths);
  const data = new Float32Array(sources.length * S).fill(PAD);
  sources.forEach((s, b) => data.set(s, b * S));
  return { source: new Tensor(data, [sources.length, S]), lengths };
}

function collatePairs(items: EncodedPair[]): PairBatch {
  const { source, lengths } = padSources(items.map((item) => item.source));
  const targetLengths = Int32Array.from(items, (item) => item.target.length);
  const T = Math.max(...targetLengths), B = items.length;
  const targetInput = new Float32Array(B * T).fill(PAD);
  const target = new Float32Array(B * T).fill(IGNORE);
  items.forEach((item, b) => {
    targetInput[b * T] = BOS;
    targetInput.set(item.target.subarray(0, item.target.length - 1), b * T + 1); // the decoder reads <s> y1 … yn
    target.set(item.target, b * T); //                                             and predicts y1 … yn </s>
  });
  return { input: { source, lengths, targetInput: new Tensor(targetInput, [B, T]) }, target: new Tensor(target, [B, T]), lengths: targetLengths };
}

// ---------------------------------------------------------------------------------------------
// Training

/** Options of {@link train}. */
export interface TrainSeq2SeqOptions {
  /** Pairs scored after every epoch (greedy decoding): `val_wer`, `val_per` in the logs; with patience, early stopping on val_wer. */
  validation?: readonly Pair[] | null;
  /** Most passes over the pairs (default 30). */
  epochs?: number;
  /** Pairs per batch (default 64). */
  batchSize?: number;
  /** Adam's learning rate: peak of the one-cycle schedule, or the starting rate of 'plateau' (default 3e-3). */
  lr?: number;
  /**
   * 'oneCycle' (warm-up over 10 % of the steps, then cosine annealing to ~0 at `epochs`: best when
   * the epochs are the budget) or 'plateau' (default: the rate ×0.5 when val_wer stalls for one epoch;
   * constant without validation).
   */
  schedule?: 'oneCycle' | 'plateau';
  /**
   * A time budget in seconds: the one-cycle shape follows the elapsed wall time instead of the steps
   * (warm-up over the first 10 % of the budget, cosine annealing to ~0 at its end), and training
   * stops after the batch that reaches it (`epochs` is then only an upper bound). The learning rate
   * adapts to the machine's speed, so a loaded machine trains fewer steps but still anneals.
   * Only with schedule 'oneCycle'.
   */
  timeLimit?: number | null;
  /** Stop after this many epochs without a better val_wer, keeping the best weights (default 4; needs validation). */
  patience?: number | null;
  /** Cross-entropy label smoothing (default 0.1). */
  labelSmoothing?: number;
  /** Clip the gradients' total norm to this (default 1). */
  clipGradNorm?: number;
  /** Seed of the batch order (default: drawn from the global RNG). */
  seed?: number;
  /** fit's callbacks (they see `val_wer` and `val_per`). */
  callbacks?: Callback | Callback[];
  /** fit's progress output (default: a bar on a TTY, JSON lines otherwise; false = silent). */
  progress?: ProgressSetting;
  /** Stops after the current batch. */
  signal?: AbortSignal;
}

const TRAIN_KEYS = ['validation', 'epochs', 'batchSize', 'lr', 'schedule', 'timeLimit', 'patience', 'labelSmoothing', 'clipGradNorm', 'seed', 'callbacks', 'progress', 'signal'];

/**
 * Trains `model` on `pairs` (or a {@link PairDataset} of them) with fit: teacher forcing, cross-entropy over the padded targets
 * (`ignoreIndex`, label smoothing), Adam, clipping; batches of similar source lengths (bucketing)
 * in a seeded random order. After every epoch the validation pairs are decoded greedily and
 * scored: `val_wer` (share of outputs with an error) and `val_per` (token edit distance / reference
 * tokens), the value early stopping and the plateau schedule watch.
 */
export async function train(model: Seq2Seq, vocabs: Seq2SeqVocabs, pairs: readonly Pair[] | PairDataset, options: TrainSeq2SeqOptions = {}): Promise<History> {
  checkModel(model, vocabs);
  const o = checkOptions(options, 'train', TRAIN_KEYS) as TrainSeq2SeqOptions;
  const epochs = o.epochs === undefined ? 30 : positiveInt(o.epochs, 'epochs');
  const batchSize = o.batchSize === undefined ? 64 : positiveInt(o.batchSize, 'batchSize');
  const lr = o.lr === undefined ? 3e-3 : positiveNumber(o.lr, 'lr');
  const schedule = o.schedule === undefined ? 'plateau' : choice(o.schedule, 'schedule', ['oneCycle', 'plateau'] as const);
  const validation = isNullish(o.validation) ? null : o.validation;
  const patience = o.patience === null || validation === null ? null : intInRange(o.patience ?? 4, 'patience', 1, 1_000_000);
  const smoothing = o.labelSmoothing === undefined ? 0.1 : probability(o.labelSmoothing, 'labelSmoothing');
  const clipGradNorm = o.clipGradNorm === undefined ? 1 : positiveNumber(o.clipGradNorm, 'clipGradNorm');
  const timeLimit = isNullish(o.timeLimit) ? null : positiveNumber(o.timeLimit, 'timeLimit');
  if (timeLimit !== null && schedule !== 'oneCycle') throw new TypeError(`Expected schedule oneCycle with timeLimit but received ${schedule}`);
  const items = pairs instanceof PairDataset ? pairs : PairDataset.fromPairs(pairs, vocabs, 'pairs');
  if (validation !== null) PairDataset.fromPairs(validation, vocabs, 'validation'); // checked now, not after the first epoch
  const loader = new DataLoader(items, {
    batchSize, shuffle: true, seed: o.seed, collate: collatePairs, bucketBy: (_item: EncodedPair, index: number) => items.sourceLength(index),
  });
  const optimizer = new Adam(model.parameters(), { lr });
  const oneCycle = schedule === 'oneCycle' && timeLimit === null ? new OneCycleLR(optimizer, lr, { epochs, stepsPerEpoch: loader.length as number, pctStart: 0.1 }) : null;
  // The validation scores come from decoding, which fit's validation pass (teacher-forced outputs)
  // can not do: this callback computes them, steps the plateau schedule on them, and runs before
  // the early stopping that watches them.
  const plateau = schedule === 'plateau' && validation !== null ? new ReduceLROnPlateau(optimizer, { factor: 0.5, patience: 1 }) : null;
  const scorer: Callback = {
    onEpochEnd: async (_epoch: number, logs: EpochLogs) => {
      if (validation === null) return;
      const scores = await evaluateAsync(model, vocabs, validation, {});
      Object.assign(logs, { val_wer: scores.wer, val_per: scores.per });
      plateau?.step(scores.wer);
    },
  };
  const stopper = patience === null ? null : new EarlyStopping({ monitor: 'val_wer', mode: 'min', patience, restoreBestWeights: true });
  const userCallbacks = isNullish(o.callbacks) ? [] : Array.isArray(o.callbacks) ? o.callbacks : [o.callbacks];
  const V = vocabs.target.size;
  const history = await fit(model, {
    train: loader, optimizer, scheduler: oneCycle, epochs, clipGradNorm, progress: o.progress, signal: o.signal,
    loss: (output: Tensor, target: unknown) => crossEntropy(reshape(output, [-1, V]), reshape(target as Tensor, [-1]), { ignoreIndex: IGNORE, labelSmoothing: smoothing }),
    forward: async (m, batch) => {
      const { source, lengths, targetInput } = (batch.raw as PairBatch).input;
      return (await (m as Seq2Seq).forwardAsync(source, lengths, targetInput))[0];
    },
    callbacks: [scorer, ...(stopper ? [stopper] : []), ...(timeLimit === null ? [] : [timeBudget(timeLimit, lr)]), ...userCallbacks],
  });
  return validation === null ? history : bestByWer(history);
}

/** OneCycleLR's learning rate (pctStart 0.1, divFactor 25, finalDivFactor 1e4, cos) at `fraction` of the way. */
export function oneCycleLr(fraction: number, peak: number): number {
  const initial = peak / 25, final = initial / 1e4;
  const cosine = (from: number, to: number, pct: number): number => to + ((from - to) / 2) * (1 + Math.cos(Math.PI * Math.min(1, pct)));
  return fraction < 0.1 ? cosine(initial, peak, fraction / 0.1) : cosine(peak, final, (fraction - 0.1) / 0.9);
}

/** The one-cycle learning rate over wall time (see TrainSeq2SeqOptions.timeLimit), and the stop at its end. */
function timeBudget(seconds: number, peak: number): Callback {
  let started = 0;
  const elapsed = (): number => (performance.now() - started) / 1000;
  return {
    onTrainBegin: () => { started = performance.now(); },
    onBatchBegin: (_batch, context) => {
      const rate = oneCycleLr(elapsed() / seconds, peak);
      for (const group of context.optimizer.paramGroups) group.lr = rate;
    },
    onBatchEnd: (_batch, _logs, context) => {
      if (elapsed() >= seconds) {
        context.stopTraining = true;
        context.stopReason = 'callback';
      }
    },
  };
}

/** The history with `val_wer` as its monitor: the best (lowest, first) epoch's value. */
function bestByWer(history: History): History {
  const wers = history.metrics.val_wer ?? [];
  const bestEpoch = wers.length === 0 ? -1 : wers.indexOf(Math.min(...wers));
  return { ...history, monitor: 'val_wer', best: bestEpoch < 0 ? Infinity : wers[bestEpoch], bestEpoch };
}

function checkModel(model: unknown, vocabs: unknown): void {
  if (!(model instanceof Seq2Seq)) throw new TypeError(`Expected Seq2Seq for model but received ${describe(model)}`);
  if (!(vocabs instanceof Seq2SeqVocabs)) throw new TypeError(`Expected Seq2SeqVocabs for vocabs but received ${describe(vocabs)}`);
  if (model.sourceEmbedding.numEmbeddings !== vocabs.source.size || model.targetVocabSize !== vocabs.target.size) {
    throw new RangeError(`Expected vocabularies of ${model.sourceEmbedding.numEmbeddings} source and ${model.targetVocabSize} target tokens (the model's) `
      + `but received ${vocabs.source.size} and ${vocabs.target.size}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding and scores

/** Options of {@link translate} and {@link evaluate}. */
export interface DecodeOptions {
  /** 1 (default) = greedy search; more = beam search with this width. */
  beamWidth?: number;
  /** Beam search's length normalization exponent (default 1). */
  lengthPenalty?: number;
  /** Most output tokens (default: 2 × the source length + 10). */
  maxLength?: number | null;
  /** Sources decoded together (default 256). */
  batchSize?: number;
}

/** One translated source. */
export interface Translation {
  /** The output tokens. */
  tokens: string[];
  /** Σ log p of the output (with `</s>`). */
  score: number;
  /** What beam search ranked by (greedy: the score). */
  normalizedScore: number;
  /** Whether the model ended the output itself (false: cut at maxLength). */
  finished: boolean;
  /** `attention[i][j]`: the weight of source token j behind output token i. */
  attention: number[][];
  /** Source tokens outside the vocabulary (read as `<unk>`). */
  unknown: string[];
}

const DECODE_KEYS = ['beamWidth', 'lengthPenalty', 'maxLength', 'batchSize'];

interface DecodeSettings {
  beamWidth: number;
  lengthPenalty: number;
  maxLength: number | null;
  batchSize: number;
}

function decodeSettings(options: unknown): DecodeSettings {
  const o = checkOptions(options, 'translate', DECODE_KEYS);
  return {
    beamWidth: o.beamWidth === undefined ? 1 : positiveInt(o.beamWidth, 'beamWidth'),
    lengthPenalty: o.lengthPenalty === undefined ? 1 : nonNegative(o.lengthPenalty, 'lengthPenalty'),
    maxLength: isNullish(o.maxLength) ? null : positiveInt(o.maxLength, 'maxLength'),
    batchSize: o.batchSize === undefined ? 256 : positiveInt(o.batchSize, 'batchSize'),
  };
}

function nonNegative(value: unknown, name: string): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  const message = `Expected finite number >= 0 for ${name} but received ${describe(value)}`;
  throw typeof value === 'number' ? new RangeError(message) : new TypeError(message);
}

/** Decodes one batch of encoded sources (their order kept). */
function decodeBatch(model: Seq2Seq, sources: readonly Int32Array[], settings: DecodeSettings): Hypothesis[] {
  const { source, lengths } = padSources(sources);
  const maxLength = settings.maxLength ?? 2 * source.shape[1] + 10;
  const common = { lengths, bos: BOS, eos: EOS, maxLength };
  if (settings.beamWidth === 1) return model.greedy(source, common);
  return model.beamSearch(source, { ...common, beamWidth: settings.beamWidth, lengthPenalty: settings.lengthPenalty, numReturn: 1 }).map((list) => list[0]);
}

/** Encoded sources in batches of similar length: [indices of the batch's sources]. */
function lengthBatches(sources: readonly Int32Array[], batchSize: number): number[][] {
  const order = sources.map((_, i) => i).sort((a, b) => sources[a].length - sources[b].length || a - b);
  const batches: number[][] = [];
  for (let i = 0; i < order.length; i += batchSize) batches.push(order.slice(i, i + batchSize));
  return batches;
}

function* translations(model: Seq2Seq, vocabs: Seq2SeqVocabs, sources: readonly (readonly string[])[], settings: DecodeSettings): Generator<void, Translation[]> {
  const encoded = sources.map((tokens, i) => {
    if (!Array.isArray(tokens) || tokens.length === 0) throw new RangeError(`Expected a non-empty array of tokens for sources[${i}] but received ${describe(tokens)}`);
    return vocabs.source.encode(tokens);
  });
  const results: Translation[] = new Array(sources.length);
  for (const batch of lengthBatches(encoded.map((e) => e.ids), settings.batchSize)) {
    const hypotheses = decodeBatch(model, batch.map((i) => encoded[i].ids), settings);
    batch.forEach((index, j) => {
      const h = hypotheses[j];
      const length = encoded[index].ids.length;
      results[index] = {
        tokens: vocabs.target.decode(h.tokens), score: h.score, normalizedScore: h.normalizedScore, finished: h.finished,
        attention: (h.attention ?? []).map((row) => Array.from(row.subarray(0, length))), unknown: encoded[index].unknown,
      };
    });
    yield;
  }
  return results;
}

function runAll<T>(steps: Generator<void, T>): T {
  let next = steps.next();
  while (!next.done) next = steps.next();
  return next.value;
}

async function runYielding<T>(steps: Generator<void, T>): Promise<T> {
  let next = steps.next();
  while (!next.done) {
    await yieldToEventLoop();
    next = steps.next();
  }
  return next.value;
}

/**
 * Translates token sequences (greedy, or beam search with `beamWidth` > 1), in batches of similar
 * length, eval mode, no gradients. Unknown source tokens are read as `<unk>` and listed in `unknown`.
 */
export function translate(model: Seq2Seq, vocabs: Seq2SeqVocabs, sources: readonly (readonly string[])[], options: DecodeOptions = {}): Translation[] {
  checkModel(model, vocabs);
  if (!Array.isArray(sources)) throw new TypeError(`Expected array of token arrays for sources but received ${describe(sources)}`);
  return runAll(translations(model, vocabs, sources, decodeSettings(options)));
}

/** What {@link evaluate} returns. */
export interface Seq2SeqScores {
  /** Share of outputs that differ from their reference (word error rate for G2P). */
  wer: number;
  /** Σ edit distance / Σ reference length, in tokens (phoneme error rate for G2P). */
  per: number;
  /** The outputs, in the pairs' order. */
  outputs: Translation[];
}

function scoresOf(pairs: readonly Pair[], outputs: Translation[]): Seq2SeqScores {
  let errors = 0, edits = 0, tokens = 0;
  pairs.forEach((pair, i) => {
    const distance = editDistance(outputs[i].tokens, pair.target);
    edits += distance;
    tokens += pair.target.length;
    if (distance > 0) errors++;
  });
  return { wer: errors / pairs.length, per: edits / Math.max(tokens, 1), outputs };
}

/** Decodes the sources of `pairs` and scores the outputs against their targets. */
export function evaluate(model: Seq2Seq, vocabs: Seq2SeqVocabs, pairs: readonly Pair[], options: DecodeOptions = {}): Seq2SeqScores {
  return scoresOf(pairs, translate(model, vocabs, pairs.map((p) => p.source), options));
}

/** {@link evaluate} with a turn of the event loop after every batch. */
export async function evaluateAsync(model: Seq2Seq, vocabs: Seq2SeqVocabs, pairs: readonly Pair[], options: DecodeOptions = {}): Promise<Seq2SeqScores> {
  checkModel(model, vocabs);
  return scoresOf(pairs, await runYielding(translations(model, vocabs, pairs.map((p) => p.source), decodeSettings(options))));
}

// ---------------------------------------------------------------------------------------------
// Save / load

/** Metadata keys {@link save} writes. */
export const SEQ2SEQ_METADATA_KEYS = {
  /** The task name. */
  task: 'rnnkit.task',
  /** The model's configuration (JSON). */
  model: 'rnnkit.seq2seq',
  /** The source vocabulary (JSON). */
  source: 'rnnkit.vocab.source',
  /** The target vocabulary (JSON). */
  target: 'rnnkit.vocab.target',
} as const;
/** The `rnnkit.task` of a seq2seq model file. */
export const SEQ2SEQ_TASK = 'seq2seq';

/**
 * Writes the model and its vocabularies to one safetensors file: the parameters under their
 * module paths (`encoder.weight_ih_l0`, `attention.Wa.weight`, …), and as JSON metadata the
 * configuration and both vocabularies, plus the caller's string `metadata`.
 */
export function save(file: string, model: Seq2Seq, vocabs: Seq2SeqVocabs, metadata: Record<string, string> = {}): void {
  if (typeof file !== 'string' || file === '') throw new TypeError(`Expected non-empty string for file but received ${describe(file)}`);
  checkModel(model, vocabs);
  const own = Object.values(SEQ2SEQ_METADATA_KEYS) as string[];
  for (const [key, value] of Object.entries(expectObject(metadata, 'metadata'))) {
    if (own.includes(key)) throw new RangeError(`Expected a metadata key other than ${own.join(', ')} (written by save) but received ${key}`);
    if (typeof value !== 'string') throw new TypeError(`Expected string for metadata.${key} but received ${describe(value)}`);
  }
  saveSafetensors(file, model.stateDict(), {
    ...metadata,
    [SEQ2SEQ_METADATA_KEYS.task]: SEQ2SEQ_TASK,
    [SEQ2SEQ_METADATA_KEYS.model]: JSON.stringify(configOf(model)),
    [SEQ2SEQ_METADATA_KEYS.source]: JSON.stringify(vocabs.source),
    [SEQ2SEQ_METADATA_KEYS.target]: JSON.stringify(vocabs.target),
  });
}

/** What {@link load} returns. */
export interface LoadedSeq2Seq {
  /** The model, its weights loaded. */
  model: Seq2Seq;
  /** Its vocabularies. */
  vocabs: Seq2SeqVocabs;
  /** Its configuration. */
  config: Seq2SeqModelConfig;
  /** The caller's metadata given to {@link save}. */
  metadata: Record<string, string>;
}

/**
 * Reads a file written by {@link save} (a path or its bytes): the model in eval mode, its
 * vocabularies and configuration. Does not consume the global RNG.
 * @throws TypeError `Expected a seq2seq safetensors file (metadata rnnkit.task = seq2seq) for source but received one without it`.
 */
export function load(source: string | Uint8Array): LoadedSeq2Seq {
  const { tensors, metadata } = readSafetensors(source);
  if (metadata?.[SEQ2SEQ_METADATA_KEYS.task] !== SEQ2SEQ_TASK) {
    throw new TypeError(`Expected a ${SEQ2SEQ_TASK} safetensors file (metadata ${SEQ2SEQ_METADATA_KEYS.task} = ${SEQ2SEQ_TASK}) for source but received one without it`);
  }
  const config = expectObject(JSON.parse(metadata[SEQ2SEQ_METADATA_KEYS.model] ?? 'null'), `metadata ${SEQ2SEQ_METADATA_KEYS.model}`) as unknown as Seq2SeqModelConfig;
  const vocabs = new Seq2SeqVocabs(TokenVocab.fromJSON(metadata[SEQ2SEQ_METADATA_KEYS.source] ?? 'null'), TokenVocab.fromJSON(metadata[SEQ2SEQ_METADATA_KEYS.target] ?? 'null'));
  const rng = getRngState();
  let model: Seq2Seq;
  try {
    model = modelFromConfig({ ...modelConfig(vocabs, pick(config, MODEL_KEYS)), sourceVocabSize: config.sourceVocabSize, targetVocabSize: config.targetVocabSize });
  } finally {
    setRngState(rng); // the random init is overwritten anyway
  }
  checkModel(model, vocabs);
  model.loadStateDict(tensors);
  model.eval();
  const own = Object.values(SEQ2SEQ_METADATA_KEYS) as string[];
  return { model, vocabs, config: configOf(model), metadata: Object.fromEntries(Object.entries(metadata).filter(([key]) => !own.includes(key))) };
}

function pick(object: object, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).filter(([key]) => keys.includes(key)));
}
