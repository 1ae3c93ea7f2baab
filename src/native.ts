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

/** Opaque handles the binding makes: a training cache, a prepared layer. */
export type NativeHandle = object & {
  /** A brand: no other object is a handle to TypeScript. */
  readonly __nativeHandle: unique symbol;
};

/** A layer's arguments: cell code (its index in `CELLS`: 0 rnn_tanh, 1 rnn_relu, 2 lstm, 3 gru), sizes. */
export type LayerArgs = [cell: number, inputSize: number, hiddenSize: number, projSize: number];
/** A call's arguments: steps, batch, direction, and each item's valid steps (or null: all). */
export type CallArgs = [steps: number, batch: number, reverse: boolean, lengths: Int32Array | null];
/** A layer's weights, PyTorch's shapes ({@link SequenceWeights}); biases both or neither, `weightHr` iff projSize > 0. */
export type WeightArgs = [
  weightIh: Float32Array, weightHh: Float32Array, biasIh: Float32Array | null, biasHh: Float32Array | null, weightHr: Float32Array | null,
];
/** Variational dropout masks `[B, I]` and `[B, S]`, or null. */
export type MaskArgs = [inputMask: Float32Array | null, recurrentMask: Float32Array | null];
/** {@link NativeBinding.sequenceForward}'s arguments: the layer, the input and state, the result arrays, training mode. */
export type ForwardArgs = [
  ...LayerArgs, ...CallArgs, ...WeightArgs, ...MaskArgs, input: Float32Array, h0: Float32Array | null, c0: Float32Array | null,
  output: Float32Array, hN: Float32Array, cN: Float32Array | null, training: boolean,
];
/**
 * {@link NativeBinding.sequenceBackward}'s arguments: the forward's, its cache, the gradient arrays
 * (added into), the upstream gradients, the result arrays, and whether to consume the cache.
 */
export type BackwardArgs = [
  ...LayerArgs, ...CallArgs, ...WeightArgs, ...MaskArgs, input: Float32Array, cache: NativeHandle, ...WeightArgs,
  dOutput: Float32Array | null, dhN: Float32Array | null, dcN: Float32Array | null,
  dInput: Float32Array | null, dh0: Float32Array, dc0: Float32Array | null, consume: boolean,
];
/**
 * {@link NativeBinding.preparedForward}'s arguments: the prepared layer, the call, input and state,
 * the result arrays (null: not written).
 */
export type PreparedArgs = [
  layer: NativeHandle, ...CallArgs, input: Float32Array, h0: Float32Array | null, c0: Float32Array | null,
  output: Float32Array | null, hN: Float32Array | null, cN: Float32Array | null,
];

/**
 * The functions native/binding exports. Arguments are positional and checked tersely in C++ (types,
 * lengths, ranges: nothing can touch memory outside the arrays given); src/ validates every public
 * call first with the friendly messages. Results go into arrays the caller allocates.
 */
export interface NativeBinding {
  /** Returns the training cache (null in inference). */
  sequenceForward(...args: ForwardArgs): NativeHandle | null;
  /** {@link NativeBinding.sequenceForward} on the libuv pool. */
  sequenceForwardAsync(...args: ForwardArgs): Promise<NativeHandle | null>;
  /** Adds into the gradient arrays, writes dInput (unless null), dh0 and dc0; `consume` releases the cache (its memory becomes working memory). */
  sequenceBackward(...args: BackwardArgs): void;
  /** {@link NativeBinding.sequenceBackward} on the libuv pool. */
  sequenceBackwardAsync(...args: BackwardArgs): Promise<void>;
  /** Floats of the training cache a forward of this size (with or without a recurrent mask) keeps. */
  cacheSize(...args: [...LayerArgs, steps: number, batch: number, recurrentMask: boolean]): number;
  /**
   * RangeError when a call of this size (pass 0 forward, 1 training forward, 2 backward, 3 backward
   * consuming the cache), with or without masks, needs, with `extraBytes` (its results), more
   * memory than the limit.
   */
  checkSequenceMemory(...args: [...LayerArgs, steps: number, batch: number, inputMask: boolean, recurrentMask: boolean,
    pass: number, extraBytes: number]): void;
  /** The same for a preparedForward. */
  checkPreparedMemory(layer: NativeHandle, steps: number, batch: number, extraBytes: number): void;
  /** Returns a training cache's memory now; the handle can not be used again. */
  releaseCache(cache: NativeHandle): void;
  /** Packs a layer's weights; the handle is opaque. */
  prepareLayer(...args: [...LayerArgs, ...WeightArgs]): NativeHandle;
  /** Inference forward with a prepared layer: writes the result arrays given (null: not written). */
  preparedForward(...args: PreparedArgs): void;
  /** {@link NativeBinding.preparedForward} on the libuv pool. */
  preparedForwardAsync(...args: PreparedArgs): Promise<void>;
  /** One step, the state (h, c) updated in place; c is null except for LSTM. */
  preparedStep(layer: NativeHandle, batch: number, input: Float32Array, h: Float32Array, c: Float32Array | null): void;
  /** The kernel set in use. */
  isa(): string;
  /** The kernel sets this CPU and build can run, best first. */
  availableIsas(): string[];
  /** Uses the kernel set `name` from the next call on. */
  setIsa(name: string): void;
  /** Sets the thread pool's size. */
  setNumThreads(threads: number): void;
  /** The thread pool's size. */
  getNumThreads(): number;
  /** `batch` contiguous {@link NativeBinding.sgemm} problems (a `[batch][m·k]`, b `[batch][k·n]`, c `[batch][m·n]`), items spread over the pool. */
  sgemmBatched(batch: number, m: number, n: number, k: number, a: Float32Array, b: Float32Array, c: Float32Array, transA: boolean,
    transB: boolean, accumulate: boolean): void;
  /** `y = tanh(x)` elementwise (the same length; y may be x), to a few ulp relative, on the calling thread. */
  tanh(x: Float32Array, y: Float32Array): void;
  /** `C = op(A)·op(B)` (`+ C` when accumulating), row-major, on the thread pool. */
  sgemm(m: number, n: number, k: number, a: Float32Array, b: Float32Array, c: Float32Array, transA: boolean, transB: boolean,
    accumulate: boolean): void;
  /** Refuse calls that need more memory than `bytes`. */
  setMemoryLimit(bytes: number): void;
  /** The limit in bytes. */
  memoryLimit(): number;
  /** Bytes of released blocks the core keeps for reuse. */
  idleMemory(): number;
  /** Returns the kept blocks to the system. */
  releaseIdleMemory(): void;
  /** Async jobs of this environment (thread) not yet settled. */
  pendingJobs(): number;
  /** The N-API version the addon was built for, and its compiler. */
  versions: {
    /** N-API version. */
    napi: number;
    /** The compiler and its version. */
    compiler?: string;
  };
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

/**
 * The addon of this package (or the file RNNKIT_ADDON names), loaded on first use (each
 * worker_thread loads its own instance). Its per-call memory limit starts at the machine's memory;
 * in a container with a lower limit, at that.
 */
export function binding(): NativeBinding {
  if (!cached) {
    // RNNKIT_ADDON: a specific build of the addon (the sanitizer tests load an instrumented one).
    const forced = process.env.RNNKIT_ADDON;
    ({ binding: cached, file: loadedFile } = forced ? { binding: require(forced) as NativeBinding, file: forced } : loadFrom(packageRoot()));
    const container = process.constrainedMemory?.() ?? 0;
    if (container > 0 && container < cached.memoryLimit()) cached.setMemoryLimit(container);
  }
  return cached;
}

/**
 * The file binding() loaded (build/Release/rnnkit.node, prebuilds/linux-x64/rnnkit.glibc.node, …),
 * or undefined before the first call.
 */
export function addonPath(): string | undefined {
  return loadedFile;
}
