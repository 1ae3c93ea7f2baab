// The package's low-level sequence API against PyTorch (float32 goldens, every fixture) and against
// the float64 TS reference on larger random cases, once per available ISA; plus the API's own
// promises: async twins equal the sync calls, inference equals training, backward accumulates.
//
// Error measure everywhere: mixed = |got − want| / max(1, |want|) (absolute below 1, relative above).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as rnnkit from '../src/index.js';
import {
  caseFromFixture, compareResults, describeMismatch, firstDifference, fixtureGoldens, loadAllFixtures,
  randomCase, refCellOf, runPackage, runReference, worstError, WorstTable, type RandomCaseSpec, type SequenceCase, type SequenceResults,
} from './helpers/fixtures.js';
import type { RefCell } from './helpers/reference.js';

// PyTorch float32 itself is within 6e-7 (mixed) of PyTorch float64 on every fixture (T=5, B=3,
// I=7, H=9). Another float32 implementation (approximate exp, other summation order) should land
// within a few times that; 1e-5 keeps a ~10x margin and still flags any real bug (a wrong index,
// gate or length shows up at 1e-2 and above). Same bound against the float64 goldens.
const TORCH_TOLERANCE = 1e-5;
// Larger cases (T=20, B=17, I=33, H up to 100; gradients summed over 340 rows, values up to ~40):
// PyTorch float32 vs float64 measured up to 5e-6 on such sizes, so 3e-5 (6x) here.
const LARGE_TOLERANCE = 3e-5;

const CELLS: RefCell[] = ['rnn_tanh', 'rnn_relu', 'lstm', 'gru'];
const fixtures = loadAllFixtures();
const defaultIsa = rnnkit.isa();

// Larger random cases, shared by every ISA; the reference results are computed once.
function largeCases(): SequenceCase[] {
  const T = 20;
  const B = 17;
  // Mixed lengths: T, 1, 0 (our kernels allow empty sequences) and assorted others.
  const lengths = [20, 1, 0, 7, 19, 20, 3, 12, 20, 5, 16, 2, 9, 20, 14, 11, 6];
  const specs: RandomCaseSpec[] = [];
  for (const cell of CELLS) {
    for (const H of [15, 100]) {
      const base = { cell, steps: T, batch: B, inputSize: 33, hiddenSize: H };
      specs.push({ ...base, states: false });
      specs.push({ ...base, reverse: true, lengths });
      specs.push({ ...base, lengths, bias: false });
    }
  }
  specs.push({ cell: 'lstm', steps: T, batch: B, inputSize: 33, hiddenSize: 100, projSize: 37, reverse: true, lengths });
  specs.push({ cell: 'lstm', steps: T, batch: B, inputSize: 33, hiddenSize: 15, projSize: 7 });
  return specs.map((spec, k) => randomCase(spec, 1000 + k));
}
const large = largeCases();
const largeReference = new Map<string, SequenceResults<Float64Array>>();
function referenceFor(c: SequenceCase): SequenceResults<Float64Array> {
  if (!largeReference.has(c.name)) largeReference.set(c.name, runReference(c));
  return largeReference.get(c.name)!;
}

describe.each(rnnkit.availableIsas())('ISA %s', (isa) => {
  beforeAll(() => rnnkit.setIsa(isa));
  afterAll(() => rnnkit.setIsa(defaultIsa));

  describe('vs PyTorch float32 goldens', () => {
    const vs32 = new WorstTable(`[${isa}] package vs torch float32, worst mixed error (tolerance ${TORCH_TOLERANCE})`);
    const vs64 = new WorstTable(`[${isa}] package vs torch float64, worst mixed error (tolerance ${TORCH_TOLERANCE})`);
    afterAll(() => {
      vs32.print();
      vs64.print();
    });
    for (const fx of fixtures) {
      it(fx.name, async () => {
        expect(rnnkit.isa()).toBe(isa);
        const got = await runPackage(rnnkit, caseFromFixture(fx));
        const against = [[vs32, fixtureGoldens(fx)], [vs64, fixtureGoldens(fx, '_f64')]] as const;
        for (const [table, goldens] of against) {
          const compared = compareResults(got, goldens);
          expect(compared.size).toBeGreaterThanOrEqual(6);
          for (const [name, m] of compared) {
            table.add(refCellOf(fx), `${fx.name} ${name}`, m);
            expect(m.worst, describeMismatch(`${isa} ${fx.name} ${name}`, m)).toBeLessThanOrEqual(TORCH_TOLERANCE);
          }
        }
      });
    }
  });

  describe('vs float64 reference, larger random cases', () => {
    const table = new WorstTable(`[${isa}] package vs float64 reference, worst mixed error (tolerance ${LARGE_TOLERANCE})`);
    afterAll(() => table.print());
    for (const c of large) {
      it(c.name, async () => {
        const got = await runPackage(rnnkit, c);
        for (const [name, m] of compareResults(got, referenceFor(c))) {
          table.add(`${c.cell} H=${c.hiddenSize}`, `${c.name} ${name}`, m);
          expect(m.worst, describeMismatch(`${isa} ${c.name} ${name}`, m)).toBeLessThanOrEqual(LARGE_TOLERANCE);
        }
      });
    }
  });
});

describe('API behaviour', () => {
  const cases = [
    ...fixtures.filter((fx) => fx.name.includes('reverse_lengths_h0')).map(caseFromFixture),
    ...large.filter((c) => c.hiddenSize === 15 && c.lengths),
  ];

  for (const c of cases) {
    it(`async twins equal the sync calls bitwise: ${c.name}`, async () => {
      const sync = await runPackage(rnnkit, c);
      const async = await runPackage(rnnkit, c, { async: true });
      for (const [name, values] of Object.entries(sync)) {
        const other = async[name as keyof typeof async];
        expect(other === null, name).toBe(values === null);
        if (values && other) expect(firstDifference(other, values), `${name}: first differing index`).toBe(-1);
      }
    });
  }

  it('inference mode returns no cache and the same outputs bitwise', () => {
    for (const c of cases) {
      const sizes = { steps: c.steps, batch: c.batch, inputSize: c.inputSize, hiddenSize: c.hiddenSize,
        reverse: c.reverse, lengths: c.lengths };
      const w = { weightIh: c.weightIh, weightHh: c.weightHh, biasIh: c.biasIh, biasHh: c.biasHh, weightHr: c.weightHr };
      const state = (training: boolean) => ({ h0: c.h0 ?? undefined, c0: c.c0 ?? undefined, training });
      const forward = (training: boolean) => c.cell === 'lstm'
        ? rnnkit.lstmForward({ ...sizes, projSize: c.projSize }, w, c.x, state(training))
        : c.cell === 'gru' ? rnnkit.gruForward(sizes, w, c.x, state(training))
          : rnnkit.rnnForward({ ...sizes, nonlinearity: c.cell === 'rnn_relu' ? 'relu' : 'tanh' }, w, c.x, state(training));
      const inference = forward(false);
      const training = forward(true);
      expect(inference.cache, c.name).toBeNull();
      expect(training.cache, c.name).toBeInstanceOf(rnnkit.SequenceCache);
      expect(training.cache?.floats, c.name).toBe(rnnkit.cacheSize(c.cell, { ...sizes, projSize: c.projSize }));
      expect(firstDifference(inference.output, training.output), `${c.name} output`).toBe(-1);
      expect(firstDifference(inference.hN, training.hN), `${c.name} hN`).toBe(-1);
      if (c.cell === 'lstm') expect(firstDifference(inference.cN!, training.cN!), `${c.name} cN`).toBe(-1);
    }
  });

  it('backward accumulates into the weight gradients (+=)', async () => {
    for (const c of cases) {
      const once = await runPackage(rnnkit, c);
      const start = { weightIh: once.dweight_ih!, weightHh: once.dweight_hh!, biasIh: once.dbias_ih ?? undefined,
        biasHh: once.dbias_hh ?? undefined, weightHr: once.dweight_hr ?? undefined };
      const twice = await runPackage(rnnkit, c, { gradsStart: start });
      for (const name of ['dweight_ih', 'dweight_hh', 'dbias_ih', 'dbias_hh', 'dweight_hr'] as const) {
        const first = once[name];
        if (!first) continue;
        const m = worstError(twice[name]!, Float64Array.from(first, (v) => 2 * v));
        // grads + grads: one float32 rounding of the sum at most (exact when added in the same order).
        expect(m.worst, describeMismatch(`${c.name} ${name}`, m)).toBeLessThanOrEqual(1e-6);
      }
    }
  });
});
