// PreparedLayer (src/sequence.ts) and the binding's prepareLayer / preparedForward / preparedStep:
// the same numbers as the sequence API bit for bit (every cell, reverse, lengths, projection, on
// every ISA), outputs written in place, and bad input rejected by the TypeScript layer (friendly
// words) and by the binding (terse memory-safety checks).
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as rnnkit from '../src/index.js';
import { binding, packageRoot } from '../src/native.js';
import type { CellName, SequenceWeights } from '../src/index.js';
import { CELL_CODES } from './helpers/native-args.js';
import { CELL_NAMES, CELLS } from '../src/cell-table.js';

const native = binding();
// Deliberately loose: the bad-input cases put wrong types everywhere.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

const FORWARD = { lstm: rnnkit.lstmForward, gru: rnnkit.gruForward, rnn_tanh: rnnkit.rnnForward, rnn_relu: rnnkit.rnnForward };

function filled(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 7.1 + i * 0.37) * 0.4);
}

function weightsFor(cell: CellName, I: number, H: number, P: number, bias: boolean): SequenceWeights {
  const G = CELLS[cell].gates, S = P || H;
  return {
    weightIh: filled(G * H * I, 1), weightHh: filled(G * H * S, 2),
    biasIh: bias ? filled(G * H, 3) : null, biasHh: bias ? filled(G * H, 4) : null, weightHr: P ? filled(P * H, 5) : null,
  };
}

describe.each(rnnkit.availableIsas())('PreparedLayer on ISA %s', (isa) => {
  const defaultIsa = rnnkit.isa();
  beforeAll(() => rnnkit.setIsa(isa));
  afterAll(() => rnnkit.setIsa(defaultIsa));

  const cases: Array<{ cell: CellName; P: number; bias: boolean; reverse: boolean; lengths: number[] | null }> = [
    { cell: 'lstm', P: 0, bias: true, reverse: false, lengths: null },
    { cell: 'lstm', P: 5, bias: false, reverse: true, lengths: [7, 2, 0] },
    { cell: 'gru', P: 0, bias: true, reverse: true, lengths: null },
    { cell: 'gru', P: 0, bias: false, reverse: false, lengths: [3, 7, 1] },
    { cell: 'rnn_tanh', P: 0, bias: true, reverse: false, lengths: [7, 7, 4] },
    { cell: 'rnn_relu', P: 0, bias: true, reverse: true, lengths: null },
  ];
  it.each(cases)('$cell P=$P bias=$bias reverse=$reverse lengths=$lengths: forward equals the sequence API bit for bit', ({ cell, P, bias, reverse, lengths }) => {
    const I = 11, H = 18, T = 7, B = 3, S = P || H;
    const w = weightsFor(cell, I, H, P, bias);
    const opts = { steps: T, batch: B, inputSize: I, hiddenSize: H, projSize: P, reverse, lengths, nonlinearity: cell === 'rnn_relu' ? 'relu' as const : 'tanh' as const };
    const x = filled(T * B * I, 6), h0 = filled(B * S, 7), c0 = cell === 'lstm' ? filled(B * H, 8) : null;
    const want = (FORWARD[cell] as Loose)(opts, w, x, c0 ? { h0, c0 } : { h0 });
    const layer = new rnnkit.PreparedLayer(cell, { inputSize: I, hiddenSize: H, projSize: P }, w);
    expect(layer.isa).toBe(isa);
    const got = layer.forward({ steps: T, batch: B, reverse, lengths }, x, c0 ? { h0, c0 } : { h0 });
    expect(got.output).toEqual(want.output);
    expect(got.hN).toEqual(want.hN);
    if (c0) expect(got.cN).toEqual(want.cN);
    // In place: the state arrays themselves as hN / cN, output skipped.
    const h = h0.slice(), c = c0?.slice() ?? null;
    const inPlace = layer.forward({ steps: T, batch: B, reverse, lengths }, x, c ? { h0: h, c0: c } : { h0: h },
      c ? { output: null, hN: h, cN: c } : { output: null, hN: h });
    expect(inPlace.output).toBeNull();
    expect(inPlace.hN).toBe(h);
    expect(h).toEqual(want.hN);
    if (c) expect(c).toEqual(want.cN);
  });

  it('forwardAsync runs on the thread pool and gives forward\'s numbers; bad arguments reject', async () => {
    const I = 16, H = 40, T = 5, B = 3;
    const w = weightsFor('gru', I, H, 0, true);
    const layer = new rnnkit.PreparedLayer('gru', { inputSize: I, hiddenSize: H }, w);
    const x = filled(T * B * I, 11), h0 = filled(B * H, 12);
    const want = layer.forward({ steps: T, batch: B }, x, { h0 });
    const pending = layer.forwardAsync({ steps: T, batch: B }, x, { h0 });
    expect(native.pendingJobs()).toBe(1);
    const got = await pending;
    expect(got.output).toEqual(want.output);
    expect(got.hN).toEqual(want.hN);
    await expect(layer.forwardAsync({ steps: T, batch: B }, x.subarray(1))).rejects.toThrow(
      new RangeError('Expected Float32Array of length 240 for input (steps·batch·inputSize = 5·3·16) but received length 239'));
    expect(() => native.preparedForwardAsync(layer.handle, T, 0, false, null, x, null, null, null, new Float32Array(H), null)).toThrow(
      new RangeError('preparedForwardAsync: batch must be an integer in [1, 2147483647]'));
    expect(native.pendingJobs()).toBe(0);
  });

  it('preparedStep advances the state in place: T calls equal one forward over T steps', () => {
    const I = 9, H = 20, T = 6, B = 2;
    const w = weightsFor('lstm', I, H, 0, true);
    const x = filled(T * B * I, 9);
    const want = rnnkit.lstmForward({ steps: T, batch: B, inputSize: I, hiddenSize: H }, w, x);
    const layer = new rnnkit.PreparedLayer('lstm', { inputSize: I, hiddenSize: H }, w);
    const h = new Float32Array(B * H), c = new Float32Array(B * H);
    for (let t = 0; t < T; t++) {
      native.preparedStep(layer.handle, B, x.subarray(t * B * I, (t + 1) * B * I), h, c);
      expect(h).toEqual(want.output.subarray(t * B * H, (t + 1) * B * H));
    }
    expect(c).toEqual(want.cN);
  });
});

describe('PreparedLayer bad input: friendly words from TypeScript, terse checks in the binding', () => {
  const I = 6, H = 4;
  const sizes: Loose = { inputSize: I, hiddenSize: H };
  const w: Loose = weightsFor('lstm', I, H, 0, true);
  const layer = new rnnkit.PreparedLayer('lstm', sizes, w);
  const gru = new rnnkit.PreparedLayer('gru', sizes, weightsFor('gru', I, H, 0, true));
  const weightArgs = (v: Loose) => [v.weightIh, v.weightHh, v.biasIh ?? null, v.biasHh ?? null, v.weightHr ?? null];

  it('constructor: cell, sizes and weights', () => {
    const cases: Array<[() => unknown, typeof TypeError, string]> = [
      [() => new rnnkit.PreparedLayer('lsmt' as Loose, sizes, w), RangeError, `Expected one of ${CELL_NAMES.join(', ')} for cell but received lsmt of type string`],
      [() => new rnnkit.PreparedLayer('lstm', null as Loose, w), TypeError, 'Expected object for opts but received null'],
      [() => new rnnkit.PreparedLayer('lstm', { inputSize: 0, hiddenSize: H }, w), RangeError, 'Expected positive integer for inputSize but received 0 of type number'],
      [() => new rnnkit.PreparedLayer('gru', { ...sizes, projSize: 2 }, w), RangeError, 'Expected 0 for projSize because cell is gru but received 2 of type number'],
      [() => new rnnkit.PreparedLayer('lstm', sizes, { ...w, weightHh: new Float32Array(63) }), RangeError,
        'Expected Float32Array of length 64 for weightHh (gates·hiddenSize·hiddenSize = 4·4·4) but received length 63'],
    ];
    for (const [call, type, message] of cases) expect(call).toThrow(new type(message));
    expect(() => native.prepareLayer(7, I, H, 0, ...weightArgs(w) as [Loose, Loose, Loose, Loose, Loose]))
      .toThrow(new RangeError(`prepareLayer: cell must be an integer in [0, ${CELL_NAMES.length - 1}]`));
    expect(() => native.prepareLayer(CELL_CODES.gru, I, H, 2, ...weightArgs(w) as [Loose, Loose, Loose, Loose, Loose]))
      .toThrow(new RangeError('prepareLayer: projSize must be an integer in [0, 0]'));
    expect(() => native.prepareLayer(CELL_CODES.lstm, I, H, 0, w.weightIh, new Float32Array(63), w.biasIh, w.biasHh, null))
      .toThrow(new RangeError('prepareLayer: weightHh must be a Float32Array of 64 floats (received 63)'));
    expect(() => native.prepareLayer(CELL_CODES.lstm, I, H, 0, w.weightIh, w.weightHh, w.biasIh, null, null))
      .toThrow(new TypeError('prepareLayer: biasHh must be a Float32Array'));
  });

  it('forward: sizes, input, state and out arrays', () => {
    const x = new Float32Array(2 * 3 * I);
    const opts = { steps: 2, batch: 3 };
    const cases: Array<[() => unknown, typeof TypeError, string]> = [
      [() => layer.forward({ steps: 2 } as Loose, x), TypeError, 'Expected positive integer for batch but received undefined'],
      [() => layer.forward({ ...opts, lengths: [2, 3, 1] }, x), RangeError, 'Expected integer between 0 and 2 for lengths[1] but received 3 of type number'],
      [() => layer.forward(opts, x.subarray(1)), RangeError, 'Expected Float32Array of length 36 for input (steps·batch·inputSize = 2·3·6) but received length 35'],
      [() => layer.forward(opts, x, { h0: new Float32Array(11) }), RangeError, 'Expected Float32Array of length 12 for h0 (batch·hiddenSize = 3·4) but received length 11'],
      [() => layer.forward(opts, x, 3 as Loose), TypeError, 'Expected object for state but received 3 of type number'],
      [() => layer.forward(opts, x, {}, { hN: new Float32Array(13) }), RangeError, 'Expected Float32Array of length 12 for out.hN (batch·hiddenSize = 3·4) but received length 13'],
      [() => layer.forward(opts, x, {}, { output: [1, 2] as Loose }), TypeError, 'Expected Float32Array for out.output but received an Array of length 2'],
      [() => gru.forward(opts, x, {}, { cN: new Float32Array(12) }), TypeError, 'Expected no out.cN because cell is gru but received a Float32Array of length 12'],
      [() => gru.forward(opts, x, { c0: new Float32Array(12) } as Loose), TypeError, 'Expected no c0 because cell is gru but received a Float32Array of length 12'],
    ];
    for (const [call, type, message] of cases) expect(call).toThrow(new type(message));
    const raw = (...args: Loose[]) => () => (native.preparedForward as Loose)(...args);
    expect(raw(layer.handle, 2, 3, false, Int32Array.of(2, 3, 1), x, null, null, null, null, null))
      .toThrow(new RangeError('preparedForward: lengths must be an Int32Array of 3 integers in [0, 2]'));
    expect(raw(layer.handle, 2, 3, false, [2, 2, 2], x, null, null, null, null, null))
      .toThrow(new TypeError('preparedForward: lengths must be an Int32Array of 3 integers in [0, 2]'));
    expect(raw(layer.handle, 2, 3, false, null, x, null, null, null, new Float32Array(13), null))
      .toThrow(new RangeError('preparedForward: hN must be a Float32Array of 12 floats (received 13)'));
    expect(raw(gru.handle, 2, 3, false, null, x, null, new Float32Array(12), null, null, null))
      .toThrow(new TypeError('preparedForward: c0 must be null here'));
  });

  it('the binding takes only its own handles, and preparedStep checks its arrays', () => {
    const x = new Float32Array(I), h = new Float32Array(H), c = new Float32Array(H);
    for (const fake of [{}, null, 3, new Float32Array(4)]) {
      expect(() => native.preparedForward(fake as Loose, 1, 1, false, null, x, null, null, null, null, null)).toThrow(TypeError);
      expect(() => native.preparedStep(fake as Loose, 1, x, h, c)).toThrow(TypeError);
    }
    expect(() => native.preparedStep({} as Loose, 1, x, h, c)).toThrow(new TypeError('preparedStep: layer must be a handle made by prepareLayer'));
    expect(() => native.preparedStep(layer.handle, 0, x, h, c)).toThrow(new RangeError('preparedStep: batch must be an integer in [1, 2147483647]'));
    expect(() => native.preparedStep(layer.handle, 1, x, h.subarray(1), c)).toThrow(new RangeError('preparedStep: h must be a Float32Array of 4 floats (received 3)'));
    expect(() => native.preparedStep(layer.handle, 1, x, h, null)).toThrow(new TypeError('preparedStep: c must be a Float32Array'));
    expect(() => native.preparedStep(gru.handle, 1, x, h, c)).toThrow(new TypeError('preparedStep: c must be null here'));
    expect(() => (native.preparedStep as Loose)(layer.handle, 1, x, h)).toThrow(new TypeError('preparedStep: expected 5 arguments, received 4'));
  });
});

describe('prepared layers across environments and garbage', () => {
  it('a worker_thread prepares, steps and exits (its handles are freed with its environment)', async () => {
    const { Worker } = await import('node:worker_threads');
    const require = createRequire(import.meta.url);
    const nodeGypBuild = require('node-gyp-build') as { path(dir: string): string };
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const b = require(workerData);
      const f = (n, s) => Float32Array.from({ length: n }, (_, i) => Math.sin(s * 3.7 + i * 0.61) * 0.4);
      const w = [f(4 * 7 * 5, 1), f(4 * 7 * 7, 2), f(28, 3), f(28, 4), null];
      const layers = Array.from({ length: 50 }, () => b.prepareLayer(2, 5, 7, 0, ...w));
      const h = new Float32Array(7), c = new Float32Array(7);
      for (let t = 0; t < 6; t++) b.preparedStep(layers[t], 1, f(5, 10 + t), h, c);
      parentPort.postMessage(h);`;
    const f = (n: number, s: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(s * 3.7 + i * 0.61) * 0.4);
    const weights = { weightIh: f(4 * 7 * 5, 1), weightHh: f(4 * 7 * 7, 2), biasIh: f(28, 3), biasHh: f(28, 4) };
    const x = new Float32Array(6 * 5);
    for (let t = 0; t < 6; t++) x.set(f(5, 10 + t), t * 5);
    const want = rnnkit.lstmForward({ steps: 6, batch: 1, inputSize: 5, hiddenSize: 7 }, weights, x).hN;
    const results = await Promise.all([0, 1].map(() => new Promise((resolve, reject) => {
      const worker = new Worker(code, { eval: true, workerData: nodeGypBuild.path(packageRoot()) });
      worker.once('message', resolve);
      worker.once('error', reject);
    })));
    for (const h of results) expect(h).toEqual(want);
  });

  it('every argument position of prepareLayer, preparedForward and preparedStep replaced by garbage throws TypeError or RangeError', () => {
    const garbage: unknown[] = [undefined, null, 0, -1, 1.5, NaN, Infinity, 2 ** 40, '', 'lstm', true, {}, [], [1, 2],
      new Float32Array(0), new Float32Array(7), new Float64Array(3), new ArrayBuffer(8), Symbol('s'), 10n, () => 1];
    const I = 3, H = 4;
    const w = weightsFor('lstm', I, H, 0, true);
    const weights = [w.weightIh, w.weightHh, w.biasIh ?? null, w.biasHh ?? null, null] as const;
    const layer = native.prepareLayer(CELL_CODES.lstm, I, H, 0, ...weights);
    const calls: Array<[(...args: Loose[]) => unknown, unknown[]]> = [
      [native.prepareLayer, [CELL_CODES.lstm, I, H, 0, ...weights]],
      [native.preparedForward, [layer, 2, 1, false, null, new Float32Array(2 * I), null, null, null, new Float32Array(H), new Float32Array(H)]],
      [native.preparedStep, [layer, 1, new Float32Array(I), new Float32Array(H), new Float32Array(H)]],
    ];
    let throws = 0;
    for (const [fn, base] of calls) {
      for (let position = 0; position < base.length; position++) {
        for (const value of garbage) {
          const args = [...base];
          args[position] = value;
          try {
            fn(...args);
          } catch (error) {
            expect([TypeError, RangeError]).toContain((error as Error).constructor);
            throws++;
          }
        }
      }
    }
    expect(throws).toBeGreaterThan(200);
  });
});
