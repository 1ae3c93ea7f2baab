#!/usr/bin/env node
// npm pack / npm publish (the prepack script): refuses to pack without every prebuild of
// scripts/targets.js, or with prebuilds older than the native sources, then builds a fresh dist/
// with its CommonJS entry (scripts/build-dist.js --clean).
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDist, filesUnder } from './build-dist.js';
import { TARGETS, prebuildPath } from './targets.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const NATIVE_SOURCES = ['native/binding', 'native/include', 'native/isa', 'native/src', 'CMakeLists.txt', 'cmake'];

function checkPrebuilds() {
  const missing = TARGETS.filter((t) => !existsSync(path.join(root, prebuildPath(t))));
  if (missing.length) {
    throw new Error([
      `missing prebuilds: ${missing.map(prebuildPath).join(', ')}.`,
      'Build them on Linux x64 with `npm run prebuildify:all` (needs cmake, and g++-mingw-w64-x86-64-posix for',
      'win32-x64; Zig comes from npm): the package must not ship without them.',
    ].join('\n'));
  }
  const newestSource = NATIVE_SOURCES.flatMap((p) => filesUnder(path.join(root, p)))
    .reduce((newest, file) => (statSync(file).mtimeMs > newest.mtimeMs ? { file, mtimeMs: statSync(file).mtimeMs } : newest),
      { file: '', mtimeMs: 0 });
  const stale = TARGETS.map(prebuildPath).filter((p) => statSync(path.join(root, p)).mtimeMs < newestSource.mtimeMs);
  if (stale.length) {
    throw new Error(`prebuilds older than ${path.relative(root, newestSource.file)}: ${stale.join(', ')}; ` +
      'rebuild them with `npm run prebuildify:all`.');
  }
}

try {
  checkPrebuilds();
  buildDist({ clean: true });
} catch (error) {
  console.error(`rnnkit prepack: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
}
