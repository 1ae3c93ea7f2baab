/**
 * `Embedding` (PyTorch `nn.Embedding`): a lookup table of `numEmbeddings` rows of `embeddingDim`.
 * @module
 */
import { Tensor, fromOp, type IndexLike } from '../tensor/index.js';
import { toIndex } from '../tensor/shape.js';
import type { Vocabulary } from '../data/vocabulary.js';
import { readWordVectors, WordVectors } from '../io/word-vectors.js';
import { checkOptions, describe, intInRange, isNullish, positiveInt } from '../validate.js';
import { normal_ } from './init.js';
import { Module, Parameter } from './module.js';

/**
 * Looks up rows of `weight [N, E]`: indices of shape `[…]` → `[…, E]`. The gradient of a row is the
 * sum over its occurrences; rows equal to `paddingIdx` get no gradient (PyTorch `F.embedding`).
 * @throws RangeError `index out of range in self` (PyTorch's words) for an index outside [0, N).
 */
export function embedding(input: IndexLike, weight: Tensor, paddingIdx: number | null = null): Tensor {
  const { data: indices, shape } = toIndex(input, 'indices');
  const [rows, dim] = weight.shape;
  const out = new Float32Array(indices.length * dim);
  for (let i = 0; i < indices.length; i++) {
    const row = indices[i];
    if (row < 0 || row >= rows) throw new RangeError('index out of range in self');
    out.set(weight.data.subarray(row * dim, (row + 1) * dim), i * dim);
  }
  return fromOp('embedding', out, [...shape, dim], [weight], (g) => {
    const dw = new Float32Array(weight.numel);
    for (let i = 0; i < indices.length; i++) {
      const row = indices[i];
      if (row === paddingIdx) continue;
      const target = row * dim;
      for (let j = 0; j < dim; j++) dw[target + j] += g[i * dim + j];
    }
    return [dw];
  });
}

/** Options of {@link Embedding}. */
export interface EmbeddingOptions {
  /**
   * A row that is initialized to zeros and never receives a gradient (so it stays whatever it is;
   * a padding token). Negative counts from the end, like PyTorch.
   */
  paddingIdx?: number | null;
}

/** A lookup table `weight [numEmbeddings, embeddingDim]`, initialized N(0, 1) (padding row zero). */
export class Embedding extends Module {
  /** Rows of the table: the vocabulary size. */
  readonly numEmbeddings: number;
  /** Width of each vector. */
  readonly embeddingDim: number;
  /** The padding row, normalized to [0, numEmbeddings), or null. */
  readonly paddingIdx: number | null;
  /** `[numEmbeddings, embeddingDim]`. */
  weight: Parameter;

  constructor(numEmbeddings: number, embeddingDim: number, options: EmbeddingOptions = {}) {
    super();
    this.numEmbeddings = positiveInt(numEmbeddings, 'numEmbeddings');
    this.embeddingDim = positiveInt(embeddingDim, 'embeddingDim');
    const opts = checkOptions(options, 'Embedding', ['paddingIdx']);
    this.paddingIdx = normalizePaddingIdx(opts.paddingIdx, this.numEmbeddings);
    this.weight = new Parameter(new Float32Array(this.numEmbeddings * this.embeddingDim), [this.numEmbeddings, this.embeddingDim]);
    this.resetParameters();
  }

  /**
   * An Embedding holding a copy of pretrained vectors (PyTorch `from_pretrained`); frozen (no
   * gradient) unless `freeze: false`. `embeddings` is a Tensor `[N, E]`, or word vectors — a GloVe /
   * word2vec text file's path or what {@link readWordVectors} read — laid out for `vocabulary`
   * (row = token id; tokens without a vector and `<pad>` get zeros; without a vocabulary, the
   * file's words in its order).
   * @throws TypeError `Embeddings parameter is expected to be 2-dimensional` (PyTorch's words) for a
   *   Tensor of another rank; the reader's errors for a bad file.
   */
  static fromPretrained(embeddings: Tensor | WordVectors | string,
    options: EmbeddingOptions & { freeze?: boolean; vocabulary?: Vocabulary | null } = {}): Embedding {
    const { freeze = true, vocabulary = null, ...rest } = options;
    let weights: Tensor;
    if (embeddings instanceof Tensor) {
      weights = embeddings;
    } else {
      const vectors = typeof embeddings === 'string' ? readWordVectors(embeddings, { vocabulary }) : embeddings;
      if (!(vectors instanceof WordVectors)) {
        throw new TypeError(`Expected Tensor, WordVectors or a vectors file path for embeddings but received ${describe(embeddings)}`);
      }
      weights = vocabulary ? vectors.matrixFor(vocabulary).weights : new Tensor(vectors.vectors, [vectors.words.length, vectors.dim]);
    }
    if (weights.ndim !== 2) throw new TypeError('Embeddings parameter is expected to be 2-dimensional');
    const module = new Embedding(weights.shape[0], weights.shape[1], rest);
    module.weight.data.set(weights.data);
    module.weight.requiresGrad = !freeze;
    return module;
  }

  /** N(0, 1), then the padding row zeroed (PyTorch's order of draws). */
  resetParameters(): void {
    normal_(this.weight);
    if (this.paddingIdx !== null) {
      this.weight.data.fill(0, this.paddingIdx * this.embeddingDim, (this.paddingIdx + 1) * this.embeddingDim);
    }
  }

  /** Indices `[…]` → `[…, embeddingDim]`. */
  forward(input: IndexLike): Tensor {
    return embedding(input, this.weight, this.paddingIdx);
  }

  override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}${this.paddingIdx === null ? '' : `, padding_idx=${this.paddingIdx}`}`;
  }
}

function normalizePaddingIdx(value: unknown, numEmbeddings: number): number | null {
  if (isNullish(value)) return null;
  const index = intInRange(value, 'paddingIdx', -2147483648, 2147483647);
  if (index >= numEmbeddings || index < -numEmbeddings) throw new RangeError('Padding_idx must be within num_embeddings');
  return index < 0 ? index + numEmbeddings : index;
}
