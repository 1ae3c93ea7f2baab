/**
 * Text generation: a character-level language model, from raw text to samples.
 *
 * ```ts
 * import { text } from 'rnnkit';
 * const vocab = text.CharVocab.fromText(corpus);
 * const model = new text.CharLM(vocab.size, { cell: 'lstm', hiddenSize: 256, numLayers: 2 });
 * const history = await text.train(model, vocab, trainText, { validation: validText, epochs: 5 });
 * console.log(history.metrics.val_bpc);                 // bits per character, per epoch
 * console.log(text.generate(model, vocab, { prompt: 'The ', length: 300, temperature: 0.8, topK: 20, seed: 1 }));
 * text.save('lm.safetensors', model, vocab);           // weights + vocabulary + config in one file
 * const { model: again, vocab: sameVocab } = text.load('lm.safetensors');
 * ```
 *
 * - {@link CharVocab}: the characters (Unicode code points) of a text, encode/decode, JSON.
 * - {@link CharLM}: Embedding → LSTM or GRU stack → Linear, batch-first `[B, T]` ids → `[B, T, V]` logits.
 * - {@link train}: `fit` with truncated BPTT over long windows of the text (the detached state is carried
 *   from chunk to chunk of a window), Adam, one-cycle learning rate, clipping; validation after every epoch.
 * - {@link evaluate}: exact per-character cross-entropy of a text (state carried through it):
 *   loss (nats), perplexity, bits per character.
 * - {@link generate}: sampling with temperature, top-k and a prompt, reproducible with a seed.
 * - {@link save} / {@link load}: one safetensors file (PyTorch's parameter names; vocabulary and
 *   configuration as JSON in the metadata).
 * @module
 */
import { DataLoader } from '../data/loader.js';
import { TensorDataset } from '../data/dataset.js';
import { readSafetensors, saveSafetensors } from '../io/safetensors.js';
import { Embedding } from '../nn/embedding.js';
import { Linear } from '../nn/linear.js';
import { crossEntropy } from '../nn/loss.js';
import { Module } from '../nn/module.js';
import { GRU, LSTM } from '../nn/rnn.js';
import { Adam } from '../optim/adam.js';
import { OneCycleLR } from '../optim/one-cycle.js';
import { isGradEnabled, noGrad } from '../tensor/autograd.js';
import { getRngState, manualSeed, randomUniform, setRngState } from '../tensor/random.js';
import { reshape, transpose } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { yieldToEventLoop } from '../train/batch.js';
import type { Callback, EpochLogs } from '../train/callbacks.js';
import { fit, type History } from '../train/fit.js';
import type { ProgressSetting } from '../train/progress.js';
import { checkOptions, choice, describe, expectObject, intInRange, isNullish, positiveInt } from '../validate.js';

const LN2 = Math.LN2;

/** A finite number ≥ `min` (RangeError when a number out of range, TypeError otherwise). */
function numberAtLeast(value: unknown, name: string, min: number, words: string): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= min) return value;
  const message = `Expected ${words} for ${name} but received ${describe(value)}`;
  throw typeof value === 'number' ? new RangeError(message) : new TypeError(message);
}

function finiteSeed(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new TypeError(`Expected finite number for ${name} but received ${describe(value)}`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// Vocabulary

/** Options of {@link CharVocab.fromText}. */
export interface CharVocabOptions {
  /** Keep only characters seen at least this often (default 1: every character of the text). */
  minCount?: number;
  /**
   * A character that stands for every character outside the vocabulary (it is added to it), so
   * any text can be encoded. Default null: encoding an unknown character throws.
   */
  unknown?: string | null;
}

/** The JSON form of a {@link CharVocab} (what {@link save} stores). */
export interface CharVocabJSON {
  /** Every character by id. */
  chars: string[];
  /** The character unknown ones map to, or null. */
  unknown: string | null;
}

const codePoint = (char: string): string => `U+${(char.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')}`;

function singleCharacter(value: unknown, name: string): string {
  if (typeof value !== 'string') throw new TypeError(`Expected string of one character for ${name} but received ${describe(value)}`);
  if ([...value].length !== 1) throw new RangeError(`Expected string of one character for ${name} but received ${JSON.stringify(value)} of length ${[...value].length}`);
  return value;
}

/**
 * The characters of a language model: Unicode code points (a surrogate pair is one character),
 * sorted by code point, id = position. Optionally an `unknown` character that every other
 * character encodes to.
 */
export class CharVocab {
  /** The characters, sorted by code point; `chars[id]`. */
  readonly chars: readonly string[];
  /** The stand-in for characters outside the vocabulary (one of `chars`), or null. */
  readonly unknown: string | null;
  private readonly ids: Map<string, number>;

  /**
   * @param chars distinct single characters (sorted here).
   * @throws TypeError / RangeError for a non-array, an entry that is not one character, a duplicate.
   */
  constructor(chars: readonly string[], options: { unknown?: string | null } = {}) {
    if (!Array.isArray(chars)) throw new TypeError(`Expected array of characters for chars but received ${describe(chars)}`);
    const o = checkOptions(options, 'CharVocab', ['unknown']);
    const unknown = isNullish(o.unknown) ? null : singleCharacter(o.unknown, 'unknown');
    const list = chars.map((c, i) => singleCharacter(c, `chars[${i}]`));
    if (unknown !== null && !list.includes(unknown)) list.push(unknown);
    list.sort((a, b) => (a.codePointAt(0) as number) - (b.codePointAt(0) as number));
    for (let i = 1; i < list.length; i++) {
      if (list[i] === list[i - 1]) throw new RangeError(`Expected distinct characters for chars but received ${JSON.stringify(list[i])} twice`);
    }
    if (list.length === 0) throw new RangeError('Expected at least one character for chars but received none');
    this.chars = Object.freeze(list);
    this.unknown = unknown;
    this.ids = new Map(list.map((c, i) => [c, i]));
  }

  /**
   * The vocabulary of `text`: its distinct characters (those seen at least `minCount` times), plus
   * `unknown` when given.
   * @throws RangeError `Expected at least one character for chars but received none` for an empty text.
   */
  static fromText(text: string, options: CharVocabOptions = {}): CharVocab {
    if (typeof text !== 'string') throw new TypeError(`Expected string for text but received ${describe(text)}`);
    const o = checkOptions(options, 'CharVocab.fromText', ['minCount', 'unknown']);
    const minCount = o.minCount === undefined ? 1 : positiveInt(o.minCount, 'minCount');
    const counts = characterCounts(text);
    const kept = [...counts].filter(([, n]) => n >= minCount).map(([c]) => c);
    return new CharVocab(kept, { unknown: o.unknown as string | null | undefined });
  }

  /** A vocabulary from its JSON form (an object or the JSON text). */
  static fromJSON(json: unknown): CharVocab {
    const value = typeof json === 'string' ? JSON.parse(json) as unknown : json;
    const o = expectObject(value, 'vocabulary JSON');
    return new CharVocab(o.chars as string[], { unknown: o.unknown as string | null });
  }

  /** Number of characters (the model's vocabSize). */
  get size(): number {
    return this.chars.length;
  }

  /** The id of `char`, or −1. */
  idOf(char: string): number {
    return this.ids.get(char) ?? -1;
  }

  /**
   * The ids of `text`'s characters.
   * @param name how errors name the text (`prompt`, …)
   * @throws RangeError `Expected characters of the vocabulary for text but received "é" (U+00E9) at character 12` when
   *   the vocabulary has no `unknown` character.
   */
  encode(text: string, name = 'text'): Int32Array {
    if (typeof text !== 'string') throw new TypeError(`Expected string for ${name} but received ${describe(text)}`);
    const out = new Int32Array(text.length); // ≥ the code point count; trimmed below
    const unknownId = this.unknown === null ? -1 : this.idOf(this.unknown);
    let n = 0;
    for (const char of text) {
      let id = this.ids.get(char);
      if (id === undefined) {
        if (unknownId < 0) {
          throw new RangeError(`Expected characters of the vocabulary for ${name} but received ${JSON.stringify(char)} (${codePoint(char)}) at character ${n}`);
        }
        id = unknownId;
      }
      out[n++] = id;
    }
    return n === out.length ? out : out.slice(0, n);
  }

  /** The text of `ids`. @throws RangeError for an id outside [0, size). */
  decode(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) {
      const char = this.chars[ids[i]];
      if (char === undefined) throw new RangeError(`Expected integer between 0 and ${this.size - 1} for ids[${i}] but received ${describe(ids[i])}`);
      s += char;
    }
    return s;
  }

  /** The JSON form, for {@link CharVocab.fromJSON}. */
  toJSON(): CharVocabJSON {
    return { chars: [...this.chars], unknown: this.unknown };
  }
}

/** Occurrences of each character (code point) of `text`, in order of first appearance. */
function characterCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const char of text) counts.set(char, (counts.get(char) ?? 0) + 1);
  return counts;
}

/**
 * The entropy of the character frequencies of `text`, in bits per character: the cross-entropy of
 * the best model that ignores context (a unigram model fitted to the text itself) — the baseline
 * a language model's bits per character must beat. Also takes encoded ids.
 */
export function unigramBitsPerChar(text: string | ArrayLike<number>): number {
  let counts: Iterable<number>;
  let total = 0;
  if (typeof text === 'string') {
    counts = characterCounts(text).values();
  } else {
    const byId = new Map<number, number>();
    for (let i = 0; i < text.length; i++) byId.set(text[i], (byId.get(text[i]) ?? 0) + 1);
    counts = byId.values();
  }
  const list = [...counts];
  for (const n of list) total += n;
  if (total === 0) throw new RangeError('Expected a non-empty text for unigramBitsPerChar but received an empty one');
  return -list.reduce((h, n) => h + (n / total) * Math.log2(n / total), 0);
}

// ---------------------------------------------------------------------------------------------
// Model

/** Options of {@link CharLM}. */
export interface CharLMOptions {
  /** The recurrent cell: 'lstm' (default) or 'gru'. */
  cell?: 'lstm' | 'gru';
  /** Size of the character embeddings (default 64). */
  embeddingDim?: number;
  /** Width of every recurrent layer (default 256). */
  hiddenSize?: number;
  /** Stacked recurrent layers (default 2). */
  numLayers?: number;
  /** Dropout between the recurrent layers in training mode (default 0). */
  dropout?: number;
}

/** The state a CharLM carries: `[h, c]` (each `[numLayers, B, hiddenSize]`) for an LSTM, `h` for a GRU. */
export type CharLMState = [Tensor, Tensor] | Tensor;

/** A CharLM's full configuration (what {@link save} stores). */
export interface CharLMConfig extends Required<CharLMOptions> {
  /** Characters in the vocabulary. */
  vocabSize: number;
}

const CELLS = ['lstm', 'gru'] as const;

/** The character ids of a batch, transposed to time-major `[T, B]` (the recurrent kernels' layout). */
function timeMajorIds(tokens: unknown): { ids: Int32Array; batch: number; steps: number } {
  let data: ArrayLike<number>, batch: number, steps: number;
  if (tokens instanceof Tensor) {
    if (tokens.ndim !== 2) throw new RangeError(`Expected Tensor of shape [batch, steps] for tokens but received shape [${tokens.shape.join(', ')}]`);
    [batch, steps] = tokens.shape;
    data = tokens.data;
  } else if (Array.isArray(tokens) && Array.isArray(tokens[0])) {
    batch = tokens.length;
    steps = (tokens[0] as number[]).length;
    if (tokens.some((row) => !Array.isArray(row) || row.length !== steps)) throw new RangeError('Expected a rectangular nested array for tokens');
    data = (tokens as number[][]).flat();
  } else {
    throw new TypeError(`Expected Tensor [batch, steps] or number[][] for tokens but received ${describe(tokens)}`);
  }
  const ids = new Int32Array(batch * steps);
  for (let b = 0; b < batch; b++) for (let t = 0; t < steps; t++) ids[t * batch + b] = data[b * steps + t];
  return { ids, batch, steps };
}

/**
 * A character-level language model: Embedding(vocabSize → embeddingDim) → LSTM or GRU
 * (`numLayers` × `hiddenSize`) → Linear(hiddenSize → vocabSize). Parameters are named
 * `embedding.weight`, `rnn.weight_ih_l0`, …, `head.weight`, `head.bias` — the state_dict names of
 * a torch.nn module with attributes `embedding`, `rnn` (nn.LSTM / nn.GRU) and `head`.
 *
 * `forward(tokens [B, T], state?)` → `[logits [B, T, V], state]`; `forwardAsync` runs the
 * recurrent layers on the thread pool (fit uses it). Internally time-major (only the ids and the
 * logits are transposed).
 */
export class CharLM extends Module {
  /** V: characters in the vocabulary. */
  readonly vocabSize: number;
  /** The recurrent cell. */
  readonly cell: 'lstm' | 'gru';
  /** Width of each character's vector. */
  readonly embeddingDim: number;
  /** Hidden units per layer. */
  readonly hiddenSize: number;
  /** Stacked layers. */
  readonly numLayers: number;
  /** Dropout probability between the stacked layers, in training mode. */
  readonly dropout: number;
  /** Character ids → vectors. */
  embedding: Embedding;
  /** The recurrent stack. */
  rnn: LSTM | GRU;
  /** Linear(hiddenSize → V): the logits. */
  head: Linear;

  /**
   * @throws TypeError / RangeError: `Expected positive integer for vocabSize but received 0 of type number`,
   *   `Expected one of lstm, gru for cell but received rnn of type string`, `Expected one of … for CharLM option but received …`.
   */
  constructor(vocabSize: number, options: CharLMOptions = {}) {
    super();
    this.vocabSize = positiveInt(vocabSize, 'vocabSize');
    const o = checkOptions(options, 'CharLM', ['cell', 'embeddingDim', 'hiddenSize', 'numLayers', 'dropout']);
    this.cell = o.cell === undefined ? 'lstm' : choice(o.cell, 'cell', CELLS);
    this.embeddingDim = o.embeddingDim === undefined ? 64 : positiveInt(o.embeddingDim, 'embeddingDim');
    this.hiddenSize = o.hiddenSize === undefined ? 256 : positiveInt(o.hiddenSize, 'hiddenSize');
    this.numLayers = o.numLayers === undefined ? 2 : positiveInt(o.numLayers, 'numLayers');
    this.dropout = o.dropout === undefined ? 0 : o.dropout as number; // checked by the recurrent layer
    this.embedding = new Embedding(this.vocabSize, this.embeddingDim);
    const Recurrent = this.cell === 'lstm' ? LSTM : GRU;
    this.rnn = new Recurrent(this.embeddingDim, this.hiddenSize, { numLayers: this.numLayers, dropout: this.dropout });
    this.head = new Linear(this.hiddenSize, this.vocabSize);
  }

  /** The configuration (constructor arguments). */
  get config(): CharLMConfig {
    const { vocabSize, cell, embeddingDim, hiddenSize, numLayers, dropout } = this;
    return { vocabSize, cell, embeddingDim, hiddenSize, numLayers, dropout };
  }

  /** tokens `[B, T]` (integral ids), state (null = zeros) → `[logits [B, T, vocabSize], state]`. */
  forward(tokens: Tensor | number[][], state?: CharLMState | null): [Tensor, CharLMState] {
    const x = this.embed(tokens);
    const [out, next] = this.rnn instanceof LSTM
      ? this.rnn.forward(x, state as [Tensor, Tensor] | null | undefined)
      : this.rnn.forward(x, state as Tensor | null | undefined);
    return [this.logits(out), next];
  }

  /**
   * {@link forward} with the recurrent layers on the libuv thread pool. Gradient recording is
   * decided once, at the call (like the recurrent layers): a call started under `noGrad` records
   * nothing, even after its awaits.
   */
  async forwardAsync(tokens: Tensor | number[][], state?: CharLMState | null): Promise<[Tensor, CharLMState]> {
    const recording = isGradEnabled();
    const x = this.embed(tokens);
    const [out, next] = this.rnn instanceof LSTM
      ? await this.rnn.forwardAsync(x, state as [Tensor, Tensor] | null | undefined)
      : await this.rnn.forwardAsync(x, state as Tensor | null | undefined);
    return [recording ? this.logits(out) : noGrad(() => this.logits(out)), next];
  }

  // tokens [B, T] → embeddings [T, B, E]
  private embed(tokens: Tensor | number[][]): Tensor {
    const { ids, batch, steps } = timeMajorIds(tokens);
    return this.embedding.forward(new Tensor(Float32Array.from(ids), [steps, batch]));
  }

  // out [T, B, H] → logits [B, T, V]
  private logits(out: Tensor): Tensor {
    return transpose(this.head.forward(out), 0, 1);
  }

  override extraRepr(): string {
    return `vocab_size=${this.vocabSize}, cell=${this.cell}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Data

/** Encoded ids of a string, or ids checked against the vocabulary size. */
function idsOf(source: unknown, vocab: CharVocab, name: string): Int32Array {
  if (typeof source === 'string') return vocab.encode(source, name);
  if (source instanceof Int32Array) {
    for (let i = 0; i < source.length; i++) {
      if (source[i] < 0 || source[i] >= vocab.size) intInRange(source[i], `${name}[${i}]`, 0, vocab.size - 1);
    }
    return source;
  }
  throw new TypeError(`Expected string or Int32Array for ${name} but received ${describe(source)}`);
}

/**
 * The training windows of a text: item i is `[input, target]` = ids `[i·L, i·L + L)` and
 * `[i·L + 1, i·L + L + 1)` (L = `seqLength`, next-character targets), as float Tensors `[L]`; the
 * last partial window is dropped.
 * @throws RangeError when the text is shorter than one window plus one character.
 */
export function textDataset(ids: Int32Array, seqLength: number): TensorDataset {
  if (!(ids instanceof Int32Array)) throw new TypeError(`Expected Int32Array for ids but received ${describe(ids)}`);
  positiveInt(seqLength, 'seqLength');
  const windows = Math.floor((ids.length - 1) / seqLength);
  if (windows < 1) {
    throw new RangeError(`Expected a text of at least ${seqLength + 1} characters (seqLength + 1) for training but received ${ids.length}`);
  }
  const input = new Float32Array(windows * seqLength);
  const target = new Float32Array(windows * seqLength);
  for (let i = 0; i < input.length; i++) {
    input[i] = ids[i];
    target[i] = ids[i + 1];
  }
  return new TensorDataset(new Tensor(input, [windows, seqLength]), new Tensor(target, [windows, seqLength]));
}

function checkModelAndVocab(model: unknown, vocab: unknown): { model: CharLM; vocab: CharVocab } {
  if (!(model instanceof CharLM)) throw new TypeError(`Expected CharLM for model but received ${describe(model)}`);
  if (!(vocab instanceof CharVocab)) throw new TypeError(`Expected CharVocab for vocab but received ${describe(vocab)}`);
  if (vocab.size !== model.vocabSize) {
    throw new RangeError(`Expected a vocabulary of ${model.vocabSize} characters (the model's vocabSize) for vocab but received ${vocab.size}`);
  }
  return { model, vocab };
}

// ---------------------------------------------------------------------------------------------
// Evaluation

/** Options of {@link evaluate}. */
export interface EvaluateTextOptions {
  /** Contiguous pieces of the text evaluated side by side as one batch (default 16). */
  streams?: number;
  /** Time steps per model call; the state is carried from call to call (default 256). */
  steps?: number;
}

/** What {@link evaluate} reports. */
export interface TextEvaluation {
  /** Mean cross-entropy per predicted character, in nats. */
  loss: number;
  /** exp(loss). */
  perplexity: number;
  /** Bits per character: loss / ln 2. */
  bpc: number;
  /** Characters predicted (each stream's first character is context, not predicted). */
  characters: number;
}

/**
 * How well `model` predicts `text`: the text is cut into `streams` contiguous pieces that run side
 * by side; each piece is read `steps` characters at a time with its state carried along, so every
 * character is predicted from all of its piece before it. Eval mode, no gradients. The few
 * characters that do not divide evenly into the streams are left out (`characters` says how many
 * were scored).
 * @throws RangeError when the text has fewer than 2 characters.
 */
export async function evaluate(model: CharLM, vocab: CharVocab, text: string | Int32Array, options: EvaluateTextOptions = {}): Promise<TextEvaluation> {
  checkModelAndVocab(model, vocab);
  const o = checkOptions(options, 'evaluate', ['streams', 'steps']);
  const ids = idsOf(text, vocab, 'text');
  if (ids.length < 2) throw new RangeError(`Expected a text of at least 2 characters for evaluate but received ${ids.length}`);
  const streams = Math.min(o.streams === undefined ? 16 : positiveInt(o.streams, 'streams'), ids.length - 1);
  const steps = o.steps === undefined ? 256 : positiveInt(o.steps, 'steps');
  const span = Math.floor((ids.length - 1) / streams); // predicted characters per stream
  const modes = model.modules().map((m) => [m, m.training] as const);
  model.eval();
  let nats = 0;
  try {
    let state: CharLMState | null = null;
    for (let start = 0; start < span; start += steps) {
      const size = Math.min(steps, span - start);
      const input = new Float32Array(streams * size);
      const target = new Float32Array(streams * size);
      for (let s = 0; s < streams; s++) {
        for (let t = 0; t < size; t++) {
          input[s * size + t] = ids[s * span + start + t];
          target[s * size + t] = ids[s * span + start + t + 1];
        }
      }
      let pending: Promise<[Tensor, CharLMState]> | undefined;
      noGrad(() => { pending = model.forwardAsync(new Tensor(input, [streams, size]), state); });
      const [logits, next] = await (pending as Promise<[Tensor, CharLMState]>);
      state = next;
      nats += noGrad(() => crossEntropy(reshape(logits, [-1, model.vocabSize]), new Tensor(target, [streams * size]), { reduction: 'sum' })).item();
      await yieldToEventLoop();
    }
  } finally {
    for (const [m, training] of modes) m.training = training;
  }
  const characters = span * streams;
  const loss = nats / characters;
  return { loss, perplexity: Math.exp(loss), bpc: loss / LN2, characters };
}

// ---------------------------------------------------------------------------------------------
// Training

/** Options of {@link train}. */
export interface TrainTextOptions {
  /** Text to evaluate after every epoch ({@link evaluate}): adds `val_loss`, `val_perplexity`, `val_bpc` to the logs. */
  validation?: string | Int32Array | null;
  /** Passes over the training windows (default 1). */
  epochs?: number;
  /** Windows per batch (default 32). */
  batchSize?: number;
  /** Characters per training window (default 256); windows are shuffled, each starts from a zero state. */
  seqLength?: number;
  /**
   * Truncated-BPTT chunk: an optimizer step every `bpttSteps` characters of a window, the detached
   * state carried on (default 32; shorter chunks mean more steps per character read, which is what
   * a short training run needs most).
   */
  bpttSteps?: number;
  /** Adam's learning rate: the peak of the one-cycle schedule, or the constant rate (default 3e-3). */
  lr?: number;
  /** 'oneCycle' (default: warm-up over the first 10 % of the steps, then cosine annealing to ~0) or 'constant'. */
  schedule?: 'oneCycle' | 'constant';
  /** Clip the gradients' total norm to this before each step (default 1). */
  clipGradNorm?: number;
  /** Seed of the window order (default: drawn from the global RNG, so `manualSeed` fixes it). */
  seed?: number;
  /** Streams of the per-epoch validation (default 16; see {@link evaluate}). */
  validationStreams?: number;
  /** fit's callbacks (they see the `val_*` and `bpc` logs). */
  callbacks?: Callback | Callback[];
  /** fit's progress output (default: a bar on a TTY, JSON lines otherwise; false = silent). */
  progress?: ProgressSetting;
  /** Stops after the current chunk; train then resolves with `stopReason: 'aborted'`. */
  signal?: AbortSignal;
}

const TRAIN_KEYS = [
  'validation', 'epochs', 'batchSize', 'seqLength', 'bpttSteps', 'lr', 'schedule', 'clipGradNorm', 'seed',
  'validationStreams', 'callbacks', 'progress', 'signal',
];

/**
 * Trains `model` on `trainText` with `fit`: the text is cut into `seqLength`-character windows
 * ({@link textDataset}), shuffled into batches; each window is read in `bpttSteps` chunks with the
 * detached state carried from chunk to chunk (truncated BPTT), one Adam step per chunk, gradient
 * norm clipped. After every epoch `validation` is scored with {@link evaluate}. The epoch logs
 * (and `history.metrics`) carry `loss` (nats/char), `bpc`, and with validation `val_loss`,
 * `val_perplexity`, `val_bpc`.
 * @throws TypeError / RangeError for bad options (exact messages in the tests), e.g.
 *   `Expected positive integer for bpttSteps but received 0 of type number`.
 */
export async function train(model: CharLM, vocab: CharVocab, trainText: string | Int32Array, options: TrainTextOptions = {}): Promise<History> {
  checkModelAndVocab(model, vocab);
  const o = checkOptions(options, 'train', TRAIN_KEYS) as TrainTextOptions;
  const epochs = o.epochs === undefined ? 1 : positiveInt(o.epochs, 'epochs');
  const batchSize = o.batchSize === undefined ? 32 : positiveInt(o.batchSize, 'batchSize');
  const seqLength = o.seqLength === undefined ? 256 : positiveInt(o.seqLength, 'seqLength');
  const bpttSteps = o.bpttSteps === undefined ? 32 : positiveInt(o.bpttSteps, 'bpttSteps');
  const lr = o.lr === undefined ? 3e-3 : numberAtLeast(o.lr, 'lr', Number.MIN_VALUE, 'positive number');
  const schedule = o.schedule === undefined ? 'oneCycle' : choice(o.schedule, 'schedule', ['oneCycle', 'constant'] as const);
  const clipGradNorm = o.clipGradNorm === undefined ? 1 : numberAtLeast(o.clipGradNorm, 'clipGradNorm', Number.MIN_VALUE, 'positive number');
  const seed = o.seed === undefined ? undefined : finiteSeed(o.seed, 'seed');
  const validationStreams = o.validationStreams === undefined ? 16 : positiveInt(o.validationStreams, 'validationStreams');
  const validation = isNullish(o.validation) ? null : idsOf(o.validation, vocab, 'validation');
  const loader = new DataLoader(textDataset(idsOf(trainText, vocab, 'trainText'), seqLength), { batchSize, shuffle: true, seed });

  const optimizer = new Adam(model.parameters(), { lr });
  const stepsPerEpoch = (loader.length as number) * Math.ceil(seqLength / bpttSteps); // one step per chunk
  const scheduler = schedule === 'oneCycle' ? new OneCycleLR(optimizer, lr, { epochs, stepsPerEpoch, pctStart: 0.1 }) : null;
  const reporter: Callback = {
    // First in line, so later callbacks and the progress output see the added logs.
    onEpochEnd: async (_epoch: number, logs: EpochLogs) => {
      logs.bpc = logs.loss / LN2;
      if (validation === null) return;
      const result = await evaluate(model, vocab, validation, { streams: validationStreams });
      Object.assign(logs, { val_loss: result.loss, val_perplexity: result.perplexity, val_bpc: result.bpc });
    },
  };
  const userCallbacks = isNullish(o.callbacks) ? [] : Array.isArray(o.callbacks) ? o.callbacks : [o.callbacks];
  return fit(model, {
    train: loader, loss: 'crossEntropy', optimizer, scheduler, epochs, clipGradNorm, tbptt: { steps: bpttSteps },
    callbacks: [reporter, ...userCallbacks], progress: o.progress, signal: o.signal,
  });
}

// ---------------------------------------------------------------------------------------------
// Generation

/** Options of {@link generate}. */
export interface GenerateOptions {
  /**
   * Text the model reads first (its characters must be in the vocabulary, or map to its unknown
   * character). Default: a newline when the vocabulary has one (the start of a new line or
   * document), otherwise required.
   */
  prompt?: string;
  /** Characters to generate (default 200). */
  length?: number;
  /** Divides the logits: < 1 sharper, > 1 flatter; 0 = always the most likely character (default 1). */
  temperature?: number;
  /** Sample only among the k most likely characters (default: all); 1 = greedy. */
  topK?: number | null;
  /** Seed of the draws: the same seed gives the same text, and the global RNG is left as it was. Default: draw from the global RNG. */
  seed?: number;
}

/**
 * Index of a character drawn from `logits` [V]: softmax(logits / temperature) restricted to the
 * `topK` largest (ties: lower index first), one uniform draw; greedy (no draw) for temperature 0
 * or topK 1.
 */
export function sampleLogits(logits: ArrayLike<number>, temperature: number, topK: number, uniform: () => number): number {
  const order = Array.from({ length: logits.length }, (_, i) => i).sort((a, b) => logits[b] - logits[a] || a - b);
  if (temperature === 0 || topK === 1) return order[0];
  const candidates = order.slice(0, topK);
  const top = logits[candidates[0]];
  const weights = candidates.map((i) => Math.exp((logits[i] - top) / temperature)); // top's weight is 1: the sum is ≥ 1
  const total = weights.reduce((a, b) => a + b, 0);
  let u = uniform() * total;
  for (let j = 0; j < candidates.length; j++) {
    u -= weights[j];
    if (u < 0) return candidates[j];
  }
  return candidates[0]; // rounding left u ≥ 0 after all weights: only possible at the very end of [0, total)
}

/**
 * Generates `length` characters after `prompt` (returned WITHOUT the prompt): the model reads the
 * prompt, then repeatedly draws the next character (temperature, top-k) and reads it. Eval mode,
 * no gradients, synchronous.
 * @throws TypeError / RangeError: `Expected non-negative number for temperature but received -1 of type number`,
 *   `Expected integer between 1 and 98 for topK but received 0 of type number`, a prompt character
 *   outside the vocabulary, …
 */
export function generate(model: CharLM, vocab: CharVocab, options: GenerateOptions = {}): string {
  checkModelAndVocab(model, vocab);
  const o = checkOptions(options, 'generate', ['prompt', 'length', 'temperature', 'topK', 'seed']);
  const length = o.length === undefined ? 200 : positiveInt(o.length, 'length');
  const temperature = o.temperature === undefined ? 1 : numberAtLeast(o.temperature, 'temperature', 0, 'non-negative number');
  const topK = isNullish(o.topK) ? vocab.size : intInRange(o.topK, 'topK', 1, vocab.size);
  const seed = o.seed === undefined ? null : finiteSeed(o.seed, 'seed');
  const prompt = promptIds(o.prompt, vocab);

  const saved = seed === null ? null : getRngState();
  const modes = model.modules().map((m) => [m, m.training] as const);
  if (seed !== null) manualSeed(seed);
  model.eval();
  try {
    return noGrad(() => {
      // The prompt in one sequence call; then one character per step of a stream (packed weights,
      // the same numbers as forward) carrying on from the prompt's state.
      const [promptLogits, state] = model.forward(new Tensor(Float32Array.from(prompt), [1, prompt.length]));
      const stream = model.rnn.stream();
      if (Array.isArray(state)) stream.setState(state[0], state[1]);
      else stream.setState(state);
      let logits = promptLogits.data.subarray(promptLogits.data.length - model.vocabSize);
      const out = new Int32Array(length);
      for (let i = 0; i < length; i++) {
        out[i] = sampleLogits(logits, temperature, topK, randomUniform);
        if (i + 1 < length) logits = model.head.forward(stream.step(model.embedding.forward(new Tensor(Float32Array.of(out[i]), [1])))).data;
      }
      return vocab.decode(out);
    });
  } finally {
    for (const [m, training] of modes) m.training = training;
    if (saved) setRngState(saved);
  }
}

function promptIds(prompt: unknown, vocab: CharVocab): Int32Array {
  if (prompt === undefined) {
    if (vocab.idOf('\n') >= 0) return Int32Array.of(vocab.idOf('\n'));
    throw new TypeError('Expected a prompt (the vocabulary has no newline to start from) but received undefined');
  }
  if (typeof prompt !== 'string') throw new TypeError(`Expected string for prompt but received ${describe(prompt)}`);
  if (prompt === '') throw new RangeError('Expected non-empty string for prompt but received an empty string');
  return vocab.encode(prompt, 'prompt');
}

// ---------------------------------------------------------------------------------------------
// Save / load

/** Metadata keys {@link save} writes (a caller's metadata may not use them). */
export const TEXT_METADATA_KEYS = {
  /** The task name. */
  task: 'rnnkit.task',
  /** The model's configuration (JSON). */
  model: 'rnnkit.charlm',
  /** The character vocabulary (JSON). */
  vocab: 'rnnkit.vocab',
} as const;
const TASK = 'char-lm';

/**
 * Writes `model` and `vocab` to one safetensors file: the parameters under PyTorch's names, the
 * configuration and the vocabulary as JSON in the metadata (`rnnkit.charlm`, `rnnkit.vocab`,
 * `rnnkit.task` = `char-lm`), plus any string `metadata` of the caller.
 */
export function save(file: string, model: CharLM, vocab: CharVocab, metadata: Record<string, string> = {}): void {
  if (typeof file !== 'string' || file === '') throw new TypeError(`Expected non-empty string for file but received ${describe(file)}`);
  checkModelAndVocab(model, vocab);
  const extra = expectObject(metadata, 'metadata');
  for (const [key, value] of Object.entries(extra)) {
    if ((Object.values(TEXT_METADATA_KEYS) as string[]).includes(key)) throw new RangeError(`Expected a metadata key other than ${key} (written by save) but received ${key}`);
    if (typeof value !== 'string') throw new TypeError(`Expected string for metadata.${key} but received ${describe(value)}`);
  }
  saveSafetensors(file, model.stateDict(), {
    ...extra as Record<string, string>,
    [TEXT_METADATA_KEYS.task]: TASK,
    [TEXT_METADATA_KEYS.model]: JSON.stringify(model.config),
    [TEXT_METADATA_KEYS.vocab]: JSON.stringify(vocab),
  });
}

/** What {@link load} returns. */
export interface LoadedCharLM {
  /** The model, its weights loaded. */
  model: CharLM;
  /** Its vocabulary. */
  vocab: CharVocab;
  /** The caller's metadata given to {@link save} (without rnnkit's keys). */
  metadata: Record<string, string>;
}

/**
 * Reads a file written by {@link save} (a path or its bytes): the model (in eval mode), the
 * vocabulary and the caller's metadata. Building the model does not consume the global RNG.
 * @throws Error `Expected a char-lm safetensors file (metadata rnnkit.task = char-lm) for source but received one without it`;
 *   the safetensors reader's errors; loadStateDict's errors for missing or misshapen tensors.
 */
export function load(source: string | Uint8Array): LoadedCharLM {
  const { tensors, metadata } = readSafetensors(source);
  if (metadata?.[TEXT_METADATA_KEYS.task] !== TASK) {
    throw new TypeError(`Expected a ${TASK} safetensors file (metadata ${TEXT_METADATA_KEYS.task} = ${TASK}) for source but received one without it`);
  }
  const config = JSON.parse(metadata[TEXT_METADATA_KEYS.model] ?? 'null') as CharLMConfig | null;
  const vocab = CharVocab.fromJSON(metadata[TEXT_METADATA_KEYS.vocab] ?? 'null');
  const { vocabSize, ...options } = expectObject(config, `metadata ${TEXT_METADATA_KEYS.model}`) as unknown as CharLMConfig;
  const rng = getRngState();
  let model: CharLM;
  try {
    model = new CharLM(vocabSize, options);
  } finally {
    setRngState(rng); // the random init is overwritten anyway
  }
  model.loadStateDict(tensors);
  model.eval();
  const own = Object.values(TEXT_METADATA_KEYS) as string[];
  const rest = Object.fromEntries(Object.entries(metadata).filter(([key]) => !own.includes(key)));
  checkModelAndVocab(model, vocab);
  return { model, vocab, metadata: rest };
}
