// Which kernels each side of a benchmark runs, and the machine they run on.
//
// `--isa <name>` (avx512, avx2, neon, scalar; `best`, the default: the best this machine has; `all`:
// every one it has, one table set each) runs rnnkit with RNNKIT_ISA=<name> and PyTorch with the
// matching kernels (TORCH_ENV), and bench_gemm with both of those, so the sgemm peak and the OpenBLAS
// comparison are of the same instruction set. Both children check that they got what was asked
// (bench/child.js loadRnnkit, bench/torch_kernels.py configure_threads) and fail otherwise.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

import { ROOT } from './paths.js';

/** rnnkit's kernel sets, best first (native/src/dispatch.cpp). */
export const ISAS = ['avx512', 'avx2', 'neon', 'scalar'];

/**
 * PyTorch's environment for each of our ISAs. OPENBLAS_CORETYPE: the kernels of OpenBLAS, which
 * does PyTorch's GEMMs (Debian's torch calls libblas.so.3 → openblas-pthread); Debian's OpenBLAS
 * 0.3.21 does not recognise recent Xeons and otherwise falls back to its generic SSE3 "Prescott"
 * kernels, several times slower: never leave it to its own detection on x86. ATEN_CPU_CAPABILITY:
 * ATen's own vectorized kernels (activations, elementwise; 1.13 picks avx2 by default even on
 * AVX-512). scalar ↔ Prescott and ATen's `default`: the x86-64 baseline (SSE) on both sides.
 * neon: OpenBLAS's own detection (it knows ARM cores) and ATen's only arm64 level.
 */
export const TORCH_ENV = {
  avx512: { OPENBLAS_CORETYPE: 'SkylakeX', ATEN_CPU_CAPABILITY: 'avx512' },
  avx2: { OPENBLAS_CORETYPE: 'Haswell', ATEN_CPU_CAPABILITY: 'avx2' },
  neon: {},
  scalar: { OPENBLAS_CORETYPE: 'Prescott', ATEN_CPU_CAPABILITY: 'default' },
};

/** The environment of each kind of child for `isa`: rnnkit's, PyTorch's, and bench_gemm's (both). */
export function childEnvironments(isa, base = process.env) {
  const torch = TORCH_ENV[isa];
  return {
    rnnkit: { ...base, RNNKIT_ISA: isa },
    pytorch: { ...base, ...torch },
    gemm: { ...base, RNNKIT_ISA: isa, ...(torch.OPENBLAS_CORETYPE ? { OPENBLAS_CORETYPE: torch.OPENBLAS_CORETYPE } : {}) },
  };
}

/** `--isa` as given: a list of ISA names, `best` or `all`; unknown words throw. */
export function parseIsaOption(value) {
  const words = value.split(',').map((w) => w.trim()).filter((w) => w !== '');
  const known = ['best', 'all', ...ISAS];
  if (words.length === 0) throw new Error(`--isa needs a value: one of ${known.join(', ')}, or a comma-separated list`);
  for (const word of words) {
    if (!known.includes(word)) throw new Error(`--isa ${word}: unknown, expected one of ${known.join(', ')}`);
  }
  return words;
}

/** The ISAs to measure, in the order given (`all`: every available one, best first); throws for one this machine lacks. */
export function resolveIsas(requested, available) {
  if (requested.includes('all')) return [...available];
  const chosen = [];
  for (const word of requested) {
    const isa = word === 'best' ? available[0] : word;
    if (!available.includes(isa)) {
      const arm = isa === 'neon' ? '; NEON runs here only under qemu, in the correctness tests (npm test), never measured' : '';
      throw new Error(`--isa ${isa}: not available on this machine (available: ${available.join(', ')})${arm}`);
    }
    if (!chosen.includes(isa)) chosen.push(isa);
  }
  return chosen;
}

/** The ISAs a CPU with these /proc/cpuinfo flags (x86) or features (arm64) can run, best first. */
export function isasFromCpuFlags(flags) {
  const has = (...names) => names.every((n) => flags.includes(n));
  return ISAS.filter((isa) => ({
    avx512: has('avx512f', 'avx2', 'fma'),
    avx2: has('avx2', 'fma'),
    neon: has('asimd'),
    scalar: true,
  })[isa]);
}

/**
 * The ISAs the built addon can run here (it knows what the build has and what the OS saves), or,
 * when dist/ or the addon does not load, what the CPU flags say (PyTorch is measured regardless).
 */
export function availableIsas(cpu = describeCpu()) {
  const script = "const m = await import('./dist/index.js'); process.stdout.write(JSON.stringify(m.availableIsas()));";
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: ROOT, encoding: 'utf8', env: { ...process.env, RNNKIT_ISA: '' },
  });
  if (run.status === 0) return JSON.parse(run.stdout);
  return isasFromCpuFlags(cpu.flags);
}

// The CPU flags that tell which kernels can run (x86 /proc/cpuinfo flags, arm64 features).
const ISA_FLAGS = ['avx2', 'fma', 'avx512f', 'avx512bw', 'avx512vl', 'avx512_vnni', 'avx512_bf16', 'avx512_fp16',
  'amx_tile', 'asimd', 'asimdhp', 'sve', 'sve2'];

/**
 * The machine as `lscpu` names it: model name (with x86 family/model, which OpenBLAS's detection
 * goes by), the flags relevant to the ISAs, cores, hypervisor.
 */
export function describeCpu() {
  const run = spawnSync('lscpu', [], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  const field = (name) => new RegExp(`^${name}:\\s*(.+)$`, 'm').exec(run.stdout ?? '')?.[1]?.trim() ?? null;
  let flags = (field('Flags') ?? '').split(/\s+/);
  if (flags.length <= 1) { // no lscpu: /proc/cpuinfo
    try {
      flags = (/^(flags|Features)\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[2] ?? '').split(/\s+/);
    } catch {
      flags = [];
    }
  }
  const family = field('CPU family'), model = field('Model');
  return {
    model: field('Model name') ?? os.cpus()[0]?.model ?? 'unknown CPU',
    familyModel: family && model ? `family ${family} model ${model}` : null,
    arch: os.arch(),
    cores: os.availableParallelism(),
    hypervisor: field('Hypervisor vendor'),
    flags,
    isaFlags: ISA_FLAGS.filter((f) => flags.includes(f)),
  };
}

/** One line: `Intel(R) Xeon(R) Processor (family 6 model 207), x64, 2 cores, KVM; flags: avx2 fma …`. */
export function formatCpu(cpu) {
  const what = [cpu.familyModel ? `${cpu.model} (${cpu.familyModel})` : cpu.model, cpu.arch, `${cpu.cores} cores`];
  if (cpu.hypervisor) what.push(`${cpu.hypervisor} VM`);
  return `${what.join(', ')}; ISA flags: ${cpu.isaFlags.join(' ') || 'none'}`;
}
