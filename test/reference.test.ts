// The float64 TypeScript reference checked on its own: against PyTorch's float64 results for every
// fixture, and its backward against central finite differences of its own forward.
import { afterAll, describe, expect, it } from 'vitest';
import {
  caseFromFixture, compareResults, describeMismatch, fixtureGoldens, loadAllFixtures, randomArray, refCellOf,
  runReference, worstError, WorstTable,
} from './helpers/fixtures.js';
import {
  referenceBackward, referenceForward, referenceLoss, stateSize,
  type RefCell, type RefOptions, type RefUpstream, type RefWeights,
} from './helpers/reference.js';

// Both sides are float64 over the same float32-exact inputs: they differ only by summation order.
const TORCH_F64_TOLERANCE = 1e-9;
// Central differences in double with eps 1e-6: truncation ~eps²·f''' ≈ 1e-12 and cancellation
// ~1e-16·|loss|/eps ≈ 1e-9 for our losses of order 10, so 1e-6 (mixed abs/rel) has wide margin.
const FD_EPS = 1e-6;
const FD_TOLERANCE = 1e-6;

describe('reference vs PyTorch float64', () => {
  const table = new WorstTable(`reference vs torch float64, worst mixed error (tolerance ${TORCH_F64_TOLERANCE})`);
  afterAll(() => table.print());
  for (const fx of loadAllFixtures()) {
    it(fx.name, () => {
      const compared = compareResults(runReference(caseFromFixture(fx)), fixtureGoldens(fx, '_f64'));
      for (const [name, m] of compared) {
        table.add(refCellOf(fx), `${fx.name} ${name}`, m);
        expect(m.worst, describeMismatch(`${fx.name} ${name}`, m)).toBeLessThanOrEqual(TORCH_F64_TOLERANCE);
      }
      expect(compared.size).toBeGreaterThanOrEqual(6); // output, hN, dx, dh0, dW_ih, dW_hh at least
    });
  }
});

// ---- finite differences -------------------------------------------------------------------------

interface FdCase {
  name: string;
  opts: RefOptions;
  bias: boolean;
}

function fdCases(): FdCase[] {
  const cells: RefCell[] = ['rnn_tanh', 'rnn_relu', 'lstm', 'gru'];
  const cases: FdCase[] = [];
  for (const cell of cells) {
    const base = { cell, steps: 4, batch: 3, inputSize: 3, hiddenSize: 3 };
    cases.push({ name: `${cell} plain`, opts: base, bias: true });
    cases.push({ name: `${cell} no bias`, opts: base, bias: false });
    // Lengths include 0 (allowed by our kernels, not by PyTorch) and T.
    cases.push({ name: `${cell} reverse lengths`, opts: { ...base, reverse: true, lengths: [2, 0, 4] }, bias: true });
    cases.push({ name: `${cell} lengths`, opts: { ...base, lengths: [4, 1, 3] }, bias: true });
  }
  const proj = { cell: 'lstm' as const, steps: 4, batch: 2, inputSize: 3, hiddenSize: 4, projSize: 2 };
  cases.push({ name: 'lstm proj', opts: proj, bias: true });
  cases.push({ name: 'lstm proj reverse lengths', opts: { ...proj, reverse: true, lengths: [3, 1] }, bias: false });
  return cases;
}

describe('reference backward vs finite differences', () => {
  const table = new WorstTable(`reference backward vs central differences, worst mixed error (tolerance ${FD_TOLERANCE})`);
  afterAll(() => table.print());
  for (const { name, opts, bias } of fdCases()) {
    it(name, () => {
      const { steps: T, batch: B, inputSize: I, hiddenSize: H } = opts;
      const S = stateSize(opts);
      const G = opts.cell === 'lstm' ? 4 : opts.cell === 'gru' ? 3 : 1;
      const isLstm = opts.cell === 'lstm';
      const scale = 1 / Math.sqrt(H);
      // Every differentiable input by name, perturbed in place below.
      const inputs: Record<string, Float64Array> = {
        x: randomArray(T * B * I, 1),
        h0: randomArray(B * S, 2, 0.8),
        weightIh: randomArray(G * H * I, 3, scale),
        weightHh: randomArray(G * H * S, 4, scale),
      };
      if (isLstm) inputs.c0 = randomArray(B * H, 5, 1.5);
      if (bias) {
        inputs.biasIh = randomArray(G * H, 6, scale);
        inputs.biasHh = randomArray(G * H, 7, scale);
      }
      if (opts.projSize) inputs.weightHr = randomArray(opts.projSize * H, 8, scale);
      const up: RefUpstream = {
        dOutput: randomArray(T * B * S, 9), dhN: randomArray(B * S, 10), dcN: isLstm ? randomArray(B * H, 11) : null,
      };
      const weights = (): RefWeights => ({
        weightIh: inputs.weightIh, weightHh: inputs.weightHh, biasIh: inputs.biasIh ?? null,
        biasHh: inputs.biasHh ?? null, weightHr: inputs.weightHr ?? null,
      });
      const loss = () => referenceLoss(referenceForward(opts, weights(), inputs.x, inputs.h0, inputs.c0 ?? null), up);

      const fwd = referenceForward(opts, weights(), inputs.x, inputs.h0, inputs.c0 ?? null);
      const bwd = referenceBackward(opts, weights(), inputs.x, fwd, up);
      const analytic: Record<string, Float64Array | null> = {
        x: bwd.dx, h0: bwd.dh0, c0: bwd.dc0, weightIh: bwd.grads.weightIh, weightHh: bwd.grads.weightHh,
        biasIh: bwd.grads.biasIh, biasHh: bwd.grads.biasHh, weightHr: bwd.grads.weightHr,
      };
      for (const [key, values] of Object.entries(inputs)) {
        const numeric = new Float64Array(values.length);
        for (let k = 0; k < values.length; k++) {
          const saved = values[k];
          values[k] = saved + FD_EPS;
          const plus = loss();
          values[k] = saved - FD_EPS;
          const minus = loss();
          values[k] = saved;
          numeric[k] = (plus - minus) / (2 * FD_EPS);
        }
        const m = worstError(analytic[key]!, numeric);
        table.add(opts.cell, `${name} d${key}`, m);
        expect(m.worst, describeMismatch(`${name} d${key}`, m)).toBeLessThanOrEqual(FD_TOLERANCE);
      }
    });
  }
});
