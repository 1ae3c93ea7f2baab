// Attention (src/nn/attention.ts) and the Seq2Seq encoder–decoder (src/nn/seq2seq.ts) against
// PyTorch 1.13 (fixtures from test/fixtures/seq2seq/make_seq2seq.py, whose torch modules are
// bench/g2p_torch.py's) and against finite differences; masked keys get exactly zero weight.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cat, manualSeed, nn, randn, Tensor, tensor } from '../src/index.js';
import { gradcheck } from './helpers/gradcheck.js';
import { mixedError, toTensor, type Entry } from './helpers/nn-fixtures.js';

interface Case {
  name: string;
  querySize: number;
  keySize: number;
  lengths: number[];
  tensors: Record<string, Entry>;
}
const fixture = JSON.parse(readFileSync(new URL('./fixtures/seq2seq/seq2seq.json', import.meta.url), 'utf8')) as {
  attention: Case[];
  seq2seq: Case;
};

function stateOf(c: Case): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(c.tensors).filter(([k]) => k.startsWith('state.')).map(([k, v]) => [k.slice(6), toTensor(v)]));
}

function attentionFor(c: Case): nn.Attention {
  if (c.name === 'bahdanau') return new nn.BahdanauAttention(c.querySize, c.keySize, 9);
  return new nn.LuongAttention(c.querySize, c.keySize, { method: c.name === 'luong-dot' ? 'dot' : 'general' });
}

/** Σ a·r over all elements, as a scalar on the tape. */
const weighted = (a: Tensor, r: Tensor): Tensor => a.mul(r).sum();

// Tolerance: mixed error |got − torch| / max(1, |torch|); float32 on both sides, sums in different orders.
const TOLERANCE = 2e-6;

describe('attention against PyTorch', () => {
  for (const c of fixture.attention) {
    it(`${c.name}: context, weights and every gradient within ${TOLERANCE}`, () => {
      const attention = attentionFor(c);
      attention.loadStateDict(stateOf(c));
      const t = c.tensors;
      const query = toTensor(t.query, true), keys = toTensor(t.keys, true), values = toTensor(t.values, true);
      const [context, weights] = attention.forward(query, keys, values, { lengths: c.lengths });
      weighted(context, toTensor(t.R1)).add(weighted(weights, toTensor(t.R2))).backward();
      const errors: Record<string, number> = {
        context: mixedError(context, t.context, 'context'), weights: mixedError(weights, t.weights, 'weights'),
        dQuery: mixedError(query.grad, t.dQuery, 'dQuery'), dKeys: mixedError(keys.grad, t.dKeys, 'dKeys'),
        dValues: mixedError(values.grad, t.dValues, 'dValues'),
      };
      for (const [name, p] of attention.namedParameters()) errors[name] = mixedError(p.grad, t[`grad.${name}`], name);
      for (const [name, error] of Object.entries(errors)) expect(error, name).toBeLessThan(TOLERANCE);
    });
  }
});

describe('attention gradients against finite differences', () => {
  const lengths = [4, 1, 3];
  const cases: [string, () => nn.Attention][] = [
    ['luong general', () => new nn.LuongAttention(3, 5)],
    ['luong dot', () => new nn.LuongAttention(5, 5, { method: 'dot' })],
    ['bahdanau', () => new nn.BahdanauAttention(3, 5, 4)],
  ];
  for (const [name, make] of cases) {
    it(`${name}: query, keys, values and parameters (3-D query, masked)`, () => {
      manualSeed(11);
      const attention = make();
      const query = randn([3, 2, attention.querySize], { requiresGrad: true });
      const keys = randn([3, 4, 5], { requiresGrad: true });
      const values = randn([3, 4, 2], { requiresGrad: true });
      const params = attention.parameters();
      // Both results in one output, so one weighted sum covers the context and the weights.
      const fn = (q: Tensor, k: Tensor, v: Tensor): Tensor => {
        const [context, weights] = attention.forward(q, k, v, { lengths });
        return cat([context.reshape(-1), weights.reshape(-1)], 0);
      };
      gradcheck(fn, [query, keys, values], { tolerance: 2e-2 });
      gradcheck((...inputs: Tensor[]) => fn(inputs[0], inputs[1], inputs[2]), [query, keys, values, ...params], { inputs: params.map((_, i) => i + 3), tolerance: 2e-2 });
    });
  }
});

describe('masking', () => {
  it('keys at or past an item\'s length get exactly zero weight and no gradient, whatever their scores', () => {
    manualSeed(3);
    const attention = new nn.LuongAttention(4, 4, { method: 'dot' });
    const keys = randn([2, 5, 4], { requiresGrad: true });
    keys.data.fill(1e30, 2 * 4, 5 * 4); // item 0's padding: scores that would swamp the softmax
    const values = randn([2, 5, 3], { requiresGrad: true });
    const query = randn([2, 3, 4], { requiresGrad: true });
    const [context, weights] = attention.forward(query, keys, values, { lengths: [2, 5] });
    for (let t = 0; t < 3; t++) {
      const row = Array.from(weights.data.subarray(t * 5, t * 5 + 5));
      expect(row.slice(2)).toEqual([0, 0, 0]);
      expect(row[0] + row[1]).toBeCloseTo(1, 6);
    }
    expect(Array.from(context.data).every(Number.isFinite)).toBe(true);
    weighted(context, randn([2, 3, 3])).add(weighted(weights, randn([2, 3, 5]))).backward();
    expect(Array.from(keys.grad!.data.subarray(2 * 4, 5 * 4)).every((g) => g === 0)).toBe(true);
    expect(Array.from(values.grad!.data.subarray(2 * 3, 5 * 3)).every((g) => g === 0)).toBe(true);
    expect(Array.from(keys.grad!.data.subarray(0, 2 * 4)).some((g) => g !== 0)).toBe(true);
  });

  it('keyPaddingMask (nonzero = padding) gives the weights of the same lengths; one-step queries drop the T axis', () => {
    manualSeed(4);
    const attention = new nn.BahdanauAttention(3, 2);
    const query = randn([2, 3]), keys = randn([2, 4, 2]);
    const [c1, w1] = attention.forward(query, keys, null, { lengths: [3, 1] });
    const mask = tensor([[0, 0, 0, 1], [0, 1, 1, 1]]);
    const [c2, w2] = attention.forward(query, keys, null, { keyPaddingMask: mask });
    expect(w1.shape).toEqual([2, 4]);
    expect(c1.shape).toEqual([2, 2]);
    expect(Array.from(w2.data)).toEqual(Array.from(w1.data));
    expect(Array.from(c2.data)).toEqual(Array.from(c1.data));
    expect(w1.data[3]).toBe(0);
    expect(w1.data[4]).toBe(1); // item 1 has one key: all the weight
  });

  it('weights below float32\'s normal range are exactly 0 (no subnormals reach the GEMMs); normal small ones stay', () => {
    // Dot scores 0, −80, −90, −100 against a query of ones: e^−80 ≈ 1.8e-35 is a normal float32,
    // e^−90 ≈ 8.2e-40 and e^−100 ≈ 3.7e-44 are subnormal.
    const attention = new nn.LuongAttention(1, 1, { method: 'dot' });
    const keys = tensor([[[0], [-80], [-90], [-100]]], { requiresGrad: true });
    const [, weights] = attention.forward(tensor([[[1]]]), keys);
    expect(weights.data[0]).toBe(1);
    expect(weights.data[1]).toBeCloseTo(Math.exp(-80), 40);
    expect(weights.data[1]).toBeGreaterThan(0);
    expect([weights.data[2], weights.data[3]]).toEqual([0, 0]);
  });

  it('lengthMask rejects lengths outside [1, S]', () => {
    expect(() => nn.lengthMask([3, 0], 2, 4)).toThrow(new RangeError('Expected integer between 1 and 4 for lengths[1] but received 0 of type number'));
    expect(() => nn.lengthMask([3, 5], 2, 4)).toThrow(new RangeError('Expected integer between 1 and 4 for lengths[1] but received 5 of type number'));
    expect(() => nn.lengthMask([3], 2, 4)).toThrow(new RangeError('Expected array of length 2 for lengths (batch = 2) but received length 1'));
  });
});

describe('attention argument errors', () => {
  const attention = new nn.LuongAttention(4, 6);
  const q = randn([2, 3, 4]), k = randn([2, 5, 6]);
  it('names the argument and the expected shape', () => {
    expect(() => attention.forward(randn([2, 3, 5]), k)).toThrow(new RangeError('Expected query of width 4 (querySize) but received shape [2, 3, 5]'));
    expect(() => attention.forward(q, randn([3, 5, 6]))).toThrow(new RangeError('Expected keys of shape [2, keys, 6] (batch, keys, keySize) but received shape [3, 5, 6]'));
    expect(() => attention.forward(q, k, randn([2, 4, 6]))).toThrow(new RangeError('Expected values of shape [2, 5, valueSize] (batch, keys, valueSize) but received shape [2, 4, 6]'));
    expect(() => attention.forward(q, randn([2, 6]))).toThrow(new RangeError('Expected keys of shape [batch, keys, keySize] but received shape [2, 6]'));
    expect(() => attention.forward(q, [1, 2] as unknown as Tensor)).toThrow(new TypeError('Expected Tensor for keys but received an Array of length 2'));
    expect(() => attention.forward(q, k, null, { lengths: [1, 2], keyPaddingMask: tensor([[0]]) })).toThrow(new TypeError('Expected lengths or keyPaddingMask but received both'));
    expect(() => attention.forward(q, k, null, { keyPaddingMask: tensor([[0, 0, 0, 0, 0], [1, 1, 1, 1, 1]]) }))
      .toThrow(new RangeError('Expected at least one key that is not padding for keyPaddingMask[1] but received none'));
    expect(() => attention.forward(q, k, null, { length: [1, 2] } as never)).toThrow(new TypeError('Expected one of lengths, keyPaddingMask for attention option but received length of type string'));
    expect(() => new nn.LuongAttention(4, 6, { method: 'dot' })).toThrow(new RangeError('Expected querySize equal to keySize for the dot method but received 4 and 6'));
    expect(() => new nn.LuongAttention(4, 6, { method: 'concat' as never })).toThrow(new RangeError('Expected one of dot, general for method but received concat of type string'));
  });
});

describe('Seq2Seq against PyTorch', () => {
  const c = fixture.seq2seq;
  const t = c.tensors;
  function model(): nn.Seq2Seq {
    const m = new nn.Seq2Seq({
      sourceEmbedding: new nn.Embedding(9, 5, { paddingIdx: 0 }),
      encoder: new nn.LSTM(5, 6, { numLayers: 2, bidirectional: true }),
      targetEmbedding: new nn.Embedding(8, 5, { paddingIdx: 0 }),
      decoder: new nn.LSTM(5, 12, { numLayers: 2 }),
      attention: new nn.LuongAttention(12, 12),
    });
    m.loadStateDict(stateOf(c));
    return m;
  }
  const ids = (name: string): number[][] => (toTensor(t[name]).toArray() as number[][]);

  it('has torch\'s parameter names in torch\'s order', () => {
    const names = Object.keys(t).filter((k) => k.startsWith('state.')).map((k) => k.slice(6));
    expect(Object.keys(model().stateDict())).toEqual(names);
  });

  it(`teacher-forced logits, attention weights, the padded-target loss and every gradient within ${TOLERANCE}`, async () => {
    for (const run of ['forward', 'forwardAsync'] as const) {
      const m = model();
      const [logits, weights] = await m[run](ids('source'), Array.from(t.lengths.data), ids('targetInput'));
      const loss = nn.crossEntropy(logits.reshape(-1, 8), toTensor(t.target).reshape(-1), { ignoreIndex: -100, labelSmoothing: 0.1 });
      await loss.backwardAsync();
      expect(mixedError(logits, t.logits, 'logits'), `${run} logits`).toBeLessThan(TOLERANCE);
      expect(mixedError(weights, t.weights, 'weights'), `${run} weights`).toBeLessThan(TOLERANCE);
      expect(mixedError(loss, t.loss, 'loss'), `${run} loss`).toBeLessThan(TOLERANCE);
      for (const [name, p] of m.namedParameters()) expect(mixedError(p.grad, t[`grad.${name}`], name), `${run} ${name}`).toBeLessThan(1e-5);
    }
  });
});
