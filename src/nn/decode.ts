/**
 * Decoding a sequence token by token from any step-wise model: greedy search and batched beam
 * search, both returning tokens, scores and the attention weights of every token.
 *
 * The model is seen through a {@link StepDecoder}: given the last token of every row (a row is a
 * hypothesis of one batch item) and the rows' state, it returns the log-probabilities of the next
 * token and the new state; `reorder` makes the state of new rows from old ones (beam search keeps
 * the rows of its surviving hypotheses). {@link Seq2Seq} implements it on the packed one-step
 * recurrent path; tests use small hand-made decoders.
 *
 * Beam search keeps `beamWidth` hypotheses per item. Each step it ranks the 2·beamWidth best
 * continuations of them (by summed log-probability, ties to the lower row then token); an
 * end-of-sequence continuation among the best beamWidth ends a hypothesis, the best non-ending
 * ones survive. An item is done when it has beamWidth ended hypotheses; at `maxLength` the
 * surviving ones end unfinished. Hypotheses are ranked by `score / length^lengthPenalty`
 * (length = tokens generated, the end token included): 0 ranks by the summed log-probability,
 * which favours short outputs; 1 by the mean log-probability per token.
 * @module
 */
import { checkOptions, describe, intInRange, isNullish, positiveInt } from '../validate.js';

/** The rows' next-token distribution after a step. */
export interface StepResult<S> {
  /** `[rows, vocabSize]` log-probabilities of the next token. */
  logProbs: Float32Array;
  /** The state after reading the tokens. */
  state: S;
  /** `[rows, sourceLength]` attention weights of this step, or null (a model without attention). */
  attention: Float32Array | null;
}

/** A model decoded one token at a time (see the module notes). */
export interface StepDecoder<S> {
  /** Tokens the model can output. */
  readonly vocabSize: number;
  /** Width of an attention row (0 without attention). */
  readonly sourceLength: number;
  /** The state of `batch` rows, one per item, before the first token. */
  initialState(): S;
  /** Reads `tokens[row]` for every row; `items[row]` is the batch item of the row. */
  step(tokens: Int32Array, state: S, items: Int32Array): StepResult<S>;
  /** The state of new rows: row i of the result is row `rows[i]` of `state`; `items` of the new rows. */
  reorder(state: S, rows: Int32Array, items: Int32Array): S;
}

/** One decoded output. */
export interface Hypothesis {
  /** The generated tokens, without the start and end tokens. */
  tokens: number[];
  /** Σ log p of the generated tokens, the end token included when it was generated. */
  score: number;
  /** The score beam search ranked by: `score / length^lengthPenalty` (greedy: the score). */
  normalizedScore: number;
  /** Whether the end token was generated (false: stopped at maxLength). */
  finished: boolean;
  /** The attention weights behind each token (`attention[i]` has one weight per source position), or null. */
  attention: Float32Array[] | null;
}

/** Options of {@link greedySearch}. */
export interface GreedyOptions {
  /** Items in the batch (rows of the decoder's initial state). */
  batchSize: number;
  /** The token every output starts from. */
  bos: number;
  /** The token that ends an output. */
  eos: number;
  /** Most tokens generated per output, the end token included. */
  maxLength: number;
}

/** Options of {@link beamSearch}. */
export interface BeamSearchOptions extends GreedyOptions {
  /** Hypotheses kept per item (1 = greedy). */
  beamWidth: number;
  /** Exponent of the length normalization (see the module notes); default 1. */
  lengthPenalty?: number;
  /** Hypotheses returned per item, best first (default: all beamWidth). */
  numReturn?: number;
}

interface Checked {
  batchSize: number;
  bos: number;
  eos: number;
  maxLength: number;
}

function checkCommon(o: Record<string, unknown>, vocabSize: number): Checked {
  return {
    batchSize: positiveInt(o.batchSize, 'batchSize'),
    bos: intInRange(o.bos, 'bos', 0, vocabSize - 1),
    eos: intInRange(o.eos, 'eos', 0, vocabSize - 1),
    maxLength: positiveInt(o.maxLength, 'maxLength'),
  };
}

function checkDecoder(decoder: unknown): void {
  const d = decoder as StepDecoder<unknown> | null;
  if (typeof d !== 'object' || d === null || typeof d.step !== 'function' || typeof d.reorder !== 'function' || typeof d.initialState !== 'function') {
    throw new TypeError(`Expected a StepDecoder (initialState, step, reorder) for decoder but received ${describe(decoder)}`);
  }
}

/**
 * The most likely token at every step, for a batch of items at once, until each item produced
 * `eos` or `maxLength` tokens.
 * @returns one hypothesis per item.
 */
export function greedySearch<S>(decoder: StepDecoder<S>, options: GreedyOptions): Hypothesis[] {
  checkDecoder(decoder);
  const { batchSize: B, bos, eos, maxLength } = checkCommon(checkOptions(options, 'greedySearch', ['batchSize', 'bos', 'eos', 'maxLength']), decoder.vocabSize);
  const V = decoder.vocabSize, S = decoder.sourceLength;
  const items = Int32Array.from({ length: B }, (_, b) => b);
  const results: Hypothesis[] = Array.from({ length: B }, () => ({ tokens: [], score: 0, normalizedScore: 0, finished: false, attention: S > 0 ? [] : null }));
  const done = new Uint8Array(B);
  let tokens = new Int32Array(B).fill(bos);
  let state = decoder.initialState();
  for (let step = 0; step < maxLength && done.includes(0); step++) {
    const result = decoder.step(tokens, state, items);
    state = result.state;
    const next = new Int32Array(B);
    for (let b = 0; b < B; b++) {
      if (done[b]) continue;
      const row = result.logProbs.subarray(b * V, (b + 1) * V);
      let best = 0;
      for (let v = 1; v < V; v++) if (row[v] > row[best]) best = v;
      const hypothesis = results[b];
      hypothesis.score += row[best];
      next[b] = best;
      if (best === eos) {
        hypothesis.finished = true;
        done[b] = 1;
        continue;
      }
      hypothesis.tokens.push(best);
      if (result.attention) hypothesis.attention?.push(result.attention.slice(b * S, (b + 1) * S));
    }
    tokens = next;
  }
  for (const h of results) h.normalizedScore = h.score;
  return results;
}

/** Where a beam row came from: its parent row one level up, its last token and the attention behind it. */
interface Level {
  parents: Int32Array;
  tokens: Int32Array;
  attention: Float32Array | null;
}

/** A continuation of a beam: row k of item b extended by token v. */
interface Candidate {
  score: number;
  row: number;
  token: number;
}

/** The `count` best continuations of item b's rows (score desc, then row, then token). */
function bestCandidates(logProbs: Float32Array, scores: Float64Array, firstRow: number, rows: number, V: number, count: number): Candidate[] {
  const best: Candidate[] = [];
  for (let r = firstRow; r < firstRow + rows; r++) {
    const base = scores[r];
    if (base === -Infinity) continue;
    for (let v = 0; v < V; v++) {
      const score = base + logProbs[r * V + v];
      if (best.length === count && !(score > best[count - 1].score)) continue;
      let at = best.length;
      while (at > 0 && best[at - 1].score < score) at--; // after equal scores: the earlier (row, token) wins ties
      best.splice(at, 0, { score, row: r, token: v });
      if (best.length > count) best.pop();
    }
  }
  return best;
}

/** The tokens and attention of the row `row` at level `depth`, back to the start. */
function backtrack(levels: Level[], depth: number, row: number, S: number): { tokens: number[]; attention: Float32Array[] | null } {
  const tokens: number[] = [];
  const attention: Float32Array[] | null = S > 0 ? [] : null;
  for (let d = depth, r = row; d > 0; d--) {
    const level = levels[d];
    tokens.push(level.tokens[r]);
    if (attention && level.attention) attention.push(level.attention.subarray(r * S, (r + 1) * S));
    r = level.parents[r];
  }
  tokens.reverse();
  attention?.reverse();
  return { tokens, attention };
}

/**
 * Beam search over a batch (see the module notes).
 * @returns per item, its `numReturn` best hypotheses, best first.
 * @throws TypeError / RangeError for bad options, e.g. `Expected positive integer for beamWidth but received 0 of type number`.
 */
export function beamSearch<S>(decoder: StepDecoder<S>, options: BeamSearchOptions): Hypothesis[][] {
  checkDecoder(decoder);
  const o = checkOptions(options, 'beamSearch', ['batchSize', 'bos', 'eos', 'maxLength', 'beamWidth', 'lengthPenalty', 'numReturn']);
  const { batchSize: B, bos, eos, maxLength } = checkCommon(o, decoder.vocabSize);
  const K = positiveInt(o.beamWidth, 'beamWidth');
  const alpha = isNullish(o.lengthPenalty) ? 1 : finiteNonNegative(o.lengthPenalty, 'lengthPenalty');
  const numReturn = isNullish(o.numReturn) ? K : intInRange(o.numReturn, 'numReturn', 1, K);
  const V = decoder.vocabSize, S = decoder.sourceLength;
  const N = B * K;
  const normalize = (score: number, length: number): number => (alpha === 0 ? score : score / length ** alpha);

  // Row b·K + k is beam k of item b. At the start only beam 0 of each item is alive.
  const items = Int32Array.from({ length: N }, (_, r) => Math.floor(r / K));
  let state = decoder.reorder(decoder.initialState(), items, items);
  const scores = new Float64Array(N).fill(-Infinity);
  for (let b = 0; b < B; b++) scores[b * K] = 0;
  let tokens = new Int32Array(N).fill(bos);
  const levels: Level[] = [{ parents: new Int32Array(N), tokens, attention: null }];
  const ended: Hypothesis[][] = Array.from({ length: B }, () => []);
  const done = new Uint8Array(B);

  for (let depth = 0; depth < maxLength && done.includes(0); depth++) {
    const result = decoder.step(tokens, state, items);
    const parents = new Int32Array(N), next = new Int32Array(N), nextScores = new Float64Array(N).fill(-Infinity);
    const attention = result.attention ? new Float32Array(N * S) : null;
    for (let b = 0; b < B; b++) {
      if (done[b]) { for (let k = 0; k < K; k++) parents[b * K + k] = b * K; continue; }
      let kept = 0;
      const candidates = bestCandidates(result.logProbs, scores, b * K, K, V, 2 * K);
      candidates.forEach((c, rank) => {
        if (c.token === eos) {
          if (rank >= K || ended[b].length >= K) return;
          const { tokens: path, attention: rows } = backtrack(levels, depth, c.row, S);
          ended[b].push({ tokens: path, score: c.score, normalizedScore: normalize(c.score, depth + 1), finished: true, attention: rows });
          return;
        }
        if (kept === K) return;
        const r = b * K + kept++;
        parents[r] = c.row;
        next[r] = c.token;
        nextScores[r] = c.score;
        if (attention && result.attention) attention.set(result.attention.subarray(c.row * S, (c.row + 1) * S), r * S);
      });
      for (let k = kept; k < K; k++) parents[b * K + k] = b * K; // dead rows: any parent of the item
      if (ended[b].length >= K) done[b] = 1;
    }
    levels.push({ parents, tokens: next, attention });
    scores.set(nextScores);
    tokens = next;
    state = decoder.reorder(result.state, parents, items);
  }
  // Items still searching at maxLength: their surviving hypotheses end unfinished.
  for (let b = 0; b < B; b++) {
    if (done[b]) continue;
    for (let k = 0; k < K; k++) {
      const r = b * K + k;
      if (scores[r] === -Infinity) continue;
      const { tokens: path, attention: rows } = backtrack(levels, levels.length - 1, r, S);
      ended[b].push({ tokens: path, score: scores[r], normalizedScore: normalize(scores[r], path.length), finished: false, attention: rows });
    }
  }
  return ended.map((list) => list
    .map((h, i) => ({ h, i }))
    .sort((x, y) => y.h.normalizedScore - x.h.normalizedScore || x.i - y.i)
    .slice(0, numReturn)
    .map(({ h }) => h));
}

function finiteNonNegative(value: unknown, name: string): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  const message = `Expected finite number >= 0 for ${name} but received ${describe(value)}`;
  throw typeof value === 'number' ? new RangeError(message) : new TypeError(message);
}
