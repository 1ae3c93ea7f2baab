#!/usr/bin/env node
// npm run bench:kernels — rnnkit's sequence kernels against PyTorch 1.13 on the ARCHITECTURE.md §8
// configurations, in one run: forward+backward ("train") and forward-only ("infer") times, the
// ratios, tokens/s and GFLOP/s; then the GEMM benchmark (bench_gemm) if the tree has one.
//
// Method: bench/driver.js (interleaved child processes, bench/ours.js and bench/torch_kernels.py);
// see bench/README.md.
//
// Options: --only S,M-LSTM,…  --modes train,infer  --seconds 4 (timed budget per peer)
//          --min-runs 5  --max-runs 200  --warmup 2  --threads N (ours)  --torch-threads N|default
//          --python /usr/bin/python3  --no-gemm  --out file.json  --quick (1 s budget, 3 runs)
//          --build (run `npm run build` first: the addon into build/Release and dist/ by tsc)
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative } from 'node:path';
import { readBenchOptions,
  BENCH_DIR, Peer, ROOT, checkBuild, fmtMs, fmtRate, fmtX, gitDescribe, measurePeers, printErrors, printLoadNote,
  printTable as printMarkdownTable, resultsPath,
} from './driver.js';
const GATES = { lstm: 4, gru: 3, rnn: 1 };

// ARCHITECTURE.md §8; `target` = the forward+backward speedup over PyTorch the product wants.
const CONFIGS = [
  { name: 'S', cell: 'lstm', input: 32, hidden: 64, batch: 16, steps: 50, target: 4 },
  { name: 'M-LSTM', cell: 'lstm', input: 128, hidden: 256, batch: 64, steps: 100, target: 2 },
  { name: 'M-GRU', cell: 'gru', input: 128, hidden: 256, batch: 64, steps: 100, target: 2 },
  { name: 'M-RNN', cell: 'rnn', input: 128, hidden: 256, batch: 64, steps: 100, target: 2 },
  { name: 'L', cell: 'lstm', input: 512, hidden: 1024, batch: 128, steps: 50, target: 1.2 },
];
const MODES = { train: 'forward+backward', infer: 'forward only' };

function readOptions() {
  const { enabled, ...options } = readBenchOptions(CONFIGS, MODES, 'train,infer', 'no-gemm');
  return { ...options, gemm: enabled };
}

function startPeers(config, mode, options) {
  const shape = ['--cell', config.cell, '--input', config.input, '--hidden', config.hidden,
    '--batch', config.batch, '--steps', config.steps, '--mode', mode, '--seed', options.seed].map(String);
  return [
    new Peer('rnnkit', process.execPath, [join(BENCH_DIR, 'ours.js'), ...shape, '--threads', options.threads]),
    new Peer('pytorch', options.python,
      [join(BENCH_DIR, 'torch_kernels.py'), ...shape, '--threads', options.torchThreads]),
  ];
}

function derive(config, mode, result) {
  const forwardFlops = 2 * config.steps * config.batch * GATES[config.cell] * config.hidden * (config.input + config.hidden);
  const flops = mode === 'train' ? 3 * forwardFlops : forwardFlops;
  for (const side of Object.values(result)) {
    if (side.medianMs === undefined) continue;
    side.tokensPerSec = (config.steps * config.batch) / (side.medianMs / 1000);
    side.gflops = flops / (side.medianMs / 1000) / 1e9;
    side.gflopsBest = flops / (side.minMs / 1000) / 1e9;
  }
  const { rnnkit: ours, pytorch: torch } = result;
  const both = ours?.medianMs !== undefined && torch?.medianMs !== undefined;
  return {
    flops,
    speedup: both ? torch.medianMs / ours.medianMs : null,
    speedupOfMins: both ? torch.minMs / ours.minMs : null,
    target: mode === 'train' ? config.target : null,
    targetMet: both && mode === 'train' ? Math.min(torch.medianMs / ours.medianMs, torch.minMs / ours.minMs) >= config.target : null,
  };
}

// ---- GEMM benchmark (bench/gemm.cpp, written by the GEMM work) ------------------------------------

function buildGemmBench() {
  const buildDir = join(ROOT, 'build-bench');
  if (!existsSync(join(BENCH_DIR, 'gemm.cpp'))) return { skipped: 'bench/gemm.cpp not in this tree' };
  if (!readFileSync(join(ROOT, 'CMakeLists.txt'), 'utf8').includes('RNNKIT_BUILD_BENCH')) {
    return { skipped: 'CMakeLists.txt has no RNNKIT_BUILD_BENCH option yet' };
  }
  const steps = [
    ['cmake', ['-S', ROOT, '-B', buildDir, '-DRNNKIT_BUILD_BENCH=ON', '-DCMAKE_BUILD_TYPE=Release']],
    ['cmake', ['--build', buildDir, '--target', 'bench_gemm', '-j', '2']],
  ];
  for (const [command, args] of steps) {
    const run = spawnSync(command, args, { encoding: 'utf8' });
    if (run.status !== 0) {
      return { skipped: `${command} ${args.join(' ')} failed: ${(run.stderr || run.stdout).trim().split('\n').slice(-3).join(' | ')}` };
    }
  }
  const binary = [join(buildDir, 'bench_gemm'), join(buildDir, 'bench', 'bench_gemm')].find(existsSync);
  return binary ? { binary } : { skipped: 'build-bench has no bench_gemm binary after the build' };
}

// bench_gemm prints `# threads N, …` headers, then `shape ours_gflops openblas_gflops ratio` rows.
function parseGemmLines(lines) {
  const rows = [];
  let threads = null;
  for (const line of lines) {
    const header = /^#\s*threads\s+(\d+)/.exec(line);
    if (header) threads = Number(header[1]);
    const cells = line.trim().split(/\s+/);
    if (line.startsWith('#') || cells.length < 3 || !Number.isFinite(Number(cells[1]))) continue;
    rows.push({ threads, shape: cells[0], ours: Number(cells[1]), openblas: Number(cells[2]),
      ratio: cells[3] === undefined ? null : Number(cells[3]) });
  }
  return rows;
}

function runGemmBench(build) {
  if (!build.binary) return build;
  const run = spawnSync(build.binary, [], { encoding: 'utf8', timeout: 15 * 60_000 });
  const lines = `${run.stdout}`.split('\n').filter((l) => l.trim() !== '');
  const binary = relative(ROOT, build.binary);
  if (run.status !== 0) return { binary, lines, error: `exit ${run.status}: ${`${run.stderr}`.trim()}` };
  const rows = parseGemmLines(lines);
  // "Peak" = our best GEMM rate in this run (any shape, any thread count): the yardstick for the
  // sequence GFLOP/s. On a busy 2-core machine 2 threads can measure below 1, hence no filter.
  const best = rows.reduce((a, r) => (a && a.ours >= r.ours ? a : r), null);
  return { binary, lines, rows, peakGflops: best?.ours ?? null, peakThreads: best?.threads ?? null, peakShape: best?.shape ?? null };
}

// ---- Report ----------------------------------------------------------------------------------------

// Conservative: both the ratio of medians and the ratio of minima must reach the target (on a busy
// machine the medians of the peer with more threads to wake suffer more than its minima).
const targetMet = (r) => Math.min(r.speedup, r.speedupOfMins) >= r.target;

function printTable(rows, mode, peakGflops) {
  const header = ['config', 'shape I/H/B/T', 'rnnkit ms med (min)', 'torch ms med (min)', 'speedup',
    'spd(min)', 'target', 'rnnkit tok/s', 'torch tok/s', 'rnnkit GF/s', 'torch GF/s', 'rnnkit %peak'];
  const lines = rows.filter((r) => r.mode === mode).map((r) => [
    r.config.name === 'S' || r.config.name === 'L' ? `${r.config.name} ${r.config.cell}` : r.config.name,
    `${r.config.input}/${r.config.hidden}/${r.config.batch}/${r.config.steps}`,
    fmtMs(r.rnnkit), fmtMs(r.pytorch), fmtX(r.speedup), fmtX(r.speedupOfMins),
    r.target === null ? '' : `≥${r.target}× ${r.speedup === null ? '' : targetMet(r) ? 'ok' : 'MISS'}`,
    fmtRate(r.rnnkit?.tokensPerSec), fmtRate(r.pytorch?.tokensPerSec),
    r.rnnkit?.gflops?.toFixed(1) ?? 'n/a', r.pytorch?.gflops?.toFixed(1) ?? 'n/a',
    peakGflops && r.rnnkit?.gflops ? `${((100 * r.rnnkit.gflops) / peakGflops).toFixed(0)}%` : 'n/a',
  ]);
  console.log(`\n${MODES[mode]} (${mode}); speedup = torch median / rnnkit median, spd(min) = of the minima;` +
    ' target ok = both reach it\n');
  printMarkdownTable(header, lines);
}

async function main() {
  const options = readOptions();
  const date = new Date();
  const commit = gitDescribe();
  console.log(`rnnkit bench:kernels at ${commit}, ${date.toISOString()}`);
  console.log(`${os.cpus()[0]?.model} × ${os.availableParallelism()}, node ${process.version}, load ${os.loadavg()[0].toFixed(2)}`);
  const buildWarnings = checkBuild(options.build);
  const gemmBuild = options.gemm ? buildGemmBench() : { skipped: '--no-gemm' };

  const rows = [];
  const peerInfo = {};
  for (const config of options.configs) {
    for (const mode of options.modes) {
      process.stdout.write(`  measuring ${config.name} ${mode} … `);
      const loadBefore = os.loadavg()[0];
      const result = await measurePeers(startPeers(config, mode, options), options);
      // Our two children keep ≈ 1 core busy; a 1-minute load well above that means other work.
      const row = { config, mode, ...result, ...derive(config, mode, result), loadavg1: [loadBefore, os.loadavg()[0]] };
      rows.push(row);
      for (const side of ['rnnkit', 'pytorch']) if (result[side]?.info) peerInfo[side] = result[side].info;
      console.log(`rnnkit ${fmtMs(result.rnnkit)} ms, torch ${fmtMs(result.pytorch)} ms, speedup ${fmtX(row.speedup)}`);
    }
  }
  const gemm = runGemmBench(gemmBuild);

  console.log(`\nrnnkit: ${JSON.stringify(peerInfo.rnnkit ?? 'unavailable')}`);
  console.log(`pytorch: ${JSON.stringify(peerInfo.pytorch ?? 'unavailable')}`);
  for (const mode of options.modes) printTable(rows, mode, gemm.peakGflops);
  printErrors(rows, ['rnnkit', 'pytorch']);
  printLoadNote(rows, os.availableParallelism());
  console.log('\nGEMM (bench_gemm):');
  if (gemm.lines) for (const line of gemm.lines) console.log(`  ${line}`);
  if (gemm.skipped || gemm.error) console.log(`  skipped: ${gemm.skipped ?? gemm.error}`);
  if (gemm.peakGflops) {
    console.log(`  %peak above = rnnkit GF/s / ${gemm.peakGflops} GF/s (our best sgemm here: ${gemm.peakShape}, ${gemm.peakThreads} threads)`);
  }

  const report = {
    commit, date: date.toISOString(),
    machine: { cpu: os.cpus()[0]?.model, cores: os.availableParallelism(), node: process.version,
      loadavgEnd: os.loadavg() },
    method: { seconds: options.seconds, minRuns: options.minRuns, maxRuns: options.maxRuns,
      warmup: options.warmup, seed: options.seed, threads: options.threads, torchThreads: options.torchThreads,
      flops: 'forward = 2·T·B·G·H·(I+H); train = 3× forward' },
    peers: peerInfo,
    buildWarnings,
    results: rows.map(({ config, ...rest }) => ({ name: config.name, cell: config.cell, input: config.input,
      hidden: config.hidden, batch: config.batch, steps: config.steps, ...rest })),
    gemm,
  };
  const file = resultsPath(options.out, 'kernels', date);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwrote ${relative(process.cwd(), file)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
