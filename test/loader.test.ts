// The loader (src/native.ts) on prepared package roots: nothing there, a broken local build hiding
// a good prebuild, broken files everywhere, prebuilds for other platforms or another libc only.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addonPath, binding, linuxLibc, loadBinding, packageRoot, prebuildFile } from '../src/native.js';

const require = createRequire(import.meta.url);
const realAddon: string = require('node-gyp-build').path(packageRoot());
const tuple = `${process.platform}-${process.arch}`;
const libc = process.platform === 'linux' ? linuxLibc() : undefined;
const otherLibc = libc === 'glibc' ? 'musl' : 'glibc';
const prebuild = prebuildFile(); // prebuilds/<tuple>/rnnkit[.<libc>].node
const temp = mkdtempSync(path.join(os.tmpdir(), 'rnnkit-loader-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

let roots = 0;
// A fake package root with the given files (relative path → contents, or 'ADDON' for a real copy).
function makeRoot(files: Record<string, string>): string {
  const root = path.join(temp, `root${roots++}`);
  mkdirSync(root);
  writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'rnnkit' }));
  for (const [file, contents] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    if (contents === 'ADDON') copyFileSync(realAddon, path.join(root, file));
    else writeFileSync(path.join(root, file), contents);
  }
  return root;
}

function loadError(root: string): Error {
  try {
    loadBinding(root);
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected loadBinding to throw');
}

const BUILD_FROM_SOURCE = [
  'To build the addon from source (needs CMake >= 3.18 and a C++17 compiler: g++ >= 9, clang >= 10 or MSVC 2019):',
  '    npm install --save-dev cmake-js node-addon-api',
];
const platformLine = `${tuple}${libc ? `, ${libc}` : ''}`;

describe('loadBinding', () => {
  it('loads this package (local build or prebuild) by default', () => {
    expect(path.join(packageRoot(), 'package.json')).toBe(path.resolve(import.meta.dirname, '..', 'package.json'));
    expect(typeof loadBinding().isa()).toBe('string');
  });

  it('an empty package root gives one clear error: what, where, why, and what to do', () => {
    const root = makeRoot({});
    const error = loadError(root);
    expect(error.constructor).toBe(Error);
    expect(error.message).toBe([
      `rnnkit: could not load its native addon for ${platformLine} (Node ${process.versions.node}, N-API ${process.versions.napi}; the addon needs N-API 8).`,
      'Tried:',
      `  - node-gyp-build(${root}): No native build was found for platform=${process.platform} arch=${process.arch} ` +
        `runtime=node abi=${process.versions.modules} uv=${process.versions.uv.split('.')[0]} libc=${existsSync('/etc/alpine-release') ? 'musl' : 'glibc'} node=${process.versions.node}`,
      `  - ${root}/build/Release/rnnkit.node: not found`,
      `  - ${root}/build/Debug/rnnkit.node: not found`,
      `  - ${root}/${prebuild}: not found`,
      'This copy has no prebuilt addons (prebuilds/ is missing): reinstall rnnkit from the registry, or build one.',
      ...BUILD_FROM_SOURCE,
      `    node ${root}/scripts/build-from-source.js`,
    ].join('\n'));
  });

  it('a broken local build does not hide a working prebuild', () => {
    const root = makeRoot({ 'build/Release/rnnkit.node': 'not an ELF file', [prebuild]: 'ADDON' });
    const native = loadBinding(root);
    expect(native.availableIsas()).toContain('scalar');
    expect(native.cacheSize(3, 1, 1, 0, 2, 1, false)).toBeGreaterThan(0);
  });

  it('says why each file failed to load', () => {
    const root = makeRoot({ 'build/Release/rnnkit.node': 'junk', [prebuild]: 'junk' });
    const lines = loadError(root).message.split('\n');
    const release = `${root}/build/Release/rnnkit.node`;
    const prebuildAt = `${root}/${prebuild}`;
    // node-gyp-build picks the local build first; the prebuild is then tried on its own.
    expect(lines[2]).toMatch(new RegExp(`^  - node-gyp-build\\(${root}\\) → ${release}: .*(invalid ELF header|file too short)`));
    expect(lines[3]).toBe(`  - ${root}/build/Debug/rnnkit.node: not found`);
    expect(lines[4]).toMatch(new RegExp(`^  - ${prebuildAt}: .*(invalid ELF header|file too short)`));
    expect(lines[5]).toBe(`Prebuilt addons in this copy: ${tuple}${libc ? ` (${libc})` : ''}; Node any.`);
  });

  it('lists the platforms this copy has prebuilds for, with their libc, and the Node versions', () => {
    const root = makeRoot({
      'prebuilds/darwin-arm64/rnnkit.node': 'x', 'prebuilds/win32-x64/rnnkit.node': 'x',
      'prebuilds/linux-arm64/rnnkit.glibc.node': 'x', 'prebuilds/linux-arm64/rnnkit.musl.node': 'x',
    });
    writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'rnnkit', engines: { node: '^20.19.0 || >=22.12.0' } }));
    const message = loadError(root).message;
    expect(message).toContain('Prebuilt addons in this copy: darwin-arm64, linux-arm64 (glibc, musl), win32-x64; Node ^20.19.0 || >=22.12.0.');
    expect(message).toContain(`  - ${root}/${prebuild}: not found`);
  });

  it.runIf(process.platform === 'linux')('on Linux, takes the prebuild of its own libc only (node-gyp-build tags)', () => {
    expect(prebuild).toBe(`prebuilds/${tuple}/rnnkit.${libc}.node`);
    // A working addon under the other libc's name is never loaded: on the wrong libc it would crash or fail.
    const wrongLibc = makeRoot({ [`prebuilds/${tuple}/rnnkit.${otherLibc}.node`]: 'ADDON' });
    const message = loadError(wrongLibc).message;
    expect(message).toContain(`  - ${wrongLibc}/${prebuild}: not found`);
    expect(message).toContain(`Prebuilt addons in this copy: ${tuple} (${otherLibc});`);
    const rightLibc = makeRoot({ [`prebuilds/${tuple}/rnnkit.${otherLibc}.node`]: 'junk', [prebuild]: 'ADDON' });
    expect(loadBinding(rightLibc).availableIsas()).toContain('scalar');
  });
});

describe('addonPath', () => {
  it('names the file binding() loaded', () => {
    binding();
    expect(addonPath()).toBe(realAddon);
  });
});
