/**
 * Loads the native addon: `node-gyp-build` on the package root (a local `build/Release` first,
 * then `prebuilds/<platform>-<arch>/rnnkit.node`), then each candidate file directly, and on
 * failure throws one Error that says what was tried, why each failed, and what to do.
 * @module
 */
import { existsSync, readdirSync } from 'node:fs';
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

// Files node-gyp-build would pick, in its order (local build wins over the shipped prebuild).
function candidateFiles(root: string): string[] {
  return [
    path.join(root, 'build', 'Release', ADDON_FILE),
    path.join(root, 'build', 'Debug', ADDON_FILE),
    path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, ADDON_FILE),
  ];
}

function firstLine(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split('\n')[0].trim();
}

/**
 * Loads the addon from `root` (default: this package). Tries node-gyp-build, then every candidate
 * file it did not already load, so a broken local build can not hide a working prebuild.
 * @throws Error listing platform, Node and N-API versions, each path tried and why it failed, and remedies.
 */
export function loadBinding(root: string = packageRoot()): NativeBinding {
  const failures: string[] = [];
  let tried: string | undefined;
  try {
    const nodeGypBuild = require('node-gyp-build') as { path(dir: string): string };
    tried = nodeGypBuild.path(root);
    return require(tried) as NativeBinding;
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
      return require(file) as NativeBinding;
    } catch (error) {
      failures.push(`${file}: ${firstLine(error)}`);
    }
  }
  throw new Error(loadErrorMessage(root, failures));
}

/** The platform tuples this package ships prebuilt binaries for (folders under prebuilds/). */
function shippedPrebuilds(root: string): string[] {
  try {
    return readdirSync(path.join(root, 'prebuilds')).filter((name) => name.includes('-'));
  } catch {
    return [];
  }
}

function loadErrorMessage(root: string, failures: string[]): string {
  const tuple = `${process.platform}-${process.arch}`;
  const shipped = shippedPrebuilds(root);
  return [
    `rnnkit: could not load its native addon for ${tuple} ` +
      `(Node ${process.versions.node}, N-API ${process.versions.napi ?? 'unknown'}; the addon needs N-API ${REQUIRED_NAPI_VERSION}).`,
    'Tried:',
    ...failures.map((line) => `  - ${line}`),
    'Remedies:',
    shipped.length
      ? `  - Use a platform this copy has prebuilt binaries for (${shipped.join(', ')}) with Node >= 20.17, or:`
      : '  - This copy has no prebuilt binaries (prebuilds/ is missing); reinstall rnnkit from the registry, or:',
    '  - Build from source (needs CMake >= 3.18 and a C++17 compiler: g++ >= 9, clang >= 10 or MSVC 2019):',
    '      npm rebuild rnnkit --foreground-scripts',
    '  - If npm skipped rnnkit\'s install script (npm 11 install-script policy, --ignore-scripts or',
    '    --strict-allow-scripts), approve it, then rebuild:',
    '      npm install-scripts approve rnnkit && npm rebuild rnnkit --foreground-scripts',
    '    An "allowScripts" entry denying rnnkit (false) in package.json wins: remove it first.',
    '    Global installs and npx: npm install -g rnnkit --allow-scripts=rnnkit',
  ].join('\n');
}

let cached: NativeBinding | undefined;

/** The addon of this package, loaded on first use (each worker_thread loads its own instance). */
export function binding(): NativeBinding {
  cached ??= loadBinding();
  return cached;
}
