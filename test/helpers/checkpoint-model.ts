// A small sequence classifier and a plain training loop for the checkpoint tests: 2-layer LSTM with
// inter-layer dropout → dropout → Linear, Adam, gradient clipping, StepLR per epoch; batches in an
// order shuffled from the global RNG each epoch (like an unseeded loader). Every source of
// randomness a resume must reproduce is there: init, dropout masks, the shuffle.
import { getRngState, manualSeed, nn, optim, setRngState, type Tensor, tensor } from '../../src/index.js';
import { randomInt, randomNormal } from '../../src/tensor/random.js';

export const INPUT_SIZE = 4;
export const CLASSES = 3;
export const SEQ_LEN = 6;
export const BATCH = 4;

export class Classifier extends nn.Module {
  lstm: nn.LSTM;
  dropout = new nn.Dropout(0.25);
  head: nn.Linear;

  /** `variational`: the LSTM's inputDropout / recurrentDropout (default none). */
  constructor(hiddenSize = 16, variational: { inputDropout?: number; recurrentDropout?: number } = {}) {
    super();
    this.lstm = new nn.LSTM(INPUT_SIZE, hiddenSize, { numLayers: 2, dropout: 0.3, batchFirst: true, ...variational });
    this.head = new nn.Linear(hiddenSize, CLASSES);
  }

  /** x [B, T, I] → logits [B, CLASSES] from the last step. */
  forward(x: Tensor): Tensor {
    const [output] = this.lstm.forward(x);
    return this.head.forward(this.dropout.forward(output.select(1, SEQ_LEN - 1)));
  }
}

export interface Example { x: Float32Array; label: number }

/** A fixed data set (its own seed, independent of the training seed). */
export function makeDataset(size: number, seed = 7): Example[] {
  const saved = getRngState();
  manualSeed(seed);
  const data = Array.from({ length: size }, () => {
    const x = Float32Array.from({ length: SEQ_LEN * INPUT_SIZE }, () => randomNormal());
    return { x, label: randomInt(CLASSES) };
  });
  setRngState(saved);
  return data;
}

/**
 * Batches in a shuffled order, reshuffled from the global RNG at each epoch start, with a resumable
 * position: stateDict() holds the epoch's order and the next batch — what a loader must save for a
 * resume in the middle of an epoch.
 */
export class ShuffledBatches {
  order: number[] = [];
  position = 0;
  epoch = 0;

  constructor(readonly data: Example[], readonly batchSize = BATCH) {}

  get batchesPerEpoch(): number {
    return Math.floor(this.data.length / this.batchSize);
  }

  /** The next batch (x [B, T, I], labels), starting a new epoch (and shuffle) when needed. */
  next(): { x: Tensor; labels: number[]; epochStart: boolean } {
    const epochStart = this.position === 0;
    if (epochStart) {
      this.order = Array.from(this.data.keys());
      for (let i = this.order.length - 1; i > 0; i--) {
        const j = randomInt(i + 1);
        [this.order[i], this.order[j]] = [this.order[j], this.order[i]];
      }
    }
    const picked = this.order.slice(this.position * this.batchSize, (this.position + 1) * this.batchSize).map((i) => this.data[i]);
    this.position = (this.position + 1) % this.batchesPerEpoch;
    if (this.position === 0) this.epoch++;
    const x = new Float32Array(picked.length * SEQ_LEN * INPUT_SIZE);
    picked.forEach((example, b) => x.set(example.x, b * SEQ_LEN * INPUT_SIZE));
    return { x: tensor(x, [picked.length, SEQ_LEN, INPUT_SIZE]), labels: picked.map((e) => e.label), epochStart };
  }

  stateDict(): { order: number[]; position: number; epoch: number } {
    return { order: [...this.order], position: this.position, epoch: this.epoch };
  }

  loadStateDict(state: { order: number[]; position: number; epoch: number }): void {
    this.order = [...state.order];
    this.position = state.position;
    this.epoch = state.epoch;
  }
}

export interface TrainingRun {
  model: Classifier;
  optimizer: optim.Adam;
  scheduler: optim.StepLR;
  batches: ShuffledBatches;
  step: number;
}

/** Fresh objects; the model's init draws from the global RNG (seed it first). */
export function newRun(data: Example[]): TrainingRun {
  const model = new Classifier();
  const optimizer = new optim.Adam(model.parameters(), { lr: 0.02 });
  const scheduler = new optim.StepLR(optimizer, 2, { gamma: 0.5 });
  return { model, optimizer, scheduler, batches: new ShuffledBatches(data), step: 0 };
}

/** `steps` optimizer steps; the scheduler steps after each completed epoch. Returns the losses. */
export function train(run: TrainingRun, steps: number): number[] {
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    const { x, labels } = run.batches.next();
    const loss = nn.crossEntropy(run.model.forward(x), labels);
    run.optimizer.zeroGrad();
    loss.backward();
    optim.clipGradNorm_(run.model.parameters(), 1.0);
    run.optimizer.step();
    run.step++;
    if (run.batches.position === 0) run.scheduler.step();
    losses.push(loss.item());
  }
  return losses;
}

/** Every parameter's bits, by name (bitwise comparison: -0 ≠ 0, NaN payloads count). */
export function weightBits(model: nn.Module): Record<string, number[]> {
  return Object.fromEntries(Object.entries(model.stateDict()).map(([name, t]) => [name, Array.from(new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length))]));
}

/** Number of parameter elements whose bits differ between two snapshots. */
export function differingElements(a: Record<string, number[]>, b: Record<string, number[]>): number {
  let count = 0;
  for (const [name, bits] of Object.entries(a)) bits.forEach((v, i) => { if (b[name]?.[i] !== v) count++; });
  return count;
}
