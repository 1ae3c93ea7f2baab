/**
 * Pretrained word vectors from a plain text file — GloVe (`word v1 … vD` per line) or word2vec's
 * text format (the same after a `count dim` header line) — for `nn.Embedding.fromPretrained`.
 * The file is read in chunks (a multi-gigabyte file never becomes one string); with a vocabulary,
 * only its words are kept. A word listed twice keeps its first vector (as gensim does).
 * @module
 */
import { closeSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { Vocabulary } from '../data/vocabulary.js';
import { Tensor } from '../tensor/tensor.js';
import { describe, optionalObject } from '../validate.js';
import { openRegularFileSync } from './files.js';

/** Options of {@link readWordVectors}. */
export interface ReadWordVectorsOptions {
  /** Keep only the words of this vocabulary (saves memory with large files). */
  vocabulary?: Vocabulary | null;
}

/** Words and their vectors, `vectors[i·dim …]` for `words[i]`. */
export class WordVectors {
  private readonly index: Map<string, number>;

  /**
   * @param words The words, in the order of their vectors.
   * @param dim The width of each vector.
   * @param vectors `[words.length, dim]` row-major.
   */
  constructor(readonly words: readonly string[], readonly dim: number, readonly vectors: Float32Array) {
    this.index = new Map(words.map((word, i) => [word, i]));
  }

  /** The vector of `word` (a view), or null. */
  get(word: string): Float32Array | null {
    const i = this.index.get(word);
    return i === undefined ? null : this.vectors.subarray(i * this.dim, (i + 1) * this.dim);
  }

  /**
   * The embedding matrix `[vocabulary.size, dim]` for a vocabulary: each token's vector, zeros for
   * tokens without one (and for `<pad>`), and how many tokens had one.
   */
  matrixFor(vocabulary: Vocabulary): {
    /** `[vocabulary.size, dim]`. */
    weights: Tensor;
    /** Tokens that had a vector. */
    found: number;
  } {
    const weights = new Float32Array(vocabulary.size * this.dim);
    let found = 0;
    vocabulary.tokens.forEach((token, id) => {
      const vector = id === vocabulary.padIndex ? null : this.get(token);
      if (vector === null) return;
      weights.set(vector, id * this.dim);
      found++;
    });
    return { weights: new Tensor(weights, [vocabulary.size, this.dim]), found };
  }
}

// Calls `line(text, number)` for every line of the file, read in 1 MiB chunks.
function forEachLine(file: string, line: (text: string, number: number) => void): void {
  const { fd } = openRegularFileSync(file, 'vectors file');
  const decoder = new StringDecoder('utf8');
  const chunk = Buffer.allocUnsafe(1 << 20);
  let pending = '', number = 0;
  try {
    for (let read = readSync(fd, chunk); read > 0; read = readSync(fd, chunk)) {
      const lines = (pending + decoder.write(chunk.subarray(0, read))).split('\n');
      pending = lines.pop() as string;
      for (const text of lines) line(text, ++number);
    }
    pending += decoder.end();
    if (pending !== '') line(pending, ++number);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads a GloVe or word2vec text file (see the module notes). Every line must have the same
 * number of values; a word may contain spaces (the values are the last `dim` fields).
 * @throws RangeError `vectors.txt line 3: expected 50 numbers after the word, got 49`, or
 *   `… 'x1' is not a number`; the file system's errors for an unreadable file.
 */
export function readWordVectors(file: string, options: ReadWordVectorsOptions = {}): WordVectors {
  if (typeof file !== 'string' || file === '') throw new TypeError(`Expected non-empty string for file but received ${describe(file)}`);
  const keep = optionalObject(options, 'options').vocabulary as Vocabulary | null | undefined;
  const words: string[] = [];
  const seen = new Set<string>();
  const values: number[] = [];
  let dim = 0;
  forEachLine(file, (text, number) => {
    const fields = text.trim().split(/[ \t]+/);
    if (fields.length === 1 && fields[0] === '') return; // blank line
    if (number === 1 && fields.length === 2 && /^\d+$/.test(fields[0]) && /^\d+$/.test(fields[1])) {
      dim = Number(fields[1]); // word2vec header: count dim
      return;
    }
    if (dim === 0) dim = fields.length - 1;
    if (dim === 0 || fields.length < dim + 1) throw new RangeError(`${file} line ${number}: expected ${dim || 'some'} numbers after the word, got ${fields.length - 1}`);
    const word = fields.slice(0, fields.length - dim).join(' ');
    if (seen.has(word) || (keep && !keep.has(word))) return;
    const vector = fields.slice(fields.length - dim).map((field) => {
      const v = Number(field);
      if (!Number.isFinite(v)) throw new RangeError(`${file} line ${number}: '${field}' is not a number`);
      return v;
    });
    seen.add(word);
    words.push(word);
    for (const v of vector) values.push(v);
  });
  if (dim === 0) throw new RangeError(`${file}: no vectors (expected lines of a word and its numbers)`);
  return new WordVectors(words, dim, Float32Array.from(values));
}
