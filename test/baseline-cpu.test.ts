// The x86-64 addon must run on a CPU without AVX2 (it carries every x86 path and dispatches at run
// time). qemu-user emulates such a CPU (Nehalem: SSE4.2, no AVX): the addon must load there, pick
// the scalar path, and compute what the scalar path computes natively.
// qemu-user is not among what `npm test` needs (Node, cmake, a compiler): without it the check
// skips with its reason in the test summary; with RNNKIT_REQUIRE_CROSS=1 (set by .ci/run, which
// installs qemu-user-static) it fails instead.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { lstmForward, setIsa, isa } from '../src/index.js';
import { packageRoot } from '../src/native.js';
import { REQUIRE_CROSS, skipBecause } from './helpers/skip.js';

const qemu = ['/usr/bin/qemu-x86_64-static', '/usr/bin/qemu-x86_64'].find((p) => existsSync(p));

// One small LSTM forward through the raw binding; prints JSON { isa, available, output }.
const childScript = `
const { createRequire } = require('node:module');
const load = createRequire(process.cwd() + '/')('node-gyp-build');
const b = load(process.cwd());
const T = 3, B = 2, I = 5, H = 7, G = 4;
const fill = (n, s) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + s) * 0.5);
const w = { weightIh: fill(G * H * I, 1), weightHh: fill(G * H * H, 2), biasIh: fill(G * H, 3), biasHh: fill(G * H, 4) };
const r = { output: new Float32Array(T * B * H) };
b.sequenceForward(2, I, H, 0, T, B, false, null, w.weightIh, w.weightHh, w.biasIh, w.biasHh, null, null, null, fill(T * B * I, 5), null, null, r.output, new Float32Array(B * H), new Float32Array(B * H), false);
console.log(JSON.stringify({ isa: b.isa(), available: b.availableIsas(), output: Array.from(r.output) }));
`;

describe('baseline x86-64 CPU (no AVX2)', () => {
  it('loads under an emulated Nehalem CPU, picks scalar, and matches native scalar', (context) => {
    if (process.arch !== 'x64') skipBecause(context, `an x86-64 check; this is ${process.arch}`);
    if (!qemu) skipBecause(context, 'qemu-user is not installed (apt-get install qemu-user-static)', REQUIRE_CROSS);
    const stdout = execFileSync(qemu, ['-cpu', 'Nehalem', process.execPath, '-e', childScript], {
      cwd: packageRoot(), encoding: 'utf8', timeout: 120_000,
    });
    const emulated = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(emulated.isa).toBe('scalar');
    expect(emulated.available).toEqual(['scalar']);

    const T = 3, B = 2, I = 5, H = 7, G = 4;
    const fill = (n: number, s: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + s) * 0.5);
    const w = { weightIh: fill(G * H * I, 1), weightHh: fill(G * H * H, 2), biasIh: fill(G * H, 3), biasHh: fill(G * H, 4) };
    const previous = isa();
    setIsa('scalar');
    try {
      const native = lstmForward({ steps: T, batch: B, inputSize: I, hiddenSize: H }, w, fill(T * B * I, 5));
      // Same code path and inputs: the emulated CPU gives the same bits.
      expect(emulated.output).toEqual(Array.from(native.output));
    } finally {
      setIsa(previous);
    }
  }, 180_000);
});
