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
//   other peers have just thrashed the caches); report the median and the min of all timed samples.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(BENCH_DIR, '..');

// ---- Child processes speaking the line protocol of bench/child.js ------------------------------

export class Peer {
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
// the same number of rounds so the bursts alternate.
function planBursts(estimates, options) {
  const runs = estimates.map((ms) => clamp(Math.round((options.seconds * 1000) / ms), options.minRuns, options.maxRuns));
  const rounds = Math.min(options.maxRounds, ...runs);
  return runs.map((n, i) => ({ size: Math.ceil(n / rounds), rewarm: estimates[i] < 200 ? 1 : 0, rounds }));
}

/**
 * Measures the peers of one (config, mode) interleaved: waits for each one's "ready" (a peer that
 * fails to start is reported with its error, the others are still measured), warms them up, then
 * runs alternating bursts. Returns `{ [peer.name]: { info, median/min/…, samplesMs, reference? } | { error } }`
 * (`reference`: the same statistics of the samples a peer paired with its own, if it sends
 * `referenceMs`) and closes every peer. Options: seconds, minRuns, maxRuns, maxRounds, warmup.
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
      const more = first < 2000 ? options.warmup - 1 : 0;
      const rest = more > 0 ? (await peer.request(`run 0 ${more}`)).warmMs : [];
      estimates.push(rest.length > 0 ? Math.min(...rest) : first);
    }
    const plans = planBursts(estimates, options);
    const samples = live.map(() => []);
    const references = live.map(() => []); // a peer's paired reference step (bench/child.js serve)
    for (let round = 0; round < (plans[0]?.rounds ?? 0); round++) {
      const order = live.map((_, i) => i);
      if (round % 2 === 1) order.reverse();
      for (const i of order) {
        const { ms, referenceMs } = await live[i].request(`run ${plans[i].size} ${plans[i].rewarm}`);
        samples[i].push(...ms);
        if (referenceMs) references[i].push(...referenceMs);
        await sleep(20); // let the idle peers' pool threads stop spinning before the next starts
      }
    }
    live.forEach((peer, i) => {
      Object.assign(result[peer.name], stats(samples[i]), { samplesMs: samples[i] });
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

const fmtNumber = (v) => v.toFixed(v < 0.1 ? 4 : v < 10 ? 2 : 1);
export const fmtMs = (s) => (s?.medianMs === undefined ? 'n/a' : `${fmtNumber(s.medianMs)} (${fmtNumber(s.minMs)})`);
export const fmtRate = (v) => (v === undefined ? 'n/a' : v >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : `${(v / 1e3).toFixed(1)}k`);
export const fmtX = (v) => (v === null || v === undefined ? 'n/a' : `${v.toFixed(2)}×`);

/** Prints a Markdown table with padded columns. */
export function printTable(header, lines) {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const row = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(row(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const l of lines) console.log(row(l));
}

/** Prints each peer's error of each row (`sides`: the peer names). */
export function printErrors(rows, sides) {
  for (const r of rows) {
    for (const side of sides) {
      if (r[side]?.error) console.log(`note: ${r.config.name} ${r.mode} ${side}: ${r[side].error}`);
    }
  }
}

/** The note on the 1-minute load average seen during the rows (`loadavg1`: [before, after]). */
export function printLoadNote(rows, cores) {
  const loads = rows.flatMap((r) => r.loadavg1);
  const busiest = Math.max(...loads);
  console.log(`\n1-minute load average during the run: ${Math.min(...loads).toFixed(1)}–${busiest.toFixed(1)} on ${cores} cores`);
  if (busiest > 2.5) {
    console.log('note: other work shared the machine, absolute times are inflated; the interleaved ratios are the numbers to read');
  }
}

/**
 * The command-line options both benchmarks share. `defaultModes`: the --modes default;
 * `switchName`: the driver's own boolean "--no-…" flag, returned as `enabled` (true unless given).
 */
export function readBenchOptions(configs, modes, defaultModes, switchName) {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      modes: { type: 'string', default: defaultModes },
      seconds: { type: 'string', default: '4' },
      'min-runs': { type: 'string', default: '5' },
      'max-runs': { type: 'string', default: '200' },
      warmup: { type: 'string', default: '2' },
      threads: { type: 'string', default: 'default' },
      'torch-threads': { type: 'string', default: 'default' },
      python: { type: 'string', default: '/usr/bin/python3' },
      seed: { type: 'string', default: '1234' },
      [switchName]: { type: 'boolean', default: false },
      out: { type: 'string' },
      quick: { type: 'boolean', default: false },
      build: { type: 'boolean', default: false },
    },
  });
  const only = values.only ? values.only.split(',') : null;
  const chosen = only ? configs.filter((c) => only.includes(c.name)) : configs;
  if (chosen.length === 0) throw new Error(`--only matched none of ${configs.map((c) => c.name).join(', ')}`);
  return {
    configs: chosen,
    modes: values.modes.split(',').filter((m) => m in modes),
    seconds: values.quick ? 1 : Number(values.seconds),
    minRuns: values.quick ? 3 : Number(values['min-runs']),
    maxRuns: Number(values['max-runs']),
    maxRounds: 10,
    warmup: values.quick ? 1 : Number(values.warmup),
    threads: values.threads,
    torchThreads: values['torch-threads'],
    python: values.python,
    seed: values.seed,
    enabled: !values[switchName],
    out: values.out,
    build: values.build,
  };
}
