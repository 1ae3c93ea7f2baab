#!/usr/bin/env node
// npm run bench:kernels — rnnkit's sequence kernels against PyTorch 1.13 on the ARCHITECTURE.md §8
// configurations, in one run: forward+backward ("train") and forward-only ("infer") times, the
// ratios, tokens/s, GFLOP/s and their share of our sgemm peak, peak RSS and page faults per step;
// then the GEMM benchmark (bench_gemm), whose best rate is that peak. Per ISA (--isa).
//
// Method: bench/driver.js (interleaved child processes, bench/ours.js and bench/torch_kernels.py);
// see bench/README.md.
//
// Options: --isa best|all|avx512|avx2|scalar|neon[,…]  (rnnkit's RNNKIT_ISA and PyTorch's matching
//          OpenBLAS/ATen kernels, bench/isa.js; all: every ISA this machine has, one table set each)
//          --only S,M-LSTM,…  --modes train,infer  --seconds 4 (timed budget per peer)
//          --min-runs 5  --max-runs 200  --warmup 2  --threads N (ours)  --torch-threads N|default
//          --python /usr/bin/python3  --no-gemm  --out file.json  --quick (1 s budget, 3 runs)
//          --build (run `npm run build` first: the addon into build/Release and dist/ by tsc)
import { join } from 'node:path';

import { CONFIGS, addRates, configLabel, judge, shapeLabel } from './configs.js';
import { BENCH_DIR, Peer, readBenchOptions, runAsScript, runBenchmark } from './driver.js';
import {
  COMPARISON_HEADER, comparisonCells, fmtGflops, fmtMs, fmtX, formatTable, resourceCells, resourceHeader,
} from './format.js';

export const MODES = { train: 'forward+backward', infer: 'forward only' };
const SIDES = ['rnnkit', 'pytorch'];

export const readOptions = (argv) => readBenchOptions({ configs: CONFIGS, modes: MODES, defaultModes: 'train,infer' }, argv);

function startPeers(config, mode, options, env) {
  const shape = ['--cell', config.cell, '--input', config.input, '--hidden', config.hidden,
    '--batch', config.batch, '--steps', config.steps, '--mode', mode, '--seed', options.seed].map(String);
  return [
    new Peer('rnnkit', process.execPath, [join(BENCH_DIR, 'ours.js'), ...shape, '--threads', options.threads], env.rnnkit),
    new Peer('pytorch', options.python,
      [join(BENCH_DIR, 'torch_kernels.py'), ...shape, '--threads', options.torchThreads], env.pytorch),
  ];
}

export function derive(row, peak) {
  for (const side of SIDES) addRates(row.config, row.mode, row[side]);
  return judge(row.config, row.mode, row.rnnkit, row.pytorch, peak);
}

/** One mode's table of a section (bench/driver.js runBenchmark). */
export function formatModeTable(rows, mode) {
  const header = ['config', 'I/H/B/T', 'rnnkit ms med (min)', 'torch ms med (min)', ...COMPARISON_HEADER,
    'rnnkit GF/s med (best)', 'torch GF/s', ...resourceHeader('rnnkit')];
  const lines = rows.filter((r) => r.mode === mode).map((r) => [
    configLabel(r.config), shapeLabel(r.config), fmtMs(r.rnnkit), fmtMs(r.pytorch), ...comparisonCells(r),
    r.rnnkit?.gflops === undefined ? 'n/a' : `${fmtGflops(r.rnnkit.gflops)} (${fmtGflops(r.rnnkit.gflopsBest)})`,
    fmtGflops(r.pytorch?.gflops), ...resourceCells(r, 'rnnkit'),
  ]);
  return formatTable(header, lines);
}

export function formatTables(section) {
  const modes = Object.keys(MODES).filter((m) => section.rows.some((r) => r.mode === m));
  return [
    'Times in ms per iteration, median (min); vs torch = PyTorch / rnnkit (> 1: we are faster), targets by medians;',
    'GF/s credits 2·T·B·G·H·(I+H) per forward, 3× that per forward+backward; %sgemm peak = rnnkit GF/s / the peak above;',
    'peak RSS of each child process at the end; faults/step = minor page faults per timed iteration (mean).',
    ...modes.map((mode) => `\n${MODES[mode]} (${mode})\n\n${formatModeTable(section.rows, mode)}`),
  ].join('\n');
}

async function main() {
  const options = readOptions();
  await runBenchmark({
    title: 'bench:kernels',
    prefix: 'kernels',
    sides: SIDES,
    modesOf: () => options.modes,
    startPeers,
    progress: (row) => `rnnkit ${fmtMs(row.rnnkit)} ms, torch ${fmtMs(row.pytorch)} ms, vs torch ${fmtX(judge(row.config, row.mode, row.rnnkit, row.pytorch, null).speedup)}`,
    derive,
    formatTables,
    method: { flops: 'forward = 2·T·B·G·H·(I+H); train = 3× forward' },
  }, options);
}

runAsScript(import.meta.url, main);
