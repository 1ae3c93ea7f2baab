#!/usr/bin/env node
// prebuildify only drives node-gyp: `prebuildify --napi --strip --node-gyp scripts/prebuildify-cmake.js`
// runs this file as if it were node-gyp (`rebuild --target=<node> --devdir=… --arch=<arch> --release`).
// We build with cmake-js instead, in build-prebuild/<platform>-<arch> (so a cross build never
// reconfigures the developer's build/), and copy the addon to build/Release (build/Debug with
// --debug), where prebuildify takes the first *.node, strips it and MOVES it to
// prebuilds/<platform>-<arch>/rnnkit.node.
//
// --target/--devdir are ignored: an N-API build does not depend on the Node version, and cmake-js
// takes the headers from node-api-headers (package.json "binary": {"napi_versions": [8]}).
// Cross-building linux arm64 on an x64 host uses Debian's aarch64-linux-gnu-g++ (set
// PREBUILD_STRIP_BIN=aarch64-linux-gnu-strip too).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const require = createRequire(import.meta.url);

function option(name) {
  const prefix = `--${name}=`;
  const arg = process.argv.slice(2).find((a) => a.startsWith(prefix));
  return arg ? arg.slice(prefix.length) : undefined;
}

const command = process.argv[2];
if (command !== 'rebuild') {
  console.error(`prebuildify-cmake: expected "rebuild" (as prebuildify calls node-gyp), got ${command}`);
  process.exit(2);
}
const arch = option('arch') ?? os.arch();
const debug = process.argv.includes('--debug');

const platform = process.env.PREBUILD_PLATFORM ?? os.platform();
const config = debug ? 'Debug' : 'Release';
const outDir = path.join('build-prebuild', `${platform}-${arch}`);
const args = [require.resolve('cmake-js/bin/cmake-js'), 'rebuild', '--arch', arch, '--out', outDir];
if (debug) args.push('--debug');
const CROSS = { arm64: ['aarch64', 'aarch64-linux-gnu-g++'] };
if (os.platform() === 'linux' && arch !== os.arch()) {
  const cross = CROSS[arch];
  if (!cross) {
    console.error(`prebuildify-cmake: no cross toolchain known for linux-${arch} on a ${os.arch()} host`);
    process.exit(2);
  }
  args.push('--CDCMAKE_SYSTEM_NAME=Linux', `--CDCMAKE_SYSTEM_PROCESSOR=${cross[0]}`, '--cxx', cross[1]);
}

console.log(`prebuildify-cmake: cmake-js ${args.slice(1).join(' ')}`);
const result = spawnSync(process.execPath, args, { stdio: 'inherit' });
if (result.status !== 0) process.exit(result.status ?? 1);
mkdirSync(path.join('build', config), { recursive: true });
copyFileSync(path.join(outDir, config, 'rnnkit.node'), path.join('build', config, 'rnnkit.node'));
