// Child process of test/checkpoint-crash.test.ts: saves checkpoints of version v = 1, 2, 3, … in a
// loop (continuing after the version already on disk), alternating saveCheckpoint and
// saveCheckpointAsync, until the parent kills it with SIGKILL. Version v fills every model weight
// and every Adam buffer with versionValue(v, i), so a reader can tell a complete version from a mix.
// It starts (imports, addon, model) at once but touches the checkpoint only after a line on stdin,
// so the parent can start the next writer while the current one runs.
// stdout: "started", then "ready <v on disk>", then "saving <v>" / "saved <v>" around each save
// (stdout to a pipe is synchronous on Linux: the parent sees "saving" before the write begins).
// Usage: node checkpoint-writer.mjs <checkpoint path> <hidden size>
import { existsSync } from 'node:fs';
import {
  loadCheckpoint, nn, optim, saveCheckpoint, saveCheckpointAsync, type Tensor, tensor,
} from '../../src/index.js';

/** The value of element i of every tensor in version v (exact in float32 for v < 16000). */
export const versionValue = (version: number, i: number): number => version * 1024 + (i % 1021);

export class WriterModel extends nn.Module {
  lstm: nn.LSTM;
  head: nn.Linear;

  constructor(hiddenSize: number) {
    super();
    this.lstm = new nn.LSTM(32, hiddenSize);
    this.head = new nn.Linear(hiddenSize, 8);
  }

  forward(x: Tensor): Tensor {
    const [output] = this.lstm.forward(x);
    return this.head.forward(output);
  }
}

function fill(data: Float32Array, version: number): void {
  for (let i = 0; i < data.length; i++) data[i] = versionValue(version, i);
}

function fillAll(model: WriterModel, optimizer: optim.Adam, version: number): void {
  for (const p of model.parameters()) fill(p.data, version);
  for (const state of optimizer.state.values()) {
    state.step = version;
    fill(state.expAvg as Float32Array, version);
    fill(state.expAvgSq as Float32Array, version);
  }
}

async function main(): Promise<void> {
  const [file, hidden] = process.argv.slice(2);
  const model = new WriterModel(Number(hidden));
  const optimizer = new optim.Adam(model.parameters());
  const x = tensor(new Float32Array(2 * 1 * 32).fill(0.1), [2, 1, 32]);
  model.forward(x).sum().backward();
  optimizer.step();  // creates the step counts and moment buffers
  for (let warmUp = 0; warmUp < 3; warmUp++) fillAll(model, optimizer, 0);  // JIT-compile the fill loop
  process.stdout.write('started\n');
  await new Promise((resolve) => process.stdin.once('data', resolve));
  process.stdin.pause();
  let version = existsSync(file) ? loadCheckpoint(file, { model, optimizer }).step ?? 0 : 0;
  process.stdout.write(`ready ${version}\n`);
  for (;;) {
    version++;
    fillAll(model, optimizer, version);
    process.stdout.write(`saving ${version}\n`);
    if (version % 2 === 0) saveCheckpoint(file, { model, optimizer, step: version, epoch: version });
    else await saveCheckpointAsync(file, { model, optimizer, step: version, epoch: version });
    process.stdout.write(`saved ${version}\n`);
  }
}

if (process.argv[1]?.endsWith('checkpoint-writer.mjs')) void main();
