/**
 * Process-wide controls of the native core: instruction set, thread count, version information,
 * and a raw SGEMM for tests and benchmarks. The ISA choice and the thread pool are shared by the
 * whole process (every worker_thread sees the same setting).
 * @module
 */
import { setFlagsFromString } from 'node:v8';
import { binding } from './native.js';
import { choice, float32Dims, intInRange, optionalBool, positiveInt, positiveNumber, expectObject } from './validate.js';

/** Names of the kernel sets, best first: 'avx512', 'avx2' (x86-64), 'neon' (arm64), 'scalar'. */
export type IsaName = 'avx512' | 'avx2' | 'neon' | 'scalar';

/** The kernel set in use (chosen at first use, or forced by the `RNNKIT_ISA` environment variable). */
export function isa(): string {
  return binding().isa();
}

/** The kernel sets this CPU and build support, best first (always ends with 'scalar'). */
export function availableIsas(): string[] {
  return binding().availableIsas();
}

/**
 * Forces a kernel set (tests, benchmarks).
 * @throws RangeError `Expected one of avx512, avx2, scalar for isa but received neon of type string`.
 */
export function setIsa(name: IsaName | string): void {
  binding().setIsa(choice(name, 'isa', availableIsas()));
  isaChanges++;
}

let isaChanges = 0;

/**
 * Counts {@link setIsa} calls in this thread: what caches of ISA-specific packed weights compare
 * (cheaper than asking the addon for the name every step).
 * @internal
 */
export function isaChangeCount(): number {
  return isaChanges;
}

/** How much V8's heap may grow between full garbage collections with {@link optimizeGcForTraining}: 5×. */
export const TRAINING_HEAP_GROWTH_PERCENT = 400;

/**
 * Lets V8's heap grow 5× between full garbage collections (V8's `--heap-growing-percent=400`;
 * `false` restores V8's own choice, 1.1–4× by how the collector keeps up). Process-wide, opt-in:
 * the CLI and the examples call it.
 *
 * Why: a training step allocates tens of MB of short-lived typed arrays while the JS heap itself
 * stays small (a few MB of modules and data), and V8 sizes its next collection from that small
 * heap: it runs a full mark-compact about once per step. On the G2P model (examples/g2p) that was
 * a third of the step; with this setting the step takes 0.66–0.76 of the time, for about 40 MB
 * more resident memory (garbage lives longer). See docs/training.md.
 */
export function optimizeGcForTraining(enabled = true): void {
  setFlagsFromString(`--heap-growing-percent=${optionalBool(enabled, 'enabled', true) ? TRAINING_HEAP_GROWTH_PERCENT : 0}`);
}

/** Largest thread count {@link setNumThreads} accepts. */
export const MAX_THREADS = 1024;

/** Sets the size of the core's thread pool (the calling thread counts as one). */
export function setNumThreads(threads: number): void {
  binding().setNumThreads(intInRange(threads, 'threads', 1, MAX_THREADS));
}

/** Threads of the core's pool; by default the cores this process may use. */
export function getNumThreads(): number {
  return binding().getNumThreads();
}

/** Versions of the loaded addon. */
export interface NativeVersions {
  /** N-API version the addon was compiled against. */
  napi: number;
  /** Compiler that built it, e.g. `gcc 12.2.0`. */
  compiler?: string;
}

/** Versions of the loaded addon (`napi`: the N-API version it was compiled against). */
export function nativeVersions(): NativeVersions {
  return { ...binding().versions };
}

/** Arguments of {@link sgemm}: contiguous row-major matrices. */
export interface SgemmOptions {
  /** Rows of op(A) and C. */
  m: number;
  /** Columns of op(B) and C. */
  n: number;
  /** Columns of op(A), rows of op(B). */
  k: number;
  /** `[m, k]`, or `[k, m]` when `transA`. */
  a: Float32Array;
  /** `[k, n]`, or `[n, k]` when `transB`. */
  b: Float32Array;
  /** `[m, n]`, written (or added to when `accumulate`). */
  c: Float32Array;
  /** Use A transposed (default false). */
  transA?: boolean;
  /** Use B transposed (default false). */
  transB?: boolean;
  /** Add the product to C instead of overwriting it (default false). */
  accumulate?: boolean;
}

/** `c = op(a)·op(b)` (`+ c` when accumulate) with the core's GEMM, on the thread pool. */
export function sgemm(opts: SgemmOptions): void {
  const o = expectObject(opts, 'opts');
  const m = positiveInt(o.m, 'm'), n = positiveInt(o.n, 'n'), k = positiveInt(o.k, 'k');
  const transA = optionalBool(o.transA, 'transA', false);
  const transB = optionalBool(o.transB, 'transB', false);
  const accumulate = optionalBool(o.accumulate, 'accumulate', false);
  const M = ['m', m] as const, N = ['n', n] as const, K = ['k', k] as const;
  const a = float32Dims(o.a, 'a', transA ? [K, M] : [M, K]);
  const b = float32Dims(o.b, 'b', transB ? [N, K] : [K, N]);
  const c = float32Dims(o.c, 'c', [M, N]);
  binding().sgemm(m, n, k, a, b, c, transA, transB, accumulate);
}

/**
 * Sets the most memory one native call may use (its results, training cache, working memory and,
 * for the async forms, copies of its inputs), checked before anything is allocated: a call over it
 * throws a RangeError that says how much it needed. Default: the machine's physical memory, or a
 * container's limit (`process.constrainedMemory()`) when lower.
 * @param bytes a positive number, or Infinity for no limit.
 */
export function setMemoryLimit(bytes: number): void {
  binding().setMemoryLimit(positiveNumber(bytes, 'bytes'));
}

/** The limit {@link setMemoryLimit} sets (bytes; Infinity for none). */
export function getMemoryLimit(): number {
  return binding().memoryLimit();
}

/** What rnnkit's native memory holds for reuse and what it frees. */
export interface MemoryInfo {
  /** Bytes of released blocks kept for the next calls (a training loop asks for the same sizes every step). */
  idleBytes: number;
}

/** Bytes the native memory cache keeps for reuse. */
export function memoryInfo(): MemoryInfo {
  return { idleBytes: binding().idleMemory() };
}

/** Frees the memory the native cache keeps for reuse (the next calls allocate again). */
export function releaseMemory(): void {
  binding().releaseIdleMemory();
}
