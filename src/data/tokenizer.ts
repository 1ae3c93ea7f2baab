/**
 * `WordTokenizer`: text → word tokens, the first step of a word-level text pipeline
 * (tokenizer → {@link Vocabulary} → {@link TextDataset} → DataLoader with `padCollate`).
 *
 * A token is a run of letters and digits (any script; an apostrophe inside a word stays in it:
 * `don't`), or — with `punctuation` — any other single visible character (`$`, `!`, `?`, …), which
 * in mail or reviews carries meaning. Whitespace separates tokens and is dropped. The rules are
 * plain data ({@link WordTokenizer.toJSON}) so a model file can carry them and tokenize new text
 * exactly as its training text was.
 * @module
 */
import { checkOptions, describe, intInRange, MAX_DIM, optionalBool } from '../validate.js';

/** Options of {@link WordTokenizer} (also its JSON form). */
export interface WordTokenizerOptions {
  /** Lower-case the text first (default true). */
  lowercase?: boolean;
  /** Keep punctuation and symbols as one-character tokens (default true); false drops them. */
  punctuation?: boolean;
  /**
   * Longest token kept whole (default 40): longer runs (encoded blobs, long URLs' paths) are cut to
   * this many characters, so they do not flood the vocabulary with one-off tokens.
   */
  maxTokenLength?: number;
}

const KEYS = ['lowercase', 'punctuation', 'maxTokenLength'];
// Words (letters, digits, marks; inner apostrophes), or one visible non-word character.
const WORD = String.raw`[\p{L}\p{N}\p{M}]+(?:['’][\p{L}\p{N}\p{M}]+)*`;
const WITH_PUNCTUATION = new RegExp(`${WORD}|[^\\s\\p{L}\\p{N}\\p{M}\\p{C}]`, 'gu');
const WORDS_ONLY = new RegExp(WORD, 'gu');

/** Splits text into word tokens (see the module notes). */
export class WordTokenizer {
  /** Whether the text is lower-cased first. */
  readonly lowercase: boolean;
  /** Whether punctuation and symbols are kept as one-character tokens. */
  readonly punctuation: boolean;
  /** Longest token kept whole: longer runs are cut to this many characters. */
  readonly maxTokenLength: number;

  /** @throws TypeError / RangeError for an unknown option or a bad value, naming it. */
  constructor(options: WordTokenizerOptions = {}) {
    const o = checkOptions(options, 'WordTokenizer', KEYS);
    this.lowercase = optionalBool(o.lowercase, 'lowercase', true);
    this.punctuation = optionalBool(o.punctuation, 'punctuation', true);
    this.maxTokenLength = o.maxTokenLength === undefined ? 40 : intInRange(o.maxTokenLength, 'maxTokenLength', 1, MAX_DIM);
  }

  /**
   * The tokens of `text`, in order.
   * @throws TypeError `Expected string for text but received …`
   */
  tokenize(text: string): string[] {
    if (typeof text !== 'string') throw new TypeError(`Expected string for text but received ${describe(text)}`);
    const source = this.lowercase ? text.toLowerCase() : text;
    const tokens = source.match(this.punctuation ? WITH_PUNCTUATION : WORDS_ONLY) ?? [];
    const max = this.maxTokenLength;
    for (let i = 0; i < tokens.length; i++) if (tokens[i].length > max) tokens[i] = [...tokens[i]].slice(0, max).join('');
    return tokens;
  }

  /** The options, for saving with a model. */
  toJSON(): Required<WordTokenizerOptions> {
    return { lowercase: this.lowercase, punctuation: this.punctuation, maxTokenLength: this.maxTokenLength };
  }

  /** A tokenizer from {@link toJSON}'s form (an object or its JSON text). */
  static fromJSON(json: unknown): WordTokenizer {
    return new WordTokenizer((typeof json === 'string' ? JSON.parse(json) : json) as WordTokenizerOptions);
  }
}
