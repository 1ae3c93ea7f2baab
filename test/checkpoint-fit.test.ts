// fit({ resumeFrom }) continues bit for bit: a run interrupted at an epoch boundary, or aborted in
// the middle of an epoch, then resumed with fresh objects (other seed), ends with the same weights
// as the uninterrupted run. Unseeded shuffled DataLoader (its epoch order seeds come from the global
// RNG), dropout, StepLR, gradient clipping: every source of state a resume has to carry.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DataLoader, fit, getNumThreads, isa, manualSeed, optim, readCheckpointInfo, TensorDataset, tensor, type Callback,
} from '../src/index.js';
import {
  Classifier, differingElements, INPUT_SIZE, makeDataset, SEQ_LEN, weightBits,
} from './helpers/checkpoint-model.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rnnkit-fit-resume-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const EPOCHS = 4;
const examples = makeDataset(22);  // batch 4: 6 batches per epoch, the last one of 2
const dataset = new TensorDataset(
  tensor(Float32Array.from(examples.flatMap((e) => Array.from(e.x))), [examples.length, SEQ_LEN, INPUT_SIZE]),
  tensor(examples.map((e) => e.label)),
);

function setUp(seed: number) {
  manualSeed(seed);
  const model = new Classifier();
  const optimizer = new optim.Adam(model.parameters(), { lr: 0.02 });
  const scheduler = new optim.StepLR(optimizer, 2, { gamma: 0.5 });
  const train = new DataLoader(dataset, { batchSize: 4, shuffle: true });
  return { model, optimizer, scheduler, train };
}

async function runFit(seed: number, options: { epochs: number; checkpointDir?: string; resumeFrom?: string; signal?: AbortSignal; callbacks?: Callback[] }) {
  const objects = setUp(seed);
  const history = await fit(objects.model, {
    train: objects.train, loss: 'crossEntropy', optimizer: objects.optimizer, scheduler: objects.scheduler,
    clipGradNorm: 1, progress: false, ...options,
  });
  return { ...objects, history };
}

describe('fit resume is bitwise', () => {
  it(`${EPOCHS} epochs uninterrupted = 2 epochs, then resumeFrom with fresh objects`, async () => {
    const reference = await runFit(42, { epochs: EPOCHS });
    const checkpointDir = path.join(dir, 'epoch-boundary');
    const first = await runFit(42, { epochs: 2, checkpointDir });
    expect(readCheckpointInfo(path.join(checkpointDir, 'last.safetensors'))).toMatchObject({ epoch: 2, step: 12 });
    const resumed = await runFit(9, { epochs: EPOCHS, resumeFrom: checkpointDir, checkpointDir });
    expect(first.history.epochs).toHaveLength(2);
    expect(resumed.history.epochs).toHaveLength(EPOCHS);
    expect(resumed.history.steps).toBe(reference.history.steps);
    expect(resumed.history.metrics.loss).toEqual(reference.history.metrics.loss);
    expect(resumed.optimizer.paramGroups[0].lr).toBe(reference.optimizer.paramGroups[0].lr);
    expect(differingElements(weightBits(reference.model), weightBits(resumed.model))).toBe(0);
  });

  it('aborted in the middle of an epoch (AbortSignal), then resumed: the same weights', async () => {
    const reference = await runFit(42, { epochs: EPOCHS });
    const checkpointDir = path.join(dir, 'mid-epoch');
    const controller = new AbortController();
    const abortAt: Callback = {
      onBatchEnd: (_batch, _logs, context) => {
        if (context.step === 9) controller.abort();  // epoch 1, batch 3 of 6
      },
    };
    const aborted = await runFit(42, { epochs: EPOCHS, checkpointDir, signal: controller.signal, callbacks: [abortAt] });
    expect(aborted.history.stopReason).toBe('aborted');
    expect(readCheckpointInfo(path.join(checkpointDir, 'last.safetensors'))).toMatchObject({ epoch: 1, step: 9 });
    const resumed = await runFit(9, { epochs: EPOCHS, resumeFrom: checkpointDir, checkpointDir });
    const differing = differingElements(weightBits(reference.model), weightBits(resumed.model));
    console.log(`fit resume after abort at step 9: ${differing} weights differ (isa ${isa()}, ${getNumThreads()} threads); `
      + `final loss ${resumed.history.metrics.loss.at(-1)?.toFixed(5)} vs ${reference.history.metrics.loss.at(-1)?.toFixed(5)}`);
    expect(resumed.history.steps).toBe(reference.history.steps);
    expect(resumed.history.metrics.loss).toEqual(reference.history.metrics.loss);
    expect(differing).toBe(0);
  });
});
