// The loader (src/native.ts) on prepared package roots: nothing there, a broken local build hiding
// a good prebuild, broken files everywhere, prebuilds for other platforms only.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadBinding, packageRoot } from '../src/native.js';

const require = createRequire(import.meta.url);
const realAddon: string = require('node-gyp-build').path(packageRoot());
const tuple = `${process.platform}-${process.arch}`;
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

const REMEDIES = [
  '  - Build from source (needs CMake >= 3.18 and a C++17 compiler: g++ >= 9, clang >= 10 or MSVC 2019):',
  '      npm rebuild rnnkit --foreground-scripts',
  "  - If npm skipped rnnkit's install script (npm 11 install-script policy, --ignore-scripts or",
  '    --strict-allow-scripts), approve it, then rebuild:',
  '      npm install-scripts approve rnnkit && npm rebuild rnnkit --foreground-scripts',
  '    An "allowScripts" entry denying rnnkit (false) in package.json wins: remove it first.',
  '    Global installs and npx: npm install -g rnnkit --allow-scripts=rnnkit',
];

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
      `rnnkit: could not load its native addon for ${tuple} (Node ${process.versions.node}, N-API ${process.versions.napi}; the addon needs N-API 8).`,
      'Tried:',
      `  - node-gyp-build(${root}): No native build was found for platform=${process.platform} arch=${process.arch} ` +
        `runtime=node abi=${process.versions.modules} uv=${process.versions.uv.split('.')[0]} libc=${existsSync('/etc/alpine-release') ? 'musl' : 'glibc'} node=${process.versions.node}`,
      `  - ${root}/build/Release/rnnkit.node: not found`,
      `  - ${root}/build/Debug/rnnkit.node: not found`,
      `  - ${root}/prebuilds/${tuple}/rnnkit.node: not found`,
      'Remedies:',
      '  - This copy has no prebuilt binaries (prebuilds/ is missing); reinstall rnnkit from the registry, or:',
      ...REMEDIES,
    ].join('\n'));
  });

  it('a broken local build does not hide a working prebuild', () => {
    const root = makeRoot({ 'build/Release/rnnkit.node': 'not an ELF file', [`prebuilds/${tuple}/rnnkit.node`]: 'ADDON' });
    const native = loadBinding(root);
    expect(native.availableIsas()).toContain('scalar');
    expect(native.cacheSize(3, 1, 1, 0, 2, 1, false)).toBeGreaterThan(0);
  });

  it('says why each file failed to load', () => {
    const root = makeRoot({ 'build/Release/rnnkit.node': 'junk', [`prebuilds/${tuple}/rnnkit.node`]: 'junk' });
    const lines = loadError(root).message.split('\n');
    const release = `${root}/build/Release/rnnkit.node`;
    const prebuild = `${root}/prebuilds/${tuple}/rnnkit.node`;
    // node-gyp-build picks the local build first; the prebuild is then tried on its own.
    expect(lines[2]).toMatch(new RegExp(`^  - node-gyp-build\\(${root}\\) → ${release}: .*(invalid ELF header|file too short)`));
    expect(lines[3]).toBe(`  - ${root}/build/Debug/rnnkit.node: not found`);
    expect(lines[4]).toMatch(new RegExp(`^  - ${prebuild}: .*(invalid ELF header|file too short)`));
    expect(lines[6]).toBe(`  - Use a platform this copy has prebuilt binaries for (${tuple}) with Node >= 20.17, or:`);
  });

  it('lists the platforms this copy has prebuilds for', () => {
    const root = makeRoot({ 'prebuilds/darwin-arm64/rnnkit.node': 'x', 'prebuilds/win32-x64/rnnkit.node': 'x' });
    const message = loadError(root).message;
    expect(message).toContain('  - Use a platform this copy has prebuilt binaries for (darwin-arm64, win32-x64) with Node >= 20.17, or:');
    expect(message).toContain(`  - ${root}/prebuilds/${tuple}/rnnkit.node: not found`);
  });
});
