/**
 * `Vocabulary`: word tokens ↔ integer ids for an `nn.Embedding`. Built from tokenized training
 * documents with a minimum frequency and/or a maximum size; `<pad>` (id 0, what `padCollate` pads
 * with by default and what `Embedding`'s `paddingIdx` should be) and `<unk>` (id 1, every token
 * outside the vocabulary) come first. Saved with a model as JSON.
 * @module
 */
import { checkOptions, describe, expectObject, intInRange, MAX_DIM } from '../validate.js';

/** Options of {@link Vocabulary.build}. */
export interface VocabularyOptions {
  /** Keep tokens seen at least this many times (default 1). */
  minFreq?: number;
  /** Keep at most this many tokens, the most frequent, besides `<pad>` and `<unk>` (default: all). */
  maxSize?: number | null;
}

/** The JSON form of a {@link Vocabulary}. */
export interface VocabularyJSON {
  /** Every token by id, `<pad>` and `<unk>` first. */
  tokens: string[];
}

/** The padding token (id 0) and the unknown token (id 1). */
export const PAD_TOKEN = '<pad>';
/** The unknown token (id 1): what every token outside the vocabulary maps to. */
export const UNK_TOKEN = '<unk>';

/** Tokens and their ids: `tokens[id]`, `<pad>` = 0, `<unk>` = 1, then by decreasing frequency. */
export class Vocabulary {
  /** Every token by id. */
  readonly tokens: readonly string[];
  /** The id of `<pad>`: 0. */
  readonly padIndex = 0;
  /** The id of `<unk>`: 1. */
  readonly unkIndex = 1;
  private readonly ids: Map<string, number>;

  /**
   * @param tokens the tokens by id after `<pad>` and `<unk>` (which are added), distinct.
   * @throws TypeError / RangeError for a non-string or repeated token.
   */
  constructor(tokens: readonly string[]) {
    if (!Array.isArray(tokens)) throw new TypeError(`Expected array of strings for tokens but received ${describe(tokens)}`);
    const list = [PAD_TOKEN, UNK_TOKEN, ...tokens.filter((t) => t !== PAD_TOKEN && t !== UNK_TOKEN)];
    this.ids = new Map();
    list.forEach((token, id) => {
      if (typeof token !== 'string') throw new TypeError(`Expected string for tokens[${id - 2}] but received ${describe(token)}`);
      if (this.ids.has(token)) throw new RangeError(`Expected distinct tokens for tokens but received ${JSON.stringify(token)} twice`);
      this.ids.set(token, id);
    });
    this.tokens = Object.freeze(list);
  }

  /**
   * The vocabulary of tokenized documents: tokens seen at least `minFreq` times, the `maxSize`
   * most frequent of them; ties in frequency are ordered by the token's first appearance, so the
   * ids depend only on the documents' order (the same training data gives the same ids).
   */
  static build(documents: Iterable<readonly string[]>, options: VocabularyOptions = {}): Vocabulary {
    const o = checkOptions(options, 'Vocabulary.build', ['minFreq', 'maxSize']);
    const minFreq = o.minFreq === undefined ? 1 : intInRange(o.minFreq, 'minFreq', 1, MAX_DIM);
    const maxSize = o.maxSize === undefined || o.maxSize === null ? Infinity : intInRange(o.maxSize, 'maxSize', 0, MAX_DIM);
    if (documents === null || typeof documents !== 'object' || !(Symbol.iterator in documents)) {
      throw new TypeError(`Expected iterable of token arrays for documents but received ${describe(documents)}`);
    }
    const counts = new Map<string, number>(); // insertion order = first appearance
    for (const tokens of documents) {
      if (!Array.isArray(tokens)) throw new TypeError(`Expected array of tokens for a document but received ${describe(tokens)}`);
      for (const token of tokens) counts.set(token, (counts.get(token) ?? 0) + 1);
    }
    counts.delete(PAD_TOKEN);
    counts.delete(UNK_TOKEN);
    const kept = [...counts].filter(([, n]) => n >= minFreq);
    kept.sort((a, b) => b[1] - a[1]); // stable: ties keep first-appearance order
    return new Vocabulary(kept.slice(0, Math.min(kept.length, maxSize)).map(([token]) => token));
  }

  /** Number of ids (the Embedding's numEmbeddings), `<pad>` and `<unk>` included. */
  get size(): number {
    return this.tokens.length;
  }

  /** The id of `token` (`<unk>`'s for tokens outside the vocabulary). */
  idOf(token: string): number {
    return this.ids.get(token) ?? this.unkIndex;
  }

  /** Whether `token` has its own id. */
  has(token: string): boolean {
    return this.ids.has(token);
  }

  /** The ids of `tokens`. */
  encode(tokens: readonly string[]): Int32Array {
    if (!Array.isArray(tokens)) throw new TypeError(`Expected array of tokens for tokens but received ${describe(tokens)}`);
    const out = new Int32Array(tokens.length);
    for (let i = 0; i < tokens.length; i++) out[i] = this.ids.get(tokens[i]) ?? this.unkIndex;
    return out;
  }

  /** The tokens of `ids`. @throws RangeError for an id outside [0, size). */
  decode(ids: ArrayLike<number>): string[] {
    return Array.from({ length: ids.length }, (_, i) => {
      const token = this.tokens[ids[i]];
      if (token === undefined) intInRange(ids[i], `ids[${i}]`, 0, this.size - 1);
      return token;
    });
  }

  /** The JSON form, for {@link Vocabulary.fromJSON}: every token by id. */
  toJSON(): VocabularyJSON {
    return { tokens: [...this.tokens] };
  }

  /** A vocabulary from {@link toJSON}'s form (an object or its JSON text). */
  static fromJSON(json: unknown): Vocabulary {
    const o = expectObject(typeof json === 'string' ? JSON.parse(json) : json, 'vocabulary JSON');
    const tokens = o.tokens;
    if (!Array.isArray(tokens) || tokens[0] !== PAD_TOKEN || tokens[1] !== UNK_TOKEN) {
      throw new TypeError(`Expected { tokens: ["${PAD_TOKEN}", "${UNK_TOKEN}", …] } for vocabulary JSON but received ${describe(tokens)}`);
    }
    return new Vocabulary(tokens.slice(2) as string[]);
  }
}
