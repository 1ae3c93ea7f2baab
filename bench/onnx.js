// Serving one LSTM step: rnnkit's stream step against ONNX Runtime (onnxruntime-node) running the
// ONNX model rnnkit exports from the same weights. The stream configuration of ARCHITECTURE.md §8:
// LSTM 128 → 256, one layer, one time step per call with the state carried, at batch 1 and 64.
//
//   rnnkit  stream = lstm.stream({ batchSize: B }); stream.step(x)        (weights packed once)
//   ORT     saveOnnx(lstm, { exampleInput: [x [1, B, 128], [h, c]] }) → session.run({ input, h_0, c_0 })
//           each call feeding the previous call's h_n, c_n (ORT's own output tensors, no copy)
//
// Both run in this process, in alternating rounds (the machine is shared: a slow spell hits both),
// each call timed alone. Reported per peer: median and p99 latency of one step, and throughput in
// sequence-steps per second (B / mean step time). Before timing, the first step's outputs of the
// two are compared. Needs dist/ (npm run build) and onnxruntime-node (a dev dependency).
//
//   node bench/onnx.js [--batches 1,64] [--rounds 20] [--steps 300] [--threads 2]
// (--threads: rnnkit's threads and ONNX Runtime's intra-op threads; each is also run with 1)
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { isa, manualSeed, nn, noGrad, randn, serializeOnnx, setNumThreads } from '../dist/index.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const INPUT = 128, HIDDEN = 256;

const { values: options } = parseArgs({
  options: {
    batches: { type: 'string', default: '1,64' },
    rounds: { type: 'string', default: '20' },
    steps: { type: 'string', default: '300' },
    threads: { type: 'string', default: '2' },
  },
});
const batches = options.batches.split(',').map(Number);
const rounds = Number(options.rounds), steps = Number(options.steps), threads = Number(options.threads);

function cpuName() {
  try {
    return execFileSync('lscpu', { encoding: 'utf8' }).match(/^Model name:\s*(.+)$/m)?.[1] ?? 'unknown CPU';
  } catch {
    return 'unknown CPU';
  }
}

const threadsText = (count) => `${count} thread${count === 1 ? '' : 's'}`;
const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

function summary(times, batch) {
  const sorted = [...times].sort((a, b) => a - b);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  return { medianUs: quantile(sorted, 0.5) * 1000, p99Us: quantile(sorted, 0.99) * 1000, sequenceStepsPerSecond: batch / (mean / 1000) };
}

/** The peers for batch B: each is { name, step() (sync or async), first() → the first step's output }. */
async function peers(lstm, batch) {
  const x = randn([batch, INPUT]);
  const exampleState = [randn([1, batch, HIDDEN]), randn([1, batch, HIDDEN])];
  const bytes = serializeOnnx(lstm, {
    exampleInput: [randn([1, batch, INPUT]), exampleState],
    dynamicAxes: { input: { 1: 'batch' }, h_0: { 1: 'batch' }, c_0: { 1: 'batch' } },
  });
  const stream = lstm.stream({ batchSize: batch });
  // rnnkit's thread count is global: each rnnkit peer sets its own before its rounds.
  const rnnkitPeer = (count) => ({ name: `rnnkit stream.step (${threadsText(count)}, ${isa()})`, threads: count, step: () => stream.step(x.data) });

  const ortPeer = async (intraOpNumThreads) => {
    const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
    const input = new ort.Tensor('float32', x.data, [1, batch, INPUT]);
    const zeros = () => new ort.Tensor('float32', new Float32Array(batch * HIDDEN), [1, batch, HIDDEN]);
    let h = zeros(), c = zeros();
    return {
      name: `onnxruntime-node ${ort.env.versions.node} (${threadsText(intraOpNumThreads)})`,
      session,
      step: async () => {
        const out = await session.run({ input, h_0: h, c_0: c });
        h = out.h_n;
        c = out.c_n;
        return out.output;
      },
      reset: () => { h = zeros(); c = zeros(); },
    };
  };
  const ort1 = await ortPeer(1), ortN = await ortPeer(threads);
  // The same first step from zero state: rnnkit's output vs ONNX Runtime's.
  setNumThreads(threads);
  stream.reset();
  const ours = stream.step(x.data).data;
  const theirs = (await ortN.step()).data;
  ortN.reset();
  stream.reset();
  const gap = ours.reduce((g, v, i) => Math.max(g, Math.abs(v - theirs[i])), 0);
  const peersList = threads === 1 ? [rnnkitPeer(1), ort1] : [rnnkitPeer(threads), ortN, rnnkitPeer(1), ort1];
  return { peers: peersList, gap, onnxBytes: bytes.length };
}

async function main() {
  setNumThreads(threads);
  manualSeed(0);
  const lstm = new nn.LSTM(INPUT, HIDDEN);
  lstm.eval();
  const cpu = cpuName();
  console.log(`CPU: ${cpu}; load average ${(await import('node:os')).loadavg().map((v) => v.toFixed(2)).join(' ')}`);
  console.log(`LSTM ${INPUT} → ${HIDDEN}, one step with the state carried; ${rounds} rounds × ${steps} steps per peer, alternating\n`);
  const results = [];
  for (const batch of batches) {
    const { peers: list, gap, onnxBytes } = await noGrad(() => peers(lstm, batch));
    console.log(`batch ${batch}: first step, max |rnnkit − ONNX Runtime| = ${gap.toExponential(2)} (model ${(onnxBytes / 1024).toFixed(0)} KiB)`);
    const times = list.map(() => []);
    const prepare = (peer) => { if (peer.threads) setNumThreads(peer.threads); };
    for (const peer of list) {
      prepare(peer);
      for (let i = 0; i < 50; i++) await peer.step(); // warm-up
    }
    for (let round = 0; round < rounds; round++) {
      for (const [k, peer] of list.entries()) {
        prepare(peer);
        for (let i = 0; i < steps; i++) {
          const start = performance.now();
          await peer.step();
          times[k].push(performance.now() - start);
        }
      }
    }
    for (const [k, peer] of list.entries()) {
      const s = summary(times[k], batch);
      results.push({ batch, peer: peer.name, ...s });
      console.log(`  ${peer.name.padEnd(48)} median ${s.medianUs.toFixed(1).padStart(7)} µs  p99 ${s.p99Us.toFixed(1).padStart(7)} µs  `
        + `${Math.round(s.sequenceStepsPerSecond).toLocaleString('en-US').padStart(10)} sequence-steps/s`);
    }
    const measured = results.slice(-list.length);
    for (let k = 0; k + 1 < measured.length; k += 2) {
      console.log(`  → with ${threadsText(list[k].threads)}: ONNX Runtime's median step takes ${(measured[k + 1].medianUs / measured[k].medianUs).toFixed(2)}× rnnkit's`);
    }
    console.log('');
  }
  const out = path.join(HERE, 'results');
  mkdirSync(out, { recursive: true });
  const file = path.join(out, `onnx-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.json`);
  writeFileSync(file, `${JSON.stringify({ cpu, threads, rounds, steps, results }, null, 2)}\n`);
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
