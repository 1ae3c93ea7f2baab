// The native core counts subnormal floats (|x| < 2^-126) as zero while it computes (FTZ/DAZ on
// x86, FZ on arm64; native/src/subnormals.h): a GEMM of mostly subnormal inputs ran 100× slower
// without. On every ISA: subnormal inputs contribute nothing, results that would be subnormal are
// 0; and the calling thread gets IEEE subnormals back for its own JavaScript arithmetic.
import { afterAll, describe, expect, it } from 'vitest';
import { availableIsas, isa, lstmForwardAsync, setIsa, sgemm, tanh, Tensor } from '../src/index.js';

const SUBNORMAL = 1e-40; // a float32 subnormal: Math.fround keeps it
const defaultIsa = isa();
afterAll(() => setIsa(defaultIsa));

describe.each(availableIsas())('subnormals on %s', (name) => {
  it('subnormal GEMM inputs count as zero; subnormal results are zero', () => {
    setIsa(name);
    const m = 7, n = 9, k = 33;
    const a = new Float32Array(m * k).fill(SUBNORMAL), b = new Float32Array(k * n).fill(1), c = new Float32Array(m * n).fill(5);
    a[0] = 0.5; // row 0, column 0: the one normal input
    sgemm({ m, n, k, a, b, c });
    expect(Array.from(c.subarray(0, n))).toEqual(new Array(n).fill(0.5));
    expect(Array.from(c.subarray(n))).toEqual(new Array((m - 1) * n).fill(0));
    const tiny = new Float32Array(m * k).fill(1e-20), d = new Float32Array(m * n);
    sgemm({ m, n, k, a: tiny, b: new Float32Array(k * n).fill(1e-20), c: d }); // 33e-40 would be subnormal
    expect(Array.from(d)).toEqual(new Array(m * n).fill(0));
  });

  it('Tensor.tanh of a subnormal is 0 (PyTorch returns the input)', () => {
    setIsa(name);
    const x = new Float32Array(40).fill(SUBNORMAL);
    x[1] = 0.25;
    const y = tanh(new Tensor(x, [40])).data;
    expect(y[1]).toBeCloseTo(Math.tanh(0.25), 6);
    expect(Array.from(y).filter((_, i) => i !== 1)).toEqual(new Array(39).fill(0));
  });
});

describe('the calling thread keeps IEEE subnormals', () => {
  it('after synchronous and asynchronous native calls', async () => {
    const subnormalDouble = () => 1e-310 * Number('1'); // computed at run time, not folded
    sgemm({ m: 16, n: 16, k: 16, a: new Float32Array(256).fill(SUBNORMAL), b: new Float32Array(256).fill(1), c: new Float32Array(256) });
    expect(subnormalDouble()).toBe(1e-310);
    expect(Math.fround(SUBNORMAL * Number('1'))).not.toBe(0);
    const T = 2, B = 1, I = 1, H = 1;
    const weights = { weightIh: new Float32Array(4).fill(0.1), weightHh: new Float32Array(4).fill(0.1), biasIh: new Float32Array(4), biasHh: new Float32Array(4) };
    await lstmForwardAsync({ steps: T, batch: B, inputSize: I, hiddenSize: H }, weights, new Float32Array(T * B * I).fill(1));
    expect(subnormalDouble()).toBe(1e-310);
  });
});
