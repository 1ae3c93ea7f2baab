// The benchmark tooling's pieces that can break without anyone noticing (bench/*.js): option
// parsing (--isa, --only, --quick), the ISA → PyTorch environment, bench_gemm's output and the sgemm
// peak (same ISA and thread count only), the verdicts against issue #10's targets, the tables, and
// the child protocol's fixed-step schedule with its memory figures. Canned data and a no-op child:
// no torch, no addon build of its own, well under a second apart from the child's start-up.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const BENCH = path.resolve(import.meta.dirname, '..', 'bench');
// Plain JS modules without declarations: imported by URL, typed loosely here.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Module = Record<string, any>;
const load = (name: string): Promise<Module> => import(pathToFileURL(path.join(BENCH, name)).href);
const [driver, format, isa, gemm, configs, kernels, train] = await Promise.all(
  ['driver.js', 'format.js', 'isa.js', 'gemm.js', 'configs.js', 'kernels.js', 'train.js'].map(load),
);

const GEMM_OUTPUT = [
  '# threads 1, ours: isa avx2, OpenBLAS: Haswell kernels',
  'shape                         ours_gflops openblas_gflops   ratio',
  'square_256                           90.0           88.0   0.978',
  'recurrent_packed_64x1024x256        180.0          100.0   1.800',
  '# threads 2, ours: isa avx2, OpenBLAS: Haswell kernels',
  'shape                         ours_gflops openblas_gflops   ratio',
  'square_256                          150.0          160.0   0.938',
  'square_1024                         100.0          200.0   0.500',
];

describe('options', () => {
  it('--isa takes one ISA, a list, best or all, and rejects anything else', () => {
    expect(kernels.readOptions(['--isa', 'avx2']).isas).toEqual(['avx2']);
    expect(kernels.readOptions(['--isa', 'avx512,scalar']).isas).toEqual(['avx512', 'scalar']);
    expect(kernels.readOptions([]).isas).toEqual(['best']);
    expect(train.readOptions(['--isa', 'all']).isas).toEqual(['all']);
    expect(() => kernels.readOptions(['--isa', 'avx3'])).toThrow(/--isa avx3: unknown/);
    expect(() => kernels.readOptions(['--isa', ''])).toThrow(/--isa needs a value/);
  });

  it('--only and --modes pick known names and reject unknown ones', () => {
    const options = kernels.readOptions(['--only', 'S,M-LSTM', '--modes', 'train']);
    expect(options.configs.map((c: Module) => c.name)).toEqual(['S', 'M-LSTM']);
    expect(options.modes).toEqual(['train']);
    expect(train.readOptions(['--only', 'stream']).configs.map((c: Module) => c.name)).toEqual(['stream']);
    expect(() => kernels.readOptions(['--only', 'S,XL'])).toThrow(/unknown XL/);
    expect(() => kernels.readOptions(['--only', 'stream'])).toThrow(/unknown stream/); // not a kernels config
    expect(() => kernels.readOptions(['--modes', 'memory'])).toThrow(/unknown memory/);
    expect(() => kernels.readOptions(['--bogus'])).toThrow();
  });

  it('--quick shortens every budget, numbers are checked', () => {
    const quick = train.readOptions(['--quick']);
    expect([quick.seconds, quick.minRuns, quick.warmup, quick.memorySteps, quick.quick]).toEqual([1, 3, 1, 8, true]);
    const full = train.readOptions(['--seconds', '2']);
    expect([full.seconds, full.minRuns, full.memorySteps, full.gemm, full.bare]).toEqual([2, 5, 20, true, true]);
    expect(train.readOptions(['--no-gemm', '--no-bare'])).toMatchObject({ gemm: false, bare: false });
    expect(() => kernels.readOptions(['--seconds', 'abc'])).toThrow(/--seconds must be a positive number/);
    expect(() => kernels.readOptions(['--threads', '0'])).toThrow(/--threads must be a positive integer/);
    expect(() => train.readOptions(['--memory-steps', '10'])).toThrow(/multiple of 4/);
  });

  it('the memory loop runs exactly --memory-steps steps, the check step being the first', () => {
    const schedule = train.memoryMeasureOptions(train.readOptions(['--memory-steps', '12']));
    expect(1 + schedule.warmup + schedule.fixedSteps).toBe(12);
    expect(schedule.fixedSteps % schedule.maxRounds).toBe(0);
  });
});

describe('ISA selection', () => {
  it('resolves best, all and named ISAs against what the machine has', () => {
    const x86 = ['avx512', 'avx2', 'scalar'];
    expect(isa.resolveIsas(['best'], x86)).toEqual(['avx512']);
    expect(isa.resolveIsas(['all'], x86)).toEqual(x86);
    expect(isa.resolveIsas(['scalar', 'avx2', 'scalar'], x86)).toEqual(['scalar', 'avx2']);
    expect(() => isa.resolveIsas(['neon'], x86)).toThrow(/not available on this machine.*qemu/);
    expect(isa.resolveIsas(['best'], ['avx2', 'scalar'])).toEqual(['avx2']);
  });

  it('reads the ISAs from CPU flags when the addon can not say', () => {
    expect(isa.isasFromCpuFlags(['sse2', 'avx2', 'fma', 'avx512f'])).toEqual(['avx512', 'avx2', 'scalar']);
    expect(isa.isasFromCpuFlags(['avx2'])).toEqual(['scalar']); // AVX2 without FMA: not our avx2 kernels
    expect(isa.isasFromCpuFlags(['fp', 'asimd'])).toEqual(['neon', 'scalar']);
  });

  it('gives PyTorch and bench_gemm the OpenBLAS kernels of the same ISA', () => {
    const avx2 = isa.childEnvironments('avx2', { PATH: '/bin', OPENBLAS_CORETYPE: 'Prescott' });
    expect(avx2.rnnkit).toEqual({ PATH: '/bin', OPENBLAS_CORETYPE: 'Prescott', RNNKIT_ISA: 'avx2' });
    expect(avx2.pytorch).toMatchObject({ OPENBLAS_CORETYPE: 'Haswell', ATEN_CPU_CAPABILITY: 'avx2' });
    expect(avx2.gemm).toMatchObject({ RNNKIT_ISA: 'avx2', OPENBLAS_CORETYPE: 'Haswell' });
    expect(isa.childEnvironments('avx512', {}).pytorch.OPENBLAS_CORETYPE).toBe('SkylakeX');
    expect(isa.childEnvironments('scalar', {}).gemm.OPENBLAS_CORETYPE).toBe('Prescott');
    expect(isa.childEnvironments('neon', {}).pytorch).toEqual({}); // OpenBLAS's own detection on ARM
    for (const name of isa.ISAS) expect(isa.TORCH_ENV).toHaveProperty(name);
  });
});

describe('sgemm peak', () => {
  const rows = gemm.parseGemmLines(GEMM_OUTPUT);

  it('parses bench_gemm sections with their ISA, OpenBLAS kernels and threads', () => {
    expect(rows).toHaveLength(4);
    expect(rows[0]).toEqual({ threads: 1, isa: 'avx2', openblasCore: 'Haswell', shape: 'square_256', ours: 90, openblas: 88, ratio: 0.978 });
    expect(rows[3]).toMatchObject({ threads: 2, shape: 'square_1024', ours: 100 });
  });

  it('is the best rate of the same ISA and thread count only', () => {
    // The 1-thread packed line (180) is the best overall but not at 2 threads.
    expect(gemm.sgemmPeak(rows, 'avx2', 2)).toEqual({ gflops: 150, shape: 'square_256', threads: 2, isa: 'avx2' });
    expect(gemm.sgemmPeak(rows, 'avx2', 1)).toMatchObject({ gflops: 180, shape: 'recurrent_packed_64x1024x256' });
    expect(gemm.sgemmPeak(rows, 'avx512', 2)).toBeNull();
    expect(gemm.sgemmPeak(rows, 'avx2', 4)).toBeNull();
    expect(gemm.sgemmPeak(undefined, 'avx2', 2)).toBeNull();
  });

  it('runs bench_gemm at 1 thread and at ours (quick: ours only)', () => {
    expect(gemm.gemmThreadCounts(2, false)).toEqual([1, 2]);
    expect(gemm.gemmThreadCounts(2, true)).toEqual([2]);
    expect(gemm.gemmThreadCounts(1, false)).toEqual([1]);
  });

  it('judges our GEMM on several threads against 0.9× OpenBLAS', () => {
    const table = gemm.formatGemmTable(rows);
    expect(table).toMatch(/square_256 .*\| 0\.98 +\|.*\| 0\.94 ok/);
    expect(table).toMatch(/square_1024 .*\| 0\.50 MISS/);
  });
});

// A measured M-LSTM training row: ours 100 ms median (80 min), PyTorch 250 (150).
function measuredRow(mode: string, oursName: string) {
  const config = configs.CONFIGS.find((c: Module) => c.name === 'M-LSTM');
  const memory = (peakRssMB: number, faultsPerStep: number) => ({ startRssMB: 60, peakRssMB, faultsPerStep, faultSamples: 10, stepsRun: 20 });
  return {
    config: { ...config, modes: [mode] }, mode,
    [oursName]: { medianMs: 100, minMs: 80, memory: memory(262, 1400), samplesMs: [100, 100], reference: { medianMs: 95, minMs: 78, samplesMs: [95, 90] } },
    pytorch: { medianMs: 250, minMs: 150, memory: memory(407, 8000) },
  };
}

describe('verdicts and tables', () => {
  // 2·T·B·G·H·(I+H) = 2·100·64·4·256·384 = 5.03 GFLOP forward, 15.1 per training step.
  const trainFlops = 3 * 2 * 100 * 64 * 4 * 256 * 384;

  it('counts FLOPs and rates as ARCHITECTURE.md §8 says', () => {
    const config = configs.CONFIGS.find((c: Module) => c.name === 'M-LSTM');
    expect(configs.flopsOf(config, 'train')).toBe(trainFlops);
    expect(configs.flopsOf(config, 'infer')).toBe(trainFlops / 3);
    const side = configs.addRates(config, 'train', { medianMs: 100, minMs: 80 });
    expect(side.gflops).toBeCloseTo(trainFlops / 0.1 / 1e9, 6);
    expect(side.gflopsBest).toBeCloseTo(trainFlops / 0.08 / 1e9, 6);
    expect(side.tokensPerSec).toBeCloseTo(6400 / 0.1, 6);
  });

  it('judges the speed-up by medians and the share of the peak against 70 %', () => {
    const row = measuredRow('train', 'rnnkit');
    const peak = { gflops: 200, shape: 'square_256', threads: 2, isa: 'avx2' };
    const gflops = trainFlops / 0.1 / 1e9; // 151 GFLOP/s: 75 % of 200
    const verdict = kernels.formatModeTable([{ ...row, ...kernels.derive(row, peak) }], 'train');
    expect(verdict).toMatch(/\| M-LSTM +\| 128\/256\/64\/100 +\| 100\.0 \(80\.0\) +\| 250\.0 \(150\.0\) +\| 2\.50× \/ 1\.88× +\| ≥2× ok/);
    expect(verdict).toContain(`| ${gflops.toFixed(1)} (${(gflops / 0.8).toFixed(1)})`);
    expect(verdict).toContain('| 75% / 94% (≥70% ok)');
    expect(verdict).toContain('| 262 / 407 ');
    expect(verdict).toContain('| 1400 / 8000 ');

    const slowPeak = { ...peak, gflops: 400 }; // 38 %
    const missed = kernels.formatModeTable([{ ...row, ...kernels.derive(row, slowPeak) }], 'train');
    expect(missed).toContain('| 38% / 47% (≥70% MISS)');
    const slower = { ...row, rnnkit: { ...row.rnnkit, medianMs: 130 } }; // 250 / 130 = 1.92×: the medians decide
    expect(kernels.formatModeTable([{ ...slower, ...kernels.derive(slower, peak) }], 'train')).toMatch(/1\.92× \/ 1\.88× +\| ≥2× MISS/);
    const noPeak = kernels.formatModeTable([{ ...row, ...kernels.derive(row, null) }], 'train');
    expect(noPeak).toContain('| n/a / n/a (≥70%) ');
  });

  it('keeps every column of the model-API tables filled, and judges the memory loop against 150 MB', () => {
    const peak = { gflops: 200, shape: 'square_256', threads: 2, isa: 'avx2' };
    const trainRow = measuredRow('train', 'model');
    const memoryRow = measuredRow('memory', 'model');
    const section = { rows: [trainRow, memoryRow].map((r) => ({ ...r, ...train.derive(r, peak) })) };
    const text = train.formatTables(section);
    const tables = text.split('\n').filter((line: string) => line.startsWith('| '));
    const cells = tables.flatMap((line: string) => line.split('|').slice(1, -1).map((cell) => cell.trim()));
    expect(cells.filter((cell: string) => cell === '' || cell.includes('n/a'))).toEqual([]);
    expect(text).toMatch(/\| M-LSTM +\| 128\/256\/64\/100 +\| 100\.0 \(80\.0\) +\| 95\.0 \(78\.0\) +\| 250\.0 \(150\.0\) +\| 2\.50× \/ 1\.88× +\| ≥2× ok +\| \+8\.2 % \/ \+2\.6 % \(≤10 % ok\)/);
    expect(text).toMatch(/\| M-LSTM 128\/256\/64\/100, MSE, Adam \| 20 \(last 10\) \/ 20 \(last 10\) +\| 262 +\| 407 +\| ≤150 MB MISS/);
    const lean = { ...memoryRow, model: { ...memoryRow.model, memory: { ...memoryRow.model.memory, peakRssMB: 140 } } };
    expect(train.formatMemoryTable([{ ...lean, ...train.derive(lean, peak) }])).toContain('≤150 MB ok');
  });

  it('formats Markdown tables with aligned columns', () => {
    expect(format.formatTable(['a', 'long header'], [['1', '2'], ['333', '4']]).split('\n')).toEqual([
      '| a   | long header |',
      '|-----|-------------|',
      '| 1   | 2           |',
      '| 333 | 4           |',
    ]);
  });
});

describe('child protocol', () => {
  it('runs a fixed number of steps and reports the peak RSS and the faults of the measured ones', async () => {
    const script = `import { announce, serve } from ${JSON.stringify(pathToFileURL(path.join(BENCH, 'child.js')).href)};
      let x = 0; const step = () => { for (let i = 0; i < 1000; i++) x += i; };
      announce({}, step, 'no-op'); await serve(step);`;
    const makePeer = (name: string) => new driver.Peer(name, process.execPath, ['--input-type=module', '-e', script]);
    const result = await driver.measurePeers([makePeer('a'), makePeer('b')],
      { ...kernels.readOptions([]), warmup: 3, fixedSteps: 4, maxRounds: 2 });
    for (const name of ['a', 'b']) {
      expect(result[name].error).toBeUndefined();
      expect(result[name].samplesMs).toHaveLength(4);
      expect(result[name].memory).toMatchObject({ faultSamples: 4, stepsRun: 1 + 3 + 4 });
      expect(result[name].memory.peakRssMB).toBeGreaterThan(10);
      expect(result[name].memory.startRssMB).toBeGreaterThan(10);
      expect(result[name].memory.faultsPerStep).toBeGreaterThanOrEqual(0);
    }
  });
});
