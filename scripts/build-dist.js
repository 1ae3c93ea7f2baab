#!/usr/bin/env node
// Compiles src/ to dist/ and writes its CommonJS entry, dist/cjs/ (npm run build, and npm pack's
// prepack with --clean, so no file of a deleted source survives into the package).
//
// dist/cjs/: package.json {"type": "commonjs"}, index.js = require('../index.js') (Node's
// require(esm), so `require` and `import` share one module instance), and a copy of every .d.ts,
// which TypeScript then reads as CommonJS declarations: a CommonJS project with
// moduleResolution node16 gets types without TS1479.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function filesUnder(file) {
  if (!statSync(file).isDirectory()) return [file];
  return readdirSync(file).flatMap((name) => filesUnder(path.join(file, name)));
}

function compile(clean) {
  if (clean) rmSync(path.join(root, 'dist'), { recursive: true, force: true });
  const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    { cwd: root, stdio: 'inherit' });
  if (tsc.status !== 0) throw new Error(`tsc -p tsconfig.build.json exited with ${tsc.status}`);
}

function writeCommonJsEntry() {
  const dist = path.join(root, 'dist');
  const cjs = path.join(dist, 'cjs');
  rmSync(cjs, { recursive: true, force: true });
  for (const file of filesUnder(dist).filter((f) => f.endsWith('.d.ts'))) {
    const copy = path.join(cjs, path.relative(dist, file));
    mkdirSync(path.dirname(copy), { recursive: true });
    copyFileSync(file, copy);
  }
  writeFileSync(path.join(cjs, 'package.json'), `${JSON.stringify({ type: 'commonjs' })}\n`);
  writeFileSync(path.join(cjs, 'index.js'), [
    "'use strict';",
    '// The CommonJS entry: the ES module itself, loaded by require(esm) (Node ^20.19 || >=22.12), so',
    '// a program that both requires and imports rnnkit gets one instance (one addon, one Tensor class).',
    "module.exports = require('../index.js');",
    '',
  ].join('\n'));
}

/** tsc -p tsconfig.build.json, then dist/cjs/; `clean` empties dist/ first. */
export function buildDist({ clean = false } = {}) {
  compile(clean);
  writeCommonJsEntry();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    buildDist({ clean: process.argv.includes('--clean') });
  } catch (error) {
    console.error(`build-dist: ${error instanceof Error ? error.message : error}`);
    process.exit(1);
  }
}
