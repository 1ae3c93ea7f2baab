// The bounded fuzzer (test/helpers/fuzz.ts) in the suite: a few thousand seeded calls over every
// native entry point. Longer runs: `npm run fuzz` (RNNKIT_FUZZ_CALLS, RNNKIT_FUZZ_SEED).
import { describe, expect, it } from 'vitest';
import { fuzz } from './helpers/fuzz.js';

const calls = Number(process.env.RNNKIT_FUZZ_CALLS ?? 3000);
const seed = Number(process.env.RNNKIT_FUZZ_SEED ?? 20261206);

describe('fuzzer', () => {
  it(`${calls} seeded calls (seed ${seed}): no crash, every failure an Error, every valid result right`, { timeout: 30 * 60_000 }, async () => {
    const report = await fuzz(seed, calls);
    console.log(`fuzz: ${JSON.stringify(report)}`);
    expect(report.problems).toEqual([]);
    expect(report.calls).toBeGreaterThanOrEqual(calls);
    expect(report.checked).toBeGreaterThan(calls / 10);
    expect(report.errors.TypeError).toBeGreaterThan(0);
    expect(report.errors.RangeError).toBeGreaterThan(0);
  });
});
