/**
 * Loads the native addon: `node-gyp-build` on the package root (a local `build/Release` first,
 * then `prebuilds/<platform>-<arch>/rnnkit[.<libc>].node`), then each candidate file directly, and
 * on failure throws one Error that says what was tried, why each failed, which platforms this copy
 * has prebuilt addons for, and how to build one from source.
 *
 * rnnkit has no install script (npm 11 warns about every one, and refuses them under
 * --strict-allow-scripts even where a prebuild makes them unnecessary), so a platform without a
 * prebuild learns it here, at first use, rather than by a failed `npm install`.
 * @module
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

/** The N-API version the addon is compiled against (package.json `binary.napi_versions`). */
export const REQUIRED_NAPI_VERSION = 8;

/** Result objects of the binding (shapes documented in src/sequence.ts). */
export interface NativeForwardResult {
  output: Float32Array;
  hN: Float32Array;
  cN?: Float32Array;
  cache: Float32Array | null;
}
export interface NativeBackwardResult {
  dInput: Float32Array;
  dh0: Float32Array;
  dc0?: Float32Array;
}

export interface NativePreparedResult {
  output: Float32Array | null;
  hN: Float32Array | null;
  cN?: Float32Array | null;
}

/** The functions native/binding exports (every argument is re-validated in C++). */
export interface NativeBinding {
  sequenceForward(cell: string, opts: object, weights: object, input: Float32Array, state?: object | null): NativeForwardResult;
  sequenceForwardAsync(cell: string, opts: object, weights: object, input: Float32Array, state?: object | null): Promise<NativeForwardResult>;
  sequenceBackward(cell: string, opts: object, weights: object, input: Float32Array, cache: Float32Array, grads: object, upstream?: object | null): NativeBackwardResult;
  sequenceBackwardAsync(cell: string, opts: object, weights: object, input: Float32Array, cache: Float32Array, grads: object, upstream?: object | null): Promise<NativeBackwardResult>;
  cacheSize(cell: string, opts: object): number;
  /** Packs a layer's weights; the handle is opaque. */
  prepareLayer(cell: string, opts: object, weights: object): object;
  preparedForward(layer: object, opts: object, input: Float32Array, state?: object | null, out?: object | null): NativePreparedResult;
  preparedForwardAsync(layer: object, opts: object, input: Float32Array, state?: object | null, out?: object | null): Promise<NativePreparedResult>;
  /** One step, the state (h, c) updated in place; c is null except for LSTM. */
  preparedStep(layer: object, batch: number, input: Float32Array, h: Float32Array, c: Float32Array | null): void;
  isa(): string;
  availableIsas(): string[];
  setIsa(name: string): void;
  setNumThreads(threads: number): void;
  getNumThreads(): number;
  sgemm(opts: object): void;
  /** Async jobs of this environment (thread) not yet settled. */
  pendingJobs(): number;
  versions: { napi: number; compiler?: string };
}

/** The package root: the folder above `src/` (tests) or `dist/` (the published package). */
export function packageRoot(): string {
  return path.resolve(fileURLToPath(new URL('..', import.meta.url)));
}

const ADDON_FILE = 'rnnkit.node';

/** The C library a Linux prebuild must be linked against: musl when Node's process has no glibc. */
export function linuxLibc(): 'glibc' | 'musl' {
  const report = process.report.getReport() as { header: { glibcVersionRuntime?: string } };
  return report.header.glibcVersionRuntime ? 'glibc' : 'musl';
}

/**
 * The prebuild for this platform, relative to the package root, as scripts/prebuild.js names it:
 * Linux files carry the libc as a node-gyp-build tag (`rnnkit.glibc.node`, `rnnkit.musl.node`).
 */
export function prebuildFile(): string {
  const file = process.platform === 'linux' ? `rnnkit.${linuxLibc()}.node` : ADDON_FILE;
  return path.join('prebuilds', `${process.platform}-${process.arch}`, file);
}

// Files node-gyp-build would pick, in its order (local build wins over the shipped prebuild).
function candidateFiles(root: string): string[] {
  return [
    path.join(root, 'build', 'Release', ADDON_FILE),
    path.join(root, 'build', 'Debug', ADDON_FILE),
    path.join(root, prebuildFile()),
  ];
}

function firstLine(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split('\n')[0].trim();
}

/** Where the binding of this package was loaded from (set by the first binding() call). */
let loadedFile: string | undefined;

/**
 * Loads the addon from `root` (default: this package). Tries node-gyp-build, then every candidate
 * file it did not already load, so a broken local build can not hide a working prebuild.
 * @throws Error listing platform, Node and N-API versions, each path tried and why it failed, the
 *   platforms this copy has prebuilds for, and how to build from source.
 */
export function loadBinding(root: string = packageRoot()): NativeBinding {
  return loadFrom(root).binding;
}

function loadFrom(root: string): { binding: NativeBinding; file: string } {
  const failures: string[] = [];
  let tried: string | undefined;
  try {
    const nodeGypBuild = require('node-gyp-build') as { path(dir: string): string };
    tried = nodeGypBuild.path(root);
    return { binding: require(tried) as NativeBinding, file: tried };
  } catch (error) {
    failures.push(`node-gyp-build(${root})${tried ? ` → ${tried}` : ''}: ${firstLine(error)}`);
  }
  for (const file of candidateFiles(root)) {
    if (file === tried) continue;
    if (!existsSync(file)) {
      failures.push(`${file}: not found`);
      continue;
    }
    try {
      return { binding: require(file) as NativeBinding, file };
    } catch (error) {
      failures.push(`${file}: ${firstLine(error)}`);
    }
  }
  throw new Error(loadErrorMessage(root, failures));
}

/**
 * The platforms this copy has prebuilt addons for, from the files under prebuilds/:
 * `linux-x64 (glibc, musl)`, `win32-x64`, ...
 */
function shippedPrebuilds(root: string): string[] {
  const folder = path.join(root, 'prebuilds');
  let tuples: string[];
  try {
    tuples = readdirSync(folder).filter((name) => name.includes('-')).sort();
  } catch {
    return [];
  }
  return tuples.map((tuple) => {
    const tags = readdirSync(path.join(folder, tuple))
      .map((file) => /^rnnkit\.(glibc|musl)\.node$/.exec(file)?.[1])
      .filter((tag): tag is string => tag !== undefined);
    return tags.length ? `${tuple} (${tags.join(', ')})` : tuple;
  });
}

/** The supported Node versions, from this package's package.json (engines.node). */
function supportedNode(root: string): string {
  try {
    const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { engines?: { node?: string } };
    return manifest.engines?.node ?? 'any';
  } catch {
    return 'any';
  }
}

function loadErrorMessage(root: string, failures: string[]): string {
  const libc = process.platform === 'linux' ? `, ${linuxLibc()}` : '';
  const shipped = shippedPrebuilds(root);
  return [
    `rnnkit: could not load its native addon for ${process.platform}-${process.arch}${libc} ` +
      `(Node ${process.versions.node}, N-API ${process.versions.napi ?? 'unknown'}; the addon needs N-API ${REQUIRED_NAPI_VERSION}).`,
    'Tried:',
    ...failures.map((line) => `  - ${line}`),
    shipped.length
      ? `Prebuilt addons in this copy: ${shipped.join(', ')}; Node ${supportedNode(root)}.`
      : 'This copy has no prebuilt addons (prebuilds/ is missing): reinstall rnnkit from the registry, or build one.',
    'To build the addon from source (needs CMake >= 3.18 and a C++17 compiler: g++ >= 9, clang >= 10 or MSVC 2019):',
    '    npm install --save-dev cmake-js node-addon-api',
    `    node ${path.join(root, 'scripts', 'build-from-source.js')}`,
  ].join('\n');
}

let cached: NativeBinding | undefined;

/** The addon of this package, loaded on first use (each worker_thread loads its own instance). */
export function binding(): NativeBinding {
  if (!cached) ({ binding: cached, file: loadedFile } = loadFrom(packageRoot()));
  return cached;
}

/**
 * The file binding() loaded (build/Release/rnnkit.node, prebuilds/linux-x64/rnnkit.glibc.node, …),
 * or undefined before the first call.
 */
export function addonPath(): string | undefined {
  return loadedFile;
}
