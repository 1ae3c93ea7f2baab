// The binding's promises beyond validation: async equals sync, the event loop stays responsive,
// arrays stay alive during async work, zero-copy views (byteOffset), worker_threads, ISA and
// thread controls, sgemm. Numbers are compared bitwise where the computation is identical
// (same ISA, same thread count, same inputs), with a stated tolerance otherwise.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import * as rnnkit from '../src/index.js';
import { binding, packageRoot } from '../src/native.js';
import { CELLS, type CellName } from '../src/cell-table.js';
import { backwardArgs, forwardArgs } from './helpers/native-args.js';

const require = createRequire(import.meta.url);
const native = binding();
const addonPath: string = require('node-gyp-build').path(packageRoot());

function filled(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 3.7 + i * 0.61) * 0.4);
}

type Cell = 'lstm' | 'gru' | 'rnn_relu';
const GATES: Record<Cell, number> = { lstm: 4, gru: 3, rnn_relu: 1 };

function problem(cell: Cell, T: number, B: number, I: number, H: number, extra: { projSize?: number; lengths?: number[] } = {}) {
  const G = GATES[cell], P = extra.projSize ?? 0, S = P || H;
  const opts = { steps: T, batch: B, inputSize: I, hiddenSize: H, ...extra, nonlinearity: 'relu' as const };
  const w = { weightIh: filled(G * H * I, 1), weightHh: filled(G * H * S, 2), biasIh: filled(G * H, 3), biasHh: filled(G * H, 4),
    weightHr: P ? filled(P * H, 5) : null };
  const grads = () => ({ weightIh: new Float32Array(G * H * I), weightHh: new Float32Array(G * H * S),
    biasIh: new Float32Array(G * H), biasHh: new Float32Array(G * H), weightHr: P ? new Float32Array(P * H) : null });
  return { opts, w, input: filled(T * B * I, 6), dOutput: filled(T * B * S, 7), grads };
}

const API = {
  lstm: { forward: rnnkit.lstmForward, backward: rnnkit.lstmBackward, forwardAsync: rnnkit.lstmForwardAsync, backwardAsync: rnnkit.lstmBackwardAsync },
  gru: { forward: rnnkit.gruForward, backward: rnnkit.gruBackward, forwardAsync: rnnkit.gruForwardAsync, backwardAsync: rnnkit.gruBackwardAsync },
  rnn_relu: { forward: rnnkit.rnnForward, backward: rnnkit.rnnBackward, forwardAsync: rnnkit.rnnForwardAsync, backwardAsync: rnnkit.rnnBackwardAsync },
};

describe('async forms', () => {
  it.each(['lstm', 'gru', 'rnn_relu'] as const)('%s: async resolves with exactly the sync numbers', async (cell) => {
    const p = problem(cell, 7, 5, 9, 11, { lengths: [7, 0, 3, 7, 1], ...(cell === 'lstm' ? { projSize: 6 } : {}) });
    const api = API[cell];
    const sync = api.forward(p.opts, p.w, p.input, { training: true });
    const async_ = await api.forwardAsync(p.opts, p.w, p.input, { training: true });
    expect(async_.output).toEqual(sync.output);
    expect(async_.hN).toEqual(sync.hN);
    expect(async_.cN).toEqual(sync.cN);
    expect(async_.cache?.floats).toBe(sync.cache?.floats);
    expect(cell === 'lstm' ? async_.cN?.length : async_.cN).toBe(cell === 'lstm' ? 5 * 11 : undefined);

    const gSync = p.grads(), gAsync = p.grads();
    const bSync = api.backward(p.opts, p.w, p.input, sync.cache!, gSync, { dOutput: p.dOutput });
    const bAsync = await api.backwardAsync(p.opts, p.w, p.input, async_.cache!, gAsync, { dOutput: p.dOutput });
    expect(bAsync).toEqual(bSync);
    expect(gAsync).toEqual(gSync);
    expect(gSync.weightHh.some((v) => v !== 0)).toBe(true);
  });

  it('many concurrent jobs each get their own correct result, then none is pending', async () => {
    const p = problem('lstm', 20, 8, 16, 32);
    const sync = rnnkit.lstmForward(p.opts, p.w, p.input);
    const results = await Promise.all(Array.from({ length: 8 }, () => rnnkit.lstmForwardAsync(p.opts, p.w, p.input)));
    for (const r of results) expect(r.output).toEqual(sync.output);
    expect(native.pendingJobs()).toBe(0);
  });

  it('the event loop keeps ticking while a big forward runs', async () => {
    const p = problem('lstm', 100, 64, 128, 256); // ~2·T·B·(I+H)·4H = 5 GFLOP
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const started = performance.now();
    const pending = rnnkit.lstmForwardAsync(p.opts, p.w, p.input);
    expect(native.pendingJobs()).toBe(1);
    await pending;
    const elapsed = performance.now() - started;
    clearInterval(timer);
    // A blocked loop ticks at most once (after the job). Timers fire late on a loaded machine, so
    // ask for a few ticks, not elapsed/5 of them (measured here: ~45 ticks over ~250 ms).
    expect(elapsed).toBeGreaterThan(40);
    expect(ticks, `${ticks} ticks in ${elapsed.toFixed(0)} ms`).toBeGreaterThanOrEqual(3);
  });

  it('keeps its arrays alive when the caller drops them and the GC runs', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const p = problem('gru', 30, 16, 32, 64);
    const want = rnnkit.gruForward(p.opts, p.w, p.input).output;
    // Fresh copies referenced only by the pending call.
    const pending = rnnkit.gruForwardAsync({ ...p.opts }, { weightIh: p.w.weightIh.slice(), weightHh: p.w.weightHh.slice(),
      biasIh: p.w.biasIh.slice(), biasHh: p.w.biasHh.slice() }, p.input.slice());
    for (let i = 0; i < 5; i++) {
      new Float32Array(1 << 20).fill(i); // churn
      gc();
    }
    expect((await pending).output).toEqual(want);
  });
});

describe('inputGrad: false', () => {
  it.each(['lstm', 'gru', 'rnn_relu'] as const)('%s: skips dInput only; every other gradient is bitwise the same', async (cell) => {
    const p = problem(cell, 6, 4, 9, 11, { lengths: [6, 2, 0, 5] });
    const api = API[cell];
    const fwd = api.forward(p.opts, p.w, p.input, { training: true });
    const gAll = p.grads(), gSkip = p.grads(), gAsync = p.grads();
    const all = api.backward(p.opts, p.w, p.input, fwd.cache!, gAll, { dOutput: p.dOutput });
    const skip = api.backward(p.opts, p.w, p.input, fwd.cache!, gSkip, { dOutput: p.dOutput, inputGrad: false });
    const skipAsync = await api.backwardAsync(p.opts, p.w, p.input, fwd.cache!, gAsync, { dOutput: p.dOutput, inputGrad: false });
    expect(all.dInput?.length).toBe(6 * 4 * 9);
    expect(skip.dInput).toBeNull();
    expect(skipAsync.dInput).toBeNull();
    expect(skip.dh0).toEqual(all.dh0);
    expect(gSkip).toEqual(gAll);
    expect(gAsync).toEqual(gAll);
  });

  it('rejects a non-boolean inputGrad in TS (friendly) and in C++ (terse)', () => {
    const p = problem('gru', 2, 1, 3, 4);
    const fwd = rnnkit.gruForward(p.opts, p.w, p.input, { training: true });
    expect(() => rnnkit.gruBackward(p.opts, p.w, p.input, fwd.cache!, p.grads(), { inputGrad: 1 as never }))
      .toThrow(new TypeError('Expected boolean for inputGrad but received 1 of type number'));
    const call = (...args: unknown[]) => (native.sequenceBackward as (...a: unknown[]) => unknown)(...args);
    const args = backwardArgs('gru', p.opts, p.w, p.input, fwd.cache!.handle, p.grads(), null);
    args[args.length - 4] = 'no'; // dInput: an array or null
    expect(() => call(...args)).toThrow(new TypeError('sequenceBackward: dInput must be a Float32Array'));
  });
});

describe('zero-copy views', () => {
  it('arrays with a byteOffset are read and written in place', () => {
    const p = problem('gru', 4, 3, 5, 6);
    const pad = 3; // floats before and after each view
    const view = (a: Float32Array) => {
      const buffer = new Float32Array(a.length + 2 * pad).fill(123);
      buffer.set(a, pad);
      return buffer.subarray(pad, pad + a.length);
    };
    const fwd = rnnkit.gruForward(p.opts, p.w, p.input, { training: true });
    const fwdViews = rnnkit.gruForward(p.opts, { weightIh: view(p.w.weightIh), weightHh: view(p.w.weightHh),
      biasIh: view(p.w.biasIh), biasHh: view(p.w.biasHh) }, view(p.input), { training: true });
    expect(fwdViews.output).toEqual(fwd.output);

    const g = p.grads();
    rnnkit.gruBackward(p.opts, p.w, p.input, fwd.cache!, g, { dOutput: p.dOutput });
    const gv = { weightIh: view(new Float32Array(g.weightIh.length)), weightHh: view(new Float32Array(g.weightHh.length)),
      biasIh: view(new Float32Array(g.biasIh.length)), biasHh: view(new Float32Array(g.biasHh.length)) };
    rnnkit.gruBackward(p.opts, p.w, p.input, fwd.cache!, gv, { dOutput: view(p.dOutput) });
    for (const key of ['weightIh', 'weightHh', 'biasIh', 'biasHh'] as const) {
      expect(gv[key]).toEqual(g[key]);
      const whole = new Float32Array(gv[key].buffer);
      expect([...whole.subarray(0, pad), ...whole.subarray(pad + gv[key].length)]).toEqual(Array(2 * pad).fill(123));
    }
  });
});

function runWorker(code: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(code, { eval: true, workerData: addonPath });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

// Runs inside a worker: loads the addon there and computes an LSTM forward (sync and async).
const WORKER_FORWARD = `
const { parentPort, workerData } = require('node:worker_threads');
const b = require(workerData);
const f = (n, s) => Float32Array.from({ length: n }, (_, i) => Math.sin(s * 3.7 + i * 0.61) * 0.4);
const layer = [2, 5, 7, 0, 6, 3, false, null, f(4 * 7 * 5, 1), f(4 * 7 * 7, 2), f(28, 3), f(28, 4), null, null, null];
const x = f(6 * 3 * 5, 6);
const outs = () => [new Float32Array(6 * 3 * 7), new Float32Array(3 * 7), new Float32Array(3 * 7)];
const sync = outs(), later = outs();
b.sequenceForward(...layer, x, null, null, ...sync, false);
b.sequenceForwardAsync(...layer, x, null, null, ...later, false).then(() => parentPort.postMessage({ sync: sync[0], async: later[0], isa: b.isa() }));
`;

describe('worker_threads', () => {
  it('loads in workers (own instance data each) and computes the same numbers there', async () => {
    const p = problem('lstm', 6, 3, 5, 7);
    const want = rnnkit.lstmForward(p.opts, p.w, p.input).output;
    const results = (await Promise.all([runWorker(WORKER_FORWARD), runWorker(WORKER_FORWARD)])) as
      Array<{ sync: Float32Array; async: Float32Array; isa: string }>;
    for (const r of results) {
      expect(r.sync).toEqual(want);
      expect(r.async).toEqual(want);
      expect(r.isa).toBe(rnnkit.isa());
    }
  });

  it('terminating a worker while its async job runs does not crash the process', async () => {
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const b = require(workerData);
      const T = 100, B = 64, I = 128, H = 256, f = (n) => new Float32Array(n).fill(0.01);
      b.sequenceForwardAsync(2, I, H, 0, T, B, false, null, f(4 * H * I), f(4 * H * H), null, null, null, null, null, f(T * B * I), null, null,
        f(T * B * H), f(B * H), f(B * H), false);
      parentPort.postMessage('started');`;
    const worker = new Worker(code, { eval: true, workerData: addonPath });
    await new Promise((resolve) => worker.once('message', resolve));
    await worker.terminate();
    // Still alive and computing.
    const p = problem('rnn_relu', 3, 2, 4, 5);
    expect(rnnkit.rnnForward(p.opts, p.w, p.input).output.length).toBe(3 * 2 * 5);
  });
});

describe('runtime controls', () => {
  const defaultIsa = rnnkit.isa();
  const defaultThreads = rnnkit.getNumThreads();
  afterAll(() => {
    rnnkit.setIsa(defaultIsa);
    rnnkit.setNumThreads(defaultThreads);
  });

  it('getNumThreads defaults to the cores this process may use', () => {
    const script = `console.log(require(${JSON.stringify(addonPath)}).getNumThreads())`;
    expect(Number(execFileSync(process.execPath, ['-e', script]).toString())).toBe(os.availableParallelism());
    if (os.platform() === 'linux' && os.availableParallelism() > 1) {
      // Affinity restricted to one CPU: the default pool follows it.
      expect(Number(execFileSync('taskset', ['-c', '0', process.execPath, '-e', script]).toString())).toBe(1);
    }
  });

  it('setNumThreads / getNumThreads round-trip', () => {
    for (const n of [1, 3, defaultThreads]) {
      rnnkit.setNumThreads(n);
      expect(rnnkit.getNumThreads()).toBe(n);
    }
  });

  it('setIsa selects each available kernel set; results agree within 1e-5', () => {
    const isas = rnnkit.availableIsas();
    expect(isas[isas.length - 1]).toBe('scalar');
    expect(isas[0]).toBe(defaultIsa);
    const p = problem('lstm', 5, 4, 17, 33, { projSize: 9 });
    const outputs = isas.map((name) => {
      rnnkit.setIsa(name);
      expect(rnnkit.isa()).toBe(name);
      return rnnkit.lstmForward(p.opts, p.w, p.input).output;
    });
    for (const out of outputs) {
      for (let i = 0; i < out.length; i++) expect(Math.abs(out[i] - outputs[outputs.length - 1][i])).toBeLessThan(1e-5);
    }
  });

  it('RNNKIT_ISA forces the initial kernel set', () => {
    const script = `console.log(require(${JSON.stringify(addonPath)}).isa())`;
    const forced = execFileSync(process.execPath, ['-e', script], { env: { ...process.env, RNNKIT_ISA: 'scalar' } });
    expect(forced.toString().trim()).toBe('scalar');
  });

  it('versions report N-API 8, which this Node supports', () => {
    const v = rnnkit.nativeVersions();
    expect(v.napi).toBe(8);
    expect(Number(process.versions.napi)).toBeGreaterThanOrEqual(v.napi);
  });

  it('sgemm matches a float64 product within 1e-5 (relative to the row norm), with transposes and accumulate', () => {
    const m = 37, n = 53, k = 29;
    for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]]) {
      const a = filled(m * k, 1), b = filled(k * n, 2), c = filled(m * n, 3);
      const c0 = c.slice();
      rnnkit.sgemm({ m, n, k, a, b, c, transA, transB, accumulate: true });
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let sum = c0[i * n + j], norm = 1;
          for (let p = 0; p < k; p++) {
            const x = transA ? a[p * m + i] : a[i * k + p], y = transB ? b[j * k + p] : b[p * n + j];
            sum += x * y;
            norm += Math.abs(x * y);
          }
          expect(Math.abs(c[i * n + j] - sum) / norm).toBeLessThan(1e-5);
        }
      }
    }
  });
});

describe('sgemmBatched', () => {
  it('equals one sgemm per item bit for bit, every transpose; refuses a wrong length by name', () => {
    const batch = 5, m = 6, n = 7, k = 40;
    const a = filled(batch * m * k, 4), b = filled(batch * k * n, 5);
    for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]]) {
      const c = new Float32Array(batch * m * n);
      native.sgemmBatched(batch, m, n, k, a, b, c, transA, transB, false);
      for (let i = 0; i < batch; i++) {
        const ci = new Float32Array(m * n);
        native.sgemm(m, n, k, a.subarray(i * m * k, (i + 1) * m * k), b.subarray(i * k * n, (i + 1) * k * n), ci, transA, transB, false);
        expect(c.subarray(i * m * n, (i + 1) * m * n)).toEqual(ci);
      }
    }
    expect(() => native.sgemmBatched(batch, m, n, k, a, b, new Float32Array(3), false, false, false))
      .toThrow(new RangeError(`sgemmBatched: c must be a Float32Array of ${batch * m * n} floats (received 3)`));
  });
});

describe('tanh (the tensor op\'s kernel)', () => {
  it('is within 4e-7 of the float64 tanh relative to its value on every ISA, in place too; NaN propagates', () => {
    const x = Float32Array.from({ length: 1001 }, (_, i) => (i - 500) / 25);
    x.set([1e-30, -1e-20, 3e-8, Infinity, -Infinity, NaN], 0);
    const previous = rnnkit.isa();
    try {
      for (const isa of rnnkit.availableIsas()) {
        rnnkit.setIsa(isa);
        const y = new Float32Array(x.length);
        native.tanh(x, y);
        for (let i = 0; i < x.length; i++) {
          const exact = Math.tanh(x[i]);
          if (Number.isNaN(exact)) expect(y[i]).toBeNaN();
          else expect(Math.abs(y[i] - exact)).toBeLessThanOrEqual(4e-7 * Math.abs(exact));
        }
        const inPlace = x.slice();
        native.tanh(inPlace, inPlace);
        expect(inPlace).toEqual(y);
      }
    } finally {
      rnnkit.setIsa(previous);
    }
  });

  it('refuses what is not two Float32Arrays of one length, naming the argument', () => {
    expect(() => native.tanh([1] as never, new Float32Array(1))).toThrow(new TypeError('tanh: x must be a Float32Array'));
    expect(() => native.tanh(new Float32Array(2), new Float32Array(3))).toThrow(new RangeError('tanh: y must be a Float32Array of 2 floats (received 3)'));
    expect(() => (native.tanh as (...a: unknown[]) => void)(new Float32Array(1))).toThrow(TypeError);
  });
});

describe('the cell table (src/cell-table.ts) and the binding agree', () => {
  it.each(Object.keys(CELLS) as CellName[])('%s: its code, name, gate count and cell state', (name) => {
    const { code, gates } = CELLS[name];
    // The binding names the cell of a code in its memory errors.
    expect(() => native.checkSequenceMemory(code, 1, 1, 0, 1, 1, false, false, 0, 2 ** 60)).toThrow(new RegExp(`^${name} forward \\(`));
    // It takes weights of gates·H rows, and c0/cN exactly for a cell with a cell state.
    const opts = { steps: 2, batch: 1, inputSize: 3, hiddenSize: 2 };
    const w = { weightIh: filled(gates * 2 * 3, 1), weightHh: filled(gates * 2 * 2, 2) };
    expect(native.sequenceForward(...(forwardArgs(name, opts, w, filled(6, 3)) as Parameters<typeof native.sequenceForward>))).toBeNull();
  });
});
