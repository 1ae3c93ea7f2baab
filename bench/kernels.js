#!/usr/bin/env node
// npm run bench:kernels — rnnkit's sequence kernels against PyTorch 1.13 on the ARCHITECTURE.md §8
// configurations, in one run: forward+backward ("train") and forward-only ("infer") times, the
// ratios, tokens/s and GFLOP/s; then the GEMM benchmark (bench_gemm) if the tree has one.
//
// Method (see bench/README.md):
// - one child process per (config, mode, framework): bench/ours.js and bench/torch_kernels.py, so no
//   JIT, allocator or thread-pool state leaks between benchmarks;
// - both children of a (config, mode) stay alive and are driven in alternating bursts (ours, torch,
//   torch, ours, …), so the noise of this shared 2-core machine falls on both peers alike;
// - warm-up iterations first, and one untimed iteration at the start of each short burst (the other
//   peer has just thrashed the caches); report the median and the min of all timed iterations.
//
// Options: --only S,M-LSTM,…  --modes train,infer  --seconds 4 (timed budget per peer)
//          --min-runs 5  --max-runs 200  --warmup 2  --threads N (ours)  --torch-threads N|default
//          --python /usr/bin/python3  --no-gemm  --out file.json  --quick (1 s budget, 3 runs)
//          --build (run `npm run build` first: the addon into build/Release and dist/ by tsc)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH_DIR, '..');
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
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      modes: { type: 'string', default: 'train,infer' },
      seconds: { type: 'string', default: '4' },
      'min-runs': { type: 'string', default: '5' },
      'max-runs': { type: 'string', default: '200' },
      warmup: { type: 'string', default: '2' },
      threads: { type: 'string', default: 'default' },
      'torch-threads': { type: 'string', default: 'default' },
      python: { type: 'string', default: '/usr/bin/python3' },
      seed: { type: 'string', default: '1234' },
      'no-gemm': { type: 'boolean', default: false },
      out: { type: 'string' },
      quick: { type: 'boolean', default: false },
      build: { type: 'boolean', default: false },
    },
  });
  const only = values.only ? values.only.split(',') : null;
  const configs = only ? CONFIGS.filter((c) => only.includes(c.name)) : CONFIGS;
  if (configs.length === 0) throw new Error(`--only matched none of ${CONFIGS.map((c) => c.name).join(', ')}`);
  return {
    configs,
    modes: values.modes.split(',').filter((m) => m in MODES),
    seconds: values.quick ? 1 : Number(values.seconds),
    minRuns: values.quick ? 3 : Number(values['min-runs']),
    maxRuns: Number(values['max-runs']),
    maxRounds: 10,
    warmup: values.quick ? 1 : Number(values.warmup),
    threads: values.threads,
    torchThreads: values['torch-threads'],
    python: values.python,
    seed: values.seed,
    gemm: !values['no-gemm'],
    out: values.out,
    build: values.build,
  };
}

// ---- Child processes speaking the line protocol of ours.js / torch_kernels.py --------------------

class Peer {
  constructor(name, command, args) {
    this.name = name;
    this.stderr = '';
    this.lines = [];
    this.waiting = null;
    this.child = spawn(command, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (chunk) => { this.stderr += chunk; });
    createInterface({ input: this.child.stdout }).on('line', (line) => this.#deliver(line));
    this.exited = new Promise((resolveExit) => {
      this.child.on('close', (code) => {
        this.exitCode = code;
        if (this.waiting) this.waiting.reject(new Error(this.#failure(`exited with code ${code}`)));
        resolveExit(code);
      });
      this.child.on('error', (err) => {
        if (this.waiting) this.waiting.reject(new Error(this.#failure(err.message)));
        resolveExit(-1);
      });
    });
  }

  #deliver(line) {
    let message;
    try {
      message = JSON.parse(line);
    } catch {
      return; // a library's stray print; the protocol is JSON only
    }
    if (this.waiting) {
      const { resolve: deliver, reject } = this.waiting;
      this.waiting = null;
      if (message.event === 'error') reject(new Error(message.message));
      else deliver(message);
    } else {
      this.lines.push(message);
    }
  }

  #failure(what) {
    const tail = this.stderr.trim().split('\n').slice(-3).join(' | ');
    return `${this.name} ${what}${tail ? `: ${tail}` : ''}`;
  }

  next() {
    if (this.lines.length > 0) {
      const message = this.lines.shift();
      return message.event === 'error' ? Promise.reject(new Error(message.message)) : Promise.resolve(message);
    }
    if (this.exitCode !== undefined) return Promise.reject(new Error(this.#failure(`exited with code ${this.exitCode}`)));
    return new Promise((resolveNext, reject) => { this.waiting = { resolve: resolveNext, reject }; });
  }

  request(command) {
    this.child.stdin.write(`${command}\n`);
    return this.next();
  }

  async close() {
    if (this.exitCode === undefined) {
      this.child.stdin.end('quit\n');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await this.exited;
      clearTimeout(timer);
    }
  }
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

// ---- Measurement ---------------------------------------------------------------------------------

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const clamp = (x, lo, hi) => Math.min(hi, Math.max(lo, x));

function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => {
    const pos = (sorted.length - 1) * q;
    const lo = Math.floor(pos);
    return sorted[lo] + (sorted[Math.min(lo + 1, sorted.length - 1)] - sorted[lo]) * (pos - lo);
  };
  return { n: sorted.length, medianMs: at(0.5), minMs: sorted[0], p25Ms: at(0.25), p75Ms: at(0.75),
    maxMs: sorted[sorted.length - 1] };
}

// Plan: each peer gets about `seconds` of timed iterations (within [minRuns, maxRuns]), split into
// the same number of rounds so the bursts alternate.
function planBursts(estimates, options) {
  const runs = estimates.map((ms) => clamp(Math.round((options.seconds * 1000) / ms), options.minRuns, options.maxRuns));
  const rounds = Math.min(options.maxRounds, ...runs);
  return runs.map((n, i) => ({ size: Math.ceil(n / rounds), rewarm: estimates[i] < 200 ? 1 : 0, rounds }));
}

async function measurePair(config, mode, options) {
  const peers = startPeers(config, mode, options);
  const result = {};
  const live = [];
  for (const peer of peers) {
    try {
      result[peer.name] = { info: (await peer.next()).info };
      live.push(peer);
    } catch (err) {
      result[peer.name] = { error: err.message };
      await peer.close();
    }
  }
  try {
    const estimates = [];
    for (const peer of live) {
      // The first iteration pays for lazy setup; a multi-second one needs no more warming.
      const first = (await peer.request('run 0 1')).warmMs[0];
      const more = first < 2000 ? options.warmup - 1 : 0;
      const rest = more > 0 ? (await peer.request(`run 0 ${more}`)).warmMs : [];
      estimates.push(rest.length > 0 ? Math.min(...rest) : first);
    }
    const plans = planBursts(estimates, options);
    const samples = live.map(() => []);
    for (let round = 0; round < (plans[0]?.rounds ?? 0); round++) {
      const order = live.map((_, i) => i);
      if (round % 2 === 1) order.reverse();
      for (const i of order) {
        const { ms } = await live[i].request(`run ${plans[i].size} ${plans[i].rewarm}`);
        samples[i].push(...ms);
        await sleep(20); // let the idle peer's pool threads stop spinning before the other starts
      }
    }
    live.forEach((peer, i) => Object.assign(result[peer.name], stats(samples[i]), { samplesMs: samples[i] }));
  } catch (err) {
    for (const peer of live) result[peer.name].error ??= err.message;
  } finally {
    await Promise.all(live.map((peer) => peer.close()));
  }
  return result;
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

// Newest modification time (ms) of the files under `dir` whose names match `pattern`.
function newestMtime(dir, pattern) {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(file, pattern));
    else if (pattern.test(entry.name)) newest = Math.max(newest, statSync(file).mtimeMs);
  }
  return newest;
}

// Our side loads dist/ and build/Release/rnnkit.node: say so when they are missing or older than
// their sources, since a stale addon silently benchmarks old kernels.
function checkBuild(options) {
  if (options.build) {
    const run = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
    if (run.status !== 0) throw new Error('npm run build failed');
  }
  const warnings = [];
  const addon = join(ROOT, 'build', 'Release', 'rnnkit.node');
  const dist = join(ROOT, 'dist', 'index.js');
  const nativeSources = Math.max(newestMtime(join(ROOT, 'native'), /\.(cpp|h)$/), statSync(join(ROOT, 'CMakeLists.txt')).mtimeMs);
  if (!existsSync(addon)) warnings.push('build/Release/rnnkit.node is missing: run `npm run build` (or pass --build)');
  else if (statSync(addon).mtimeMs < nativeSources) warnings.push('build/Release/rnnkit.node is older than native/ sources: run `npm run build` (or pass --build)');
  if (!existsSync(dist)) warnings.push('dist/index.js is missing: run `npm run build` (or pass --build)');
  else if (statSync(dist).mtimeMs < newestMtime(join(ROOT, 'src'), /\.ts$/)) warnings.push('dist/ is older than src/: run `npm run build` (or pass --build)');
  for (const w of warnings) console.log(`warning: ${w}`);
  return warnings;
}

function gitDescribe() {
  const run = spawnSync('git', ['describe', '--always', '--dirty', '--abbrev=12'], { cwd: ROOT, encoding: 'utf8' });
  return run.status === 0 ? run.stdout.trim() : 'unknown';
}

const fmtMs = (s) => (s?.medianMs === undefined ? 'n/a' : `${s.medianMs.toFixed(s.medianMs < 10 ? 2 : 1)} (${s.minMs.toFixed(s.minMs < 10 ? 2 : 1)})`);
const fmtRate = (v) => (v === undefined ? 'n/a' : v >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : `${(v / 1e3).toFixed(1)}k`);
const fmtX = (v) => (v === null ? 'n/a' : `${v.toFixed(2)}×`);

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
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const row = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(`\n${MODES[mode]} (${mode}); speedup = torch median / rnnkit median, spd(min) = of the minima;` +
    ' target ok = both reach it\n');
  console.log(row(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const l of lines) console.log(row(l));
}

function printErrors(rows) {
  for (const r of rows) {
    for (const side of ['rnnkit', 'pytorch']) {
      if (r[side]?.error) console.log(`note: ${r.config.name} ${r.mode} ${side}: ${r[side].error}`);
    }
  }
}

function resultsPath(options, date) {
  if (options.out) return resolve(options.out);
  mkdirSync(join(BENCH_DIR, 'results'), { recursive: true });
  return join(BENCH_DIR, 'results', `kernels-${date.toISOString().slice(0, 19).replace(/:/g, '-')}.json`);
}

async function main() {
  const options = readOptions();
  const date = new Date();
  const commit = gitDescribe();
  console.log(`rnnkit bench:kernels at ${commit}, ${date.toISOString()}`);
  console.log(`${os.cpus()[0]?.model} × ${os.availableParallelism()}, node ${process.version}, load ${os.loadavg()[0].toFixed(2)}`);
  const buildWarnings = checkBuild(options);
  const gemmBuild = options.gemm ? buildGemmBench() : { skipped: '--no-gemm' };

  const rows = [];
  const peerInfo = {};
  for (const config of options.configs) {
    for (const mode of options.modes) {
      process.stdout.write(`  measuring ${config.name} ${mode} … `);
      const loadBefore = os.loadavg()[0];
      const result = await measurePair(config, mode, options);
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
  printErrors(rows);
  const busiest = Math.max(...rows.flatMap((r) => r.loadavg1));
  if (busiest > 2.5) {
    console.log(`note: 1-minute load average reached ${busiest.toFixed(1)} on ${os.availableParallelism()} cores: other work ` +
      'shared the machine, absolute times are inflated; the interleaved ratios are the numbers to read');
  }
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
  const file = resultsPath(options, date);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwrote ${relative(process.cwd(), file)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
