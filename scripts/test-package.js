#!/usr/bin/env node
// npm run test:package: rnnkit as its users get it. On a Linux x64 machine, after
// `npm run prebuildify:all`:
//   1. every prebuild's binary: glibc <= 2.17 and no libstdc++ (objdump), musl builds need only
//      musl's libc (and x64's loads with musl's dynamic linker), the Windows DLL needs no MinGW
//      runtime DLL, and each exports only Node-API's entry points;
//   2. `npm pack`: every prebuild, a LICENSE, no tests, sources or source maps, README links that
//      resolve inside the package, at most 5 MB;
//   3. the tarball installed into an empty project with --ignore-scripts and no compiler or cmake on
//      PATH (timed, dependencies measured), and again under --strict-allow-scripts (no warning);
//   4. scripts/package-smoke.cjs through the installed package: natively (this Node, and the lowest
//      Node 20 and 22 engines admits), linux-arm64 under qemu, win32-x64 under wine;
//   5. TypeScript consumers: CommonJS + node16, ESM + bundler, compiled and run;
//   6. without a prebuild: the loader's message, then a source build with the optional cmake-js.
// A check whose tools are missing (qemu, wine, cross binutils) is skipped with the reason, unless
// RNNKIT_REQUIRE_CROSS=1 (set by .ci/run), where a skip fails the run. Closing line:
// "test:package: N passed, N failed, N skipped".
import { spawnSync } from 'node:child_process';
import {
  cpSync, existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, readdirSync, realpathSync, rmSync,
  statSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAX_GLIBC, TARGETS, prebuildPath } from './targets.js';
import { tool } from './toolchain.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REQUIRE_ALL = process.env.RNNKIT_REQUIRE_CROSS === '1';
const MAX_PACKED_BYTES = 5 * 1024 * 1024;
const MAX_DEPENDENCY_BYTES = 2 * 1024 * 1024;
const PARITY_FIXTURE = path.join(root, 'test', 'fixtures', 'nn', 'rnn.json');
const EXPORTED = ['napi_register_module_v1', 'node_api_module_get_api_version_v1'];
const tally = { passed: 0, failed: 0, skipped: 0 };
const timings = [];

// ---- reporting ------------------------------------------------------------------------------------
function pass(name, detail = '') {
  tally.passed++;
  console.log(`ok    ${name}${detail ? `: ${detail}` : ''}`);
}
function fail(name, detail) {
  tally.failed++;
  console.log(`FAIL  ${name}: ${detail}`);
}
function skip(name, reason) {
  if (REQUIRE_ALL) return fail(name, `skipped, but RNNKIT_REQUIRE_CROSS=1 requires it: ${reason}`);
  tally.skipped++;
  console.log(`skip  ${name}: ${reason}`);
}
function check(name, condition, detail) {
  if (condition) pass(name, typeof detail === 'string' ? detail : '');
  else fail(name, typeof detail === 'string' ? detail : 'failed');
}
function timed(label, fn) {
  const start = Date.now();
  try {
    return fn();
  } finally {
    timings.push(`${label} ${((Date.now() - start) / 1000).toFixed(1)} s`);
  }
}

// ---- processes ------------------------------------------------------------------------------------
function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...options });
  return { status: result.error ? -1 : result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? String(result.error ?? '') };
}

function findCommand(...names) {
  for (const name of names) {
    if (path.isAbsolute(name)) {
      if (existsSync(name)) return name;
      continue;
    }
    for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
      const file = path.join(dir, name);
      if (dir && existsSync(file)) return file;
    }
  }
  return undefined;
}

// npm's own script (the `npm` command is a link to it), run with this Node under a bare PATH.
const npmCli = process.env.npm_execpath && existsSync(process.env.npm_execpath)
  ? process.env.npm_execpath
  : realpathSync(findCommand('npm') ?? 'npm');

// A PATH with node and npm only: what the consumer installs and runs with must need no compiler.
function consumerEnv(work) {
  const bin = path.join(work, 'bin');
  if (!existsSync(bin)) {
    mkdirSync(bin);
    symlinkSync(process.execPath, path.join(bin, 'node'));
    writeFileSync(path.join(bin, 'npm'), `#!${process.execPath}\nrequire(${JSON.stringify(npmCli)});\n`, { mode: 0o755 });
  }
  const env = { ...process.env, PATH: bin };
  for (const key of Object.keys(env)) if (key.startsWith('npm_')) delete env[key]; // no config from our own npm run
  return env;
}

function npm(args, cwd, env) {
  return run(process.execPath, [npmCli, ...args], { cwd, env });
}

// ---- 1. the binaries -------------------------------------------------------------------------------
function objdumpFor(target) {
  if (target.platform === 'win32') return findCommand('x86_64-w64-mingw32-objdump');
  return target.arch === 'arm64' ? findCommand('aarch64-linux-gnu-objdump') : findCommand('objdump');
}

function checkBinary(target) {
  const name = `binary ${target.name}`;
  const file = path.join(root, prebuildPath(target));
  const objdump = objdumpFor(target);
  if (!objdump) return skip(name, `no objdump for ${target.platform}-${target.arch} (binutils-aarch64-linux-gnu, binutils-mingw-w64-x86-64)`);
  const headers = run(objdump, ['-p', file]);
  if (headers.status !== 0) return fail(name, `${objdump} -p: ${headers.stderr.trim()}`);
  const size = `${(statSync(file).size / 1024).toFixed(0)} kB`;
  if (target.platform === 'win32') {
    const dlls = [...headers.stdout.matchAll(/DLL Name: (\S+)/g)].map((m) => m[1].toLowerCase());
    const foreign = dlls.filter((dll) => !['kernel32.dll', 'msvcrt.dll', 'node.exe'].includes(dll));
    const exports = [...headers.stdout.matchAll(/^\s*\[\s*\d+\]\s+(\S+)$/gm)].map((m) => m[1]).sort();
    check(name, foreign.length === 0 && exports.join() === EXPORTED.join(),
      foreign.length ? `imports ${foreign.join(', ')} (a MinGW runtime DLL users do not have)`
        : exports.join() !== EXPORTED.join() ? `exports ${exports.join(', ')}` : `${size}, imports ${dlls.join(', ')}`);
    return;
  }
  const symbols = run(objdump, ['-T', file]).stdout;
  const needed = [...headers.stdout.matchAll(/NEEDED\s+(\S+)/g)].map((m) => m[1]);
  const exported = [...symbols.matchAll(/^\S+\s+g\s+.*\s(\S+)$/gm)].map((m) => m[1]).filter((s) => !s.startsWith('_init') && s !== '_fini').sort();
  const glibc = [...new Set([...symbols.matchAll(/GLIBC_(\d+\.\d+(?:\.\d+)?)/g)].map((m) => m[1]))];
  const newest = glibc.sort((a, b) => a.localeCompare(b, undefined, { numeric: true })).at(-1);
  const problems = [];
  if (/GLIBCXX|CXXABI|libstdc\+\+|libc\+\+/.test(symbols + needed.join(' '))) problems.push('needs libstdc++ or libc++');
  if (exported.join() !== EXPORTED.join()) problems.push(`exports ${exported.join(', ')}`);
  if (target.libc === 'glibc') {
    if (!newest || newest.localeCompare(MAX_GLIBC, undefined, { numeric: true }) > 0) problems.push(`needs GLIBC_${newest}`);
    const allowed = /^(libc\.so\.6|libm\.so\.6|libpthread\.so\.0|libdl\.so\.2|ld-linux-[\w-]+\.so\.\d)$/;
    problems.push(...needed.filter((lib) => !allowed.test(lib)).map((lib) => `needs ${lib}`));
  } else {
    if (glibc.length) problems.push(`has glibc symbol versions (${glibc.join(', ')})`);
    problems.push(...needed.filter((lib) => lib !== 'libc.so').map((lib) => `needs ${lib}`));
  }
  check(name, problems.length === 0, problems.length ? problems.join('; ')
    : `${size}, ${target.libc === 'glibc' ? `needs glibc ${newest}` : 'musl libc.so only'}, needs ${needed.join(' ')}`);
}

// x64 musl: no Node for musl is on npm, so musl's own dynamic linker (Debian's musl-tools) loads the
// prebuild into a C host that defines every Node-API function as a stub: the libc symbols, TLS and
// static constructors resolve on musl. The glibc prebuild must fail the same load.
function muslLoad(work) {
  const name = 'musl dynamic linker loads linux-x64-musl';
  const cc = findCommand('musl-gcc');
  if (!cc) return skip(name, 'needs musl-gcc (apt-get install musl-tools)');
  const { symbols } = createRequire(import.meta.url)('node-api-headers');
  const latest = symbols[Object.keys(symbols).sort((a, b) => Number(a.slice(1)) - Number(b.slice(1))).at(-1)];
  const napi = [...new Set([...latest.js_native_api_symbols, ...latest.node_api_symbols])];
  const host = path.join(work, 'musl-host');
  writeFileSync(`${host}.c`, [
    '#include <dlfcn.h>', '#include <stdio.h>', '#include <stdlib.h>',
    ...napi.map((symbol) => `void ${symbol}(void) { fputs("${symbol} called\\n", stderr); abort(); }`),
    'int main(int argc, char** argv) {',
    '  void* addon = dlopen(argv[1], RTLD_NOW);',
    '  if (!addon) { fprintf(stderr, "%s\\n", dlerror()); return 1; }',
    '  if (!dlsym(addon, "napi_register_module_v1")) { fputs("no napi_register_module_v1\\n", stderr); return 1; }',
    '  puts("loaded");',
    '  return 0;',
    '}', '',
  ].join('\n'));
  const compiled = run(cc, ['-rdynamic', '-o', host, `${host}.c`]);
  if (compiled.status !== 0) return fail(name, `musl-gcc: ${compiled.stderr.trim().slice(-800)}`);
  const prebuildOf = (libc) => path.join(root, prebuildPath(TARGETS.find((t) => t.arch === 'x64' && t.libc === libc)));
  const musl = run(host, [prebuildOf('musl')]);
  const glibc = run(host, [prebuildOf('glibc')]);
  check(name, musl.status === 0 && glibc.status !== 0,
    musl.status !== 0 ? `musl: ${musl.stderr.trim()}` : glibc.status === 0 ? 'the glibc prebuild loaded too: the check proves nothing'
      : `dlopen + napi_register_module_v1 (${napi.length} Node-API stubs); the glibc build is refused: ${glibc.stderr.trim()}`);
}

// ---- 2. the tarball --------------------------------------------------------------------------------
function folderSummary(files) {
  const folders = new Map();
  for (const f of files) {
    const parts = f.path.split('/');
    const folder = parts.length > 2 ? parts.slice(0, 2).join('/') : parts.length > 1 ? parts[0] : '.';
    const entry = folders.get(folder) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += f.size;
    folders.set(folder, entry);
  }
  return [...folders].sort().map(([folder, { count, bytes }]) => `    ${folder.padEnd(22)} ${String(count).padStart(4)} files ${(bytes / 1024).toFixed(0).padStart(6)} kB`).join('\n');
}

// README links (markdown links and code spans that look like relative paths) must resolve in the package.
function readmeProblems(readme, paths) {
  const problems = [];
  const inPackage = (target) => paths.has(target) || [...paths].some((p) => p.startsWith(`${target.replace(/\/$/, '')}/`));
  for (const [, target] of readme.matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^(https?:|mailto:|#)/.test(target)) continue;
    const file = path.posix.normalize(target.split('#')[0]);
    if (file.startsWith('..') || !inPackage(file)) problems.push(`link ${target}`);
  }
  for (const [, span] of readme.matchAll(/`(\.\.\/[^`\s]*)`/g)) problems.push(`path ${span} (outside the package)`);
  return problems;
}

function pack(work) {
  const packed = timed('npm pack', () => run(process.execPath, [npmCli, 'pack', '--json', '--pack-destination', work], { cwd: root }));
  if (packed.status !== 0) {
    fail('npm pack', `${packed.stderr.trim().split('\n').slice(-6).join('\n')}`);
    return undefined;
  }
  const info = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('[')))[0];
  const paths = new Set(info.files.map((f) => f.path));
  const tarball = path.join(work, info.filename);
  console.log(`tarball ${info.filename}: ${(info.size / 1024).toFixed(0)} kB packed, ${(info.unpackedSize / 1024).toFixed(0)} kB unpacked, ${info.entryCount} files\n${folderSummary(info.files)}`);
  check('tarball size', info.size <= MAX_PACKED_BYTES, `${(info.size / 1024 / 1024).toFixed(2)} MB packed (limit 5 MB)`);
  const missing = TARGETS.map(prebuildPath).filter((p) => !paths.has(p));
  check('tarball prebuilds', missing.length === 0, missing.length ? `missing ${missing.join(', ')}` : `${TARGETS.length} prebuilds`);
  const required = ['LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/cjs/index.js', 'dist/cjs/index.d.ts',
    'CMakeLists.txt', 'scripts/build-from-source.js'];
  const absent = required.filter((p) => !paths.has(p));
  check('tarball contents', absent.length === 0, absent.length ? `missing ${absent.join(', ')}` : required.join(', '));
  // The README links the examples' and the benchmarks' write-ups: those READMEs ship, nothing else there.
  const unwanted = [...paths].filter((p) => (/^(test|native\/tests|bench|examples|src|build[^/]*)\//.test(p) && !p.endsWith('/README.md'))
    || p.startsWith('docs/api/')
    || /\.(js|ts)\.map$/.test(p)
    || (p.startsWith('scripts/') && p !== 'scripts/build-from-source.js') || (p.endsWith('.ts') && !p.endsWith('.d.ts')));
  check('tarball is lean', unwanted.length === 0, unwanted.length ? `ships ${unwanted.slice(0, 8).join(', ')}` : 'no tests, TypeScript sources, source maps, generated API docs or dev scripts');
  const problems = readmeProblems(readFileSync(path.join(root, 'README.md'), 'utf8'), paths);
  check('README links', problems.length === 0, problems.length ? problems.join(', ') : 'all resolve inside the package');
  return { tarball, info };
}

// ---- 3. installs -----------------------------------------------------------------------------------
function directoryBytes(dir) {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) total += directoryBytes(file);
    else if (entry.isFile()) total += statSync(file).size;
  }
  return total;
}

function makeProject(work, name, manifest = {}) {
  const dir = path.join(work, name);
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, ...manifest }, null, 2));
  return dir;
}

function installConsumer(work, tarball) {
  const env = consumerEnv(work);
  const compilers = ['cmake', 'cc', 'c++', 'gcc', 'g++', 'clang', 'clang++', 'zig', 'make']
    .filter((c) => env.PATH.split(path.delimiter).some((d) => existsSync(path.join(d, c))));
  check('consumer PATH', compilers.length === 0, compilers.length ? `has ${compilers.join(', ')}` : `node and npm only (${env.PATH})`);
  const project = makeProject(work, 'consumer');
  const start = Date.now();
  const install = npm(['install', '--ignore-scripts', '--no-audit', '--no-fund', tarball], project, env);
  const seconds = ((Date.now() - start) / 1000).toFixed(1);
  timings.push(`install --ignore-scripts ${seconds} s`);
  if (install.status !== 0) {
    fail('install --ignore-scripts', install.stderr.trim().split('\n').slice(-8).join('\n'));
    return undefined;
  }
  const modules = path.join(project, 'node_modules');
  const rnnkitBytes = directoryBytes(path.join(modules, 'rnnkit'));
  const dependencyBytes = directoryBytes(modules) - rnnkitBytes;
  const packages = readdirSync(modules).filter((n) => !n.startsWith('.') && n !== 'rnnkit');
  pass('install --ignore-scripts', `${seconds} s, rnnkit ${(rnnkitBytes / 1024).toFixed(0)} kB`);
  check('dependencies installed', dependencyBytes <= MAX_DEPENDENCY_BYTES && !packages.includes('cmake-js'),
    `${(dependencyBytes / 1024).toFixed(0)} kB in ${packages.length} packages (${packages.join(', ')}); limit 2 MB, no cmake-js`);
  const maps = readdirSync(path.join(modules, 'rnnkit', 'dist'), { recursive: true })
    .filter((f) => String(f).endsWith('.js') && readFileSync(path.join(modules, 'rnnkit', 'dist', String(f)), 'utf8').includes('sourceMappingURL'));
  check('no dangling source maps', maps.length === 0, maps.length ? `${maps.slice(0, 5).join(', ')} point at maps` : 'no sourceMappingURL in dist');
  return { project, env };
}

function strictInstall(work, tarball, env) {
  const project = makeProject(work, 'strict');
  const start = Date.now();
  const install = npm(['install', '--strict-allow-scripts', '--no-audit', '--no-fund', tarball], project, env);
  const seconds = ((Date.now() - start) / 1000).toFixed(1);
  timings.push(`install --strict-allow-scripts ${seconds} s`);
  const output = `${install.stdout}\n${install.stderr}`;
  const compiled = existsSync(path.join(project, 'node_modules', 'rnnkit', 'build'));
  check('install --strict-allow-scripts', install.status === 0 && !/install-scripts|rnnkit.*(warn|error)/i.test(output) && !compiled,
    install.status !== 0 ? output.trim().split('\n').slice(-6).join('\n')
      : compiled ? 'something compiled (node_modules/rnnkit/build exists)'
        : /install-scripts/.test(output) ? `npm warned: ${output.trim()}` : `${seconds} s, no install script, no warning, nothing compiled`);
}

// ---- 4. smoke runs ---------------------------------------------------------------------------------
function cpuFlags() {
  const info = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  return new Set((/^flags\s*:(.*)$/m.exec(info)?.[1] ?? '').trim().split(/\s+/));
}

// The ISAs a prebuild must report on this machine's CPU, best first.
function expectedIsas(target) {
  if (target.arch === 'arm64') return ['neon', 'scalar'];
  const flags = cpuFlags();
  return target.isas.filter((isa) => isa === 'scalar' || (isa === 'avx2' && flags.has('avx2') && flags.has('fma'))
    || (isa === 'avx512' && flags.has('avx512f')));
}

function smoke(label, target, project, command, args, env) {
  const name = `smoke ${label}`;
  const resultFile = path.join(project, `result-${label.replace(/\W+/g, '-')}.json`);
  rmSync(resultFile, { force: true });
  // Output to files, not pipes: node.exe under wine gets EBADF writing to a pipe.
  const out = path.join(project, `${path.basename(resultFile, '.json')}.log`);
  const fd = openSync(out, 'w');
  const start = Date.now();
  const result = spawnSync(command, [...args, 'smoke.cjs', 'rnn.json', path.basename(resultFile)],
    { cwd: project, env, stdio: ['ignore', fd, fd], timeout: 15 * 60 * 1000 });
  closeSync(fd);
  const seconds = ((Date.now() - start) / 1000).toFixed(1);
  timings.push(`${name} ${seconds} s`);
  if (!existsSync(resultFile)) return fail(name, `no result (exit ${result.status ?? result.error}): ${readFileSync(out, 'utf8').trim().slice(-1500)}`);
  const r = JSON.parse(readFileSync(resultFile, 'utf8'));
  const expected = expectedIsas(target);
  const problems = [...r.failures];
  if (`${r.platform}-${r.arch}` !== `${target.platform}-${target.arch}`) problems.push(`ran as ${r.platform}-${r.arch}`);
  if (JSON.stringify(r.availableIsas) !== JSON.stringify(expected)) problems.push(`availableIsas ${JSON.stringify(r.availableIsas)}, expected ${JSON.stringify(expected)}`);
  if (r.isa !== expected[0]) problems.push(`isa ${r.isa}, expected ${expected[0]}`);
  const parity = Object.entries(r.parity ?? {}).map(([isa, e]) => `${isa} ${Number(e).toExponential(1)}`).join(', ');
  check(name, problems.length === 0 && result.status === 0, problems.length ? problems.join('; ')
    : `${seconds} s, node ${r.node}, isa ${r.isa}, ${r.cases} PyTorch cases per ISA (worst ${parity}), fit loss ${r.fitLoss.toFixed(3)}, stream step exact`);
}

function wineCommand() {
  return findCommand('wine64', '/usr/lib/wine/wine64');
}

function runSmokes(consumer) {
  const { project, env } = consumer;
  cpSync(path.join(root, 'scripts', 'package-smoke.cjs'), path.join(project, 'smoke.cjs'));
  cpSync(PARITY_FIXTURE, path.join(project, 'rnn.json'));
  const x64 = TARGETS.find((t) => t.name === 'linux-x64-glibc');
  smoke(`linux-x64 node ${process.version}`, x64, project, process.execPath, [], env);
  smoke('linux-x64 node 20.19.0', x64, project, tool('nodeLinuxX64Lowest20'), [], env);
  smoke('linux-x64 node 22.12.0', x64, project, tool('nodeLinuxX64Lowest22'), [], env);

  const esm = run(process.execPath, ['--input-type=module', '-e',
    "import { isa, nn } from 'rnnkit'; import { createRequire } from 'node:module';"
    + " const cjs = createRequire(process.cwd() + '/x.js')('rnnkit');"
    + " if (cjs.nn.LSTM !== nn.LSTM) throw new Error('require and import gave two copies'); console.log(isa());"],
  { cwd: project, env });
  check('import (ESM) and require share one instance', esm.status === 0, esm.status === 0 ? `isa ${esm.stdout.trim()}` : esm.stderr.trim());

  const arm64 = TARGETS.find((t) => t.runner === 'qemu');
  const qemu = findCommand('qemu-aarch64-static', 'qemu-aarch64');
  const sysroot = '/usr/aarch64-linux-gnu';
  if (!qemu || !existsSync(sysroot)) skip('smoke linux-arm64', 'needs qemu-aarch64-static and /usr/aarch64-linux-gnu (apt-get install qemu-user-static g++-aarch64-linux-gnu)');
  else smoke('linux-arm64 (qemu)', arm64, project, qemu, ['-L', sysroot, tool('nodeLinuxArm64')], env);

  const win = TARGETS.find((t) => t.runner === 'wine');
  const wine = wineCommand();
  if (!wine) return skip('smoke win32-x64', 'needs wine64 (apt-get install wine64)');
  // A fresh prefix in the temporary folder, never in the repository: its dosdevices/z: links to /,
  // and test runners that crawl the tree would follow it into the whole file system.
  const prefix = path.join(path.dirname(project), 'wine');
  const wineEnv = { ...env, WINEPREFIX: prefix, WINEDEBUG: '-all', PATH: `${env.PATH}${path.delimiter}/usr/bin${path.delimiter}/bin` };
  // Windows 10 for Node 20 (the default Windows 7 is refused); this first command creates the prefix.
  timed('wine prefix', () => run(wine, ['reg', 'add', 'HKCU\\Software\\Wine', '/v', 'Version', '/d', 'win10', '/f'], { env: wineEnv }));
  smoke('win32-x64 (wine)', win, project, wine, [tool('nodeWinX64')], wineEnv);
}

// ---- 5. TypeScript consumers -----------------------------------------------------------------------
const TS_CONSUMER = `import { nn, isa, tensor, type Tensor } from 'rnnkit';
const lstm = new nn.LSTM(2, 3);
const [output]: [Tensor, [Tensor, Tensor]] = lstm.forward(tensor([[[1, 2]], [[3, 4]]]));
console.log(isa(), output.shape.join('x'));
`;

function typescriptConsumers(work, tarball, env) {
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const typeRoots = [path.join(root, 'node_modules', '@types')];
  const variants = [
    { name: 'commonjs-node16', type: 'commonjs', compilerOptions: { module: 'node16', moduleResolution: 'node16' } },
    { name: 'esm-bundler', type: 'module', compilerOptions: { module: 'esnext', moduleResolution: 'bundler' } },
  ];
  for (const variant of variants) {
    const name = `TypeScript ${variant.name}`;
    const project = makeProject(work, `ts-${variant.name}`, { type: variant.type });
    const install = npm(['install', '--ignore-scripts', '--no-audit', '--no-fund', tarball], project, env);
    if (install.status !== 0) {
      fail(name, `install: ${install.stderr.trim().split('\n').slice(-4).join('\n')}`);
      continue;
    }
    writeFileSync(path.join(project, 'main.ts'), TS_CONSUMER);
    writeFileSync(path.join(project, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'es2022', strict: true, skipLibCheck: false, outDir: 'out', typeRoots, types: ['node'], ...variant.compilerOptions },
      files: ['main.ts'],
    }));
    const compiled = run(process.execPath, [tsc, '-p', project], { cwd: project, env });
    if (compiled.status !== 0) {
      fail(name, `tsc: ${(compiled.stdout + compiled.stderr).trim().split('\n').slice(0, 6).join('\n')}`);
      continue;
    }
    const ran = run(process.execPath, [path.join(project, 'out', 'main.js')], { cwd: project, env });
    check(name, ran.status === 0 && / 2x1x3$/.test(ran.stdout.trim()),
      ran.status === 0 ? `compiles (strict, skipLibCheck false) and runs: ${ran.stdout.trim()}` : ran.stderr.trim().slice(-800));
  }
}

// ---- 6. no prebuild for this platform --------------------------------------------------------------
function withoutPrebuild(consumer) {
  const { project, env } = consumer;
  const rnnkitDir = path.join(project, 'node_modules', 'rnnkit');
  rmSync(path.join(rnnkitDir, 'prebuilds', 'linux-x64'), { recursive: true, force: true });
  const load = run(process.execPath, ['-e', "require('rnnkit').isa()"], { cwd: project, env });
  const message = load.stderr;
  const wanted = ['could not load its native addon for linux-x64, glibc', 'Prebuilt addons in this copy: linux-arm64 (glibc, musl), win32-x64',
    'To build the addon from source', 'npm install --save-dev cmake-js node-addon-api', 'scripts/build-from-source.js'];
  const lacking = wanted.filter((w) => !message.includes(w));
  check('no prebuild: one clear message at first use', load.status !== 0 && lacking.length === 0,
    lacking.length ? `message lacks ${JSON.stringify(lacking)}:\n${message.trim().slice(-1500)}` : message.split('\n').find((l) => l.includes('could not load')));

  const builder = path.join(rnnkitDir, 'scripts', 'build-from-source.js');
  const noTools = run(process.execPath, [builder], { cwd: project, env });
  check('build-from-source without its tools', noTools.status !== 0 && noTools.stderr.includes('npm install --save-dev cmake-js node-addon-api'),
    noTools.stderr.trim().split('\n').slice(-2).join(' '));

  // The source build, with the optional peer tooling and the machine's own compiler and cmake.
  const fullEnv = { ...env, PATH: `${env.PATH}${path.delimiter}${process.env.PATH}` };
  const peers = timed('install cmake-js node-addon-api', () => npm(['install', '--no-audit', '--no-fund', '--save-dev', 'cmake-js@^8', 'node-addon-api@^8'], project, fullEnv));
  if (peers.status !== 0) return fail('source build', `npm install cmake-js node-addon-api: ${peers.stderr.trim().slice(-800)}`);
  const built = timed('source build', () => run(process.execPath, [builder], { cwd: project, env: fullEnv }));
  check('source build from the tarball (cmake-js, system compiler)', built.status === 0,
    built.status === 0 ? built.stdout.trim().split('\n').at(-1) : (built.stdout + built.stderr).trim().slice(-1500));
  const loaded = run(process.execPath, ['-e', "const r = require('rnnkit'); console.log(r.isa())"], { cwd: project, env });
  check('source-built addon loads', loaded.status === 0, loaded.status === 0 ? `isa ${loaded.stdout.trim()}` : loaded.stderr.trim().slice(-800));
}

// ---- main ------------------------------------------------------------------------------------------
function main() {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    skip('package test', `runs on Linux x64 (this is ${process.platform}-${process.arch})`);
    return;
  }
  for (const target of TARGETS) {
    if (existsSync(path.join(root, prebuildPath(target)))) checkBinary(target);
    else fail(`binary ${target.name}`, `${prebuildPath(target)} missing: run npm run prebuildify:all first`);
  }
  const work = mkdtempSync(path.join(os.tmpdir(), 'rnnkit-package-'));
  try {
    muslLoad(work);
    const packed = pack(work);
    if (!packed) return;
    const consumer = installConsumer(work, packed.tarball);
    if (!consumer) return;
    strictInstall(work, packed.tarball, consumer.env);
    runSmokes(consumer);
    typescriptConsumers(work, packed.tarball, consumer.env);
    withoutPrebuild(consumer);
  } finally {
    if (process.env.RNNKIT_KEEP_PACKAGE_TEST) console.log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

const started = Date.now();
main();
console.log(`times: ${timings.join(', ')}; total ${((Date.now() - started) / 1000).toFixed(0)} s`);
console.log(`test:package: ${tally.passed} passed, ${tally.failed} failed, ${tally.skipped} skipped`);
process.exit(tally.failed ? 1 : 0);
