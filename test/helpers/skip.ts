// Skipping a check with its reason on record. vitest's JSON report carries each test's `meta`, and
// scripts/test-summary.js lists every skipped check with `meta.skipReason` at the end of `npm test`.
// A check that needs tools beyond Node, cmake and a compiler (qemu-user, cross compilers) skips on
// a user's machine, but fails where the environment says it must run (.ci/run exports
// RNNKIT_REQUIRE_CROSS=1 after installing those tools).
import type { TestContext } from 'vitest';

declare module '@vitest/runner' {
  interface TaskMeta {
    /** Why the test was skipped (shown in the summary of scripts/test.sh). */
    skipReason?: string;
  }
}

/** The variable `.ci/run` sets: cross-ISA checks (qemu, cross compilers) must run, not skip. */
export const REQUIRE_CROSS = 'RNNKIT_REQUIRE_CROSS';

/**
 * Skips the running test, recording `reason`, unless the environment variable `requiredBy` is `1`:
 * then the test fails with the reason instead.
 */
export function skipBecause(context: TestContext, reason: string, requiredBy?: string): never {
  if (requiredBy !== undefined && process.env[requiredBy] === '1') {
    throw new Error(`${reason}, but ${requiredBy}=1 says this check must run`);
  }
  context.task.meta.skipReason = reason;
  context.skip(reason);
  throw new Error('unreachable: context.skip() throws');
}
