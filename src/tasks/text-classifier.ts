/**
 * The text classifier model: word ids → Embedding → (bidirectional) LSTM or GRU with variational
 * dropout → pooling over each document's valid steps → Dropout → Linear → class logits. It carries
 * what it needs to read new text the way it read its training text: the tokenizer, the vocabulary,
 * the longest document it reads and the class names.
 * @module
 */
import { WordTokenizer, type WordTokenizerOptions } from '../data/tokenizer.js';
import { Vocabulary } from '../data/vocabulary.js';
import { Dropout } from '../nn/dropout.js';
import { Embedding } from '../nn/embedding.js';
import { Linear } from '../nn/linear.js';
import { Module } from '../nn/module.js';
import { poolSequence, type PoolingMode } from '../nn/pooling.js';
import { GRU, LSTM } from '../nn/rnn.js';
import { noGrad } from '../tensor/autograd.js';
import { Tensor } from '../tensor/tensor.js';
import { checkOptions, choice, describe, intInRange, MAX_DIM, optionalBool, positiveInt } from '../validate.js';

/** Options of {@link TextClassifier} (the architecture; every one has a default). */
export interface TextClassifierOptions {
  /** 'lstm' (default) or 'gru'. */
  cell?: 'lstm' | 'gru';
  /** Word embedding size (default 64). */
  embeddingDim?: number;
  /** Hidden units per direction (default 64). */
  hiddenSize?: number;
  /** Stacked recurrent layers (default 1). */
  numLayers?: number;
  /** Read each document both ways (default true). */
  bidirectional?: boolean;
  /** How the steps are summarized (default 'max'): see `nn.poolSequence`. */
  pooling?: PoolingMode;
  /** Variational dropout on the recurrent layers' inputs, one mask per document (default 0.25). */
  inputDropout?: number;
  /** Variational dropout on h where W_hh reads it, one mask per document (default 0.25). */
  recurrentDropout?: number;
  /** Dropout on the pooled features before the output layer (default 0.3). */
  dropout?: number;
  /** Tokens read per document at most; longer ones keep their beginning (default 400). */
  maxLength?: number;
}

/** Everything that rebuilds a {@link TextClassifier} (saved with its weights). */
export interface TextClassifierConfig extends Required<TextClassifierOptions> {
  /** The class names; index = class id. Binary metrics score class 1. */
  labels: string[];
  /** The tokenizer's rules. */
  tokenizer: Required<WordTokenizerOptions>;
  /** The vocabulary's tokens by id. */
  vocabulary: string[];
}

/** One prediction. */
export interface TextPrediction {
  /** The most probable class's name. */
  label: string;
  /** Its probability. */
  probability: number;
  /** Every class's probability, by class id. */
  probabilities: number[];
}

const OPTION_KEYS = ['cell', 'embeddingDim', 'hiddenSize', 'numLayers', 'bidirectional', 'pooling', 'inputDropout',
  'recurrentDropout', 'dropout', 'maxLength'];

function probability(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number' && value >= 0 && value < 1) return value;
  const message = `Expected number in [0, 1) for ${name} but received ${describe(value)}`;
  throw typeof value === 'number' ? new RangeError(message) : new TypeError(message);
}

/** The options with defaults filled in, checked. */
export function resolveOptions(options: unknown): Required<TextClassifierOptions> {
  const o = checkOptions(options, 'TextClassifier', OPTION_KEYS);
  return {
    cell: o.cell === undefined ? 'lstm' : choice(o.cell, 'cell', ['lstm', 'gru'] as const),
    embeddingDim: o.embeddingDim === undefined ? 64 : positiveInt(o.embeddingDim, 'embeddingDim'),
    hiddenSize: o.hiddenSize === undefined ? 64 : positiveInt(o.hiddenSize, 'hiddenSize'),
    numLayers: o.numLayers === undefined ? 1 : positiveInt(o.numLayers, 'numLayers'),
    bidirectional: optionalBool(o.bidirectional, 'bidirectional', true),
    pooling: o.pooling === undefined ? 'max' : choice(o.pooling, 'pooling', ['last', 'mean', 'max'] as const),
    inputDropout: probability(o.inputDropout, 'inputDropout', 0.25),
    recurrentDropout: probability(o.recurrentDropout, 'recurrentDropout', 0.25),
    dropout: probability(o.dropout, 'dropout', 0.3),
    maxLength: o.maxLength === undefined ? 400 : intInRange(o.maxLength, 'maxLength', 1, MAX_DIM),
  };
}

/** Ids `[B, T]` (batch-first, what padCollate gives) → time-major `[T, B]`. */
function timeMajor(ids: Tensor): Tensor {
  if (!(ids instanceof Tensor) || ids.ndim !== 2) {
    throw new TypeError(`Expected Tensor of token ids [batch, steps] for input but received ${ids instanceof Tensor ? `shape [${ids.shape.join(', ')}]` : describe(ids)}`);
  }
  const [B, T] = ids.shape;
  const out = new Float32Array(B * T);
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) out[t * B + b] = ids.data[b * T + t];
  return new Tensor(out, [T, B]);
}

/**
 * Text classifier (see the module notes). `forward(ids [B, T], state?, { lengths })` → logits
 * `[B, classes]` — the call `fit` makes with `padCollate` batches; `classify(texts)` does the rest.
 * Parameters: `embedding.weight`, `rnn.*` (PyTorch's names), `head.weight`, `head.bias`.
 */
export class TextClassifier extends Module {
  /** The configuration it was built with. */
  readonly config: TextClassifierConfig;
  /** Splits texts into tokens, as the training texts were. */
  readonly tokenizer: WordTokenizer;
  /** Maps tokens to ids. */
  readonly vocabulary: Vocabulary;
  /** Token ids → vectors. */
  embedding: Embedding;
  /** The recurrent stack (batch first). */
  rnn: LSTM | GRU;
  /** Dropout on the pooled features before the head, in training mode. */
  dropout: Dropout;
  /** Linear(features → classes): the logits. */
  head: Linear;

  /**
   * @param labels class names (at least 2, distinct); @param vocabulary ids of the words;
   * @param tokenizer how text becomes words (default `new WordTokenizer()`).
   */
  constructor(labels: readonly string[], vocabulary: Vocabulary, options: TextClassifierOptions = {}, tokenizer = new WordTokenizer()) {
    super();
    if (!Array.isArray(labels) || labels.some((l) => typeof l !== 'string')) throw new TypeError(`Expected array of class names for labels but received ${describe(labels)}`);
    if (labels.length < 2 || new Set(labels).size !== labels.length) {
      throw new RangeError(`Expected at least 2 distinct class names for labels but received ${JSON.stringify(labels)}`);
    }
    if (!(vocabulary instanceof Vocabulary)) throw new TypeError(`Expected Vocabulary for vocabulary but received ${describe(vocabulary)}`);
    if (!(tokenizer instanceof WordTokenizer)) throw new TypeError(`Expected WordTokenizer for tokenizer but received ${describe(tokenizer)}`);
    const o = resolveOptions(options);
    this.config = { ...o, labels: [...labels], tokenizer: tokenizer.toJSON(), vocabulary: [...vocabulary.tokens] };
    this.tokenizer = tokenizer;
    this.vocabulary = vocabulary;
    this.embedding = new Embedding(vocabulary.size, o.embeddingDim, { paddingIdx: vocabulary.padIndex });
    const Recurrent = o.cell === 'gru' ? GRU : LSTM;
    this.rnn = new Recurrent(o.embeddingDim, o.hiddenSize, {
      numLayers: o.numLayers, bidirectional: o.bidirectional, inputDropout: o.inputDropout, recurrentDropout: o.recurrentDropout,
    });
    this.dropout = new Dropout(o.dropout);
    this.head = new Linear(o.hiddenSize * (o.bidirectional ? 2 : 1), labels.length);
  }

  /** The class names, by class id. */
  get labels(): readonly string[] {
    return this.config.labels;
  }

  /** ids `[B, T]` (float token ids), lengths (default all T) → logits `[B, classes]`. */
  forward(ids: Tensor, _state?: unknown, options?: { lengths?: ArrayLike<number> | null }): Tensor {
    const x = this.embedding.forward(timeMajor(ids));
    const lengths = options?.lengths ?? null;
    const output = this.rnn instanceof LSTM ? this.rnn.forward(x, null, { lengths })[0] : this.rnn.forward(x, null, { lengths })[0];
    return this.classify(output, lengths);
  }

  /** {@link forward} with the recurrent layers on the libuv thread pool (what fit calls). */
  async forwardAsync(ids: Tensor, _state?: unknown, options?: { lengths?: ArrayLike<number> | null }): Promise<Tensor> {
    const x = this.embedding.forward(timeMajor(ids));
    const lengths = options?.lengths ?? null;
    const output = this.rnn instanceof LSTM ? (await this.rnn.forwardAsync(x, null, { lengths }))[0] : (await this.rnn.forwardAsync(x, null, { lengths }))[0];
    return this.classify(output, lengths);
  }

  // output [T, B, D·H] → logits [B, C]
  private classify(output: Tensor, lengths: ArrayLike<number> | null): Tensor {
    const pooled = poolSequence(output, lengths, this.config.pooling, { bidirectional: this.config.bidirectional });
    return this.head.forward(this.dropout.forward(pooled));
  }

  /** A document's token ids as the model reads it (tokenized, truncated to maxLength). */
  encode(text: string): Int32Array {
    let tokens = this.tokenizer.tokenize(text);
    if (tokens.length > this.config.maxLength) tokens = tokens.slice(0, this.config.maxLength);
    return tokens.length === 0 ? Int32Array.of(this.vocabulary.unkIndex) : this.vocabulary.encode(tokens);
  }

  /**
   * The class probabilities of each text (eval mode, no gradients; documents of similar length are
   * batched together, results come back in the given order).
   * @param batchSize documents per forward call (default 64)
   */
  probabilities(texts: readonly string[], batchSize = 64): Float32Array[] {
    if (!Array.isArray(texts)) throw new TypeError(`Expected array of strings for texts but received ${describe(texts)}`);
    positiveInt(batchSize, 'batchSize');
    const encoded = texts.map((text, i) => {
      if (typeof text !== 'string') throw new TypeError(`Expected string for texts[${i}] but received ${describe(text)}`);
      return this.encode(text);
    });
    const order = encoded.map((_, i) => i).sort((a, b) => encoded[a].length - encoded[b].length || a - b);
    const result: Float32Array[] = new Array(texts.length);
    const C = this.labels.length;
    const modes = this.modules().map((m) => [m, m.training] as const);
    this.eval();
    try {
      noGrad(() => {
        for (let start = 0; start < order.length; start += batchSize) {
          const items = order.slice(start, start + batchSize);
          const lengths = items.map((i) => encoded[i].length);
          const T = Math.max(...lengths);
          const ids = new Float32Array(items.length * T); // <pad> is 0
          items.forEach((i, b) => ids.set(encoded[i], b * T));
          const logits = this.forward(new Tensor(ids, [items.length, T]), null, { lengths }).softmax(-1).data;
          items.forEach((i, b) => { result[i] = logits.slice(b * C, (b + 1) * C); });
        }
      });
    } finally {
      for (const [m, training] of modes) m.training = training;
    }
    return result;
  }

  /** The predicted class and its probability for each text ({@link probabilities}). */
  predict(texts: readonly string[], batchSize = 64): TextPrediction[] {
    return this.probabilities(texts, batchSize).map((p) => {
      let best = 0;
      for (let c = 1; c < p.length; c++) if (p[c] > p[best]) best = c;
      return { label: this.labels[best], probability: p[best], probabilities: Array.from(p) };
    });
  }

  override extraRepr(): string {
    return `classes=${this.labels.length}, vocab=${this.vocabulary.size}, pooling=${this.config.pooling}`;
  }
}
