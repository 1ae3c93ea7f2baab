// What both benchmarks measure (ARCHITECTURE.md §8) and what issue #10 wants of it, and the numbers
// derived from a measured row: GFLOP/s, the ratio to PyTorch, the share of the sgemm peak, the verdicts.

export const GATES = { lstm: 4, gru: 3, rnn: 1 };

/**
 * The §8 configurations. `targets[mode]`: the ratio over PyTorch wanted, by medians (issue #10:
 * training S ≥ 4×, M ≥ 2×, L ≥ 1.2×; inference at M ≥ 2×). `peakTargets[mode]`: the share of our
 * own sgemm peak (same run, ISA and threads) wanted (M-LSTM training ≥ 70 %). `overheadTarget`: the
 * model API over the bare kernels (bench/train.js).
 */
export const CONFIGS = [
  { name: 'S', cell: 'lstm', input: 32, hidden: 64, batch: 16, steps: 50, targets: { train: 4 } },
  { name: 'M-LSTM', cell: 'lstm', input: 128, hidden: 256, batch: 64, steps: 100, targets: { train: 2, infer: 2 },
    peakTargets: { train: 0.7 }, overheadTarget: 0.1 },
  { name: 'M-GRU', cell: 'gru', input: 128, hidden: 256, batch: 64, steps: 100, targets: { train: 2, infer: 2 }, overheadTarget: 0.1 },
  { name: 'M-RNN', cell: 'rnn', input: 128, hidden: 256, batch: 64, steps: 100, targets: { train: 2, infer: 2 }, overheadTarget: 0.1 },
  { name: 'L', cell: 'lstm', input: 512, hidden: 1024, batch: 128, steps: 50, targets: { train: 1.2 } },
];

/** `S lstm`, `M-GRU`, `L lstm`: the name, and the cell where the name does not say it. */
export const configLabel = (c) => (c.name.toLowerCase().includes(c.cell) ? c.name : `${c.name} ${c.cell}`);
export const shapeLabel = (c) => `${c.input}/${c.hidden}/${c.batch}/${c.steps}`;

/** FLOPs of one iteration as both sides are credited: forward 2·T·B·G·H·(I+H), training 3× that. */
export function flopsOf(config, mode) {
  const forward = 2 * config.steps * config.batch * GATES[config.cell] * config.hidden * (config.input + config.hidden);
  return mode === 'train' ? 3 * forward : forward;
}

/** Adds tokensPerSec (T·B per median step), gflops (of the median) and gflopsBest (of the min) to a measured side. */
export function addRates(config, mode, side) {
  if (side?.medianMs === undefined) return side;
  const flops = flopsOf(config, mode);
  side.tokensPerSec = (config.steps * config.batch) / (side.medianMs / 1000);
  side.gflops = flops / (side.medianMs / 1000) / 1e9;
  side.gflopsBest = flops / (side.minMs / 1000) / 1e9;
  return side;
}

const ratioOf = (a, b, key) => (a?.[key] !== undefined && b?.[key] !== undefined ? a[key] / b[key] : null);

/**
 * The row's verdicts: `speedup` = PyTorch median / ours (> 1: we are faster), `speedupOfMins` the
 * same of the minima; `targetMet` by medians (issue #10's rule). `ofPeak` = our GFLOP/s of the median
 * / the sgemm peak (`peak`: bench/gemm.js sgemmPeak of the same ISA and threads), `ofPeakBest` of
 * the min; `peakTargetMet` by the median. Nulls where a side or the peak is missing.
 */
export function judge(config, mode, ours, torch, peak) {
  const speedup = ratioOf(torch, ours, 'medianMs');
  const target = config.targets?.[mode] ?? null;
  const ofPeak = peak && ours?.gflops !== undefined ? ours.gflops / peak.gflops : null;
  const peakTarget = config.peakTargets?.[mode] ?? null;
  return {
    speedup,
    speedupOfMins: ratioOf(torch, ours, 'minMs'),
    target,
    targetMet: target !== null && speedup !== null ? speedup >= target : null,
    ofPeak,
    ofPeakBest: ofPeak === null ? null : ours.gflopsBest / peak.gflops,
    peakTarget,
    peakTargetMet: peakTarget !== null && ofPeak !== null ? ofPeak >= peakTarget : null,
  };
}
