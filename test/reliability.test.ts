// Issue 14's cases: sizes too big for memory get a RangeError before anything is allocated; async
// work is immune to what JavaScript does to its arrays meanwhile (transfer, detach, garbage
// collection); setIsa during async work never mixes two ISAs in one call; caches are core memory
// that stays valid while anything uses it.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import * as rnnkit from '../src/index.js';
import { binding } from '../src/native.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const { nn } = rnnkit;

function filled(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 3.1 + i * 0.77) * 0.4);
}

function lstmProblem(T: number, B: number, I: number, H: number) {
  const opts = { steps: T, batch: B, inputSize: I, hiddenSize: H };
  const w = () => ({ weightIh: filled(4 * H * I, 1), weightHh: filled(4 * H * H, 2), biasIh: filled(4 * H, 3), biasHh: filled(4 * H, 4) });
  return { opts, w, x: () => filled(T * B * I, 5), dOutput: () => filled(T * B * H, 6) };
}

// Moves an ArrayBuffer's memory elsewhere: the original is detached, its old memory belongs to the clone.
function detach(buffer: ArrayBufferLike): ArrayBuffer {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
  return structuredClone(buffer as ArrayBuffer, { transfer: [buffer as ArrayBuffer] });
}

const TOO_BIG = /^lstm forward \(steps \d+, batch \d+, inputSize \d+, hiddenSize \d+(, projSize \d+)?\) needs [\d.]+ GB \(\d+ bytes\) of memory, more than the limit of [\d.]+ [kMG]B \(\d+ bytes\)/;

describe('memory estimates are checked before anything is allocated', () => {
  const defaultLimit = rnnkit.getMemoryLimit();
  afterEach(() => rnnkit.setMemoryLimit(defaultLimit));

  it('nn.LSTM(8, 512) over a [50000, 64, 8] input: RangeError naming the bytes, inference and training, sync and async', { timeout: 60_000 }, async () => {
    rnnkit.setMemoryLimit(16e9); // below what the call needs on any machine (33 GB inference)
    const lstm = new nn.LSTM(8, 512);
    const x = rnnkit.zeros([50000, 64, 8]);
    expect(() => rnnkit.noGrad(() => lstm.forward(x))).toThrow(TOO_BIG);
    expect(() => lstm.forward(x)).toThrow(TOO_BIG);
    await expect(lstm.forwardAsync(x)).rejects.toThrow(TOO_BIG);
  });

  it('lstmForward with 1e6 steps and hiddenSize 4096 (4 MB of input): RangeError, sync, async and training', async () => {
    rnnkit.setMemoryLimit(16e9);
    const H = 4096;
    const w = { weightIh: new Float32Array(4 * H), weightHh: new Float32Array(4 * H), weightHr: new Float32Array(H) };
    const opts = { steps: 1e6, batch: 1, inputSize: 1, hiddenSize: H, projSize: 1 };
    const x = new Float32Array(1e6);
    expect(() => rnnkit.lstmForward(opts, w, x)).toThrow(TOO_BIG);
    expect(() => rnnkit.lstmForward(opts, w, x, { training: true })).toThrow(TOO_BIG);
    await expect(rnnkit.lstmForwardAsync(opts, w, x)).rejects.toThrow(TOO_BIG);
    expect(binding().pendingJobs()).toBe(0);
  });

  it('setMemoryLimit: a call over the limit is refused with the limit named; the same call runs under a larger one', () => {
    const p = lstmProblem(20, 8, 16, 32);
    rnnkit.setMemoryLimit(50_000);
    expect(() => rnnkit.lstmForward(p.opts, p.w(), p.x())).toThrow(
      /^lstm forward \(steps 20, batch 8, inputSize 16, hiddenSize 32\) needs [\d.]+ kB \(\d+ bytes\) of memory, more than the limit of 50\.0 kB \(50000 bytes\)/);
    expect(rnnkit.getMemoryLimit()).toBe(50_000);
    rnnkit.setMemoryLimit(Infinity);
    expect(rnnkit.getMemoryLimit()).toBe(Infinity);
    expect(rnnkit.lstmForward(p.opts, p.w(), p.x()).output.length).toBe(20 * 8 * 32);
  });
});

describe('async work owns what it reads and writes', () => {
  it('inputs and weights transferred and collected right after the call: the result is unchanged', async () => {
    const p = lstmProblem(30, 8, 24, 40);
    const want = rnnkit.lstmForward(p.opts, p.w(), p.x(), { training: true });
    const w = p.w(), x = p.x();
    const pending = rnnkit.lstmForwardAsync(p.opts, w, x, { training: true });
    for (const array of [x, w.weightIh, w.weightHh, w.biasIh, w.biasHh]) detach(array.buffer);
    expect(x.length).toBe(0);
    for (let i = 0; i < 3; i++) {
      new Float32Array(1 << 20).fill(i);
      gc();
    }
    const got = await pending;
    expect(got.output).toEqual(want.output);
    expect(got.hN).toEqual(want.hN);
    expect(got.cN).toEqual(want.cN);
  });

  it('backward: the cache released and the upstream gradient transferred meanwhile change nothing', async () => {
    const p = lstmProblem(12, 4, 9, 16);
    const fwd = rnnkit.lstmForward(p.opts, p.w(), p.x(), { training: true });
    const grads = () => ({ weightIh: new Float32Array(4 * 16 * 9), weightHh: new Float32Array(4 * 16 * 16),
      biasIh: new Float32Array(64), biasHh: new Float32Array(64) });
    const gWant = grads(), gGot = grads();
    const want = rnnkit.lstmBackward(p.opts, p.w(), p.x(), fwd.cache!, gWant, { dOutput: p.dOutput() });
    const dOutput = p.dOutput();
    const pending = rnnkit.lstmBackwardAsync(p.opts, p.w(), p.x(), fwd.cache!, gGot, { dOutput });
    fwd.cache!.release();
    detach(dOutput.buffer);
    gc();
    expect(await pending).toEqual(want);
    expect(gGot).toEqual(gWant);
    expect(() => rnnkit.lstmBackward(p.opts, p.w(), p.x(), fwd.cache!, grads(), {})).toThrow(
      new TypeError('Expected a cache that was not released for cache but received a released one'));
  });

  it('backward: a gradient array detached meanwhile rejects with its name, and no gradient is written', async () => {
    const p = lstmProblem(6, 3, 5, 8);
    const fwd = rnnkit.lstmForward(p.opts, p.w(), p.x(), { training: true });
    const g = { weightIh: new Float32Array(4 * 8 * 5), weightHh: new Float32Array(4 * 8 * 8), biasIh: new Float32Array(32), biasHh: new Float32Array(32) };
    const pending = rnnkit.lstmBackwardAsync(p.opts, p.w(), p.x(), fwd.cache!, g, { dOutput: p.dOutput() });
    detach(g.weightHh.buffer);
    await expect(pending).rejects.toThrow(
      new Error('lstm backward (steps 6, batch 3, inputSize 5, hiddenSize 8): gradWeightHh was detached or resized while the call ran; no result was written'));
    expect(g.weightIh.every((v) => v === 0) && g.biasIh.every((v) => v === 0)).toBe(true);
  });

  it('a prepared layer dropped while its async forward runs stays alive for it', async () => {
    const p = lstmProblem(8, 2, 6, 10);
    const want = rnnkit.lstmForward(p.opts, p.w(), p.x());
    let layer: rnnkit.PreparedLayer | null = new rnnkit.PreparedLayer('lstm', { inputSize: 6, hiddenSize: 10 }, p.w());
    const pending = layer.forwardAsync({ steps: 8, batch: 2 }, p.x());
    layer = null;
    gc();
    expect((await pending).output).toEqual(want.output);
  });
});

describe('results and caches', () => {
  it('results are plain arrays the core keeps nothing of: transferred away, they keep their numbers', () => {
    const p = lstmProblem(10, 4, 8, 12);
    const fwd = rnnkit.lstmForward(p.opts, p.w(), p.x());
    const copy = fwd.output.slice();
    const moved = new Float32Array(detach(fwd.output.buffer));
    expect(fwd.output.length).toBe(0);
    for (let i = 0; i < 20; i++) {
      rnnkit.lstmForward(p.opts, p.w(), filled(10 * 4 * 8, i));
      gc();
    }
    expect(moved).toEqual(copy);
  });

  it('inputs in a SharedArrayBuffer are read like any other', () => {
    const p = lstmProblem(5, 3, 4, 6);
    const x = p.x();
    const shared = new Float32Array(new SharedArrayBuffer(x.byteLength));
    shared.set(x);
    expect(rnnkit.lstmForward(p.opts, p.w(), shared).output).toEqual(rnnkit.lstmForward(p.opts, p.w(), x).output);
  });

  it('a training loop returns each step\'s cache to the memory cache, and a second backward is a clear error', () => {
    rnnkit.releaseMemory();
    rnnkit.manualSeed(7);
    const lstm = new nn.LSTM(16, 32);
    const x = rnnkit.randn([20, 4, 16]);
    const [out] = lstm.forward(x);
    const loss = new nn.MSELoss().forward(out, rnnkit.zerosLike(out));
    loss.backward();
    expect(rnnkit.memoryInfo().idleBytes).toBeGreaterThanOrEqual(rnnkit.cacheSize('lstm', { steps: 20, batch: 4, inputSize: 16, hiddenSize: 32 }) * 4);
    expect(() => loss.backward()).toThrow(
      new Error('Trying to backward through LSTM_l0 a second time: its cache was released after the first backward'));
    rnnkit.releaseMemory();
    expect(rnnkit.memoryInfo().idleBytes).toBe(0);
  });
});

describe('setIsa while work is in flight', () => {
  const isas = rnnkit.availableIsas();
  const defaultIsa = rnnkit.isa();
  afterEach(() => rnnkit.setIsa(defaultIsa));

  it.runIf(isas.length > 1)('LSTM 64→520, 24 async calls a round while setIsa toggles: each result is one ISA\'s, bit for bit', { timeout: 120_000 }, async () => {
    const p = lstmProblem(20, 16, 64, 520);
    const w = p.w(), x = p.x();
    const references = isas.map((isa) => {
      rnnkit.setIsa(isa);
      return rnnkit.lstmForward(p.opts, w, x).output;
    });
    for (let round = 0; round < 2; round++) {
      const pending: Promise<rnnkit.ForwardResult>[] = [];
      for (let i = 0; i < 24; i++) {
        rnnkit.setIsa(isas[(round + i) % isas.length]);
        pending.push(rnnkit.lstmForwardAsync(p.opts, w, x));
      }
      for (const result of await Promise.all(pending)) {
        expect(references.some((ref) => ref.every((v, j) => Object.is(v, result.output[j])))).toBe(true);
      }
    }
  });
});
