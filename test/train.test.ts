// fit / evaluate / predict: convergence on small real-shaped tasks, callbacks and their order,
// early stopping, abort + checkpoint, bitwise resume, non-finite handling, truncated BPTT,
// schedulers, metrics, progress output, and exact messages for bad options.
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ArrayDataset, DataLoader, EarlyStopping, IterableDataset, NonFiniteError, TensorDataset, evaluate, fit, fromOp, loadCheckpoint,
  manualSeed, nn, optim, padCollate, predict, randn, randomSplit, readCheckpointInfo, sequenceLength, Tensor, tensor,
  createMetrics, AccuracyMetric, MaeMetric, type Callback, type Metric, type History,
} from '../src/index.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'rnnkit-train-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const dir = (name: string): string => path.join(scratch, name);

/** Sequence classification: LSTM → hN of the last layer (each item's own last step) → Linear. */
class Classifier extends nn.Module {
  lstm: nn.LSTM;
  drop = new nn.Dropout(0.1);
  head: nn.Linear;

  constructor(features = 4, hidden = 16, classes = 3) {
    super();
    this.lstm = new nn.LSTM(features, hidden, { batchFirst: true });
    this.head = new nn.Linear(hidden, classes);
  }

  async forwardAsync(x: Tensor, state?: null, options?: { lengths?: Int32Array }): Promise<Tensor> {
    const [, [h]] = await this.lstm.forwardAsync(x, state, options);
    return this.head.forward(this.drop.forward(h.select(0, -1)));
  }

  forward(x: Tensor, state?: null, options?: { lengths?: Int32Array }): Tensor {
    const [, [h]] = this.lstm.forward(x, state, options);
    return this.head.forward(this.drop.forward(h.select(0, -1)));
  }
}

/**
 * Variable-length sequences (5–15 steps of 4 features); the label is the feature among the first
 * three with the largest mean over time — the model must read the whole sequence.
 */
function meanArgmaxTask(count: number): [Tensor, number][] {
  const items: [Tensor, number][] = [];
  for (let i = 0; i < count; i++) {
    const steps = 5 + (i % 11);
    const x = randn(steps, 4);
    const means = [0, 1, 2].map((f) => {
      let sum = 0;
      for (let t = 0; t < steps; t++) sum += x.data[t * 4 + f];
      return sum / steps;
    });
    items.push([x, means.indexOf(Math.max(...means))]);
  }
  return items;
}

function classificationSetup(seed: number, count = 600) {
  manualSeed(seed);
  const [trainSet, valSet] = randomSplit(new ArrayDataset(meanArgmaxTask(count)), [0.8, 0.2], { seed: 1 });
  const train = new DataLoader(trainSet, { batchSize: 32, shuffle: true, collate: padCollate(), bucketBy: sequenceLength });
  const validation = new DataLoader(valSet, { batchSize: 64, collate: padCollate() });
  const model = new Classifier();
  const optimizer = new optim.Adam(model.parameters(), { lr: 0.02 });
  return { train, validation, model, optimizer };
}

const weightsOf = (model: nn.Module): Float32Array[] => model.parameters().map((p) => p.data.slice());

describe('fit: convergence', () => {
  it('sequence classification (padded, bucketed, LSTM → last step → Linear) reaches 85 % validation accuracy', async () => {
    const { train, validation, model, optimizer } = classificationSetup(7);
    const history = await fit(model, {
      train, validation, loss: 'crossEntropy', optimizer, epochs: 12, metrics: ['accuracy'], progress: false,
    });
    const accuracy = history.metrics.val_accuracy;
    console.log(`classification: val_accuracy per epoch ${accuracy.map((a) => a.toFixed(3)).join(' ')}; `
      + `train loss ${history.metrics.loss[0].toFixed(3)} → ${history.metrics.loss.at(-1)!.toFixed(3)}`);
    expect(history.epochs).toHaveLength(12);
    expect(history.stopReason).toBe('completed');
    expect(history.steps).toBe(12 * 15);
    expect(accuracy.at(-1)).toBeGreaterThanOrEqual(0.85);
    expect(history.metrics.loss.at(-1)).toBeLessThan(0.3);
    expect(history.metrics.loss[0]).toBeGreaterThan(0.6);
    // evaluate() on the same loader gives the last epoch's validation numbers.
    const evaluated = await evaluate(model, validation, { metrics: ['accuracy'], loss: 'crossEntropy' });
    expect(evaluated.accuracy).toBe(accuracy.at(-1));
    expect(evaluated.loss).toBeCloseTo(history.metrics.val_loss.at(-1)!, 6);
    expect(model.training).toBe(true); // mode restored
  });

  it('language model with truncated BPTT: detached state carried across chunks, perplexity → ~1 on a periodic text', async () => {
    manualSeed(3);
    const vocab = 5, T = 40;
    // Period-5 sequences with random phases: the next token is predictable from the state.
    const sequences = Array.from({ length: 32 }, (_, i) => Array.from({ length: T + 1 }, (_, t) => (i + t) % vocab));
    const data = new TensorDataset(tensor(sequences.map((s) => s.slice(0, T))), tensor(sequences.map((s) => s.slice(1))));
    const received: (Tensor | null)[] = [];
    class LanguageModel extends nn.Module {
      embedding = new nn.Embedding(vocab, 8);
      lstm = new nn.LSTM(8, 24, { batchFirst: true });
      head = new nn.Linear(24, vocab);
      async forwardAsync(tokens: Tensor, state: [Tensor, Tensor] | null): Promise<[Tensor, [Tensor, Tensor]]> {
        received.push(state ? state[0] : null);
        const [out, next] = await this.lstm.forwardAsync(this.embedding.forward(tokens), state);
        return [this.head.forward(out), next];
      }
      forward(): never {
        throw new Error('not used');
      }
    }
    const model = new LanguageModel();
    const history = await fit(model, {
      train: new DataLoader(data, { batchSize: 16, shuffle: true, seed: 1 }), loss: 'crossEntropy',
      optimizer: new optim.Adam(model.parameters(), { lr: 0.05 }), epochs: 6, metrics: ['perplexity', 'accuracy'],
      tbptt: { steps: 10 }, progress: false,
    });
    console.log(`tbptt LM: perplexity per epoch ${history.metrics.perplexity.map((p) => p.toFixed(3)).join(' ')}`);
    expect(history.steps).toBe(6 * 2 * 4); // epochs × batches × chunks
    expect(history.metrics.perplexity.at(-1)).toBeLessThan(1.2);
    expect(history.metrics.accuracy.at(-1)).toBeGreaterThan(0.95);
    // Chunk 0 of every batch starts from zeros; chunks 1–3 get the previous chunk's state, detached.
    expect(received.filter((s, i) => (i % 4 === 0) !== (s === null))).toHaveLength(0);
    for (const state of received) if (state) expect(state.gradFn).toBeNull();
  });
});

describe('fit: callbacks', () => {
  function tinySetup() {
    manualSeed(1);
    const data = new TensorDataset(randn(6, 3, 2), randn(6, 1));
    const model = new nn.Sequential(new nn.Linear(2, 4), new nn.Linear(4, 1));
    const forward = (m: nn.Module, batch: { input: unknown }) => (m as nn.Sequential).forward((batch.input as Tensor).mean(1));
    return { train: new DataLoader(data, { batchSize: 3 }), validation: new DataLoader(data, { batchSize: 6 }), model, forward };
  }

  it('fire in order, are awaited, and see the logs', async () => {
    const { train, validation, model, forward } = tinySetup();
    const events: string[] = [];
    const recorder: Callback = {
      onTrainBegin: () => { events.push('trainBegin'); },
      onEpochBegin: (epoch) => { events.push(`epochBegin ${epoch}`); },
      onBatchBegin: (batch) => { events.push(`batchBegin ${batch}`); },
      onBatchEnd: async (batch, logs) => {
        await new Promise((resolve) => setTimeout(resolve, 2));
        events.push(`batchEnd ${batch} size ${logs.size}`);
      },
      onEpochEnd: (epoch, logs) => { events.push(`epochEnd ${epoch} ${Object.keys(logs).join(',')}`); },
      onTrainEnd: (context) => { events.push(`trainEnd ${context.stopReason}`); },
    };
    const second: Callback = { onEpochEnd: (epoch) => { events.push(`second epochEnd ${epoch}`); } };
    await fit(model, {
      train, validation, loss: 'mse', optimizer: new optim.SGD(model.parameters(), { lr: 0.01 }), epochs: 2,
      metrics: ['mae'], callbacks: [recorder, second], forward, progress: false,
    });
    const keys = 'epoch,loss,mae,val_loss,val_mae,lr,skippedBatches,seconds,tokensPerSecond';
    expect(events).toEqual([
      'trainBegin',
      'epochBegin 0', 'batchBegin 0', 'batchEnd 0 size 3', 'batchBegin 1', 'batchEnd 1 size 3', `epochEnd 0 ${keys}`, 'second epochEnd 0',
      'epochBegin 1', 'batchBegin 0', 'batchEnd 0 size 3', 'batchBegin 1', 'batchEnd 1 size 3', `epochEnd 1 ${keys}`, 'second epochEnd 1',
      'trainEnd completed',
    ]);
  });

  it('a callback can stop training after the current batch', async () => {
    const { train, model, forward } = tinySetup();
    const history = await fit(model, {
      train, loss: 'mse', optimizer: new optim.SGD(model.parameters(), { lr: 0.01 }), epochs: 5, forward, progress: false,
      callbacks: { onBatchEnd: (batch, _logs, context) => { if (context.epoch === 1 && batch === 0) context.stopTraining = true; } },
    });
    expect(history.stopReason).toBe('callback');
    expect(history.steps).toBe(3);
    expect(history.epochs).toHaveLength(2); // the stopped epoch still gets its logs
  });

  it('early stopping stops after `patience` epochs without improvement and restores the best weights', async () => {
    const { train, model, forward } = tinySetup();
    // A scripted metric: best (lowest) at epoch 1, then worse.
    const script = [3, 1, 2, 4, 5, 6];
    let epoch = 0;
    const scripted: Metric = { name: 'scripted', update() {}, compute: () => script[epoch++] };
    const snapshots: Float32Array[][] = [];
    const history = await fit(model, {
      train, loss: 'mse', optimizer: new optim.SGD(model.parameters(), { lr: 0.05 }), epochs: 6, metrics: [scripted],
      earlyStopping: { monitor: 'scripted', patience: 2, restoreBestWeights: true }, forward, progress: false,
      callbacks: { onEpochEnd: () => { snapshots.push(weightsOf(model)); } },
    });
    expect(history.epochs.map((e) => e.epoch)).toEqual([0, 1, 2, 3]); // 2 and 3 did not improve: stop after 3
    expect(history.stopReason).toBe('earlyStopping');
    expect(weightsOf(model)).toEqual(snapshots[1]);
    expect(weightsOf(model)).not.toEqual(snapshots[3]);
  });
});

describe('fit: abort, checkpoints, resume', () => {
  it('an abort stops within one batch and leaves a valid checkpoint of that state', async () => {
    const { train, model, optimizer } = classificationSetup(11, 256);
    const controller = new AbortController();
    const begun: string[] = [];
    const history = await fit(model, {
      train, loss: 'crossEntropy', optimizer, epochs: 5, signal: controller.signal, checkpointDir: dir('abort'), progress: false,
      callbacks: {
        onBatchBegin: (batch, context) => {
          begun.push(`${context.epoch}.${batch}`);
          if (context.epoch === 1 && batch === 2) controller.abort(); // mid-batch: this batch finishes, no other starts
        },
      },
    });
    expect(history.stopReason).toBe('aborted');
    expect(begun.at(-1)).toBe('1.2');
    expect(history.steps).toBe(train.length! + 3);
    expect(history.epochs).toHaveLength(1);
    const file = path.join(dir('abort'), 'last.safetensors');
    const info = readCheckpointInfo(file);
    expect(info.step).toBe(history.steps);
    const restored = new Classifier();
    loadCheckpoint(file, { model: restored, optimizer: new optim.Adam(restored.parameters(), { lr: 0.02 }), rng: false });
    expect(weightsOf(restored)).toEqual(weightsOf(model));
  });

  it('resuming from a mid-epoch abort gives bitwise the weights and history of an uninterrupted run', async () => {
    const run = async (options: { abortAt?: [number, number]; resume?: boolean }): Promise<[History, Float32Array[]]> => {
      const { train, validation, model, optimizer } = classificationSetup(21, 200);
      const scheduler = new optim.StepLR(optimizer, 1, { gamma: 0.7 });
      const controller = new AbortController();
      const abortAt = options.abortAt;
      const history = await fit(model, {
        train, validation, loss: 'crossEntropy', optimizer, scheduler, epochs: 3, metrics: ['accuracy'], progress: false,
        checkpointDir: dir('resume'), signal: controller.signal, resumeFrom: options.resume ? 'auto' : undefined,
        earlyStopping: { patience: 5 },
        callbacks: abortAt ? { onBatchEnd: (batch, _logs, context) => { if (context.epoch === abortAt[0] && batch === abortAt[1]) controller.abort(); } } : [],
      });
      return [history, weightsOf(model)];
    };
    const [full, fullWeights] = await run({});
    rmSync(dir('resume'), { recursive: true, force: true });
    const [aborted] = await run({ abortAt: [1, 2] });
    expect(aborted.stopReason).toBe('aborted');
    const [resumed, resumedWeights] = await run({ resume: true });
    expect(resumed.stopReason).toBe('completed');
    expect(resumed.steps).toBe(full.steps);
    expect(resumedWeights).toEqual(fullWeights); // bitwise
    const comparable = (h: History) => h.epochs.map(({ seconds, tokensPerSecond, ...rest }) => rest);
    expect(comparable(resumed)).toEqual(comparable(full));
  });

  it('saves best.safetensors when the monitored value improves and last.safetensors every N epochs', async () => {
    const { train, validation, model, optimizer } = classificationSetup(5, 128);
    const lastEpochs: number[] = [];
    const history = await fit(model, {
      train, validation, loss: 'crossEntropy', optimizer, epochs: 3, checkpointDir: dir('every'), checkpointEvery: 2,
      monitor: 'val_accuracy', metrics: ['accuracy'], progress: false,
      callbacks: {
        onEpochBegin: () => {
          const file = path.join(dir('every'), 'last.safetensors');
          lastEpochs.push(existsSync(file) ? readCheckpointInfo(file).epoch ?? -1 : 0);
        },
      },
    });
    expect(history.monitor).toBe('val_accuracy');
    const best = readCheckpointInfo(path.join(dir('every'), 'best.safetensors'));
    expect(best.epoch).toBe(history.bestEpoch + 1); // checkpoints count completed epochs
    expect(readCheckpointInfo(path.join(dir('every'), 'last.safetensors')).epoch).toBe(3);
    expect(lastEpochs).toEqual([0, 0, 2]); // none before epoch 2 (every 2 epochs), then 2 completed epochs
  });
});

describe('fit: numerical safety', () => {
  // Linear regression whose loss turns NaN (or whose gradient turns Infinity) at one global step.
  function setup(badStep: number, kind: 'loss' | 'gradient') {
    manualSeed(2);
    const data = new TensorDataset(randn(8, 3), randn(8, 1));
    const model = new nn.Linear(3, 1);
    let step = 0;
    const loss = (output: Tensor, target: unknown): Tensor => {
      const mse = nn.mseLoss(output, target as Tensor);
      if (step++ !== badStep) return mse;
      if (kind === 'loss') return mse.mul(NaN);
      return fromOp('poison', mse.data.slice(), [], [mse], () => [Float32Array.of(Infinity)]);
    };
    return { train: new DataLoader(data, { batchSize: 2 }), model, loss, optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }) };
  }

  it('stops with an error naming the epoch and batch, and leaves the last good checkpoint untouched', async () => {
    const { train, model, loss, optimizer } = setup(6, 'loss'); // epoch 1, batch 2
    const file = path.join(dir('nonfinite'), 'last.safetensors');
    let saved: Buffer | null = null;
    const error = await fit(model, {
      train, loss, optimizer, epochs: 3, checkpointDir: dir('nonfinite'), progress: false,
      callbacks: { onEpochBegin: (epoch) => { if (epoch === 1) saved = readFileSync(file); } },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonFiniteError);
    expect((error as Error).message).toBe('Non-finite loss (NaN) in epoch 1, batch 2 (both counted from 0); training stopped and no '
      + "checkpoint was written from this state. Lower the learning rate, set clipGradNorm, or pass onNonFinite: 'skip' to skip such batches");
    expect([(error as NonFiniteError).epoch, (error as NonFiniteError).batch]).toEqual([1, 2]);
    expect(readFileSync(file).equals(saved!)).toBe(true);
    expect(model.parameters().every((p) => p.data.every(Number.isFinite))).toBe(true);
  });

  it('names a non-finite gradient too', async () => {
    const { train, model, loss, optimizer } = setup(1, 'gradient');
    await expect(fit(model, { train, loss, optimizer, progress: false })).rejects.toThrow(/^Non-finite gradient \((NaN|Infinity)\) in epoch 0, batch 1 /);
  });

  it("onNonFinite: 'skip' skips the step without touching the weights and counts it", async () => {
    const { train, model, loss, optimizer } = setup(5, 'gradient');
    const before: Float32Array[][] = [];
    const history = await fit(model, {
      train, loss, optimizer, epochs: 2, onNonFinite: 'skip', progress: false,
      callbacks: { onBatchBegin: () => { before.push(weightsOf(model)); } },
    });
    expect(history.skippedBatches).toBe(1);
    expect(history.metrics.skippedBatches).toEqual([0, 1]);
    expect(history.steps).toBe(7);
    expect(before[6]).toEqual(before[5]); // the skipped batch (epoch 1, batch 1) changed nothing
  });
});

describe('fit: schedulers', () => {
  const setup = () => {
    manualSeed(4);
    const model = new nn.Linear(2, 1);
    const train = new DataLoader(new TensorDataset(randn(8, 2), randn(8, 1)), { batchSize: 2 });
    const validation = new DataLoader(new TensorDataset(randn(4, 2), randn(4, 1)), { batchSize: 4 });
    return { model, train, validation, optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }) };
  };

  it('OneCycleLR steps per batch, StepLR per epoch, ReduceLROnPlateau per epoch with the monitored value', async () => {
    let { model, ...s } = setup();
    const oneCycle = new optim.OneCycleLR(s.optimizer, 0.5, { totalSteps: 12 });
    await fit(model, { ...s, loss: 'mse', scheduler: oneCycle, epochs: 3, progress: false });
    expect(oneCycle.lastEpoch).toBe(12);

    ({ model, ...s } = setup());
    const stepLR = new optim.StepLR(s.optimizer, 1, { gamma: 0.5 });
    const history = await fit(model, { ...s, loss: 'mse', scheduler: stepLR, epochs: 3, progress: false });
    expect(history.metrics.lr).toEqual([0.1, 0.05, 0.025]);

    ({ model, ...s } = setup());
    const plateau = new optim.ReduceLROnPlateau(s.optimizer, { patience: 0 });
    const seen: number[] = [];
    const step = plateau.step.bind(plateau);
    plateau.step = (metric) => {
      seen.push(Number(metric));
      step(metric);
    };
    const logged = await fit(model, { ...s, loss: 'mse', scheduler: plateau, epochs: 3, progress: false });
    expect(seen).toEqual(logged.metrics.val_loss);
  });
});

describe('metrics', () => {
  it('accuracy: class indices (negative targets ignored), one-hot, and one logit per item', () => {
    const accuracy = new AccuracyMetric();
    accuracy.update(tensor([[2, 1], [0, 3], [5, 4]]), tensor([0, 0, -100]));
    expect(accuracy.compute()).toBe(0.5);
    accuracy.reset();
    accuracy.update(tensor([[2, 1], [0, 3]]), tensor([[0, 1], [0, 1]]));
    expect(accuracy.compute()).toBe(0.5);
    accuracy.reset();
    accuracy.update(tensor([[1.5], [-2], [0.3]]), tensor([1, 0, 0]));
    expect(accuracy.compute()).toBeCloseTo(2 / 3, 12);
    const mae = new MaeMetric();
    mae.update(tensor([1, 2, 3]), tensor([1, 0, 4]));
    expect(mae.compute()).toBe(1);
  });

  it('unknown metrics and other bad options get exact messages', async () => {
    expect(() => createMetrics(['accuracy', 'acc'])).toThrow(new RangeError(
      'Expected one of loss, accuracy, perplexity, mae, precision, recall, f1, precision_macro, recall_macro, f1_macro, precision_micro, recall_micro, f1_micro, auc or a metric object { name, update, compute } for metrics[1] but received acc of type string'));
    const model = new nn.Linear(2, 1);
    const optimizer = new optim.SGD(model.parameters(), { lr: 0.1 });
    const train = new DataLoader(new TensorDataset(randn(4, 2), randn(4, 1)), { batchSize: 2 });
    const base = { train, loss: 'mse' as const, optimizer, progress: false as const };
    await expect(fit(model, { ...base, metrics: ['acc' as never] })).rejects.toThrow(new RangeError(
      'Expected one of loss, accuracy, perplexity, mae, precision, recall, f1, precision_macro, recall_macro, f1_macro, precision_micro, recall_micro, f1_micro, auc or a metric object { name, update, compute } for metrics[0] but received acc of type string'));
    await expect(fit(model, { ...base, epochs: 0 })).rejects.toThrow(new RangeError('Expected positive integer for epochs but received 0 of type number'));
    await expect(fit(model, { ...base, loss: 'ce' as never })).rejects.toThrow(new RangeError(
      'Expected one of crossEntropy, nll, mse, l1, smoothL1, huber, bceWithLogits or a loss module or function for loss but received ce of type string'));
    await expect(fit(model, { ...base, epoch: 3 } as never)).rejects.toThrow(/^Expected one of train, validation, loss, .* for fit option but received epoch of type string$/);
    await expect(fit(model, { ...base, onNonFinite: 'ignore' as never })).rejects.toThrow(new RangeError(
      'Expected one of stop, skip for onNonFinite but received ignore of type string'));
    await expect(fit(model, { ...base, tbptt: { steps: 0 } })).rejects.toThrow(new RangeError(
      'Expected positive integer for tbptt.steps but received 0 of type number'));
    await expect(fit(model, { ...base, optimizer: {} as never })).rejects.toThrow(new TypeError('Expected Optimizer for optimizer but received an object'));
    await expect(evaluate(model, train, ['loss'])).rejects.toThrow(new TypeError('Expected a loss option for metric loss but received none'));
    expect(() => new EarlyStopping({ patience: -1 })).toThrow(new RangeError('Expected non-negative integer for patience but received -1 of type number'));
  });
});

describe('predict', () => {
  it('returns outputs without gradients, in eval mode, concatenated over a loader', async () => {
    manualSeed(9);
    const model = new Classifier();
    const x = randn(5, 7, 4);
    const whole = await predict(model, x);
    expect(whole.shape).toEqual([5, 3]);
    expect(whole.requiresGrad).toBe(false);
    const loader = new DataLoader(new TensorDataset(x), { batchSize: 2, collate: (rows: Tensor[][]) => rows.length === 1 ? [rows[0][0].reshape(1, 7, 4)] : [new Tensor(Float32Array.from(rows.flatMap((r) => [...r[0].data])), [rows.length, 7, 4])] });
    const batched = await predict(model, loader);
    expect(batched.shape).toEqual([5, 3]);
    for (let i = 0; i < 15; i++) expect(batched.data[i]).toBeCloseTo(whole.data[i], 5);
    expect(model.training).toBe(true);
  });
});

describe('fit: sources and concurrency', () => {
  it('trains from a stream (a function returning an async iterable, read anew each epoch) and from an array of batches', async () => {
    manualSeed(6);
    const xs = randn(12, 3), ys = randn(12, 1);
    let opened = 0;
    const stream = new IterableDataset(async function* rows() {
      opened++;
      for (let i = 0; i < 12; i++) yield [xs.data.subarray(i * 3, i * 3 + 3), ys.data[i]] as [Float32Array, number];
    });
    const model = new nn.Linear(3, 1);
    const history = await fit(model, {
      train: new DataLoader(stream, { batchSize: 5 }), loss: 'mse', optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }),
      epochs: 2, progress: false,
    });
    expect(opened).toBe(2);
    expect(history.steps).toBe(6); // 5 + 5 + 2 items per epoch
    const batches = [[xs, ys]];
    const again = await fit(model, { train: batches, loss: 'mse', optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }), epochs: 3, progress: false });
    expect(again.steps).toBe(3);
    expect(again.metrics.loss[2]).toBeLessThan(again.metrics.loss[0]);
  });

  it('predict on another model while fit awaits does not switch fit\'s gradient recording off', async () => {
    const { train, model, optimizer } = classificationSetup(8, 128);
    const server = new Classifier();
    const x = randn(4, 9, 4);
    let serving = true, answered = 0;
    const answering = (async () => {
      while (serving) {
        await predict(server, x);
        answered++;
      }
    })();
    const history = await fit(model, { train, loss: 'crossEntropy', optimizer, epochs: 2, progress: false });
    serving = false;
    await answering;
    expect(history.steps).toBe(2 * train.length!);
    expect(answered).toBeGreaterThan(2);
  });
});

describe('progress', () => {
  const sink = (tty: boolean) => {
    const chunks: string[] = [];
    const stream = new Writable({ write(chunk, _encoding, done) { chunks.push(String(chunk)); done(); } });
    Object.assign(stream, { isTTY: tty, columns: 120, cursorTo: (_x: number, done?: () => void) => { done?.(); return true; }, clearLine: (_d: number, done?: () => void) => { done?.(); return true; }, moveCursor: (_x: number, _y: number, done?: () => void) => { done?.(); return true; } });
    return { stream, text: () => chunks.join('') };
  };
  const setup = () => {
    manualSeed(1);
    const model = new nn.Linear(2, 2);
    const train = new DataLoader(new TensorDataset(randn(8, 2), tensor([0, 1, 0, 1, 0, 1, 0, 1])), { batchSize: 4 });
    return { model, train, optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }), loss: 'crossEntropy' as const, metrics: ['accuracy' as const], epochs: 2 };
  };

  it('writes one JSON line per epoch when the stream is not a TTY, nothing with progress: false', async () => {
    const out = sink(false);
    const { model, ...s } = setup();
    await fit(model, { ...s, progress: { stream: out.stream } });
    const lines = out.text().trim().split('\n').map((line) => JSON.parse(line) as Record<string, number>);
    expect(lines.map((l) => l.epoch)).toEqual([0, 1]);
    expect(Object.keys(lines[0])).toEqual(['epoch', 'loss', 'accuracy', 'lr', 'skippedBatches', 'seconds', 'tokensPerSecond']);
    const silent = sink(false);
    await fit(model, { ...s, progress: false });
    expect(silent.text()).toBe('');
  });

  it('draws a live bar with epoch, batch, loss, metric, tokens/s and ETA on a TTY', async () => {
    const out = sink(true);
    const { model, ...s } = setup();
    await fit(model, { ...s, progress: { stream: out.stream } });
    const text = out.text();
    expect(text).toMatch(/epoch 2\/2 .* 2\/2 \| loss \d+\.\d{4} \| accuracy \d\.\d{4} \| \d+ tok\/s \| ETA /);
  });

  it('finishes the bar\'s line before onEpochEnd callbacks print, then reports the logs they added', async () => {
    const out = sink(true);
    const { model, ...s } = setup();
    const callbacks: Callback = {
      onEpochEnd: (epoch, logs) => {
        logs.val_extra = epoch; // like text.train's reporter, which adds val_perplexity
        out.stream.write(`callback ${epoch}\n`);
      },
    };
    await fit(model, { ...s, callbacks, progress: { stream: out.stream } });
    const text = out.text();
    // Each callback line starts on a line of its own, right after its epoch's finished bar…
    expect(text).toMatch(/epoch 1\/2 [^\n]* ETA [^\n]*\ncallback 0\n/);
    expect(text).toMatch(/epoch 2\/2 [^\n]* ETA [^\n]*\ncallback 1\n/);
    // …and the validation summary below it still shows what the callback added.
    expect(text).toMatch(/\ncallback 0\n {2}val_extra 0\.0000\n/);
    expect(text).toMatch(/\ncallback 1\n {2}val_extra 1\.0000\n/);
  });
});
