// The driver shared by `npm run bench:kernels` (bench/kernels.js) and `npm run bench`
// (bench/train.js): child processes speaking the line protocol of bench/child.js, measured in
// interleaved bursts; statistics, build checks and table formatting.
//
// Method (see bench/README.md):
// - one child process per (config, mode, peer), so no JIT, allocator or thread-pool state leaks
//   between benchmarks;
// - the children of a (config, mode) stay alive together and are driven in alternating bursts
//   (a, b, c, c, b, a, …), so the noise of this shared 2-core machine falls on every peer alike;
// - warm-up iterations first, and one untimed iteration at the start of each short burst (the
//   other peers have just thrashed the caches); report the median and the min of all timed samples;
// - every child reports its peak RSS and the minor page faults of each timed step (bench/child.js).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import { GEMM_RATIO_TARGET, buildGemmBench, formatGemmTable, gemmThreadCounts, runGemmBench, sgemmPeak } from './gemm.js';
import { formatTable } from './format.js';
import { BENCH_DIR, ROOT } from './paths.js';
import { TORCH_ENV, availableIsas, childEnvironments, describeCpu, formatCpu, parseIsaOption, resolveIsas } from './isa.js';

export { BENCH_DIR, ROOT };

// ---- Child processes speaking the line protocol of bench/child.js ------------------------------

export class Peer {
  /** `env`: the child's environment (bench/isa.js childEnvironments), default this process's. */
  constructor(name, command, args, env = process.env) {
    this.name = name;
    this.stderr = '';
    this.lines = [];
    this.waiting = null;
    this.child = spawn(command, args, { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
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

// ---- Measurement ---------------------------------------------------------------------------------

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const clamp = (x, lo, hi) => Math.min(hi, Math.max(lo, x));

export function stats(samples) {
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
// the same number of rounds so the bursts alternate. With `fixedSteps` every peer runs exactly that
// many timed iterations (a multiple of the rounds) and no untimed ones between bursts.
function planBursts(estimates, options) {
  const runs = estimates.map((ms) => options.fixedSteps ?? clamp(Math.round((options.seconds * 1000) / ms), options.minRuns, options.maxRuns));
  const rounds = Math.min(options.maxRounds, ...runs);
  return runs.map((n, i) => ({ size: Math.ceil(n / rounds), rewarm: !options.fixedSteps && estimates[i] < 200 ? 1 : 0, rounds }));
}

const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;

/**
 * A peer's memory: its peak RSS before the first step (`startRssMB`, from its "ready" info) and at
 * the end (`peakRssMB`), the minor page faults per step averaged over its timed samples (all after
 * the warm-up; with `fixedSteps`, the last `fixedSteps` steps of the process), and how many steps it
 * ran in all (`stepsRun`, the check step included).
 */
export function memoryOf(info, faults, maxRssKB, stepsRun) {
  return {
    startRssMB: info?.startRssKB ? info.startRssKB / 1024 : null,
    peakRssMB: maxRssKB ? maxRssKB / 1024 : null,
    faultsPerStep: faults.length > 0 ? mean(faults) : null,
    faultSamples: faults.length,
    stepsRun: stepsRun ?? null,
  };
}

/**
 * Measures the peers of one (config, mode) interleaved: waits for each one's "ready" (a peer that
 * fails to start is reported with its error, the others are still measured), warms them up, then
 * runs alternating bursts. Returns `{ [peer.name]: { info, median/min/…, samplesMs, memory, reference? } | { error } }`
 * (`reference`: the same statistics of the samples a peer paired with its own, if it sends
 * `referenceMs`; `memory`: memoryOf) and closes every peer. Options: seconds, minRuns, maxRuns,
 * maxRounds, warmup (exactly that many untimed iterations first when fixedSteps, else fewer for a
 * multi-second iteration), fixedSteps.
 */
export async function measurePeers(peers, options) {
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
      const more = first < 2000 || options.fixedSteps ? options.warmup - 1 : 0;
      const rest = more > 0 ? (await peer.request(`run 0 ${more}`)).warmMs : [];
      estimates.push(rest.length > 0 ? Math.min(...rest) : first);
    }
    const plans = planBursts(estimates, options);
    const samples = live.map(() => []);
    const references = live.map(() => []); // a peer's paired reference step (bench/child.js serve)
    const faults = live.map(() => []);
    const maxRssKB = live.map(() => 0);
    const stepsRun = live.map(() => null);
    for (let round = 0; round < (plans[0]?.rounds ?? 0); round++) {
      const order = live.map((_, i) => i);
      if (round % 2 === 1) order.reverse();
      for (const i of order) {
        const reply = await live[i].request(`run ${plans[i].size} ${plans[i].rewarm}`);
        samples[i].push(...reply.ms);
        if (reply.referenceMs) references[i].push(...reply.referenceMs);
        if (reply.faults) faults[i].push(...reply.faults);
        maxRssKB[i] = Math.max(maxRssKB[i], reply.maxRssKB ?? 0);
        stepsRun[i] = reply.steps ?? null;
        await sleep(20); // let the idle peers' pool threads stop spinning before the next starts
      }
    }
    live.forEach((peer, i) => {
      Object.assign(result[peer.name], stats(samples[i]), { samplesMs: samples[i],
        memory: memoryOf(result[peer.name].info, faults[i], maxRssKB[i], stepsRun[i]) });
      if (references[i].length > 0) result[peer.name].reference = { ...stats(references[i]), samplesMs: references[i] };
    });
  } catch (err) {
    for (const peer of live) result[peer.name].error ??= err.message;
  } finally {
    await Promise.all(live.map((peer) => peer.close()));
  }
  return result;
}

// ---- Build checks, provenance, output ------------------------------------------------------------

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

/**
 * Our side loads dist/ and build/Release/rnnkit.node: says so when they are missing or older than
 * their sources, since a stale addon silently benchmarks old kernels. `build`: run `npm run build` first.
 */
export function checkBuild(build) {
  if (build) {
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

export function gitDescribe() {
  const run = spawnSync('git', ['describe', '--always', '--dirty', '--abbrev=12'], { cwd: ROOT, encoding: 'utf8' });
  return run.status === 0 ? run.stdout.trim() : 'unknown';
}

/** `bench/results/<prefix>-<date>.json`, or `out` if given. */
export function resultsPath(out, prefix, date) {
  if (out) return resolve(out);
  mkdirSync(join(BENCH_DIR, 'results'), { recursive: true });
  return join(BENCH_DIR, 'results', `${prefix}-${date.toISOString().slice(0, 19).replace(/:/g, '-')}.json`);
}

/** Each peer's error of each row (`sides`: the peer names), one `note:` line each. */
export function formatErrors(rows, sides) {
  return rows.flatMap((r) => sides.filter((side) => r[side]?.error).map((side) => `note: ${r.config.name} ${r.mode} ${side}: ${r[side].error}`));
}

/** The note on the 1-minute load average seen during the rows (`loadavg1`: [before, after]). */
export function formatLoadNote(rows, cores) {
  const loads = rows.flatMap((r) => r.loadavg1);
  const busiest = Math.max(...loads);
  const lines = [`1-minute load average during the run: ${Math.min(...loads).toFixed(1)}–${busiest.toFixed(1)} on ${cores} cores`];
  if (busiest > 2.5) {
    lines.push('note: other work shared the machine, absolute times are inflated; the interleaved ratios are the numbers to read');
  }
  return lines.join('\n');
}

const positive = (name, value, integer = false) => {
  const n = Number(value);
  if (!(n > 0) || (integer && !Number.isInteger(n))) throw new Error(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got ${value}`);
  return n;
};

/** The names in a comma-separated option that must all be among `known`. */
function namesIn(option, value, known) {
  const names = value.split(',').map((n) => n.trim()).filter((n) => n !== '');
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length > 0 || names.length === 0) {
    throw new Error(`--${option} ${value}: ${unknown.length > 0 ? `unknown ${unknown.join(', ')}` : 'empty'}; expected some of ${known.join(', ')}`);
  }
  return names;
}

/**
 * The command-line options both benchmarks share, from `argv`. `modes`: the driver's modes (an
 * object keyed by name); `defaultModes`: the --modes default; `extra`: the driver's own parseArgs
 * options, returned as given in `extra`. Unknown or malformed values throw. `--quick`: a smoke run
 * (1 s per peer, 3 runs, 1 warm-up, bench_gemm at our thread count only) that still fills every column.
 */
export function readBenchOptions({ configs, modes, defaultModes, extra = {} }, argv = process.argv.slice(2)) {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string' },
      modes: { type: 'string', default: defaultModes },
      isa: { type: 'string', default: 'best' },
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
      ...extra,
    },
  });
  const threads = (name) => (values[name] === 'default' ? 'default' : String(positive(name, values[name], true)));
  const only = values.only ? namesIn('only', values.only, configs.map((c) => c.name)) : null;
  return {
    configs: only ? configs.filter((c) => only.includes(c.name)) : configs,
    modes: namesIn('modes', values.modes, Object.keys(modes)),
    isas: parseIsaOption(values.isa),
    seconds: values.quick ? 1 : positive('seconds', values.seconds),
    minRuns: values.quick ? 3 : positive('min-runs', values['min-runs'], true),
    maxRuns: positive('max-runs', values['max-runs'], true),
    maxRounds: 10,
    warmup: values.quick ? 1 : positive('warmup', values.warmup, true),
    threads: threads('threads'),
    torchThreads: threads('torch-threads'),
    python: values.python,
    seed: String(Math.trunc(Number(values.seed))),
    gemm: !values['no-gemm'],
    out: values.out,
    quick: values.quick,
    build: values.build,
    extra: Object.fromEntries(Object.keys(extra).map((k) => [k, values[k]])),
  };
}

// ---- One run: every ISA asked for, each with its sgemm peak ---------------------------------------

/** The "ready" info of each side, from the first row that has one. */
function peerInfoOf(rows, sides) {
  return Object.fromEntries(sides.map((side) => [side, rows.find((r) => r[side]?.info)?.[side].info ?? null]));
}

const threadCount = (n) => (n === null || n === undefined ? '? threads' : `${n} thread${n === 1 ? '' : 's'}`);

/**
 * The heading of one ISA's tables: the CPU, what each side ran (kernels, threads, as each child
 * reported them, and the environment that chose them) and the sgemm peak the %peak columns use.
 */
export function formatSectionHeading(section, cpu) {
  const { isa, env, peers, peak, oursSide } = section;
  const ours = peers[oursSide], torch = peers.pytorch;
  const torchEnv = Object.entries(env.pytorch).map(([k, v]) => `${k}=${v}`).join(' ') || 'none (their own detection)';
  const lines = [`## ${isa} — ${formatCpu(cpu)}`, ''];
  lines.push(ours
    ? `- rnnkit ${ours.version}: RNNKIT_ISA=${isa} → kernels ${ours.isa}, ${threadCount(ours.threads)}, node ${ours.node}`
    : `- rnnkit: unavailable (RNNKIT_ISA=${isa})`);
  lines.push(torch
    ? `- PyTorch ${torch.version} (${torchEnv}): OpenBLAS ${torch.openblasCore ?? '?'} kernels, ${threadCount(torch.openblasThreads)};` +
      ` ATen ${torch.cpuCapability ?? '?'}, ${threadCount(torch.threads)} (its default: ${torch.defaultThreads})`
    : `- PyTorch: unavailable (${torchEnv})`);
  lines.push(peak
    ? `- sgemm peak (bench_gemm, ${peak.isa}, ${threadCount(peak.threads)}, this run): ${peak.gflops.toFixed(1)} GFLOP/s (${peak.shape})`
    : `- sgemm peak: not measured (${section.gemm.skipped ?? section.gemm.error ?? `no bench_gemm line for ${isa} at our thread count`})`);
  return lines.join('\n');
}

/** The section's bench_gemm results as a table (ratio = OpenBLAS time / ours), or why there are none. */
export function formatGemm(gemm) {
  const title = `GEMM (bench_gemm, ours vs OpenBLAS ${gemm.rows?.[0]?.openblasCore ?? ''} kernels, same ISA, T = threads;` +
    ` ratio = OpenBLAS time / ours, target ≥ ${GEMM_RATIO_TARGET} on > 1 thread)`;
  const lines = [title];
  if (gemm.rows?.length > 0) lines.push('', formatGemmTable(gemm.rows));
  if (gemm.skipped || gemm.error) lines.push(`GEMM not measured: ${gemm.skipped ?? gemm.error}`);
  return lines.join('\n');
}

/**
 * Runs one benchmark for every ISA in `options.isas`: per ISA, every (config, mode) measured with
 * that ISA's environment for both sides (bench/isa.js), then bench_gemm with the same, whose best
 * rate at our children's thread count is that ISA's sgemm peak; prints a heading and the tables per
 * ISA, the load, and writes the JSON. `spec`:
 *   title, prefix (of the JSON file), sides ([ours, 'pytorch']),
 *   modesOf(config, options)        the modes to measure for a config
 *   startPeers(config, mode, options, env)  the children (env: childEnvironments(isa))
 *   measureOptions(mode, options)   measurePeers' options (default: options)
 *   progress(row)                   the line printed after a row is measured
 *   derive(row, peak)               the derived numbers of a measured row (added to the row)
 *   formatTables(section)           the section's tables as Markdown
 *   method                          extra method facts for the JSON
 */
export async function runBenchmark(spec, options) {
  const date = new Date();
  const commit = gitDescribe();
  const cpu = describeCpu();
  const buildWarnings = checkBuild(options.build);
  const isas = resolveIsas(options.isas, availableIsas(cpu));
  console.log(`rnnkit ${spec.title} at ${commit}, ${date.toISOString()}, ISA ${isas.join(', ')}`);
  console.log(`${formatCpu(cpu)}; node ${process.version}; load ${os.loadavg()[0].toFixed(2)}`);
  const gemmBuild = options.gemm ? buildGemmBench() : { skipped: '--no-gemm' };
  const [oursSide] = spec.sides;

  const sections = [];
  for (const isa of isas) {
    const env = childEnvironments(isa);
    const rows = [];
    for (const config of options.configs) {
      for (const mode of spec.modesOf(config, options)) {
        process.stdout.write(`  measuring ${isa} ${config.name} ${mode} … `);
        const loadBefore = os.loadavg()[0];
        const result = await measurePeers(spec.startPeers(config, mode, options, env), spec.measureOptions?.(mode, options) ?? options);
        const row = { config, mode, ...result, loadavg1: [loadBefore, os.loadavg()[0]] };
        rows.push(row);
        console.log(spec.progress(row));
      }
    }
    const peers = peerInfoOf(rows, spec.sides);
    const threads = peers[oursSide]?.threads ?? os.availableParallelism();
    if (options.gemm) process.stdout.write(`  measuring ${isa} bench_gemm at ${gemmThreadCounts(threads, options.quick).join(' and ')} threads … `);
    const gemm = runGemmBench(gemmBuild, isa, env.gemm, gemmThreadCounts(threads, options.quick));
    const peak = sgemmPeak(gemm.rows, isa, threads);
    if (options.gemm) console.log(peak ? `peak ${peak.gflops} GFLOP/s (${peak.shape})` : gemm.skipped ?? gemm.error ?? 'no peak');
    for (const row of rows) Object.assign(row, spec.derive(row, peak));
    sections.push({ isa, env: { rnnkit: { RNNKIT_ISA: isa }, pytorch: TORCH_ENV[isa] }, oursSide, peers, rows, gemm, peak });
  }

  for (const section of sections) {
    console.log(`\n${formatSectionHeading(section, cpu)}\n\n${spec.formatTables(section)}\n`);
    const errors = formatErrors(section.rows, spec.sides);
    if (errors.length > 0) console.log(`${errors.join('\n')}\n`);
    console.log(formatGemm(section.gemm));
  }
  console.log(`\n${formatLoadNote(sections.flatMap((s) => s.rows), cpu.cores)}`);

  const report = {
    commit, date: date.toISOString(),
    machine: { cpu, node: process.version, loadavgEnd: os.loadavg() },
    method: { seconds: options.seconds, minRuns: options.minRuns, maxRuns: options.maxRuns, warmup: options.warmup,
      seed: options.seed, threads: options.threads, torchThreads: options.torchThreads, quick: options.quick, ...spec.method },
    buildWarnings,
    sections: sections.map(({ rows, ...rest }) => ({
      ...rest, rows: rows.map(({ config, ...measured }) => ({ ...config, ...measured })),
    })),
  };
  const file = resultsPath(options.out, spec.prefix, date);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwrote ${relative(process.cwd(), file)}`);
  return report;
}

/** Runs `main` when the module at `moduleUrl` is the script node started (not when a test imports it). */
export function runAsScript(moduleUrl, main) {
  if (moduleUrl !== pathToFileURL(process.argv[1] ?? '').href) return;
  main().catch((err) => {
    console.error(err.message ?? err);
    process.exit(1);
  });
}
