#!/usr/bin/env node
// npm run bench — the training step and inference through rnnkit's model API against PyTorch 1.13
// on the ARCHITECTURE.md §8 configurations, in one run, plus the overhead of the model API over the
// bare kernels doing the same work, GFLOP/s against our sgemm peak (bench_gemm, same run, ISA and
// threads), peak RSS and page faults per step, and issue #10's memory loop. Per ISA (--isa).
//
// Per (config, mode) two children run in alternating bursts (bench/driver.js): `model`
// (bench/train_ours.js --api model --paired) and `pytorch` (bench/train_torch.py); the model child
// pairs every sample with one of the `bare` step in the same process. See bench/README.md.
//   train   forward over the sequence, MSE against a random target on every output, backward, Adam
//           step, zeroGrad
//   infer   forward only, no gradient (eval)
//   stream  LSTM 128→256, B = 1, one step with the state carried over (inference)
//   memory  M-LSTM: the plain training loop (nn.LSTM(128, 256), B 64, T 100, MSE, Adam, synchronous)
//           in a fresh process each side, no bare step beside it, a fixed number of steps: the peak
//           RSS of each process and the minor page faults per step over the last half of the steps
// ratio    = PyTorch median / model-API median (> 1: we are faster), and the same of the minima
// overhead = median over the pairs of model-API time / bare time − 1 (and the ratio of the minima − 1);
//            bare = the kernels' forward and backward (no dInput, like the layer), MSE in one JS loop,
//            the addon's Adam per parameter
//
// Options: --isa best|all|avx512|avx2|scalar|neon[,…]  (rnnkit's RNNKIT_ISA and PyTorch's matching
//          OpenBLAS/ATen kernels, bench/isa.js; all: every ISA this machine has, one table set each)
//          --only S,M-LSTM,…,stream  --modes train,infer,stream,memory  --seconds 4 (timed budget per peer)
//          --min-runs 5  --max-runs 200  --warmup 2  --threads N (ours)  --torch-threads N|default
//          --memory-steps 20 (steps of the memory loop; faults over the last half)
//          --python /usr/bin/python3  --no-bare (no paired bare step)  --no-gemm  --seed 1234  --out file.json
//          --quick (1 s, 3 runs, an 8-step memory loop)  --build (run `npm run build` first)
import { join } from 'node:path';

import { CONFIGS, addRates, configLabel, judge, shapeLabel } from './configs.js';
import { BENCH_DIR, Peer, readBenchOptions, runAsScript, runBenchmark } from './driver.js';
import {
  COMPARISON_HEADER, comparisonCells, fmtFaults, fmtGflops, fmtMB, fmtMs, fmtPair, fmtVerdict, fmtX, formatTable,
  resourceCells, resourceHeader,
} from './format.js';

const STREAM_STEPS_PER_SAMPLE = 200;
// The memory loop's config, and issue #10's bound on the peak RSS of our process running it.
const MEMORY_CONFIG = 'M-LSTM';
export const MEMORY_RSS_TARGET_MB = 150;

// ARCHITECTURE.md §8 (bench/configs.js), each with the modes it is measured in, and the stream.
export const TRAIN_CONFIGS = [
  ...CONFIGS.map((c) => ({ ...c, modes: c.name === MEMORY_CONFIG ? ['train', 'infer', 'memory'] : ['train', 'infer'] })),
  { name: 'stream', cell: 'lstm', input: 128, hidden: 256, batch: 1, steps: 1, inner: STREAM_STEPS_PER_SAMPLE, modes: ['stream'] },
];
export const MODES = {
  train: 'training step: forward, MSE, backward, Adam step, zeroGrad',
  infer: 'inference: forward under noGrad / eval',
  stream: `streaming inference: one step, state carried (each sample = mean of ${STREAM_STEPS_PER_SAMPLE} steps)`,
  memory: `memory: the plain ${MEMORY_CONFIG} training loop through the model API, a fresh process per side, no bare step beside it`,
};
const SIDES = ['model', 'pytorch'];

export function readOptions(argv) {
  const options = readBenchOptions({
    configs: TRAIN_CONFIGS, modes: MODES, defaultModes: 'train,infer,stream,memory',
    extra: { 'no-bare': { type: 'boolean', default: false }, 'memory-steps': { type: 'string', default: '20' } },
  }, argv);
  const memorySteps = options.quick ? 8 : Number(options.extra['memory-steps']);
  if (!Number.isInteger(memorySteps) || memorySteps < 4 || memorySteps % 4 !== 0) {
    throw new Error(`--memory-steps must be a multiple of 4 (two warm-up and two measured bursts), got ${options.extra['memory-steps']}`);
  }
  return { ...options, bare: !options.extra['no-bare'], memorySteps };
}

/**
 * The memory loop: `memorySteps` steps per process, the first half warm-up (the child's check step
 * before "ready" is the first of them), the second half measured in two alternating bursts (the
 * faults per step are averaged over them).
 */
export const memoryMeasureOptions = (options) => ({
  ...options, warmup: options.memorySteps / 2 - 1, fixedSteps: options.memorySteps / 2, maxRounds: 2,
});

function startPeers(config, mode, options, env) {
  const childMode = mode === 'memory' ? 'train' : mode;
  const shape = ['--cell', config.cell, '--input', config.input, '--hidden', config.hidden, '--batch', config.batch,
    '--steps', config.steps, '--mode', childMode, '--inner', config.inner ?? 1, '--seed', options.seed].map(String);
  const paired = options.bare && mode !== 'memory';
  return [
    new Peer('model', process.execPath, [join(BENCH_DIR, 'train_ours.js'), ...shape, '--api', 'model',
      ...(paired ? ['--paired'] : []), '--threads', options.threads], env.rnnkit),
    new Peer('pytorch', options.python, [join(BENCH_DIR, 'train_torch.py'), ...shape, '--threads', options.torchThreads], env.pytorch),
  ];
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = (sorted.length - 1) / 2;
  return (sorted[Math.floor(mid)] + sorted[Math.ceil(mid)]) / 2;
};

// The model API over the bare kernels: the median of the per-pair ratios (each pair ran back to
// back in one process, so load swings cancel) and the ratio of the minima.
export function overheadOf(model) {
  const bare = model?.reference;
  if (!bare || model.samplesMs === undefined) return { overhead: null, overheadOfMins: null };
  return {
    overhead: median(model.samplesMs.map((ms, i) => ms / bare.samplesMs[i])) - 1,
    overheadOfMins: model.minMs / bare.minMs - 1,
  };
}

export function derive(row, peak) {
  const { config, mode } = row;
  const flopsMode = mode === 'memory' ? 'train' : mode;
  for (const side of SIDES) addRates(config, flopsMode, row[side]);
  const derived = { ...judge(config, flopsMode, row.model, row.pytorch, peak), ...overheadOf(row.model) };
  if (mode === 'memory') {
    // Its own verdicts: memory only (the training step's ratios are the train row's).
    const peakRssMB = row.model?.memory?.peakRssMB ?? null;
    return { ...derived, target: null, targetMet: null, peakTarget: null, peakTargetMet: null, overheadTarget: null,
      overheadMet: null, rssTargetMB: MEMORY_RSS_TARGET_MB,
      rssTargetMet: peakRssMB === null ? null : peakRssMB <= MEMORY_RSS_TARGET_MB };
  }
  derived.overheadTarget = mode === 'train' ? config.overheadTarget ?? null : null;
  derived.overheadMet = derived.overheadTarget && derived.overhead !== null
    ? Math.max(derived.overhead, derived.overheadOfMins) <= derived.overheadTarget : null;
  return derived;
}

const fmtPercent = (v) => (v === null ? 'n/a' : `${v >= 0 ? '+' : ''}${(100 * v).toFixed(1)} %`);

export function formatModeTable(rows, mode) {
  const header = ['config', 'I/H/B/T', 'model API ms med (min)', 'bare ms', 'torch ms', ...COMPARISON_HEADER,
    'overhead paired med / min', 'model GF/s', ...resourceHeader('model', 'model+bare')];
  const lines = rows.filter((r) => r.mode === mode).map((r) => [
    configLabel(r.config), shapeLabel(r.config), fmtMs(r.model), fmtMs(r.model?.reference), fmtMs(r.pytorch),
    ...comparisonCells(r),
    `${fmtPercent(r.overhead)} / ${fmtPercent(r.overheadOfMins)}${r.overheadTarget ? ` (≤${100 * r.overheadTarget} %${fmtVerdict(r.overheadMet)})` : ''}`,
    fmtGflops(r.model?.gflops), ...resourceCells(r, 'model'),
  ]);
  return formatTable(header, lines);
}

export function formatMemoryTable(rows) {
  const steps = (side) => (side?.memory ? `${side.memory.stepsRun ?? '?'} (last ${side.memory.faultSamples})` : 'n/a');
  const header = ['loop', 'steps (faults over) model / torch', 'peak RSS MB model API', 'peak RSS MB PyTorch', 'target (ours)',
    'RSS MB before step 1 model / torch', 'faults/step (last steps) model / torch', 'model ms med (min)', 'torch ms med (min)', 'vs torch'];
  const lines = rows.filter((r) => r.mode === 'memory').map((r) => [
    `${configLabel(r.config)} ${shapeLabel(r.config)}, MSE, Adam`,
    `${steps(r.model)} / ${steps(r.pytorch)}`,
    fmtMB(r.model?.memory?.peakRssMB), fmtMB(r.pytorch?.memory?.peakRssMB),
    `≤${r.rssTargetMB} MB${fmtVerdict(r.rssTargetMet)}`,
    fmtPair(fmtMB, r.model?.memory?.startRssMB, r.pytorch?.memory?.startRssMB),
    fmtPair(fmtFaults, r.model?.memory?.faultsPerStep, r.pytorch?.memory?.faultsPerStep),
    fmtMs(r.model), fmtMs(r.pytorch), fmtX(r.speedup),
  ]);
  return formatTable(header, lines);
}

export function formatTables(section) {
  const { rows } = section;
  const parts = [
    'Times in ms per step, median (min); vs torch = PyTorch / model API (> 1: faster), targets by medians;',
    'overhead = model API / bare kernels − 1: median of the per-pair ratios (same process, back to back) / of the minima;',
    'GF/s credits 2·T·B·G·H·(I+H) per forward, 3× per training step; %sgemm peak = model GF/s / the peak above;',
    'peak RSS of each child process at the end (the model child also runs the paired bare step: see the memory',
    'table for the plain loop); faults/step = minor page faults per timed step (mean).',
  ];
  for (const mode of ['train', 'infer', 'stream']) {
    if (rows.some((r) => r.mode === mode)) parts.push(`\n${MODES[mode]}\n\n${formatModeTable(rows, mode)}`);
  }
  if (rows.some((r) => r.mode === 'memory')) parts.push(`\n${MODES.memory}\n\n${formatMemoryTable(rows)}`);
  return parts.join('\n');
}

async function main() {
  const options = readOptions();
  await runBenchmark({
    title: 'bench (model API)',
    prefix: 'train',
    sides: SIDES,
    modesOf: (config) => config.modes.filter((m) => options.modes.includes(m)),
    measureOptions: (mode) => (mode === 'memory' ? memoryMeasureOptions(options) : options),
    startPeers,
    progress: (row) => {
      const { speedup } = judge(row.config, row.mode, row.model, row.pytorch, null);
      const memory = `peak RSS ${fmtPair(fmtMB, row.model?.memory?.peakRssMB, row.pytorch?.memory?.peakRssMB)} MB`;
      const bare = row.model?.reference ? `, bare ${fmtMs(row.model.reference)} ms` : '';
      return `model ${fmtMs(row.model)} ms${bare}, pytorch ${fmtMs(row.pytorch)} ms, vs torch ${fmtX(speedup)}, ${memory}`;
    },
    derive,
    formatTables,
    method: { streamStepsPerSample: STREAM_STEPS_PER_SAMPLE, memorySteps: options.memorySteps,
      memoryFaultSteps: options.memorySteps / 2 },
  }, options);
}

runAsScript(import.meta.url, main);
