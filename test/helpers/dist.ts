// The package as users run it: dist/ (what `npm install` builds with tsc -p tsconfig.build.json),
// rebuilt when any src/ file is newer. For tests that must run rnnkit in a child process with plain
// node (the CLI, and calls that could block the process: a FIFO must fail, not hang the test run).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
export const DIST_INDEX = path.join(ROOT, 'dist', 'index.js');
export const CLI_MAIN = path.join(ROOT, 'dist', 'cli', 'main.js');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(file) : entry.name.endsWith('.ts') ? statSync(file).mtimeMs : 0);
  }
  return newest;
}

/** Builds dist/ with the package's own build when src/ changed since. */
export function ensureBuilt(): void {
  const inputs = Math.max(newestSource(path.join(ROOT, 'src')), statSync(path.join(ROOT, 'tsconfig.build.json')).mtimeMs);
  const stale = [CLI_MAIN, DIST_INDEX].some((file) => !existsSync(file) || statSync(file).mtimeMs < inputs);
  if (!stale) return;
  const build = spawnSync(process.execPath, [TSC, '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8' });
  // tsc still writes its output when another module has a type error; only the CLI's and io's own must be clean.
  const ownErrors = build.stdout.split('\n').filter((line) => /^src\/(cli|io)\//.test(line));
  if (!existsSync(CLI_MAIN) || ownErrors.length > 0) throw new Error(`building dist/ failed:\n${build.stdout}${build.stderr}`);
  if (build.status !== 0) console.warn(`tsc reported errors outside src/cli and src/io (dist/ written anyway):\n${build.stdout}`);
}
