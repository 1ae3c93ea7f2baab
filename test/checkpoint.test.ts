// Checkpoints (issue 4 item 5): one safetensors file with model, optimizer, scheduler, RNG and
// user state; exact round trips; bitwise resume of a training run; clear errors; all-or-nothing
// loading; refusal to save non-finite state; stale temporary files removed; ordered async saves.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CHECKPOINT_KEYS, getNumThreads, getRngState, isa, loadCheckpoint, loadCheckpointAsync, manualSeed, optim,
  readCheckpointInfo, readSafetensors, saveCheckpoint, saveCheckpointAsync, saveSafetensors,
} from '../src/index.js';
import { randomUniform } from '../src/tensor/random.js';
import {
  Classifier, differingElements, makeDataset, newRun, train, weightBits,
} from './helpers/checkpoint-model.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rnnkit-checkpoint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string): string => path.join(dir, name);

const bitsOf = (data: Float32Array): number[] => Array.from(new Uint32Array(data.buffer, data.byteOffset, data.length));

/** An optimizer's stateDict with buffers as bit patterns (for exact comparison). */
function optimizerBits(optimizer: optim.Optimizer): unknown {
  const { state, paramGroups } = optimizer.stateDict();
  const bits = Object.fromEntries(Object.entries(state).map(([i, entry]) => [i, Object.fromEntries(
    Object.entries(entry).map(([key, value]) => [key, value instanceof Float32Array ? bitsOf(value) : value]),
  )]));
  return { state: bits, paramGroups, stepCount: optimizer.stepCount };
}

const data = makeDataset(24);

describe('checkpoint round trip', () => {
  it('restores model, Adam (step, moments), StepLR, RNG, loader position and extra exactly', () => {
    manualSeed(11);
    const a = newRun(data);
    train(a, 9);  // mid-epoch (6 batches per epoch): the scheduler has stepped once
    const path1 = file('round-trip.safetensors');
    saveCheckpoint(path1, {
      model: a.model, optimizer: a.optimizer, scheduler: a.scheduler, epoch: a.batches.epoch, step: a.step,
      stateful: { batches: a.batches }, extra: { note: 'hello', best: -Infinity, losses: [1.5, NaN] },
    });
    const rngAtSave = getRngState();
    for (let i = 0; i < 5; i++) randomUniform();  // move the global RNG on

    manualSeed(99);  // different init, different optimizer options: everything must be overwritten
    const b = newRun(data);
    b.optimizer.paramGroups[0].lr = 0.5;
    const info = loadCheckpoint(path1, {
      model: b.model, optimizer: b.optimizer, scheduler: b.scheduler, stateful: { batches: b.batches },
    });

    expect(info.epoch).toBe(1);
    expect(info.step).toBe(9);
    expect(info.extra).toEqual({ note: 'hello', best: -Infinity, losses: [1.5, NaN] });
    expect(info.environment).toEqual({ version: expect.any(String), isa: isa(), threads: getNumThreads() });
    expect(weightBits(b.model)).toEqual(weightBits(a.model));
    expect(optimizerBits(b.optimizer)).toEqual(optimizerBits(a.optimizer));
    const adamState = b.optimizer.state.get(b.model.parameters()[0]);  // lstm.weight_ih_l0
    expect(adamState?.step).toBe(9);
    expect(adamState?.expAvg).toBeInstanceOf(Float32Array);
    expect(b.scheduler.stateDict()).toEqual(a.scheduler.stateDict());
    expect(b.optimizer.paramGroups[0].lr).toBe(a.optimizer.paramGroups[0].lr);
    expect(b.batches.stateDict()).toEqual(a.batches.stateDict());
    expect(getRngState()).toEqual(rngAtSave);
  });

  it('lays the file out as documented: model.*, optimizer.state.<i>.<buffer>, JSON metadata', () => {
    const contents = readSafetensors(file('round-trip.safetensors'));
    const names = Object.keys(contents.tensors);
    expect(names).toContain('model.lstm.weight_ih_l0');
    expect(names).toContain('model.head.bias');
    expect(names).toContain('optimizer.state.0.expAvg');
    expect(names).toContain('optimizer.state.0.expAvgSq');
    expect(contents.tensors['optimizer.state.0.expAvg'].shape).toEqual(contents.tensors['model.lstm.weight_ih_l0'].shape);
    const meta = contents.metadata ?? {};
    expect(meta.format).toBe('pt');
    expect(meta[CHECKPOINT_KEYS.format]).toBe('1');
    expect(JSON.parse(meta[CHECKPOINT_KEYS.optimizer])).toMatchObject({ class: 'Adam', stepCount: 9 });
    expect(JSON.parse(meta[CHECKPOINT_KEYS.scheduler])).toMatchObject({ class: 'StepLR', state: { lastEpoch: 1 } });
    expect(JSON.parse(meta[CHECKPOINT_KEYS.rng])).toHaveLength(4);
    expect(readCheckpointInfo(file('round-trip.safetensors'))).toMatchObject({ epoch: 1, step: 9 });
  });

  it('keeps ReduceLROnPlateau\'s Infinity and SGD momentum buffers (async save and load)', async () => {
    manualSeed(3);
    const model = new Classifier(8);
    const optimizer = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9, nesterov: true });
    const scheduler = new optim.ReduceLROnPlateau(optimizer, { patience: 0 });
    const run = { ...newRun(data), model, optimizer };
    train(run as never, 2);
    await saveCheckpointAsync(file('plateau.safetensors'), { model, optimizer, scheduler });
    manualSeed(4);
    const fresh = new Classifier(8);
    const freshOptimizer = new optim.SGD(fresh.parameters(), { lr: 1 });
    const freshScheduler = new optim.ReduceLROnPlateau(freshOptimizer, { mode: 'max' });
    await loadCheckpointAsync(file('plateau.safetensors'), { model: fresh, optimizer: freshOptimizer, scheduler: freshScheduler });
    expect(freshScheduler.best).toBe(Infinity);
    expect(freshScheduler.stateDict()).toEqual(scheduler.stateDict());
    expect(optimizerBits(freshOptimizer)).toEqual(optimizerBits(optimizer));
    expect(weightBits(fresh)).toEqual(weightBits(model));
  });
});

describe('resume gives bitwise the same weights as an uninterrupted run', () => {
  const TOTAL = 20;
  const SAVE_AT = 9;  // in the middle of the second epoch, after one scheduler step

  function uninterrupted(): ReturnType<typeof weightBits> {
    manualSeed(1234);
    const run = newRun(data);
    train(run, TOTAL);
    return weightBits(run.model);
  }

  function resumed(restoreRng: boolean): { bits: ReturnType<typeof weightBits>; lossesAfter: number[] } {
    manualSeed(1234);
    const first = newRun(data);
    train(first, SAVE_AT);
    const checkpoint = file(`resume-${restoreRng}.safetensors`);
    saveCheckpoint(checkpoint, {
      model: first.model, optimizer: first.optimizer, scheduler: first.scheduler, step: first.step, stateful: { batches: first.batches },
    });
    // A fresh "process": other seed, new objects; only the checkpoint carries the state over.
    manualSeed(777);
    const second = newRun(data);
    const info = loadCheckpoint(checkpoint, {
      model: second.model, optimizer: second.optimizer, scheduler: second.scheduler, stateful: { batches: second.batches }, rng: restoreRng,
    });
    second.step = info.step ?? 0;
    const lossesAfter = train(second, TOTAL - SAVE_AT);
    return { bits: weightBits(second.model), lossesAfter };
  }

  it(`${SAVE_AT} steps → save → load into fresh objects → ${TOTAL - SAVE_AT} steps equals ${TOTAL} steps`, () => {
    const reference = uninterrupted();
    const { bits, lossesAfter } = resumed(true);
    const total = Object.values(reference).reduce((n, b) => n + b.length, 0);
    console.log(`resume: ${differingElements(reference, bits)} of ${total} weights differ (isa ${isa()}, ${getNumThreads()} threads); `
      + `loss after resume ${lossesAfter[0].toFixed(5)} → ${lossesAfter[lossesAfter.length - 1].toFixed(5)}`);
    expect(differingElements(reference, bits)).toBe(0);
    expect(bits).toEqual(reference);
  });

  it('is sensitive: without the RNG state (dropout masks, shuffle) the weights differ', () => {
    const reference = uninterrupted();
    const { bits } = resumed(false);
    expect(differingElements(reference, bits)).toBeGreaterThan(0);
  });
});

describe('loading errors', () => {
  manualSeed(5);
  const model = new Classifier();
  const optimizer = new optim.Adam(model.parameters());
  const good = file('good.safetensors');
  saveCheckpoint(good, { model, optimizer, epoch: 1 });

  it('missing file', () => {
    const missing = file('nope.safetensors');
    expect(() => loadCheckpoint(missing, { model })).toThrow(`Checkpoint not found: ${missing}`);
    try {
      loadCheckpoint(missing, { model });
    } catch (error) {
      expect((error as NodeJS.ErrnoException).code).toBe('ENOENT');
    }
  });

  it('torn or corrupt file: the safetensors reason, nothing changed', () => {
    const bytes = readFileSync(good);
    const torn = file('torn.safetensors');
    writeFileSync(torn, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const before = weightBits(model);
    expect(() => loadCheckpoint(torn, { model })).toThrow(
      new RegExp(`^Could not load checkpoint ${torn.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: Invalid safetensors file: tensor ".*" ends at byte \\d+ but the data section holds only \\d+ bytes \\(truncated file\\?\\)$`),
    );
    const garbage = file('garbage.safetensors');
    writeFileSync(garbage, Buffer.from('not a checkpoint at all'));
    expect(() => loadCheckpoint(garbage, { model })).toThrow(/^Could not load checkpoint .*: Invalid safetensors file: header size \d+ exceeds the limit/);
    expect(weightBits(model)).toEqual(before);
  });

  it('a plain safetensors file is not a checkpoint', () => {
    const plain = file('plain.safetensors');
    saveSafetensors(plain, model.stateDict());
    expect(() => loadCheckpoint(plain, { model })).toThrow(
      `${plain} is a safetensors file but not an rnnkit checkpoint (no rnnkit.checkpoint metadata); load plain weights with loadSafetensors() and model.loadStateDict()`,
    );
  });

  it('a checkpoint of another model: PyTorch\'s loadStateDict messages, nothing changed', () => {
    const other = new Classifier(12);
    const before = weightBits(other);
    expect(() => loadCheckpoint(good, { model: other })).toThrow([
      'Error(s) in loading state_dict for Classifier:',
      '\tsize mismatch for lstm.weight_ih_l0: copying a param with shape [64, 4] from checkpoint, the shape in current model is [48, 4].',
    ].join('\n'));
    expect(weightBits(other)).toEqual(before);
  });

  it('optimizer of another class, or none saved', () => {
    const target = new Classifier();
    expect(() => loadCheckpoint(good, { model: target, optimizer: new optim.SGD(target.parameters(), { lr: 1 }) }))
      .toThrow(`Checkpoint ${good} holds optimizer state of Adam but the optimizer given is SGD`);
    const weightsOnly = file('weights-only.safetensors');
    saveCheckpoint(weightsOnly, { model });
    expect(() => loadCheckpoint(weightsOnly, { model: target, optimizer: new optim.Adam(target.parameters()) }))
      .toThrow(`Checkpoint ${weightsOnly} holds no optimizer state (it was saved without one)`);
    expect(() => loadCheckpoint(weightsOnly, { model: target, stateful: { loader: { stateDict: () => 0, loadStateDict: () => {} } } }))
      .toThrow(`Checkpoint ${weightsOnly} holds no stateful.loader state (it was saved without one)`);
  });

  it('all or nothing: an optimizer that does not fit rolls the model back', () => {
    manualSeed(8);
    const target = new Classifier();
    const twoGroups = new optim.Adam([
      { params: target.lstm.parameters() }, { params: target.head.parameters() },
    ]);
    const before = weightBits(target);
    const rng = getRngState();
    expect(() => loadCheckpoint(good, { model: target, optimizer: twoGroups }))
      .toThrow('loaded state dict has a different number of parameter groups');
    expect(weightBits(target)).toEqual(before);
    expect(getRngState()).toEqual(rng);
    expect(twoGroups.state.size).toBe(0);
  });

  it('bad arguments', () => {
    expect(() => loadCheckpoint(good, {} as never)).toThrow('Expected Module for model but received undefined');
    expect(() => saveCheckpoint('', { model })).toThrow('Expected non-empty path string for path but received  of type string');
    expect(() => saveCheckpoint(file('x.safetensors'), { model, epoch: -1 }))
      .toThrow('Expected non-negative integer for epoch but received -1 of type number');
    expect(() => saveCheckpoint(file('x.safetensors'), { model, scheduler: {} as never }))
      .toThrow('Expected object with stateDict() and loadStateDict() for scheduler but received an object');
  });
});

describe('never overwrites a good checkpoint with a broken state', () => {
  it('non-finite weights or optimizer buffers: RangeError, file untouched; allowNonFinite saves anyway', () => {
    manualSeed(6);
    const model = new Classifier(8);
    const optimizer = new optim.Adam(model.parameters());
    const target = file('finite.safetensors');
    saveCheckpoint(target, { model, optimizer, epoch: 1 });
    const saved = readFileSync(target);

    model.head.weight.data[5] = NaN;
    expect(() => saveCheckpoint(target, { model, optimizer, epoch: 2 })).toThrow(new RangeError(
      'Refusing to save a checkpoint with non-finite values (model.head.weight[5] = NaN); the previous checkpoint is kept. '
      + 'Pass { allowNonFinite: true } to save anyway',
    ));
    expect(readFileSync(target).equals(saved)).toBe(true);
    model.head.weight.data[5] = 0;

    const run = { ...newRun(data), model, optimizer };
    train(run as never, 1);
    const p0 = optimizer.paramGroups[0].params[0];
    (optimizer.state.get(p0)?.expAvgSq as Float32Array)[2] = Infinity;
    expect(() => saveCheckpoint(target, { model, optimizer, epoch: 3 })).toThrow('(optimizer.state.0.expAvgSq[2] = Infinity)');
    expect(readFileSync(target).equals(saved)).toBe(true);
    saveCheckpoint(target, { model, optimizer, epoch: 3, allowNonFinite: true });
    expect(readCheckpointInfo(target).epoch).toBe(3);
  });

  it('async: throws before writing, nothing replaced', async () => {
    manualSeed(6);
    const model = new Classifier(8);
    const target = file('finite-async.safetensors');
    await saveCheckpointAsync(target, { model, epoch: 1 });
    model.stateDict()['lstm.bias_hh_l1'].data[0] = -Infinity;  // a view of the parameter
    await expect(saveCheckpointAsync(target, { model, epoch: 2 })).rejects.toThrow('(model.lstm.bias_hh_l1[0] = -Infinity)');
    expect(readCheckpointInfo(target).epoch).toBe(1);
  });
});

describe('atomic writing', () => {
  it('removes temporary files of dead writers, keeps those of live processes (this one included) and other files', () => {
    manualSeed(2);
    const model = new Classifier(8);
    const target = file('stale.safetensors');
    const deadWriter = `${target}.999999999.0badf00d.tmp`;  // above any pid_max: no such process
    const ownFinished = `${target}.${process.pid}.12345678.tmp`;  // maybe a worker thread's save in progress
    const liveWriter = `${target}.${process.ppid}.abcdef01.tmp`;
    const otherFile = file('other.safetensors.999999999.0badf00d.tmp');
    for (const name of [deadWriter, ownFinished, liveWriter, otherFile]) writeFileSync(name, 'partial');
    saveCheckpoint(target, { model });
    const left = readdirSync(dir).filter((name) => name.endsWith('.tmp')).sort();
    expect(left).toEqual([path.basename(ownFinished), path.basename(liveWriter), path.basename(otherFile)].sort());
    for (const name of [ownFinished, liveWriter, otherFile]) rmSync(name);
  });

  it('a save the file system refuses names the target, not the temporary file (sync and async)', async () => {
    const target = file('no-such-folder/run.safetensors');
    const model = new Classifier(8);
    const message = `Could not save checkpoint ${target}: ENOENT: no such file or directory`;
    expect(() => saveCheckpoint(target, { model })).toThrow(new Error(message));
    await expect(saveCheckpointAsync(target, { model })).rejects.toThrow(new Error(message));
  });

  it('concurrent async saves keep the newest state; a sync save in between wins over older async ones', async () => {
    manualSeed(2);
    const model = new Classifier(8);
    const target = file('ordered.safetensors');
    const saves: Promise<void>[] = [];
    for (let epoch = 1; epoch <= 5; epoch++) saves.push(saveCheckpointAsync(target, { model, epoch }));
    await Promise.all(saves);
    expect(readCheckpointInfo(target).epoch).toBe(5);

    const older = saveCheckpointAsync(target, { model, epoch: 6 });
    saveCheckpoint(target, { model, epoch: 7 });
    await older;
    expect(readCheckpointInfo(target).epoch).toBe(7);
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('captures the state when called: training on during an async save does not leak into it', async () => {
    manualSeed(2);
    const model = new Classifier(8);
    const target = file('snapshot.safetensors');
    const expected = weightBits(model);
    const pending = saveCheckpointAsync(target, { model });
    model.head.weight.data.fill(42);
    await pending;
    const fresh = new Classifier(8);
    loadCheckpoint(target, { model: fresh });
    expect(weightBits(fresh)).toEqual(expected);
  });
});
