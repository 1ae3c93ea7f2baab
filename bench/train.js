#!/usr/bin/env node
// npm run bench — the training step and inference through rnnkit's model API against PyTorch 1.13
// on the ARCHITECTURE.md §8 configurations, in one run, plus the overhead of the model API over the
// bare kernels doing the same work.
//
// Per (config, mode) two children run in alternating bursts (bench/driver.js): `model`
// (bench/train_ours.js --api model --paired) and `pytorch` (bench/train_torch.py); the model child
// pairs every sample with one of the `bare` step in the same process. See bench/README.md.
//   train   forward over the sequence, MSE against a random target on every output, backward, Adam
//           step, zeroGrad
//   infer   forward only, no gradient (eval)
//   stream  LSTM 128→256, B = 1, one step with the state carried over (inference)
// ratio    = PyTorch median / model-API median (> 1: we are faster), and the same of the minima
// overhead = median over the pairs of model-API time / bare time − 1 (and the ratio of the minima − 1);
//            bare = the kernels' forward and backward (no dInput, like the layer), MSE in one JS loop,
//            the addon's Adam per parameter
//
// Options: --only S,M-LSTM,…,stream  --modes train,infer,stream  --seconds 4 (timed budget per peer)
//          --min-runs 5  --max-runs 200  --warmup 2  --threads N (ours)  --torch-threads N|default
//          --python /usr/bin/python3  --no-bare (no paired bare step)  --seed 1234  --out file.json  --quick (1 s, 3 runs)
//          --build (run `npm run build` first)
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative } from 'node:path';
import { readBenchOptions,
  BENCH_DIR, Peer, checkBuild, fmtMs, fmtRate, fmtX, gitDescribe, measurePeers, printErrors, printLoadNote,
  printTable, resultsPath,
} from './driver.js';

// ARCHITECTURE.md §8. `target`: the training-step ratio over PyTorch the product wants (the native
// core's targets, now for the whole step); `overheadTarget`: the model API over the bare kernels.
const STREAM_STEPS_PER_SAMPLE = 200;
const CONFIGS = [
  { name: 'S', cell: 'lstm', input: 32, hidden: 64, batch: 16, steps: 50, target: 4, modes: ['train', 'infer'] },
  { name: 'M-LSTM', cell: 'lstm', input: 128, hidden: 256, batch: 64, steps: 100, target: 2, overheadTarget: 0.1, modes: ['train', 'infer'] },
  { name: 'M-GRU', cell: 'gru', input: 128, hidden: 256, batch: 64, steps: 100, target: 2, overheadTarget: 0.1, modes: ['train', 'infer'] },
  { name: 'M-RNN', cell: 'rnn', input: 128, hidden: 256, batch: 64, steps: 100, target: 2, overheadTarget: 0.1, modes: ['train', 'infer'] },
  { name: 'L', cell: 'lstm', input: 512, hidden: 1024, batch: 128, steps: 50, target: 1.2, modes: ['train', 'infer'] },
  { name: 'stream', cell: 'lstm', input: 128, hidden: 256, batch: 1, steps: 1, inner: STREAM_STEPS_PER_SAMPLE, modes: ['stream'] },
];
const MODES = {
  train: 'training step: forward, MSE, backward, Adam step, zeroGrad',
  infer: 'inference: forward under noGrad / eval',
  stream: `streaming inference: one step, state carried (each sample = mean of ${STREAM_STEPS_PER_SAMPLE} steps)`,
};
const SIDES = ['model', 'pytorch'];

function readOptions() {
  const { enabled, ...options } = readBenchOptions(CONFIGS, MODES, 'train,infer,stream', 'no-bare');
  return { ...options, bare: enabled };
}

function startPeers(config, mode, options) {
  const shape = ['--cell', config.cell, '--input', config.input, '--hidden', config.hidden, '--batch', config.batch,
    '--steps', config.steps, '--mode', mode, '--inner', config.inner ?? 1, '--seed', options.seed].map(String);
  return [
    new Peer('model', process.execPath, [join(BENCH_DIR, 'train_ours.js'), ...shape, '--api', 'model',
      ...(options.bare ? ['--paired'] : []), '--threads', options.threads]),
    new Peer('pytorch', options.python, [join(BENCH_DIR, 'train_torch.py'), ...shape, '--threads', options.torchThreads]),
  ];
}

const ratio = (a, b, key) => (a?.[key] !== undefined && b?.[key] !== undefined ? a[key] / b[key] : null);
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = (sorted.length - 1) / 2;
  return (sorted[Math.floor(mid)] + sorted[Math.ceil(mid)]) / 2;
};

// The model API over the bare kernels: the median of the per-pair ratios (each pair ran back to
// back in one process, so load swings cancel) and the ratio of the minima.
function overheadOf(model) {
  const bare = model?.reference;
  if (!bare || model.samplesMs === undefined) return { overhead: null, overheadOfMins: null };
  return {
    overhead: median(model.samplesMs.map((ms, i) => ms / bare.samplesMs[i])) - 1,
    overheadOfMins: model.minMs / bare.minMs - 1,
  };
}

function derive(config, mode, result) {
  for (const side of Object.values(result)) {
    if (side.medianMs !== undefined) side.tokensPerSec = (config.steps * config.batch) / (side.medianMs / 1000);
  }
  const { model, pytorch } = result;
  const derived = {
    speedup: ratio(pytorch, model, 'medianMs'),
    speedupOfMins: ratio(pytorch, model, 'minMs'),
    ...overheadOf(model),
    target: mode === 'train' ? config.target : null,
    overheadTarget: mode === 'train' ? config.overheadTarget ?? null : null,
  };
  // Conservative: both the ratio of medians and of minima must reach the target.
  derived.targetMet = derived.target && derived.speedup !== null
    ? Math.min(derived.speedup, derived.speedupOfMins) >= derived.target : null;
  derived.overheadMet = derived.overheadTarget && derived.overhead !== null
    ? Math.max(derived.overhead, derived.overheadOfMins) <= derived.overheadTarget : null;
  return derived;
}

const fmtPercent = (v) => (v === null ? 'n/a' : `${v >= 0 ? '+' : ''}${(100 * v).toFixed(1)} %`);
const verdict = (met) => (met === null ? '' : met ? ' ok' : ' MISS');
const configLabel = (c) => `${c.name} ${c.name.startsWith('M-') ? '' : c.cell}`.trim();

function printMode(rows, mode) {
  const own = rows.filter((r) => r.mode === mode);
  if (own.length === 0) return;
  const header = ['config', 'I/H/B/T', 'model API ms med (min)', 'bare ms', 'torch ms', 'vs torch med / min', 'target',
    'overhead paired med / min', 'model tok/s', 'torch tok/s'];
  const lines = own.map((r) => [
    configLabel(r.config), `${r.config.input}/${r.config.hidden}/${r.config.batch}/${r.config.steps}`,
    fmtMs(r.model), fmtMs(r.model?.reference), fmtMs(r.pytorch), `${fmtX(r.speedup)} / ${fmtX(r.speedupOfMins)}`,
    r.target ? `≥${r.target}×${verdict(r.targetMet)}` : '',
    `${fmtPercent(r.overhead)} / ${fmtPercent(r.overheadOfMins)}${r.overheadTarget ? ` (≤${100 * r.overheadTarget} %${verdict(r.overheadMet)})` : ''}`,
    fmtRate(r.model?.tokensPerSec), fmtRate(r.pytorch?.tokensPerSec),
  ]);
  console.log(`\n${MODES[mode]}\n`);
  printTable(header, lines);
}

async function main() {
  const options = readOptions();
  const date = new Date();
  const commit = gitDescribe();
  console.log(`rnnkit bench (model API) at ${commit}, ${date.toISOString()}`);
  console.log(`${os.cpus()[0]?.model} × ${os.availableParallelism()}, node ${process.version}, load ${os.loadavg()[0].toFixed(2)}`);
  const buildWarnings = checkBuild(options.build);

  const rows = [];
  const peerInfo = {};
  for (const config of options.configs) {
    for (const mode of config.modes.filter((m) => options.modes.includes(m))) {
      process.stdout.write(`  measuring ${config.name} ${mode} … `);
      const loadBefore = os.loadavg()[0];
      const result = await measurePeers(startPeers(config, mode, options), options);
      const row = { config, mode, ...result, ...derive(config, mode, result), loadavg1: [loadBefore, os.loadavg()[0]] };
      rows.push(row);
      for (const side of SIDES) if (result[side]?.info) peerInfo[side] = result[side].info;
      console.log(`model ${fmtMs(result.model)} ms, bare ${fmtMs(result.model?.reference)} ms, pytorch ${fmtMs(result.pytorch)} ms,` +
        ` vs torch ${fmtX(row.speedup)}, overhead ${fmtPercent(row.overhead)}`);
    }
  }

  for (const side of SIDES) console.log(`${side}: ${JSON.stringify(peerInfo[side] ?? 'unavailable')}`);
  console.log('\nTimes in ms per step, median (min); vs torch = PyTorch / model API (> 1: faster), target ok = both' +
    ' ratios reach it;\noverhead = model API / bare kernels − 1: median of the per-pair ratios (same process, back to back) / of the minima');
  for (const mode of Object.keys(MODES)) printMode(rows, mode);
  printErrors(rows, SIDES);
  printLoadNote(rows, os.availableParallelism());

  const report = {
    commit, date: date.toISOString(),
    machine: { cpu: os.cpus()[0]?.model, cores: os.availableParallelism(), node: process.version, loadavgEnd: os.loadavg() },
    method: { seconds: options.seconds, minRuns: options.minRuns, maxRuns: options.maxRuns, warmup: options.warmup,
      seed: options.seed, threads: options.threads, torchThreads: options.torchThreads, streamStepsPerSample: STREAM_STEPS_PER_SAMPLE },
    peers: peerInfo,
    buildWarnings,
    results: rows.map(({ config, ...rest }) => ({ ...config, ...rest })),
  };
  const file = resultsPath(options.out, 'train', date);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwrote ${relative(process.cwd(), file)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
