/**
 * `rnnkit bench`: a quick benchmark of this machine through the public API, on the configurations
 * of the design's §8 (S, M, L, stream). For each: a training step (forward over the sequence, MSE
 * against a random target on every output, backward, Adam update) and inference (forward, no
 * gradient), in tokens/s (T·B per step), ms per step and GFLOP/s (2·M·N·K per GEMM; a training
 * step counted as 3 forwards). `stream`: `module.stream().step(x)`, one step at B = 1 with the state
 * carried, in µs per step.
 * @module
 */
import * as nn from '../nn/index.js';
import * as optim from '../optim/index.js';
import { getNumThreads, isa } from '../runtime.js';
import { manualSeed, noGrad, randn, type Tensor } from '../tensor/index.js';
import type { Output } from './output.js';
import { BENCH_CONFIGS, type BenchConfig, type CellKind } from './specs.js';
import { CELLS } from '../cell-table.js';
import type { BENCH_OPTIONS } from './command-options.js';
import type { OptionValues } from './options.js';

/** One measured row. */
/** Options of `rnnkit bench`. */
export type BenchCliOptions = OptionValues<typeof BENCH_OPTIONS>;

export interface BenchResult {
  config: string;
  cell: CellKind;
  inputSize: number;
  hiddenSize: number;
  batch: number;
  steps: number;
  /** Absent for `stream` (inference only). */
  train?: Timing;
  infer: Timing;
}

export interface Timing {
  iterations: number;
  msPerStep: number;
  tokensPerSecond: number;
  gflops: number;
}

/** The recurrent layers' common call, `forward(x [T, B, I], state?)` → `[output, state]`. */
interface RecurrentLayer {
  forward(x: Tensor, state?: unknown): [Tensor, unknown];
  parameters(): nn.Parameter[];
  stream(): nn.RecurrentStream;
}

function makeLayer(cell: CellKind, config: BenchConfig): RecurrentLayer {
  const { inputSize, hiddenSize } = config;
  return (cell === 'lstm' ? new nn.LSTM(inputSize, hiddenSize) : cell === 'gru' ? new nn.GRU(inputSize, hiddenSize) : new nn.RNN(inputSize, hiddenSize)) as unknown as RecurrentLayer;
}

/** Runs `step` once to warm up, then until `seconds` have passed (at least `minIterations` times). */
function measure(step: () => void, seconds: number, minIterations: number): { iterations: number; seconds: number } {
  step();
  const start = performance.now();
  let iterations = 0;
  let elapsed = 0;
  do {
    step();
    iterations++;
    elapsed = (performance.now() - start) / 1000;
  } while (elapsed < seconds || iterations < minIterations);
  return { iterations, seconds: elapsed };
}

function timing(run: { iterations: number; seconds: number }, tokensPerStep: number, flopsPerStep: number): Timing {
  const perStep = run.seconds / run.iterations;
  return { iterations: run.iterations, msPerStep: perStep * 1e3, tokensPerSecond: tokensPerStep / perStep, gflops: flopsPerStep / perStep / 1e9 };
}

/** Measures one cell of one configuration. */
export function benchCell(config: BenchConfig, cell: CellKind, seconds: number): BenchResult {
  const { inputSize: I, hiddenSize: H, batch: B, steps: T } = config;
  const layer = makeLayer(cell, config);
  const forwardFlops = 2 * T * B * CELLS[cell === 'rnn' ? 'rnn_tanh' : cell].gates * H * (I + H);
  const shape = { config: config.name, cell, inputSize: I, hiddenSize: H, batch: B, steps: T };
  if (config.name === 'stream') {
    const x = randn(I); // one step of one sequence
    const stream = layer.stream(); // packed weights, the state carried from step to step
    return { ...shape, infer: timing(measure(() => stream.step(x), seconds, 100), 1, forwardFlops) };
  }
  const x = randn(T, B, I); // time-major [T, B, I]
  const target = randn(T, B, H);
  const optimizer = new optim.Adam(layer.parameters(), { lr: 1e-4 });
  const trainStep = () => {
    optimizer.zeroGrad();
    const [output] = layer.forward(x);
    nn.mseLoss(output, target).backward();
    optimizer.step();
  };
  const train = timing(measure(trainStep, seconds, 2), T * B, 3 * forwardFlops);
  const infer = timing(measure(() => noGrad(() => layer.forward(x)), seconds, 2), T * B, forwardFlops);
  return { ...shape, train, infer };
}

/** Resolves `--config` (comma-separated names or `all`) and `--cell` to what will run. */
export function benchPlan(configNames: string, cellFilter: string): Array<[BenchConfig, CellKind]> {
  const names = configNames === 'all' ? Object.keys(BENCH_CONFIGS) : configNames.split(',').map((name) => name.trim());
  const plan: Array<[BenchConfig, CellKind]> = [];
  for (const name of names) {
    const config = BENCH_CONFIGS[name] ?? BENCH_CONFIGS[name.toUpperCase()];
    if (!config) throw new Error(`unknown config ${name}`); // checked by the option parser before
    for (const cell of config.cells) if (cellFilter === 'all' || cellFilter === cell) plan.push([config, cell]);
  }
  return plan;
}

const fmt = (value: number, digits = 0): string => value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** One table row. */
export function formatBenchRow(r: BenchResult): string {
  const shape = `${r.cell.padEnd(5)} I=${r.inputSize} H=${r.hiddenSize} B=${r.batch} T=${r.steps}`;
  if (r.config === 'stream') {
    return `${r.config.padEnd(7)}${shape.padEnd(32)}step ${fmt(r.infer.msPerStep * 1e3, 1)} µs  (${fmt(r.infer.tokensPerSecond)} steps/s, ${fmt(r.infer.gflops, 1)} GFLOP/s)`;
  }
  const part = (label: string, t: Timing) => `${label} ${fmt(t.tokensPerSecond).padStart(10)} tok/s ${fmt(t.msPerStep, 2).padStart(8)} ms ${fmt(t.gflops, 1).padStart(6)} GFLOP/s`;
  return `${r.config.padEnd(7)}${shape.padEnd(32)}${part('train', r.train!)}   ${part('infer', r.infer)}`;
}

/** Runs the plan and prints a table (or JSON). */
export function runBench(options: BenchCliOptions, output: Output): BenchResult[] {
  manualSeed(options.seed);
  const plan = benchPlan(options.config, options.cell);
  if (!options.json) output.info(`rnnkit bench on ${isa()}, ${getNumThreads()} threads, ~${options.seconds} s per measurement`);
  const results: BenchResult[] = [];
  for (const [config, cell] of plan) {
    const result = benchCell(config, cell, options.seconds);
    results.push(result);
    if (!options.json) output.info(formatBenchRow(result));
  }
  if (options.json) output.info(JSON.stringify({ isa: isa(), threads: getNumThreads(), results }, null, 2));
  return results;
}
