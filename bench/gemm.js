// The GEMM benchmark (bench/gemm.cpp → build-bench/bench_gemm): built once per run, run once per ISA
// with that ISA's environment (bench/isa.js: RNNKIT_ISA and the matching OPENBLAS_CORETYPE), at 1
// thread and at the thread count of our sequence children. Its best rate for an ISA and a thread
// count is the "sgemm peak" the sequence GFLOP/s are divided by.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

import { formatTable } from './format.js';
import { BENCH_DIR, ROOT } from './paths.js';

/** Configures and builds bench_gemm into build-bench/; `{ binary }` or `{ skipped: why }`. */
export function buildGemmBench() {
  const buildDir = join(ROOT, 'build-bench');
  if (!existsSync(join(BENCH_DIR, 'gemm.cpp'))) return { skipped: 'bench/gemm.cpp not in this tree' };
  if (!readFileSync(join(ROOT, 'CMakeLists.txt'), 'utf8').includes('RNNKIT_BUILD_BENCH')) {
    return { skipped: 'CMakeLists.txt has no RNNKIT_BUILD_BENCH option yet' };
  }
  const steps = [
    ['cmake', ['-S', ROOT, '-B', buildDir, '-DRNNKIT_BUILD_BENCH=ON', '-DCMAKE_BUILD_TYPE=Release']],
    ['cmake', ['--build', buildDir, '--target', 'bench_gemm', '-j', '2']],
  ];
  for (const [command, args] of steps) {
    const run = spawnSync(command, args, { encoding: 'utf8' });
    if (run.status !== 0) {
      return { skipped: `${command} ${args.join(' ')} failed: ${(run.stderr || run.stdout).trim().split('\n').slice(-3).join(' | ')}` };
    }
  }
  const binary = [join(buildDir, 'bench_gemm'), join(buildDir, 'bench', 'bench_gemm')].find(existsSync);
  return binary ? { binary } : { skipped: 'build-bench has no bench_gemm binary after the build' };
}

/**
 * bench_gemm's output: `# threads N, ours: isa X, OpenBLAS: Y kernels` headers, each followed by
 * `shape ours_gflops openblas_gflops ratio` rows. Returns one row per shape and header.
 */
export function parseGemmLines(lines) {
  const rows = [];
  let section = { threads: null, isa: null, openblasCore: null };
  for (const line of lines) {
    const header = /^#\s*threads\s+(\d+)(?:,\s*ours:\s*isa\s+([^,\s]+))?(?:,\s*OpenBLAS:\s*([^,\s]+))?/.exec(line);
    if (header) section = { threads: Number(header[1]), isa: header[2] ?? null, openblasCore: header[3] ?? null };
    const cells = line.trim().split(/\s+/);
    if (line.startsWith('#') || cells.length < 3 || !Number.isFinite(Number(cells[1]))) continue;
    rows.push({ ...section, shape: cells[0], ours: Number(cells[1]), openblas: Number(cells[2]),
      ratio: cells[3] === undefined ? null : Number(cells[3]) });
  }
  return rows;
}

/**
 * The sgemm peak for the sequence kernels of `isa` on `threads` threads: our best rate over every
 * shape bench_gemm measured with that ISA and thread count in this run, or null if it measured none.
 */
export function sgemmPeak(rows, isa, threads) {
  const own = (rows ?? []).filter((r) => r.isa === isa && r.threads === threads);
  const best = own.reduce((a, r) => (a && a.ours >= r.ours ? a : r), null);
  return best ? { gflops: best.ours, shape: best.shape, threads, isa } : null;
}

/**
 * Runs bench_gemm for one ISA (`env`: bench/isa.js childEnvironments(isa).gemm) at `threadCounts`.
 * Returns `{ binary, isa, lines, rows }`, with `error` when it failed or ran another ISA than asked.
 */
export function runGemmBench(build, isa, env, threadCounts) {
  if (!build.binary) return { isa, skipped: build.skipped };
  const run = spawnSync(build.binary, threadCounts.map(String), { encoding: 'utf8', env, timeout: 15 * 60_000 });
  const lines = `${run.stdout}`.split('\n').filter((l) => l.trim() !== '');
  const result = { binary: relative(ROOT, build.binary), isa, env: { RNNKIT_ISA: env.RNNKIT_ISA, OPENBLAS_CORETYPE: env.OPENBLAS_CORETYPE }, lines };
  if (run.status !== 0) return { ...result, error: `exit ${run.status}: ${`${run.stderr}`.trim()}` };
  const rows = parseGemmLines(lines);
  const wrong = rows.find((r) => r.isa !== isa);
  if (wrong) return { ...result, rows, error: `asked for ${isa}, bench_gemm ran ${wrong.isa}` };
  const core = env.OPENBLAS_CORETYPE;
  const otherCore = core && rows.find((r) => r.openblasCore?.toLowerCase() !== core.toLowerCase());
  if (otherCore) return { ...result, rows, error: `OPENBLAS_CORETYPE=${core}, but OpenBLAS ran its ${otherCore.openblasCore} kernels` };
  return { ...result, rows };
}

/** Issue #10: our GEMM on several threads at ≥ 0.9× OpenBLAS on every shape. */
export const GEMM_RATIO_TARGET = 0.9;

/**
 * bench_gemm's rows as one Markdown table: a line per shape, ours / OpenBLAS GFLOP/s and their ratio
 * per thread count, the ratio judged against GEMM_RATIO_TARGET on more than one thread.
 */
export function formatGemmTable(rows) {
  const threadCounts = [...new Set(rows.map((r) => r.threads))];
  const shapes = [...new Set(rows.map((r) => r.shape))];
  const header = ['shape', ...threadCounts.flatMap((t) => [`${t}T ours GF/s`, `${t}T OpenBLAS`, `${t}T ratio`])];
  const lines = shapes.map((shape) => [shape, ...threadCounts.flatMap((t) => {
    const r = rows.find((row) => row.shape === shape && row.threads === t);
    if (!r) return ['', '', ''];
    const verdict = t > 1 && r.ratio !== null ? (r.ratio >= GEMM_RATIO_TARGET ? ' ok' : ' MISS') : '';
    return [r.ours.toFixed(1), r.openblas.toFixed(1), r.ratio === null ? '' : `${r.ratio.toFixed(2)}${verdict}`];
  })]);
  return formatTable(header, lines);
}

/** The thread counts bench_gemm runs at: 1 and our children's (`quick`: only theirs). */
export function gemmThreadCounts(oursThreads, quick) {
  return [...new Set(quick ? [oursThreads] : [1, oursThreads])];
}
