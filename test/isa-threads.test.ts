// Every ISA against 'scalar' on awkward sizes (SIMD tails are where bugs live), thread-count
// invariance, and bitwise run-to-run determinism for a fixed ISA and thread count.
//
// Error measure: mixed = |got − want| / max(1, |want|).
import { afterAll, describe, expect, it } from 'vitest';
import * as rnnkit from '../src/index.js';
import {
  describeMismatch, compareResults, firstDifference, randomCase, runPackage, WorstTable, type SequenceCase,
  type SequenceResults,
} from './helpers/fixtures.js';
import type { RefCell } from './helpers/reference.js';

// ISAs differ only by FMA contraction and GEMM summation order: both float32 results sit within
// ~1e-6 of the exact value at these sizes (PyTorch float32 vs float64: ≤ 6e-7 at H=9, ≤ 5e-6 at
// T=20·B=17·H=100), so 1e-5 bounds their difference with margin and still catches tail bugs
// (a lane read past the end or a skipped tail element is an O(0.1) error).
const ISA_TOLERANCE = 1e-5;
// More threads split GEMMs by output column blocks and pointwise work by rows: ideally bitwise
// identical; allowed to differ by float32 rounding (a K-split would reorder sums).
const THREAD_TOLERANCE = 1e-5;

const CELLS: RefCell[] = ['rnn_tanh', 'rnn_relu', 'lstm', 'gru'];
const HIDDEN_SIZES = [1, 3, 7, 8, 15, 16, 17, 33, 100];
const defaultIsa = rnnkit.isa();
const defaultThreads = rnnkit.getNumThreads();

/** Awkward shapes: odd I and B, lengths with 0 and T, reverse on odd H, projection for LSTM. */
function awkwardCases(): SequenceCase[] {
  const cases: SequenceCase[] = [];
  let seed = 1;
  for (const cell of CELLS) {
    for (const H of HIDDEN_SIZES) {
      const inputSize = H === 100 ? 33 : H + 2;
      const spec = { cell, steps: 6, batch: 5, inputSize, hiddenSize: H, reverse: H % 2 === 1,
        lengths: [6, 3, 0, 6, 1] };
      cases.push(randomCase(spec, seed++));
      if (cell === 'lstm' && H > 1) cases.push(randomCase({ ...spec, projSize: Math.ceil(H / 2), batch: 3, lengths: null }, seed++));
    }
  }
  return cases;
}

async function runOn(isa: string, c: SequenceCase): Promise<SequenceResults<Float32Array>> {
  rnnkit.setIsa(isa);
  return runPackage(rnnkit, c);
}

const isas = rnnkit.availableIsas();
const simdIsas = isas.filter((name) => name !== 'scalar');

describe('every ISA vs scalar on awkward sizes', () => {
  const cases = awkwardCases();
  afterAll(() => rnnkit.setIsa(defaultIsa));

  it('scalar is available', () => {
    expect(isas).toContain('scalar');
  });

  describe.each(simdIsas.length ? simdIsas : ['(no SIMD ISA on this machine)'])('%s', (isa) => {
    const table = new WorstTable(`${isa} vs scalar, worst mixed error (tolerance ${ISA_TOLERANCE})`);
    afterAll(() => table.print());
    for (const c of cases) {
      it.skipIf(!simdIsas.includes(isa))(c.name, async () => {
        const scalar = await runOn('scalar', c);
        const simd = await runOn(isa, c);
        for (const [name, m] of compareResults(simd, scalar)) {
          table.add(`${c.cell} H=${c.hiddenSize}`, `${c.name} ${name}`, m);
          expect(m.worst, describeMismatch(`${isa} vs scalar ${c.name} ${name}`, m)).toBeLessThanOrEqual(ISA_TOLERANCE);
        }
      });
    }
  });
});

describe('threads', () => {
  // Big enough that the pool really splits the GEMMs and the per-step work.
  const cases = CELLS.map((cell, k) => randomCase({ cell, steps: 10, batch: 17, inputSize: 33, hiddenSize: 100,
    reverse: k % 2 === 1, lengths: [10, 1, 0, 7, 10, 3, 9, 10, 2, 5, 10, 8, 4, 10, 6, 1, 10] }, 500 + k));
  cases.push(randomCase({ cell: 'lstm', steps: 10, batch: 17, inputSize: 33, hiddenSize: 100, projSize: 37 }, 600));
  afterAll(() => {
    rnnkit.setNumThreads(defaultThreads);
    rnnkit.setIsa(defaultIsa);
  });

  it('setNumThreads / getNumThreads round-trip', () => {
    rnnkit.setNumThreads(1);
    expect(rnnkit.getNumThreads()).toBe(1);
    rnnkit.setNumThreads(2);
    expect(rnnkit.getNumThreads()).toBe(2);
  });

  describe.each(isas)('ISA %s', (isa) => {
    const table = new WorstTable(`[${isa}] 2 threads vs 1, worst mixed error (tolerance ${THREAD_TOLERANCE})`);
    afterAll(() => table.print());
    for (const c of cases) {
      it(`1 vs 2 threads, and bitwise run to run: ${c.name}`, async () => {
        rnnkit.setIsa(isa);
        const runs: Record<number, SequenceResults<Float32Array>[]> = {};
        for (const threads of [1, 2]) {
          rnnkit.setNumThreads(threads);
          runs[threads] = [await runPackage(rnnkit, c), await runPackage(rnnkit, c)];
        }
        for (const threads of [1, 2]) {
          const [first, second] = runs[threads];
          for (const [name, values] of Object.entries(first)) {
            if (!values) continue;
            const again = second[name as keyof typeof second]!;
            expect(firstDifference(again, values), `${threads} threads, ${name}: first index differing between runs`)
              .toBe(-1);
          }
        }
        for (const [name, m] of compareResults(runs[2][0], runs[1][0])) {
          table.add(c.cell, `${c.name} ${name}`, m);
          expect(m.worst, describeMismatch(`${isa} 2 vs 1 threads ${c.name} ${name}`, m))
            .toBeLessThanOrEqual(THREAD_TOLERANCE);
        }
      });
    }
  });
});
