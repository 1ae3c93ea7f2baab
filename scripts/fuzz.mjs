#!/usr/bin/env node
// A long fuzz run: `npm run fuzz -- [calls] [seed]` (default 100000 calls, a seed from the clock).
// The same fuzzer as the suite's test/fuzz.test.ts, with more calls; prints its report.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const [calls = '100000', seed = String(Date.now() % 2 ** 31)] = process.argv.slice(2);
const vitest = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');
console.log(`fuzzing: ${calls} calls, seed ${seed}`);
const run = spawnSync(process.execPath, [vitest, 'run', 'test/fuzz.test.ts'], {
  stdio: 'inherit',
  env: { ...process.env, RNNKIT_FUZZ_CALLS: calls, RNNKIT_FUZZ_SEED: seed },
});
process.exit(run.status ?? 1);
