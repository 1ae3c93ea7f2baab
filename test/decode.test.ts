// Greedy and beam search (src/nn/decode.ts) on hand-made step decoders whose answers are known,
// and on a Seq2Seq (src/nn/seq2seq.ts): beam width 1 is greedy, beam search finds the better output
// greedy misses, batching does not change any item's result, and the Seq2Seq one-step path gives
// the teacher-forced forward's numbers.
import { describe, expect, it } from 'vitest';
import { manualSeed, nn, noGrad, optim, Tensor, tensor } from '../src/index.js';
import { randomUniform } from '../src/tensor/random.js';

const BOS = 0, EOS = 1, A = 2, B = 3;

/**
 * A Markov chain over 4 tokens as a StepDecoder: the next-token distribution depends on the last
 * token only (`table[last]`), the same for every item. State: the rows' last tokens.
 */
function markovDecoder(table: Record<number, number[]>, batch: number): nn.StepDecoder<Int32Array> {
  return {
    vocabSize: 4,
    sourceLength: 0,
    initialState: () => new Int32Array(batch).fill(BOS),
    step: (tokens) => {
      const logProbs = new Float32Array(tokens.length * 4);
      tokens.forEach((token, r) => table[token].forEach((p, v) => { logProbs[r * 4 + v] = Math.log(p); }));
      return { logProbs, state: Int32Array.from(tokens), attention: null };
    },
    reorder: (state, rows) => Int32Array.from(rows, (r) => state[r]),
  };
}

// Greedy takes A (0.6), then keeps taking A (0.55 over ending at 0.45) until maxLength; the best
// output is B then the end: 0.4 · 0.95 = 0.38, against 0.6 · 0.45 = 0.27 for A then the end.
const TRAP = { [BOS]: [0, 0, 0.6, 0.4], [A]: [0, 0.45, 0.55, 0], [B]: [0, 0.95, 0, 0.05] };

describe('beam search on a constructed case', () => {
  it('greedy falls into the trap; beam search of width 2 finds the most likely output', () => {
    const greedy = nn.greedySearch(markovDecoder(TRAP, 1), { batchSize: 1, bos: BOS, eos: EOS, maxLength: 5 });
    expect(greedy[0].tokens).toEqual([A, A, A, A, A]);
    expect(greedy[0].finished).toBe(false);
    expect(greedy[0].score).toBeCloseTo(Math.log(0.6 * 0.55 ** 4), 6);
    const beams = nn.beamSearch(markovDecoder(TRAP, 1), { batchSize: 1, bos: BOS, eos: EOS, maxLength: 5, beamWidth: 2, lengthPenalty: 0 });
    // Step 2 ranks B-end 0.38, A-A 0.33, A-end 0.27, B-B 0.02: an end among the best beamWidth
    // continuations ends a hypothesis (B), A-end ranks third and is dropped; A-A-end ends next step.
    expect(beams[0].map((h) => h.tokens)).toEqual([[B], [A, A]]);
    expect(beams[0][0].finished).toBe(true);
    expect(beams[0][0].score).toBeCloseTo(Math.log(0.4 * 0.95), 6);
    expect(beams[0][1].score).toBeCloseTo(Math.log(0.6 * 0.55 * 0.45), 6);
    expect(beams[0][0].score).toBeGreaterThan(greedy[0].score + 1.5);
  });

  it('ranks by score / length^lengthPenalty', () => {
    // From BOS: end now (0.3) or A (0.7) then end (0.9): summed 0.3 vs 0.63 · ...; per token log 0.3 vs log(0.63)/2.
    const table = { [BOS]: [0, 0.3, 0.7, 0], [A]: [0, 0.9, 0.1, 0], [B]: [0, 1, 0, 0] };
    for (const alpha of [0, 1, 3]) {
      const [hypotheses] = nn.beamSearch(markovDecoder(table, 1), { batchSize: 1, bos: BOS, eos: EOS, maxLength: 4, beamWidth: 2, lengthPenalty: alpha });
      for (const h of hypotheses) {
        const length = h.tokens.length + 1;
        expect(h.normalizedScore).toBeCloseTo(h.score / length ** alpha, 9);
      }
      expect(hypotheses[0].normalizedScore).toBeGreaterThanOrEqual(hypotheses[1].normalizedScore);
    }
    const [summed] = nn.beamSearch(markovDecoder(table, 1), { batchSize: 1, bos: BOS, eos: EOS, maxLength: 4, beamWidth: 2, lengthPenalty: 0 });
    expect(summed[0].tokens).toEqual([A]); // log 0.63 > log 0.3
  });

  it('rejects bad options with the argument named', () => {
    const decoder = markovDecoder(TRAP, 1);
    const base = { batchSize: 1, bos: BOS, eos: EOS, maxLength: 5 };
    expect(() => nn.beamSearch(decoder, { ...base, beamWidth: 0 })).toThrow(new RangeError('Expected positive integer for beamWidth but received 0 of type number'));
    expect(() => nn.beamSearch(decoder, { ...base, beamWidth: 2, lengthPenalty: -1 })).toThrow(new RangeError('Expected finite number >= 0 for lengthPenalty but received -1 of type number'));
    expect(() => nn.beamSearch(decoder, { ...base, beamWidth: 2, numReturn: 3 })).toThrow(new RangeError('Expected integer between 1 and 2 for numReturn but received 3 of type number'));
    expect(() => nn.greedySearch(decoder, { ...base, eos: 4 })).toThrow(new RangeError('Expected integer between 0 and 3 for eos but received 4 of type number'));
    expect(() => nn.greedySearch(decoder, { ...base, maxLength: 0 })).toThrow(new RangeError('Expected positive integer for maxLength but received 0 of type number'));
    expect(() => nn.greedySearch({} as never, base)).toThrow(new TypeError('Expected a StepDecoder (initialState, step, reorder) for decoder but received an object'));
    expect(() => nn.greedySearch(decoder, { ...base, beam: 2 } as never)).toThrow(new TypeError('Expected one of batchSize, bos, eos, maxLength for greedySearch option but received beam of type string'));
  });
});

/** A small Seq2Seq trained for a few steps to reverse random sequences of tokens 3…11 (peaked, varied outputs). */
function toySeq2Seq(cell: 'lstm' | 'gru', bidirectional: boolean, attention: 'general' | 'additive'): nn.Seq2Seq {
  manualSeed(5);
  const Recurrent = cell === 'lstm' ? nn.LSTM : nn.GRU;
  const D = bidirectional ? 2 : 1;
  const model = new nn.Seq2Seq({
    sourceEmbedding: new nn.Embedding(12, 8),
    encoder: new Recurrent(8, 12, { numLayers: 2, bidirectional }),
    targetEmbedding: new nn.Embedding(12, 8),
    decoder: new Recurrent(8, 16),
    attention: attention === 'general' ? new nn.LuongAttention(16, 12 * D) : new nn.BahdanauAttention(16, 12 * D),
  });
  const optimizer = new optim.Adam(model.parameters(), { lr: 1e-2 });
  for (let step = 0; step < 40; step++) {
    const source = Array.from({ length: 16 }, () => Array.from({ length: 4 }, () => 3 + Math.floor(randomUniform() * 9)));
    const lengths = source.map(() => 2 + Math.floor(randomUniform() * 3));
    const targets = source.map((row, b) => [...row.slice(0, lengths[b]).reverse(), 2, -100, -100].slice(0, 5));
    const input = targets.map((row) => [1, ...row.slice(0, 4).map((v) => (v < 0 ? 0 : v))]);
    const [logits] = model.forward(source, lengths, input);
    const loss = nn.crossEntropy(logits.reshape(-1, 12), tensor(targets.flat()));
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
  }
  return model;
}

const SOURCE = [[3, 4, 5, 6], [8, 9, 0, 0], [10, 11, 3, 0], [5, 7, 5, 7]];
const LENGTHS = [4, 2, 3, 4];

describe('Seq2Seq decoding', () => {
  for (const [cell, bidirectional, attention] of [['lstm', true, 'general'], ['gru', false, 'additive']] as const) {
    it(`${cell}, ${bidirectional ? 'bidirectional' : 'unidirectional'} encoder, ${attention}: beam width 1 is greedy (tokens, scores, attention)`, () => {
      const model = toySeq2Seq(cell, bidirectional, attention);
      const options = { lengths: LENGTHS, bos: 1, eos: 2, maxLength: 12 };
      const greedy = model.greedy(SOURCE, options);
      const beam = model.beamSearch(SOURCE, { ...options, beamWidth: 1 });
      expect(greedy.some((h) => h.finished) && greedy.some((h) => h.tokens.length > 1)).toBe(true);
      beam.forEach(([h], b) => {
        expect(h.tokens).toEqual(greedy[b].tokens);
        expect(h.score).toBe(greedy[b].score);
        expect(h.finished).toBe(greedy[b].finished);
        expect(h.attention!.map((row) => Array.from(row))).toEqual(greedy[b].attention!.map((row) => Array.from(row)));
      });
      for (const [b, h] of greedy.entries()) {
        for (const row of h.attention!) {
          expect(Array.from(row.subarray(LENGTHS[b])).every((w) => w === 0)).toBe(true);
          expect(row.reduce((s, w) => s + w, 0)).toBeCloseTo(1, 5);
        }
      }
    });
  }

  it('the one-step decoding path gives the teacher-forced forward\'s log-probabilities', () => {
    const model = toySeq2Seq('lstm', true, 'general').eval();
    const [h] = model.greedy([SOURCE[0]], { bos: 1, eos: 2, maxLength: 6 });
    const input = [[1, ...h.tokens]];
    const [logits] = noGrad(() => model.forward([SOURCE[0]], null, input));
    const logProbs = logits.logSoftmax(-1);
    let score = 0;
    const next = [...h.tokens, ...(h.finished ? [2] : [])];
    next.forEach((token, t) => { score += logProbs.data[t * 12 + token]; });
    expect(h.score).toBeCloseTo(score, 4);
  });

  it('a batch gives each item the result it gets alone, and beam search scores at least greedy\'s', () => {
    const model = toySeq2Seq('lstm', true, 'additive');
    const options = { lengths: LENGTHS, bos: 1, eos: 2, maxLength: 10, beamWidth: 4, lengthPenalty: 0 };
    const together = model.beamSearch(SOURCE, options);
    const greedy = model.greedy(SOURCE, { lengths: LENGTHS, bos: 1, eos: 2, maxLength: 10 });
    SOURCE.forEach((row, b) => {
      const alone = model.beamSearch([row.slice(0, LENGTHS[b])], { ...options, lengths: null });
      expect(alone[0].map((h) => h.tokens)).toEqual(together[b].map((h) => h.tokens));
      alone[0].forEach((h, k) => expect(h.score).toBeCloseTo(together[b][k].score, 4));
      expect(together[b]).toHaveLength(4);
      if (greedy[b].finished) expect(together[b][0].score).toBeGreaterThanOrEqual(greedy[b].score - 1e-6);
    });
    expect(model.training).toBe(true); // decoding switched to eval mode and back
  });

  it('rejects modules that do not fit together', () => {
    const parts = () => ({
      sourceEmbedding: new nn.Embedding(5, 3), encoder: new nn.LSTM(3, 4, { bidirectional: true }),
      targetEmbedding: new nn.Embedding(6, 2), decoder: new nn.LSTM(2, 8), attention: new nn.LuongAttention(8, 8) as nn.Attention,
    });
    expect(() => new nn.Seq2Seq({ ...parts(), attention: new nn.LuongAttention(8, 4) }))
      .toThrow(new RangeError('Expected attention.keySize 8 (encoder directions × state size = 2 × 4) but received 4'));
    expect(() => new nn.Seq2Seq({ ...parts(), decoder: new nn.LSTM(3, 8) })).toThrow(new RangeError('Expected decoder.inputSize 2 (targetEmbedding.embeddingDim) but received 3'));
    expect(() => new nn.Seq2Seq({ ...parts(), decoder: new nn.LSTM(2, 8, { bidirectional: true }) }))
      .toThrow(new RangeError('Expected a unidirectional decoder but received a bidirectional one (it generates left to right)'));
    expect(() => new nn.Seq2Seq({ ...parts(), encoder: new nn.Linear(3, 4) as never })).toThrow(new TypeError('Expected RNN, LSTM or GRU for encoder but received an object'));
    const model = new nn.Seq2Seq(parts());
    expect(() => model.forward([[1, 2]], [3], [[1]])).toThrow(new RangeError('Expected integer between 1 and 2 for lengths[0] but received 3 of type number'));
    expect(() => model.forward([[1, 2]], null, [[1], [1]])).toThrow(new RangeError('Expected targetInput with 1 rows (the source batch) but received 2'));
    expect(() => model.forward([[1, 2], [3]], null, [[1]])).toThrow(new RangeError('Expected a rectangular number[][] for source (every row of length 2)'));
    expect(() => model.forward(new Tensor(new Float32Array(2), [2]), null, [[1]])).toThrow(new RangeError('Expected source of shape [batch, steps] but received shape [2]'));
  });
});
