// The rnnkit side of the benchmark line protocol, shared by bench/ours.js (kernels) and
// bench/train_ours.js (model API); the PyTorch children (torch_kernels.py, train_torch.py) speak it
// too, and bench/driver.js drives it:
//   stdout, once:  {"event":"ready","info":{...}}        after building weights and data and one
//                  checked step; info.startRssKB = the peak RSS before that first step
//   stdin:         run <timed> <warm>                     <warm> untimed, then <timed> timed samples
//   stdout:        {"event":"times","ms":[...],"warmMs":[...],"faults":[...],"maxRssKB":n,"steps":n}
//                  (+ "referenceMs":[...], see serve); faults: the minor page faults per step of each
//                  timed sample (of `step` only), maxRssKB: the process's peak RSS so far, steps: the
//                  steps run so far (the check step included)
//   stdin:         quit
// On a failed import or call a child prints {"event":"error","message":...} and exits 1.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

/** Reports `message` to the driver and exits. */
export function fail(message) {
  process.stdout.write(JSON.stringify({ event: 'error', message }) + '\n');
  process.exit(1);
}

/**
 * The flags every rnnkit child takes: --cell (one of `cells`), --input --hidden --batch --steps
 * (positive integers), --mode (one of `modes`), --seed, --threads; plus `extra` parseArgs options,
 * returned as given. Bad values fail with a message to the driver.
 */
export function readChildArgs(cells, modes, extra = {}) {
  const { values } = parseArgs({
    options: {
      cell: { type: 'string' },
      input: { type: 'string' },
      hidden: { type: 'string' },
      batch: { type: 'string' },
      steps: { type: 'string' },
      mode: { type: 'string' },
      seed: { type: 'string', default: '1234' },
      threads: { type: 'string', default: 'default' },
      ...extra,
    },
  });
  const size = (name) => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n <= 0) fail(`--${name} must be a positive integer`);
    return n;
  };
  if (!cells.includes(values.cell)) fail(`--cell must be one of ${cells.join(', ')}`);
  if (!modes.includes(values.mode)) fail(`--mode must be one of ${modes.join(', ')}`);
  return {
    ...values, seed: Number(values.seed), input: size('input'), hidden: size('hidden'), batch: size('batch'), steps: size('steps'),
  };
}

/**
 * The package as built in dist/ (what users import), with `threads` applied unless 'default'. The
 * driver picks the kernels with RNNKIT_ISA; the addon silently falls back to the best available set
 * for a name it can not run, so a mismatch fails here rather than measure the wrong kernels.
 */
export async function loadRnnkit(threads) {
  let rnnkit;
  try {
    rnnkit = await import('../dist/index.js');
  } catch (err) {
    fail(`cannot load ../dist/index.js (run \`npm run build\`): ${err.message.split('\n')[0]}`);
  }
  const requested = process.env.RNNKIT_ISA;
  if (requested && rnnkit.isa() !== requested) {
    fail(`RNNKIT_ISA=${requested} but the addon runs ${rnnkit.isa()} (available: ${rnnkit.availableIsas().join(', ')})`);
  }
  if (threads !== 'default') rnnkit.setNumThreads(Number(threads));
  return rnnkit;
}

const peakRssKB = () => process.resourceUsage().maxRSS;
let startRssKB = null; // the peak RSS before the first step of this process (announce)
let stepsRun = 0; // calls of the measured step so far, the check step included

/**
 * Calls `step` once (a broken API fails here with a clear message), then says "ready" with `info`
 * (`extraInfo` null: only the check).
 */
export function announce(rnnkit, step, what, extraInfo = {}) {
  startRssKB ??= peakRssKB();
  try {
    step();
  } catch (err) {
    fail(`${what} failed: ${err.message}`);
  }
  if (extraInfo === null) return;
  stepsRun++;
  const info = {
    framework: 'rnnkit',
    version: JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version,
    threads: rnnkit.getNumThreads?.() ?? null,
    isa: rnnkit.isa?.() ?? null,
    node: process.version,
    startRssKB,
    ...extraInfo,
  };
  process.stdout.write(JSON.stringify({ event: 'ready', info }) + '\n');
}

/**
 * Wall time of one sample in ms: `inner` calls of `step`, divided by `inner` (a streaming step of
 * a few µs is timed over many calls so the clock's resolution and the loop are negligible).
 */
function sampleMs(step, inner) {
  const start = performance.now();
  for (let i = 0; i < inner; i++) step();
  return (performance.now() - start) / inner;
}

/** sampleMs of `step` and the minor page faults per call it took (counted outside the timing). */
function sampleWithFaults(step, inner) {
  const before = process.resourceUsage().minorPageFault;
  const ms = sampleMs(step, inner);
  stepsRun += inner;
  return { ms, faults: (process.resourceUsage().minorPageFault - before) / inner };
}

/**
 * One timed sample of `step` and, with a `reference` step, one of it right beside (in alternating
 * order, so neither always runs on the caches the other left): the pair sees the same load.
 * Returns `{ ms, faults, referenceMs }` (faults: of `step` alone).
 */
function samplePair(step, reference, inner, index) {
  if (!reference) return { ...sampleWithFaults(step, inner), referenceMs: null };
  if (index % 2 === 1) {
    const referenceMs = sampleMs(reference, inner);
    return { ...sampleWithFaults(step, inner), referenceMs };
  }
  const sample = sampleWithFaults(step, inner);
  return { ...sample, referenceMs: sampleMs(reference, inner) };
}

/**
 * Answers `run <timed> <warm>` until `quit` (or the end of stdin). With a `reference` step, every
 * sample of `step` is paired with one of `reference` in this process, reported as `referenceMs`.
 */
export async function serve(step, inner = 1, reference = null) {
  let index = 0;
  for await (const line of createInterface({ input: process.stdin })) {
    const words = line.trim().split(/\s+/);
    if (words[0] === '') continue;
    if (words[0] === 'quit') return;
    if (words[0] !== 'run') fail(`unknown command ${JSON.stringify(line)}`);
    const [timed, warm] = [Number(words[1]), Number(words[2])];
    const warmMs = Array.from({ length: warm }, () => samplePair(step, reference, inner, index++).ms);
    const pairs = Array.from({ length: timed }, () => samplePair(step, reference, inner, index++));
    const reply = { event: 'times', ms: pairs.map((p) => p.ms), warmMs, faults: pairs.map((p) => p.faults),
      maxRssKB: peakRssKB(), steps: stepsRun };
    if (reference) reply.referenceMs = pairs.map((p) => p.referenceMs);
    process.stdout.write(JSON.stringify(reply) + '\n');
  }
}

/**
 * dOutput = ∂ mean((output − target)²) / ∂ output into `dOutput`; returns the loss itself (as
 * F.mse_loss computes it). The buffer is reused across iterations, as PyTorch's caching allocator
 * reuses its gradient memory (a fresh 6.5 MB array per M step costs ≈ 10 ms of page faults here).
 */
export function mseGradient(output, target, dOutput) {
  const n = output.length;
  const scale = 2 / n;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const diff = output[i] - target[i];
    sum += diff * diff;
    dOutput[i] = scale * diff;
  }
  return sum / n;
}
