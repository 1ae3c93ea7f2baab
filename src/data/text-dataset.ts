/**
 * `TextDataset`: documents (and labels) as token ids, tokenized once, truncated to a maximum
 * length — the map-style dataset of a text classifier. With a `DataLoader` and `padCollate`, batches
 * are `{ input [B, T] ids padded with <pad>, target [B], lengths [B] }`; `bucketBy: sequenceLength`
 * groups documents of similar length into a batch (less padding, less work).
 *
 * ```ts
 * const tokenizer = new WordTokenizer();
 * const vocabulary = Vocabulary.build(texts.map((t) => tokenizer.tokenize(t)), { minFreq: 2, maxSize: 20000 });
 * const train = new TextDataset(texts, labels, { tokenizer, vocabulary, maxLength: 400 });
 * const loader = new DataLoader(train, { batchSize: 32, shuffle: true, bucketBy: sequenceLength, collate: padCollate() });
 * ```
 * @module
 */
import { Tensor } from '../tensor/tensor.js';
import { checkOptions, choice, describe, intInRange, MAX_DIM } from '../validate.js';
import type { Dataset } from './dataset.js';
import { WordTokenizer } from './tokenizer.js';
import { Vocabulary } from './vocabulary.js';

/** Options of {@link TextDataset} and {@link encodeText}. */
export interface TextEncodingOptions {
  /** Splits each document into tokens. */
  tokenizer: WordTokenizer;
  /** Maps the tokens to ids (unknown tokens to `<unk>`). */
  vocabulary: Vocabulary;
  /** Keep at most this many tokens of a document (default: all). */
  maxLength?: number | null;
  /** Which tokens a too-long document loses: 'end' (default: keep its beginning) or 'start' (keep its end). */
  truncationSide?: 'end' | 'start';
}

/** One item: the document's ids (float, for an Embedding) and, with labels, its class index. */
export type TextItem = [Tensor, number] | Tensor;

interface Encoding {
  tokenizer: WordTokenizer;
  vocabulary: Vocabulary;
  maxLength: number;
  truncationSide: 'end' | 'start';
}

function checkEncoding(options: unknown): Encoding {
  const o = checkOptions(options, 'TextDataset', ['tokenizer', 'vocabulary', 'maxLength', 'truncationSide']);
  if (!(o.tokenizer instanceof WordTokenizer)) throw new TypeError(`Expected WordTokenizer for tokenizer but received ${describe(o.tokenizer)}`);
  if (!(o.vocabulary instanceof Vocabulary)) throw new TypeError(`Expected Vocabulary for vocabulary but received ${describe(o.vocabulary)}`);
  return {
    tokenizer: o.tokenizer,
    vocabulary: o.vocabulary,
    maxLength: o.maxLength === undefined || o.maxLength === null ? MAX_DIM : intInRange(o.maxLength, 'maxLength', 1, MAX_DIM),
    truncationSide: o.truncationSide === undefined ? 'end' : choice(o.truncationSide, 'truncationSide', ['end', 'start'] as const),
  };
}

function encodeWith(text: string, e: Encoding): Int32Array {
  let tokens = e.tokenizer.tokenize(text);
  if (tokens.length > e.maxLength) tokens = e.truncationSide === 'end' ? tokens.slice(0, e.maxLength) : tokens.slice(tokens.length - e.maxLength);
  // A document without tokens reads as one <unk>: every sequence needs a step.
  return tokens.length === 0 ? Int32Array.of(e.vocabulary.unkIndex) : e.vocabulary.encode(tokens);
}

/**
 * A document's ids: tokenized, truncated to `maxLength` on `truncationSide`, encoded; an empty
 * document is one `<unk>`.
 */
export function encodeText(text: string, options: TextEncodingOptions): Int32Array {
  return encodeWith(text, checkEncoding(options));
}

/** Documents as token ids (see the module notes); item i is `[ids [Tᵢ], label]`, or `ids` without labels. */
export class TextDataset implements Dataset<TextItem> {
  /** Each document's ids. */
  readonly ids: readonly Int32Array[];
  /** Class indices, or null. */
  readonly labels: Int32Array | null;

  /**
   * @param texts the documents; @param labels class indices (integers ≥ 0), one per document, or null.
   * @throws TypeError / RangeError naming a bad document, label or option.
   */
  constructor(texts: readonly string[], labels: ArrayLike<number> | null, options: TextEncodingOptions) {
    if (!Array.isArray(texts)) throw new TypeError(`Expected array of strings for texts but received ${describe(texts)}`);
    const encoding = checkEncoding(options);
    if (labels !== null) {
      if (typeof labels !== 'object' || typeof labels.length !== 'number') throw new TypeError(`Expected array of class indices for labels but received ${describe(labels)}`);
      if (labels.length !== texts.length) {
        throw new RangeError(`Expected ${texts.length} labels (one per text) for labels but received ${labels.length}`);
      }
    }
    this.ids = texts.map((text, i) => {
      if (typeof text !== 'string') throw new TypeError(`Expected string for texts[${i}] but received ${describe(text)}`);
      return encodeWith(text, encoding);
    });
    this.labels = labels === null ? null : Int32Array.from({ length: labels.length }, (_, i) => intInRange(labels[i], `labels[${i}]`, 0, MAX_DIM));
  }

  get length(): number {
    return this.ids.length;
  }

  get(index: number): TextItem {
    const ids = this.ids[index];
    const sequence = new Tensor(Float32Array.from(ids), [ids.length]);
    return this.labels === null ? sequence : [sequence, this.labels[index]];
  }
}
