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

/** Opaque handles the binding makes: a training cache, a prepared layer. */
export type NativeHandle = object & { readonly __nativeHandle: unique symbol };

/** Result objects of the binding (shapes documented in src/sequence.ts). */
export interface NativeForwardResult {
  output: Float32Array;
  hN: Float32Array;
  cN?: Float32Array;
  cache: NativeHandle | null;
}
export interface NativeGrads {
  weightIh: Float32Array;
  weightHh: Float32Array;
  biasIh: Float32Array | null;
  biasHh: Float32Array | null;
  weightHr: Float32Array | null;
}
export interface NativeBackwardResult {
  dInput: Float32Array | null;
  dh0: Float32Array;
  dc0?: Float32Array;
  /** Fresh gradients when none were passed in; null when they were accumulated into the given ones. */
  grads: NativeGrads | null;
}

export interface NativePreparedResult {
  output: Float32Array | null;
  hN: Float32Array | null;
  cN?: Float32Array | null;
}

type F32 = Float32Array;
type OptF32 = Float32Array | null;
/** A layer's arguments: cell code (0 rnn_tanh, 1 rnn_relu, 2 lstm, 3 gru), sizes, weights. */
type LayerArgs = [cell: number, inputSize: number, hiddenSize: number, projSize: number];
type CallArgs = [steps: number, batch: number, reverse: boolean, lengths: Int32Array | null];
type WeightArgs = [weightIh: F32, weightHh: F32, biasIh: OptF32, biasHh: OptF32, weightHr: OptF32];
type GradArgs = [weightIh: OptF32, weightHh: OptF32, biasIh: OptF32, biasHh: OptF32, weightHr: OptF32];
/** Variational dropout masks `[B, I]` and `[B, S]`, or null. */
type MaskArgs = [inputMask: OptF32, recurrentMask: OptF32];
type ForwardArgs = [...LayerArgs, ...CallArgs, ...WeightArgs, ...MaskArgs, input: F32, h0: OptF32, c0: OptF32, training: boolean];
type BackwardArgs = [...LayerArgs, ...CallArgs, ...WeightArgs, ...MaskArgs, input: F32, cache: NativeHandle, ...GradArgs,
  dOutput: OptF32, dhN: OptF32, dcN: OptF32, inputGrad: boolean];
/** `undefined` = a new array, `null` = not computed, an array = written in place. */
type OutArg = Float32Array | null | undefined;
type PreparedArgs = [layer: NativeHandle, ...CallArgs, input: F32, h0: OptF32, c0: OptF32, output: OutArg, hN: OutArg, cN: OutArg];

/**
 * The functions native/binding exports. Arguments are positional and checked tersely in C++ (types,
 * lengths, ranges: nothing can touch memory outside the arrays given); src/ validates every public
 * call first with the friendly messages. Result arrays are views of core memory.
 */
export interface NativeBinding {
  sequenceForward(...args: ForwardArgs): NativeForwardResult;
  sequenceForwardAsync(...args: ForwardArgs): Promise<NativeForwardResult>;
  sequenceBackward(...args: BackwardArgs): NativeBackwardResult;
  sequenceBackwardAsync(...args: BackwardArgs): Promise<NativeBackwardResult>;
  cacheSize(...args: [...LayerArgs, steps: number, batch: number, recurrentMask: boolean]): number;
  /** Returns a training cache's memory now; the handle can not be used again. */
  releaseCache(cache: NativeHandle): void;
  /** Packs a layer's weights; the handle is opaque. */
  prepareLayer(...args: [...LayerArgs, ...WeightArgs]): NativeHandle;
  preparedForward(...args: PreparedArgs): NativePreparedResult;
  preparedForwardAsync(...args: PreparedArgs): Promise<NativePreparedResult>;
  /** One step, the state (h, c) updated in place; c is null except for LSTM. */
  preparedStep(layer: NativeHandle, batch: number, input: F32, h: F32, c: OptF32): void;
  isa(): string;
  availableIsas(): string[];
  setIsa(name: string): void;
  setNumThreads(threads: number): void;
  getNumThreads(): number;
  sgemm(m: number, n: number, k: number, a: F32, b: F32, c: F32, transA: boolean, transB: boolean, accumulate: boolean): void;
  setMemoryLimit(bytes: number): void;
  memoryLimit(): number;
  idleMemory(): number;
  releaseIdleMemory(): void;
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

/**
 * The addon of this package (or the file RNNKIT_ADDON names), loaded on first use (each
 * worker_thread loads its own instance). Its
 * per-call memory limit starts at the machine's memory; in a container with a lower limit, at that.
 */
export function binding(): NativeBinding {
  if (!cached) {
    // RNNKIT_ADDON: a specific build of the addon (the sanitizer tests load an instrumented one).
    cached = process.env.RNNKIT_ADDON ? require(process.env.RNNKIT_ADDON) as NativeBinding : loadBinding();
    const container = process.constrainedMemory?.() ?? 0;
    if (container > 0 && container < cached.memoryLimit()) cached.setMemoryLimit(container);
  }
  return cached;
}
