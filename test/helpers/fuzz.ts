// A seeded fuzzer over the native entry points: every raw binding function and the public
// functions in front of them. Each call starts from a valid random call and, half the time,
// mutates it: garbage in an argument, wrong lengths, detached / shared / offset buffers, sizes near
// the int32 and memory limits, getters that detach already-checked arrays, arrays transferred while
// an async call runs. A valid call's numbers are checked against the float64 reference (forward and
// backward), and async against sync bit for bit. Whatever the input, the process must survive and
// every failure must be an Error.
import { appendFileSync } from 'node:fs';
import * as rnnkit from '../../src/index.js';
import { binding, type NativeBinding } from '../../src/native.js';
import { CELL_CODES } from './native-args.js';
import { referenceBackward, referenceForward, type RefCell } from './reference.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

// A file to append each call's name to before it runs (to find the call that killed a process).
const TRACE = process.env.RNNKIT_FUZZ_TRACE;

/** What a fuzz run did. */
export interface FuzzReport {
  calls: number;
  /** Calls that returned (or resolved) normally. */
  succeeded: number;
  /** Calls that threw (or rejected) an Error, by constructor name. */
  errors: Record<string, number>;
  /** Valid calls whose numbers were checked against the float64 reference or the sync result. */
  checked: number;
  /** Everything that broke a rule: a non-Error thrown, a wrong number, a hung promise. */
  problems: string[];
}

// Mulberry32: small, seeded, good enough to pick cases.
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CELLS: RefCell[] = ['rnn_tanh', 'rnn_relu', 'lstm', 'gru'];
const GATES: Record<RefCell, number> = { rnn_tanh: 1, rnn_relu: 1, lstm: 4, gru: 3 };

// Values that are wrong for nearly every argument; sizes near the limits among them.
const GARBAGE: unknown[] = [undefined, null, 0, -1, 1.5, NaN, Infinity, -Infinity, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 53,
  1e300, '', '7', true, false, {}, [], [1, 2, 3], new Float32Array(0), new Float32Array(5), new Float64Array(3),
  new Int32Array(2), new Uint8Array(4), new ArrayBuffer(16), Symbol('s'), 10n, () => 1, new Date(0), /x/];

class Fuzzer {
  readonly report: FuzzReport = { calls: 0, succeeded: 0, errors: {}, checked: 0, problems: [] };
  private readonly random: () => number;
  private readonly native: NativeBinding = binding();
  private readonly isas = rnnkit.availableIsas();

  constructor(seed: number) {
    this.random = generator(seed);
  }

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.random() * (hi - lo + 1));
  }
  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.random() * list.length)];
  }
  chance(p: number): boolean {
    return this.random() < p;
  }
  floats(n: number): Float32Array {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = (this.random() - 0.5) * 1.6;
    return a;
  }

  // Runs one call (sync or a promise), classifying its outcome; `check` validates a normal result.
  async run(name: string, call: () => unknown, check?: (result: Loose) => void | Promise<void>): Promise<void> {
    this.report.calls++;
    if (TRACE) appendFileSync(TRACE, `${this.report.calls} ${name}\n`);
    let result: unknown;
    try {
      result = call();
      if (result instanceof Promise) result = await withTimeout(result, `${name} promise`);
    } catch (error) {
      if (error instanceof Error) {
        const kind = error.constructor.name;
        this.report.errors[kind] = (this.report.errors[kind] ?? 0) + 1;
        if (!error.message) this.problem(`${name}: ${kind} without a message`);
        if (error.message.includes('timed out')) this.problem(`${name}: ${error.message}`);
      } else {
        this.problem(`${name}: threw a non-Error ${String(error)}`);
      }
      return;
    }
    this.report.succeeded++;
    if (check) {
      try {
        await check(result);
        this.report.checked++;
      } catch (error) {
        this.problem(`${name}: ${(error as Error).message}`);
      }
    }
  }

  problem(text: string): void {
    if (this.report.problems.length < 50) this.report.problems.push(text);
  }

  // ---- Valid random calls --------------------------------------------------------------------

  layer() {
    const cell = this.pick(CELLS);
    const T = this.int(1, 6), B = this.int(1, 4), I = this.int(1, 9), H = this.int(1, 12);
    const P = cell === 'lstm' && H > 1 && this.chance(0.3) ? this.int(1, H - 1) : 0;
    const S = P || H, G = GATES[cell];
    const bias = this.chance(0.7);
    const lengths = this.chance(0.4) ? Array.from({ length: B }, () => this.int(0, T)) : null;
    const mask = (n: number) => (this.chance(0.3) ? Float32Array.from(this.floats(n), (v) => (v < -0.2 ? 0 : 1.6)) : null);
    const opts = { steps: T, batch: B, inputSize: I, hiddenSize: H, projSize: P, reverse: this.chance(0.5), lengths,
      nonlinearity: cell === 'rnn_relu' ? 'relu' as const : 'tanh' as const, inputMask: mask(B * I), recurrentMask: mask(B * S) };
    const weights = {
      weightIh: this.floats(G * H * I), weightHh: this.floats(G * H * S), biasIh: bias ? this.floats(G * H) : null,
      biasHh: bias ? this.floats(G * H) : null, weightHr: P ? this.floats(P * H) : null,
    };
    return { cell, opts, weights, T, B, I, H, P, S, G, x: this.floats(T * B * I), h0: this.chance(0.5) ? this.floats(B * S) : null,
      c0: cell === 'lstm' && this.chance(0.5) ? this.floats(B * H) : null };
  }

  rawLayerArgs(l: ReturnType<Fuzzer['layer']>): unknown[] {
    const o = l.opts, w = l.weights;
    return [CELL_CODES[l.cell], o.inputSize, o.hiddenSize, o.projSize, o.steps, o.batch, o.reverse,
      o.lengths ? Int32Array.from(o.lengths) : null, w.weightIh, w.weightHh, w.biasIh, w.biasHh, w.weightHr, o.inputMask, o.recurrentMask];
  }

  // ---- Mutations -----------------------------------------------------------------------------

  // An array like `a` that the binding must refuse or read safely (`a` itself when an earlier getter
  // already detached it).
  hostileArray(a: Float32Array): unknown {
    if (a.buffer.byteLength === 0 && a.length === 0) return a;
    switch (this.int(0, 5)) {
      case 0: { const d = a.slice(); structuredClone(d.buffer, { transfer: [d.buffer] }); return d; } // detached
      case 1: { const s = new Float32Array(new SharedArrayBuffer(a.byteLength)); s.set(a); return s; } // shared (valid)
      case 2: { const big = new Float32Array(a.length + 5); big.set(a, 3); return big.subarray(3, 3 + a.length); } // offset view (valid)
      case 3: return a.subarray(0, Math.max(0, a.length - 1)); // one short
      case 4: { const lying = a.slice(); Object.defineProperty(lying, 'length', { get: () => a.length * 1000 }); return lying; }
      default: return new Float64Array(a.length);
    }
  }

  mutate(args: unknown[]): unknown[] {
    const out = [...args];
    const times = this.int(1, 2);
    for (let k = 0; k < times; k++) {
      const i = this.int(0, out.length - 1);
      out[i] = out[i] instanceof Float32Array && this.chance(0.6) ? this.hostileArray(out[i] as Float32Array) : this.pick(GARBAGE);
    }
    if (this.chance(0.15)) out.length = this.int(0, out.length + 2); // wrong argument count
    return out;
  }

  // Options objects whose getters detach an array the TypeScript layer has already checked.
  hostileObject<T extends object>(obj: T, victim: Float32Array): T {
    const copy: Loose = { ...obj };
    const keys = Object.keys(copy);
    if (keys.length === 0) return copy;
    const key = this.pick(keys);
    const value = copy[key];
    Object.defineProperty(copy, key, {
      enumerable: true,
      get: () => {
        if (victim.length > 0) structuredClone(victim.buffer, { transfer: [victim.buffer as ArrayBuffer] });
        return value;
      },
    });
    return copy;
  }

  // ---- Entry points --------------------------------------------------------------------------

  async sequence(): Promise<void> {
    const l = this.layer();
    const api = l.cell === 'lstm' ? [rnnkit.lstmForward, rnnkit.lstmForwardAsync] : l.cell === 'gru'
      ? [rnnkit.gruForward, rnnkit.gruForwardAsync] : [rnnkit.rnnForward, rnnkit.rnnForwardAsync];
    const [forward, forwardAsync] = api as Loose[];
    const state = { h0: l.h0, c0: l.c0, training: true };
    const ref = referenceForward({ ...l.opts, cell: l.cell }, l.weights, l.x, l.h0, l.c0);
    const mode = this.int(0, 9);
    if (mode < 4) {
      // Valid: forward against the reference, async against sync, then backward against the reference.
      let sync: rnnkit.ForwardResult | undefined;
      await this.run(`${l.cell} forward`, () => forward(l.opts, l.weights, l.x, state), (r: rnnkit.ForwardResult) => {
        sync = r;
        expectClose(r.output, ref.output, 'output');
        expectClose(r.hN, ref.hN, 'hN');
        if (ref.cN) expectClose(r.cN!, ref.cN, 'cN');
      });
      await this.run(`${l.cell} forwardAsync`, () => forwardAsync(l.opts, l.weights, l.x, state), (r: rnnkit.ForwardResult) => {
        if (sync) expectEqual(r.output, sync.output, 'async output');
      });
      if (sync) await this.backward(l, sync, ref);
      return;
    }
    if (mode < 6) {
      // Hostile getters in the options or the state.
      const victim = this.pick([l.x, l.weights.weightIh, l.weights.weightHh, ...(l.h0 ? [l.h0] : [])]);
      const opts = this.chance(0.5) ? this.hostileObject(l.opts, victim) : l.opts;
      const st = this.hostileObject(state, victim);
      await this.run(`${l.cell} forward (getters)`, () => (this.chance(0.5) ? forward : forwardAsync)(opts, l.weights, l.x, st));
      return;
    }
    if (mode < 8) {
      // The raw binding, mutated.
      const args = this.mutate([...this.rawLayerArgs(l), l.x, l.h0, l.c0, new Float32Array(l.T * l.B * l.S), new Float32Array(l.B * l.S),
        l.cell === 'lstm' ? new Float32Array(l.B * l.H) : null, this.chance(0.5)]);
      const fn = this.chance(0.5) ? this.native.sequenceForward : this.native.sequenceForwardAsync;
      await this.run('binding sequenceForward', () => (fn as Loose)(...args));
      return;
    }
    // Async, with its arrays transferred away right after the call.
    const x = l.x.slice();
    await this.run(`${l.cell} forwardAsync (transferred)`, () => {
      const pending = forwardAsync(l.opts, l.weights, x, { h0: l.h0, c0: l.c0 });
      structuredClone(x.buffer, { transfer: [x.buffer] });
      return pending;
    }, (r: rnnkit.ForwardResult) => expectClose(r.output, ref.output, 'output after transfer'));
  }

  async backward(l: ReturnType<Fuzzer['layer']>, fwd: rnnkit.ForwardResult, ref: ReturnType<typeof referenceForward>): Promise<void> {
    const api = l.cell === 'lstm' ? rnnkit.lstmBackward : l.cell === 'gru' ? rnnkit.gruBackward : rnnkit.rnnBackward;
    const apiAsync = l.cell === 'lstm' ? rnnkit.lstmBackwardAsync : l.cell === 'gru' ? rnnkit.gruBackwardAsync : rnnkit.rnnBackwardAsync;
    const dOutput = this.floats(l.T * l.B * l.S), dhN = this.floats(l.B * l.S);
    const grads = () => ({ weightIh: new Float32Array(l.weights.weightIh.length), weightHh: new Float32Array(l.weights.weightHh.length),
      biasIh: l.weights.biasIh ? new Float32Array(l.G * l.H) : null, biasHh: l.weights.biasHh ? new Float32Array(l.G * l.H) : null,
      weightHr: l.weights.weightHr ? new Float32Array(l.P * l.H) : null });
    const want = referenceBackward({ ...l.opts, cell: l.cell }, l.weights, l.x, ref, { dOutput, dhN });
    const g = grads();
    const cache = fwd.cache!;
    const up = { dOutput, dhN };
    if (this.chance(0.3)) {
      const args = this.mutate([...this.rawLayerArgs(l), l.x, cache.handle, g.weightIh, g.weightHh, g.biasIh, g.biasHh, g.weightHr,
        dOutput, dhN, null, new Float32Array(l.x.length), new Float32Array(l.B * l.S), l.cell === 'lstm' ? new Float32Array(l.B * l.H) : null,
        this.chance(0.5)]);
      await this.run('binding sequenceBackward', () => (this.chance(0.5) ? this.native.sequenceBackward : this.native.sequenceBackwardAsync as Loose)(...args));
      return;
    }
    const useAsync = this.chance(0.5);
    await this.run(`${l.cell} backward${useAsync ? 'Async' : ''}`, () => (useAsync ? apiAsync : api as Loose)(l.opts, l.weights, l.x, cache, g, up),
      (r: rnnkit.BackwardResult) => {
        expectClose(r.dInput!, want.dx, 'dInput');
        expectClose(r.dh0, want.dh0, 'dh0');
        expectClose(g.weightIh, want.grads.weightIh, 'grad weightIh');
        expectClose(g.weightHh, want.grads.weightHh, 'grad weightHh');
        if (g.biasHh) expectClose(g.biasHh, want.grads.biasHh!, 'grad biasHh');
        if (g.weightHr) expectClose(g.weightHr, want.grads.weightHr!, 'grad weightHr');
      });
    if (this.chance(0.5)) cache.release();
  }

  async prepared(): Promise<void> {
    const l = this.layer();
    const w = l.weights;
    const layerArgs = [CELL_CODES[l.cell], l.I, l.H, l.P, w.weightIh, w.weightHh, w.biasIh, w.biasHh, w.weightHr];
    const handle = this.native.prepareLayer(...(layerArgs as Parameters<NativeBinding['prepareLayer']>));
    const ref = referenceForward({ ...l.opts, cell: l.cell, inputMask: null, recurrentMask: null }, w, l.x, l.h0, l.c0); // inference: no masks
    const mode = this.int(0, 3);
    if (mode === 0) {
      await this.run('binding prepareLayer', () => (this.native.prepareLayer as Loose)(...this.mutate(layerArgs)));
    } else if (mode === 1) {
      const lengths = l.opts.lengths ? Int32Array.from(l.opts.lengths) : null;
      const output = new Float32Array(l.T * l.B * l.S);
      const args = [handle, l.T, l.B, l.opts.reverse, lengths, l.x, l.h0, l.c0, output, new Float32Array(l.B * l.S),
        l.cell === 'lstm' ? new Float32Array(l.B * l.H) : null];
      const valid = this.chance(0.4);
      const fn = this.chance(0.5) ? this.native.preparedForward : this.native.preparedForwardAsync;
      await this.run('binding preparedForward', () => (fn as Loose)(...(valid ? args : this.mutate(args))),
        valid ? () => expectClose(output, ref.output, 'prepared output') : undefined);
    } else {
      const h = l.h0?.slice() ?? new Float32Array(l.B * l.S), c = l.cell === 'lstm' ? new Float32Array(l.B * l.H) : null;
      const args = [handle, l.B, l.x.subarray(0, l.B * l.I), h, c];
      await this.run('binding preparedStep', () => (this.native.preparedStep as Loose)(...(this.chance(0.5) ? args : this.mutate(args))));
    }
  }

  async runtime(): Promise<void> {
    const n = this.native;
    const m = this.int(1, 20), k = this.int(1, 20), nn = this.int(1, 20);
    const a = this.floats(m * k), b = this.floats(k * nn), c = this.floats(m * nn);
    const choices: Array<[string, () => unknown]> = [
      ['sgemm', () => (n.sgemm as Loose)(...this.mutate([m, nn, k, a, b, c, false, false, this.chance(0.5)]))],
      ['sgemmBatched', () => (n.sgemmBatched as Loose)(...this.mutate([1, m, nn, k, a, b, c, false, this.chance(0.5), false]))],
      ['tanh', () => {
        const y = new Float32Array(a.length);
        const args = [a, y];
        const valid = this.chance(0.5);
        (n.tanh as Loose)(...(valid ? args : this.mutate(args)));
        if (valid) expectClose(y, Float32Array.from(a, Math.tanh), 'tanh'); // ulp-level accuracy: test_pointwise
      }],
      ['setIsa', () => n.setIsa(this.chance(0.7) ? this.pick(this.isas) : this.pick(GARBAGE) as Loose)],
      ['setNumThreads', () => n.setNumThreads(this.chance(0.7) ? this.int(1, 3) : this.pick(GARBAGE) as Loose)],
      ['cacheSize', () => (n.cacheSize as Loose)(...this.mutate([2, this.int(1, 9), this.int(1, 9), 0, this.int(1, 9), this.int(1, 9), this.chance(0.5)]))],
      ['releaseCache', () => n.releaseCache(this.pick(GARBAGE) as Loose)],
      ['setMemoryLimit', () => {
        const limit = n.memoryLimit();
        try {
          n.setMemoryLimit(this.pick([...GARBAGE, 1e12]) as Loose);
        } finally {
          n.setMemoryLimit(limit);
        }
      }],
      ['getters', () => [n.isa(), n.availableIsas(), n.getNumThreads(), n.memoryLimit(), n.idleMemory(), n.pendingJobs()]],
      ['releaseIdleMemory', () => n.releaseIdleMemory()],
      ['optimizer', () => this.optimizerCall()],
      ['public sgemm', () => rnnkit.sgemm({ m, n: nn, k, a, b, c, transA: this.chance(0.5) } as Loose)],
    ];
    const [name, call] = this.pick(choices);
    await this.run(name, call);
  }

  optimizerCall(): unknown {
    const n = this.native as Loose;
    const len = this.int(1, 30);
    const p = this.floats(len), g = this.floats(len), s1 = this.floats(len), s2 = new Float32Array(len).fill(0.5);
    switch (this.int(0, 6)) {
      // Hyperparameters after the arrays (lr, momentum, …, firstStep / step): see src/optim/native.ts.
      case 0: return n.sgdStep(...this.mutate([p, g, s1, 0.01, 0.9, 0, 0.01, false, false, true]));
      case 1: return n.adamStep(...this.mutate([p, g, s1, s2, null, 0.01, 0.9, 0.999, 1e-8, 0.01, false, false, false, 1]));
      case 2: return n.rmspropStep(...this.mutate([p, g, s2, null, s1, 0.01, 0.99, 1e-8, 0.01, 0.9, false, false]));
      case 3: return n.adagradStep(...this.mutate([p, g, s2, 0.01, 0, 0.01, 1e-10, false, 1]));
      case 4: return n.normPowerSum(...this.mutate([p, 2]));
      case 5: return n.scaleInPlace(...this.mutate([p, 0.5]));
      default: return n.clampInPlace(...this.mutate([p, -0.1, 0.1]));
    }
  }

  // Small arrays, big work (LSTM with projSize 1: the weights grow with H, the working memory with
  // steps·batch·4H), under a 512 MB limit: refused with a RangeError before anything is allocated,
  // or run when the estimate fits.
  async limits(): Promise<void> {
    // At most 1000 sequential steps (a million tiny ones outlast any timeout on a loaded machine).
    const H = this.pick([2, 4096, 2 ** 20]);
    const T = this.pick([1, 1000]), B = this.pick([1, 3, 1000]);
    const w = { weightIh: new Float32Array(4 * H), weightHh: new Float32Array(4 * H), weightHr: new Float32Array(H) };
    const opts = { steps: T, batch: B, inputSize: 1, hiddenSize: H, projSize: 1 };
    const training = this.chance(0.5);
    const limit = rnnkit.getMemoryLimit();
    rnnkit.setMemoryLimit(512e6);
    try {
      await this.run('limits', () => (this.chance(0.5) ? rnnkit.lstmForward : rnnkit.lstmForwardAsync)(opts, w, new Float32Array(T * B), { training }));
    } finally {
      rnnkit.setMemoryLimit(limit);
    }
  }
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out`)), 30_000);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// fp32 kernels against the float64 reference on small layers: |a − b| ≤ 1e-4 + 1e-3·|b|.
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length}, expected ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= 1e-4 + 1e-3 * Math.abs(expected[i]))) {
      throw new Error(`${what}[${i}] = ${actual[i]}, expected ${expected[i]}`);
    }
  }
}

function expectEqual(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) throw new Error(`${what}[${i}] = ${actual[i]}, expected ${expected[i]} bit for bit`);
  }
}

/**
 * Runs `calls` seeded fuzz calls. The process's ISA, thread count and memory limit are restored
 * afterwards.
 */
export async function fuzz(seed: number, calls: number): Promise<FuzzReport> {
  const fuzzer = new Fuzzer(seed);
  const isa = rnnkit.isa(), threads = rnnkit.getNumThreads(), limit = rnnkit.getMemoryLimit();
  try {
    while (fuzzer.report.calls < calls) {
      const kind = fuzzer.int(0, 9);
      if (kind < 5) await fuzzer.sequence();
      else if (kind < 7) await fuzzer.prepared();
      else if (kind < 9) await fuzzer.runtime();
      else await fuzzer.limits();
    }
  } finally {
    rnnkit.setIsa(isa);
    rnnkit.setNumThreads(threads);
    rnnkit.setMemoryLimit(limit);
  }
  return fuzzer.report;
}
