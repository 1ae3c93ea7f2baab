// The closing lines of `npm test`: every skipped check and why, then the plain line CI reads,
// "vitest: N passed, N failed, N skipped".
//   node scripts/test-summary.js [--skips <file>] <vitest JSON report>...
// Reasons come from the tests (test/helpers/skip.ts records them in each test's `meta.skipReason`,
// which vitest's JSON report carries) and from <file>, where scripts/test-native.sh writes one
// "<check>: <reason>" line per native check it skipped.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const skipsAt = args.indexOf('--skips');
const skipsFile = skipsAt >= 0 ? args.splice(skipsAt, 2)[1] : null;

let passed = 0, failed = 0, skipped = 0, success = true;
const skippedChecks = skipsFile && existsSync(skipsFile)
  ? readFileSync(skipsFile, 'utf8').split('\n').filter((line) => line.trim() !== '')
  : [];
for (const file of args) {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed += report.numPassedTests ?? 0;
  failed += (report.numFailedTests ?? 0) + (report.numRuntimeErrorTestSuites ?? 0);
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  success &&= report.success !== false;
  for (const suite of report.testResults ?? []) {
    for (const test of suite.assertionResults ?? []) {
      if (!['skipped', 'pending', 'todo'].includes(test.status)) continue;
      const name = [path.relative(process.cwd(), suite.name), ...test.ancestorTitles, test.title].join(' > ');
      skippedChecks.push(`${name}: ${test.meta?.skipReason ?? 'no reason recorded'}`);
    }
  }
}
if (skippedChecks.length > 0) {
  console.log(`skipped checks (${skippedChecks.length}):`);
  for (const line of skippedChecks) console.log(`  - ${line}`);
}
console.log(`vitest: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed === 0 && success ? 0 : 1);
