// The platforms rnnkit ships prebuilt addons for: what builds each one (scripts/prebuild.js), where
// it goes in the package (prebuildify's layout, read by node-gyp-build and src/native.ts), and how
// scripts/test-package.js runs it. One entry per file under prebuilds/.
//
// Linux files carry a libc tag (rnnkit.glibc.node, rnnkit.musl.node): node-gyp-build skips a file
// whose tag is not this system's libc, so Alpine never loads the glibc build and vice versa.

/**
 * @typedef {object} Target
 * @property {string} name        target name (argument of scripts/prebuild.js)
 * @property {'linux'|'win32'|'darwin'} platform   process.platform of the consumer
 * @property {'x64'|'arm64'} arch process.arch of the consumer
 * @property {'glibc'|'musl'} [libc]
 * @property {'zig'|'mingw'} toolchain
 * @property {string} [zigTarget] zig's -target: the glibc version suffix is the oldest glibc the
 *   prebuild runs on (its symbol versions come from that glibc)
 * @property {string} processor   CMAKE_SYSTEM_PROCESSOR (selects the ISA sources)
 * @property {string[]} isas      what availableIsas() can report on that platform (dispatch at run time)
 * @property {'native'|'qemu'|'wine'|null} runner   how test:package runs it here; null: built, not run
 */

/** @type {Target[]} */
export const TARGETS = [
  {
    name: 'linux-x64-glibc', platform: 'linux', arch: 'x64', libc: 'glibc', toolchain: 'zig',
    zigTarget: 'x86_64-linux-gnu.2.17', processor: 'x86_64', isas: ['avx512', 'avx2', 'scalar'], runner: 'native',
  },
  {
    name: 'linux-arm64-glibc', platform: 'linux', arch: 'arm64', libc: 'glibc', toolchain: 'zig',
    zigTarget: 'aarch64-linux-gnu.2.17', processor: 'aarch64', isas: ['neon', 'scalar'], runner: 'qemu',
  },
  {
    name: 'linux-x64-musl', platform: 'linux', arch: 'x64', libc: 'musl', toolchain: 'zig',
    zigTarget: 'x86_64-linux-musl', processor: 'x86_64', isas: ['avx512', 'avx2', 'scalar'], runner: null,
  },
  {
    name: 'linux-arm64-musl', platform: 'linux', arch: 'arm64', libc: 'musl', toolchain: 'zig',
    zigTarget: 'aarch64-linux-musl', processor: 'aarch64', isas: ['neon', 'scalar'], runner: null,
  },
  {
    name: 'win32-x64', platform: 'win32', arch: 'x64', toolchain: 'mingw',
    processor: 'x86_64', isas: ['avx512', 'avx2', 'scalar'], runner: 'wine',
  },
];

/** The oldest glibc a glibc prebuild may need (test:package checks every symbol version). */
export const MAX_GLIBC = '2.17';

/** Where a target's addon goes, relative to the package root. */
export function prebuildPath(target) {
  const file = target.libc ? `rnnkit.${target.libc}.node` : 'rnnkit.node';
  return `prebuilds/${target.platform}-${target.arch}/${file}`;
}

export function findTarget(name) {
  const target = TARGETS.find((t) => t.name === name);
  if (!target) throw new Error(`unknown target "${name}"; known: ${TARGETS.map((t) => t.name).join(', ')}`);
  return target;
}
