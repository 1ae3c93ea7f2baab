// Every bad input through the TypeScript API (src/validate.ts checks it: the friendly words), and
// the binding's own terse checks (native/binding/args.h: its memory-safety net) for what reaches it
// directly.
import { describe, expect, it } from 'vitest';
import * as rnnkit from '../src/index.js';
import { binding } from '../src/native.js';
import { CELL_NAMES, NONLINEARITIES } from '../src/cell-table.js';
import { CELL_CODES, backwardArgs as nativeBackwardArgs, forwardArgs as nativeForwardArgs } from './helpers/native-args.js';

const native = binding();

type Kind = 'forward' | 'backward';
type TestCell = 'lstm' | 'gru' | 'rnn_tanh';
// Deliberately loose: the cases put wrong types everywhere.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;
interface Args { opts: Loose; w: Loose; input: Loose; state: Loose; cache: Loose; grads: Loose; upstream: Loose }

// T=5, B=4, I=6, H=4 (P=3 with projSize): every length below is spelled out in the messages.
const T = 5, B = 4, I = 6, H = 4;
const GATES: Record<TestCell, number> = { lstm: 4, gru: 3, rnn_tanh: 1 };

function filled(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 7.1 + i * 0.37) * 0.3);
}

const TS_API = {
  lstm: [rnnkit.lstmForward, rnnkit.lstmBackward],
  gru: [rnnkit.gruForward, rnnkit.gruBackward],
  rnn_tanh: [rnnkit.rnnForward, rnnkit.rnnBackward],
} as const;

function validArgs(cell: TestCell, { projSize = 0, bias = true } = {}): Args {
  const G = GATES[cell], S = projSize || H;
  const opts: Loose = { steps: T, batch: B, inputSize: I, hiddenSize: H };
  if (projSize) opts.projSize = projSize;
  const w: Loose = { weightIh: filled(G * H * I, 1), weightHh: filled(G * H * S, 2) };
  if (bias) Object.assign(w, { biasIh: filled(G * H, 3), biasHh: filled(G * H, 4) });
  if (projSize) w.weightHr = filled(projSize * H, 5);
  const input = filled(T * B * I, 6);
  const grads: Loose = { weightIh: new Float32Array(G * H * I), weightHh: new Float32Array(G * H * S) };
  if (bias) Object.assign(grads, { biasIh: new Float32Array(G * H), biasHh: new Float32Array(G * H) });
  if (projSize) grads.weightHr = new Float32Array(projSize * H);
  const [forward] = TS_API[cell] as unknown as [Loose];
  const cache = forward(opts, w, input, { training: true }).cache;
  return { opts, w, input, state: {}, cache, grads, upstream: { dOutput: filled(T * B * S, 7) } };
}

function callTs(kind: Kind, cell: TestCell, a: Args): unknown {
  const [forward, backward] = TS_API[cell] as unknown as [Loose, Loose];
  return kind === 'forward' ? forward(a.opts, a.w, a.input, a.state) : backward(a.opts, a.w, a.input, a.cache, a.grads, a.upstream);
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw, but the call returned');
}

function expectError(error: Error, type: typeof TypeError | typeof RangeError, message: string): void {
  expect(error.message).toBe(message);
  expect(error.constructor).toBe(type);
}

interface Case {
  title: string;
  cell: TestCell;
  kind?: Kind;
  projSize?: number;
  bias?: boolean;
  mutate: (a: Args) => void;
  type: typeof TypeError | typeof RangeError;
  message: string;
}

const cases: Case[] = [
  // sizes
  { title: 'non-integer hiddenSize', cell: 'lstm', mutate: (a) => { a.opts.hiddenSize = 1.5; }, type: RangeError,
    message: 'Expected positive integer for hiddenSize but received 1.5 of type number' },
  { title: 'zero steps', cell: 'gru', mutate: (a) => { a.opts.steps = 0; }, type: RangeError,
    message: 'Expected positive integer for steps but received 0 of type number' },
  { title: 'negative batch', cell: 'rnn_tanh', mutate: (a) => { a.opts.batch = -3; }, type: RangeError,
    message: 'Expected positive integer for batch but received -3 of type number' },
  { title: 'NaN inputSize', cell: 'lstm', mutate: (a) => { a.opts.inputSize = NaN; }, type: RangeError,
    message: 'Expected positive integer for inputSize but received NaN of type number' },
  { title: 'steps beyond int32', cell: 'lstm', mutate: (a) => { a.opts.steps = 2 ** 31; }, type: RangeError,
    message: 'Expected positive integer for steps but received 2147483648 of type number' },
  { title: 'string inputSize', cell: 'lstm', mutate: (a) => { a.opts.inputSize = '6'; }, type: TypeError,
    message: 'Expected positive integer for inputSize but received 6 of type string' },
  { title: 'missing steps', cell: 'gru', mutate: (a) => { delete a.opts.steps; }, type: TypeError,
    message: 'Expected positive integer for steps but received undefined' },
  { title: 'bigint batch', cell: 'gru', mutate: (a) => { a.opts.batch = 4n; }, type: TypeError,
    message: 'Expected positive integer for batch but received 4 of type bigint' },
  { title: 'symbol hiddenSize', cell: 'gru', mutate: (a) => { a.opts.hiddenSize = Symbol('h'); }, type: TypeError,
    message: 'Expected positive integer for hiddenSize but received a value of type symbol' },
  { title: 'opts null', cell: 'lstm', mutate: (a) => { a.opts = null; }, type: TypeError,
    message: 'Expected object for opts but received null' },
  // projSize
  { title: 'projSize on gru', cell: 'gru', mutate: (a) => { a.opts.projSize = 2; }, type: RangeError,
    message: 'Expected 0 for projSize because cell is gru but received 2 of type number' },
  { title: 'projSize on rnn, wrong type', cell: 'rnn_tanh', mutate: (a) => { a.opts.projSize = '2'; }, type: TypeError,
    message: 'Expected 0 for projSize because cell is rnn_tanh but received 2 of type string' },
  { title: 'projSize = hiddenSize', cell: 'lstm', mutate: (a) => { a.opts.projSize = 4; }, type: RangeError,
    message: 'Expected integer between 0 and 3 for projSize but received 4 of type number' },
  { title: 'negative projSize', cell: 'lstm', mutate: (a) => { a.opts.projSize = -1; }, type: RangeError,
    message: 'Expected integer between 0 and 3 for projSize but received -1 of type number' },
  // reverse, lengths
  { title: 'numeric reverse', cell: 'lstm', mutate: (a) => { a.opts.reverse = 1; }, type: TypeError,
    message: 'Expected boolean for reverse but received 1 of type number' },
  { title: 'length above steps', cell: 'lstm', mutate: (a) => { a.opts.lengths = [5, 5, 6, 1]; }, type: RangeError,
    message: 'Expected integer between 0 and 5 for lengths[2] but received 6 of type number' },
  { title: 'negative length', cell: 'gru', mutate: (a) => { a.opts.lengths = new Int32Array([5, -1, 2, 1]); }, type: RangeError,
    message: 'Expected integer between 0 and 5 for lengths[1] but received -1 of type number' },
  { title: 'fractional length', cell: 'rnn_tanh', mutate: (a) => { a.opts.lengths = new Float64Array([5, 2.5, 2, 1]); }, type: RangeError,
    message: 'Expected integer between 0 and 5 for lengths[1] but received 2.5 of type number' },
  { title: 'string length', cell: 'rnn_tanh', mutate: (a) => { a.opts.lengths = [5, '2', 2, 1]; }, type: TypeError,
    message: 'Expected integer between 0 and 5 for lengths[1] but received 2 of type string' },
  { title: 'one length too few', cell: 'lstm', mutate: (a) => { a.opts.lengths = [5, 5, 5]; }, type: RangeError,
    message: 'Expected array of length 4 for lengths (batch = 4) but received length 3' },
  { title: 'lengths not an array', cell: 'lstm', mutate: (a) => { a.opts.lengths = 5; }, type: TypeError,
    message: 'Expected array of integers for lengths but received 5 of type number' },
  // weights
  { title: 'weights missing', cell: 'lstm', mutate: (a) => { a.w = undefined; }, type: TypeError,
    message: 'Expected object for weights but received undefined' },
  { title: 'weightIh one short', cell: 'lstm', mutate: (a) => { a.w.weightIh = a.w.weightIh.subarray(1); }, type: RangeError,
    message: 'Expected Float32Array of length 96 for weightIh (gates·hiddenSize·inputSize = 4·4·6) but received length 95' },
  { title: 'weightIh as Array', cell: 'gru', mutate: (a) => { a.w.weightIh = Array.from(a.w.weightIh); }, type: TypeError,
    message: 'Expected Float32Array for weightIh but received an Array of length 72' },
  { title: 'weightHh of projected lstm', cell: 'lstm', projSize: 3, mutate: (a) => { a.w.weightHh = new Float32Array(64); }, type: RangeError,
    message: 'Expected Float32Array of length 48 for weightHh (gates·hiddenSize·projSize = 4·4·3) but received length 64' },
  { title: 'bias on one side only', cell: 'lstm', mutate: (a) => { a.w.biasHh = null; }, type: TypeError,
    message: 'Expected biasIh and biasHh both or neither but received only biasIh' },
  { title: 'biasHh without biasIh', cell: 'gru', mutate: (a) => { delete a.w.biasIh; }, type: TypeError,
    message: 'Expected biasIh and biasHh both or neither but received only biasHh' },
  { title: 'biasHh wrong length', cell: 'gru', mutate: (a) => { a.w.biasHh = new Float32Array(13); }, type: RangeError,
    message: 'Expected Float32Array of length 12 for biasHh (gates·hiddenSize = 3·4) but received length 13' },
  { title: 'biasIh as Float64Array', cell: 'rnn_tanh', mutate: (a) => { a.w.biasIh = new Float64Array(4); }, type: TypeError,
    message: 'Expected Float32Array for biasIh but received a Float64Array of length 4' },
  { title: 'weightHr missing with projSize', cell: 'lstm', projSize: 3, mutate: (a) => { delete a.w.weightHr; }, type: TypeError,
    message: 'Expected Float32Array for weightHr but received undefined' },
  { title: 'weightHr without projSize', cell: 'lstm', mutate: (a) => { a.w.weightHr = new Float32Array(12); }, type: TypeError,
    message: 'Expected no weightHr because projSize is 0 but received a Float32Array of length 12' },
  { title: 'weightHr wrong length', cell: 'lstm', projSize: 3, mutate: (a) => { a.w.weightHr = new Float32Array(16); }, type: RangeError,
    message: 'Expected Float32Array of length 12 for weightHr (projSize·hiddenSize = 3·4) but received length 16' },
  // input and state
  { title: 'input one short', cell: 'lstm', mutate: (a) => { a.input = a.input.subarray(0, 119); }, type: RangeError,
    message: 'Expected Float32Array of length 120 for input (steps·batch·inputSize = 5·4·6) but received length 119' },
  { title: 'input as Int32Array', cell: 'gru', mutate: (a) => { a.input = new Int32Array(120); }, type: TypeError,
    message: 'Expected Float32Array for input but received an Int32Array of length 120' },
  { title: 'input as ArrayBuffer', cell: 'gru', mutate: (a) => { a.input = new ArrayBuffer(480); }, type: TypeError,
    message: 'Expected Float32Array for input but received an ArrayBuffer' },
  { title: 'input as DataView', cell: 'gru', mutate: (a) => { a.input = new DataView(new ArrayBuffer(480)); }, type: TypeError,
    message: 'Expected Float32Array for input but received a DataView' },
  { title: 'input as plain object', cell: 'gru', mutate: (a) => { a.input = { length: 120 }; }, type: TypeError,
    message: 'Expected Float32Array for input but received an object' },
  { title: 'input as function', cell: 'gru', mutate: (a) => { a.input = () => 0; }, type: TypeError,
    message: 'Expected Float32Array for input but received a function' },
  { title: 'state not an object', cell: 'lstm', mutate: (a) => { a.state = 5; }, type: TypeError,
    message: 'Expected object for state but received 5 of type number' },
  { title: 'h0 wrong length', cell: 'lstm', mutate: (a) => { a.state = { h0: new Float32Array(15) }; }, type: RangeError,
    message: 'Expected Float32Array of length 16 for h0 (batch·hiddenSize = 4·4) but received length 15' },
  { title: 'h0 of projected lstm', cell: 'lstm', projSize: 3, mutate: (a) => { a.state = { h0: new Float32Array(16) }; }, type: RangeError,
    message: 'Expected Float32Array of length 12 for h0 (batch·projSize = 4·3) but received length 16' },
  { title: 'c0 wrong length', cell: 'lstm', projSize: 3, mutate: (a) => { a.state = { c0: new Float32Array(12) }; }, type: RangeError,
    message: 'Expected Float32Array of length 16 for c0 (batch·hiddenSize = 4·4) but received length 12' },
  { title: 'c0 on gru', cell: 'gru', mutate: (a) => { a.state = { c0: new Float32Array(16) }; }, type: TypeError,
    message: 'Expected no c0 because cell is gru but received a Float32Array of length 16' },
  { title: 'string training', cell: 'rnn_tanh', mutate: (a) => { a.state = { training: 'yes' }; }, type: TypeError,
    message: 'Expected boolean for training but received yes of type string' },
  // backward
  { title: 'cache of another forward', cell: 'lstm', kind: 'backward', mutate: (a) => {
    a.cache = rnnkit.lstmForward({ ...a.opts, steps: 2 }, a.w, a.input.subarray(0, 2 * B * I), { training: true }).cache;
  }, type: RangeError, message: 'Expected the cache of a forward of lstm with steps 5, batch 4, inputSize 6, hiddenSize 4, projSize 0, ' +
    'reverse false for cache but received one of lstm with steps 2, batch 4, inputSize 6, hiddenSize 4, projSize 0, reverse false' },
  { title: 'cache null (inference forward)', cell: 'gru', kind: 'backward', mutate: (a) => { a.cache = null; }, type: TypeError,
    message: 'Expected SequenceCache (the cache of a training-mode forward) for cache but received null' },
  { title: 'cache a Float32Array', cell: 'gru', kind: 'backward', mutate: (a) => { a.cache = new Float32Array(10); }, type: TypeError,
    message: 'Expected SequenceCache (the cache of a training-mode forward) for cache but received a Float32Array of length 10' },
  { title: 'cache released', cell: 'rnn_tanh', kind: 'backward', mutate: (a) => { a.cache.release(); }, type: TypeError,
    message: 'Expected a cache that was not released for cache but received a released one' },
  { title: 'grads missing', cell: 'lstm', kind: 'backward', mutate: (a) => { a.grads = undefined; }, type: TypeError,
    message: 'Expected object for grads but received undefined' },
  { title: 'grads.weightIh missing', cell: 'gru', kind: 'backward', mutate: (a) => { delete a.grads.weightIh; }, type: TypeError,
    message: 'Expected Float32Array for grads.weightIh but received undefined' },
  { title: 'grads.weightHh wrong length', cell: 'rnn_tanh', kind: 'backward', mutate: (a) => { a.grads.weightHh = new Float32Array(15); }, type: RangeError,
    message: 'Expected Float32Array of length 16 for grads.weightHh (gates·hiddenSize·hiddenSize = 1·4·4) but received length 15' },
  { title: 'grads.biasIh missing although biases given', cell: 'lstm', kind: 'backward', mutate: (a) => { a.grads.biasIh = null; }, type: TypeError,
    message: 'Expected Float32Array for grads.biasIh but received null' },
  { title: 'grads.biasHh given without biases', cell: 'gru', kind: 'backward', bias: false, mutate: (a) => { a.grads.biasHh = new Float32Array(12); }, type: TypeError,
    message: 'Expected no grads.biasHh because the weights have no biases but received a Float32Array of length 12' },
  { title: 'grads.weightHr missing with projSize', cell: 'lstm', kind: 'backward', projSize: 3, mutate: (a) => { delete a.grads.weightHr; }, type: TypeError,
    message: 'Expected Float32Array for grads.weightHr but received undefined' },
  { title: 'upstream not an object', cell: 'lstm', kind: 'backward', mutate: (a) => { a.upstream = 'dy'; }, type: TypeError,
    message: 'Expected object for upstream but received dy of type string' },
  { title: 'dOutput wrong length', cell: 'lstm', kind: 'backward', projSize: 3, mutate: (a) => { a.upstream = { dOutput: new Float32Array(80) }; }, type: RangeError,
    message: 'Expected Float32Array of length 60 for dOutput (steps·batch·projSize = 5·4·3) but received length 80' },
  { title: 'dhN wrong length', cell: 'gru', kind: 'backward', mutate: (a) => { a.upstream = { dhN: new Float32Array(4) }; }, type: RangeError,
    message: 'Expected Float32Array of length 16 for dhN (batch·hiddenSize = 4·4) but received length 4' },
  { title: 'dcN on rnn', cell: 'rnn_tanh', kind: 'backward', mutate: (a) => { a.upstream = { dcN: new Float32Array(16) }; }, type: TypeError,
    message: 'Expected no dcN because cell is rnn_tanh but received a Float32Array of length 16' },
];

describe('bad input to the TypeScript API: the error class and the friendly words', () => {
  it.each(cases)('$cell $kind: $title', (c) => {
    const a = validArgs(c.cell, { projSize: c.projSize, bias: c.bias });
    c.mutate(a);
    expectError(thrown(() => callTs(c.kind ?? 'forward', c.cell, a)), c.type, c.message);
  });

  it('the valid arguments the cases start from are accepted', () => {
    for (const cell of ['lstm', 'gru', 'rnn_tanh'] as const) {
      for (const kind of ['forward', 'backward'] as const) {
        for (const variant of [{}, { bias: false }, ...(cell === 'lstm' ? [{ projSize: 3 }] : [])]) {
          expect(() => callTs(kind, cell, validArgs(cell, variant))).not.toThrow();
        }
      }
    }
  });

  it('a throwing getter propagates unchanged', () => {
    const a = validArgs('lstm');
    a.opts = { ...a.opts, get batch(): number { throw new Error('boom'); } };
    expect(thrown(() => callTs('forward', 'lstm', a)).message).toBe('boom');
  });

  it('sizes whose products overflow the core\'s 32-bit indexing', () => {
    const a = validArgs('gru');
    expectError(thrown(() => rnnkit.gruForward({ ...a.opts, steps: 1e6, batch: 4096 }, a.w, a.input)), RangeError,
      'Expected steps·batch of at most 2147483647 but received 4096000000 (steps·batch = 1000000·4096)');
    expectError(thrown(() => rnnkit.lstmForward({ ...a.opts, hiddenSize: 2 ** 30 }, a.w, a.input)), RangeError,
      'Expected gates·hiddenSize of at most 2147483647 but received 4294967296 (gates·hiddenSize = 4·1073741824)');
  });
});

describe('TypeScript-only checks, and the binding\'s terse ones', () => {
  const call = (fn: Loose, ...args: unknown[]) => thrown(() => fn(...args));
  const forwardArgs = (a: Args, cell: keyof typeof CELL_CODES = 'lstm') => nativeForwardArgs(cell, a.opts, a.w, a.input);

  it('rnn nonlinearity', () => {
    const a = validArgs('rnn_tanh');
    expectError(thrown(() => rnnkit.rnnForward({ ...a.opts, nonlinearity: 'sigmoid' as Loose }, a.w, a.input)), RangeError,
      `Expected one of ${NONLINEARITIES.join(', ')} for nonlinearity but received sigmoid of type string`);
  });

  it('cell code, argument count and types at the binding', () => {
    const a = validArgs('lstm');
    const args = forwardArgs(a);
    expectError(call(native.sequenceForward, 7, ...args.slice(1)), RangeError, `sequenceForward: cell must be an integer in [0, ${CELL_NAMES.length - 1}]`);
    expectError(call(native.sequenceForward, 'lstm', ...args.slice(1)), TypeError, `sequenceForward: cell must be an integer in [0, ${CELL_NAMES.length - 1}]`);
    expectError(call(native.cacheSize, 2, I, H, 0, T), TypeError, 'cacheSize: expected 7 arguments, received 5');
    expectError(call(native.sequenceForward), TypeError, 'sequenceForward: expected 22 arguments, received 0');
    expectError(call(native.sequenceBackward, 1, 2, 3), TypeError, 'sequenceBackward: expected 29 arguments, received 3');
    expectError(call(native.setIsa), TypeError, 'setIsa: expected 1 arguments, received 0');
    const withInput = [...args];
    withInput[15] = new Float32Array(T * B * I - 1);
    expectError(call(native.sequenceForward, ...withInput), RangeError,
      `sequenceForward: input must be a Float32Array of ${T * B * I} floats (received ${T * B * I - 1})`);
    withInput[15] = new Float64Array(T * B * I);
    expectError(call(native.sequenceForward, ...withInput), TypeError, 'sequenceForward: input must be a Float32Array');
    const noBias = [...args];
    noBias[10] = null;
    expectError(call(native.sequenceForward, ...noBias), TypeError, 'sequenceForward: biasHh must be null here');
    const huge = [...args];
    huge[4] = 1e6;
    huge[5] = 4096;
    expectError(call(native.sequenceForward, ...huge), RangeError,
      'sequenceForward: the sizes must be such that steps·batch and gates·hiddenSize are at most 2147483647');
  });

  it('a cache handle only from a training forward with the same sizes', () => {
    const a = validArgs('gru');
    const backward = (cache: unknown, opts = a.opts) =>
      call(native.sequenceBackward, ...nativeBackwardArgs('gru', opts, a.w, a.input, cache, a.grads, null));
    expectError(backward({}), TypeError, 'sequenceBackward: cache must be the cache of a training-mode sequenceForward');
    expectError(backward(new Float32Array(8)), TypeError, 'sequenceBackward: cache must be the cache of a training-mode sequenceForward');
    const other = rnnkit.gruForward({ ...a.opts, reverse: true }, a.w, a.input, { training: true }).cache!;
    expectError(backward(other.handle), RangeError, 'sequenceBackward: cache must be the cache of a forward with these sizes');
    other.release();
    expectError(backward(other.handle), TypeError, 'sequenceBackward: cache must be a cache that was not released');
  });

  it('async forms: TypeScript rejects, the binding throws synchronously', async () => {
    const a = validArgs('gru');
    const cache = a.cache;
    a.opts.hiddenSize = 0;
    const message = 'Expected positive integer for hiddenSize but received 0 of type number';
    await expect(rnnkit.gruForwardAsync(a.opts, a.w, a.input)).rejects.toThrow(new RangeError(message));
    await expect(rnnkit.gruBackwardAsync(a.opts, a.w, a.input, cache, a.grads, {})).rejects.toThrow(new RangeError(message));
    const args = forwardArgs(validArgs('gru'), 'gru');
    args[2] = 0;
    expectError(call(native.sequenceForwardAsync, ...args), RangeError, 'sequenceForwardAsync: hiddenSize must be an integer in [1, 2147483647]');
    expect(native.pendingJobs()).toBe(0);
  });

  it('setIsa lists the available kernel sets', () => {
    const list = rnnkit.availableIsas().join(', ');
    const unknown = rnnkit.availableIsas().includes('neon') ? 'avx2' : 'neon';
    expectError(thrown(() => rnnkit.setIsa(unknown)), RangeError, `Expected one of ${list} for isa but received ${unknown} of type string`);
    expectError(thrown(() => rnnkit.setIsa(3 as Loose)), TypeError, `Expected one of ${list} for isa but received 3 of type number`);
    expectError(call(native.setIsa, unknown), RangeError, 'setIsa: isa must be one of availableIsas()');
    expectError(call(native.setIsa, 3), TypeError, 'setIsa: isa must be a string');
  });

  it('setNumThreads range', () => {
    expectError(thrown(() => rnnkit.setNumThreads(0)), RangeError, 'Expected integer between 1 and 1024 for threads but received 0 of type number');
    expectError(thrown(() => rnnkit.setNumThreads(2.5)), RangeError, 'Expected integer between 1 and 1024 for threads but received 2.5 of type number');
    expectError(thrown(() => rnnkit.setNumThreads('2' as Loose)), TypeError, 'Expected integer between 1 and 1024 for threads but received 2 of type string');
    expectError(call(native.setNumThreads, 5000), RangeError, 'setNumThreads: threads must be an integer in [1, 1024]');
  });

  it('sgemm shapes', () => {
    const opts = { m: 3, n: 5, k: 4, a: new Float32Array(12), b: new Float32Array(20), c: new Float32Array(15) };
    expectError(thrown(() => rnnkit.sgemm({ ...opts, a: new Float32Array(11) })), RangeError,
      'Expected Float32Array of length 12 for a (m·k = 3·4) but received length 11');
    expectError(thrown(() => rnnkit.sgemm({ ...opts, transB: true, b: new Float32Array(19) })), RangeError,
      'Expected Float32Array of length 20 for b (n·k = 5·4) but received length 19');
    expectError(thrown(() => rnnkit.sgemm({ ...opts, k: 0 })), RangeError, 'Expected positive integer for k but received 0 of type number');
    expectError(thrown(() => rnnkit.sgemm({ ...opts, c: null as Loose })), TypeError, 'Expected Float32Array for c but received null');
    expectError(call(native.sgemm, 3, 5, 4, new Float32Array(11), opts.b, opts.c, false, false, false), RangeError,
      'sgemm: a must be a Float32Array of 12 floats (received 11)');
  });

  it('memory limit', () => {
    expectError(thrown(() => rnnkit.setMemoryLimit(0)), RangeError, 'Expected positive number for bytes but received 0 of type number');
    expectError(thrown(() => rnnkit.setMemoryLimit('1GB' as Loose)), TypeError, 'Expected positive number for bytes but received 1GB of type string');
    expectError(call(native.setMemoryLimit, -1), RangeError, 'setMemoryLimit: bytes must be a positive number');
  });
});

describe('garbage never crashes the binding', () => {
  const garbage: unknown[] = [undefined, null, 0, -1, 1.5, NaN, Infinity, 2 ** 40, '', 'lstm', true, {}, [], [1, 2],
    new Float32Array(0), new Float32Array(7), new Float64Array(3), new ArrayBuffer(8), Symbol('s'), 10n, () => 1];
  it('each argument position replaced by each garbage value throws TypeError or RangeError', () => {
    const a = validArgs('lstm');
    const forward = nativeForwardArgs('lstm', a.opts, a.w, a.input, true);
    const backward = nativeBackwardArgs('lstm', a.opts, a.w, a.input, a.cache.handle, a.grads, a.upstream.dOutput);
    let throws = 0;
    for (const [fn, base] of [[native.sequenceForward, forward], [native.sequenceBackward, backward]] as const) {
      for (let position = 0; position < base.length; position++) {
        for (const value of garbage) {
          const args = [...base];
          args[position] = value;
          try {
            (fn as Loose)(...args);
          } catch (error) {
            expect([TypeError, RangeError]).toContain((error as Error).constructor);
            throws++;
          }
        }
      }
    }
    expect(throws).toBeGreaterThan(600);
  });
});
