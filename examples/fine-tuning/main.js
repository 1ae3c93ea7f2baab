// Fine-tuning a PyTorch model in Node. train_torch.py trained DigitLSTM (2-layer LSTM reading each
// 28×28 image row by row → Linear) on the digits 0–4 and saved it as safetensors. Here rnnkit
//   1. builds the same model and loads PyTorch's weights (loadStateDict(loadSafetensors(file))),
//   2. checks that it predicts PyTorch's logits on the probe batch,
//   3. freezes the first LSTM layer (requiresGrad = false) and fine-tunes the rest on NEW data — the
//      digits 5–9, which the model has never seen — with AdamW over ALL parameters (the optimizer must
//      skip the frozen ones, weight decay included), then checks the frozen weights are bitwise unchanged,
//   4. saves the result with PyTorch's names; check_torch.py loads it in PyTorch and compares.
//
//   /usr/bin/python3 examples/fine-tuning/train_torch.py
//   node examples/fine-tuning/main.js [--epochs 6] [--lr 3e-3] [--dir examples/fine-tuning/output] [--help]
//   /usr/bin/python3 examples/fine-tuning/check_torch.py
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  DataLoader, fit, isa, loadSafetensors, manualSeed, nn, noGrad, optim, optimizeGcForTraining, predict, readSafetensors, saveSafetensors,
} from 'rnnkit';
import { loadMnist, toDataset } from '../mnist/data.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PIXELS = 28 * 28;
/** Largest |rnnkit − PyTorch| accepted on a logit (float32, 28 steps × 2 layers; measured ~1e-6). */
const LOGIT_TOLERANCE = 1e-4;
const NEW_DIGITS = [5, 6, 7, 8, 9];
const OLD_DIGITS = [0, 1, 2, 3, 4];
const isFrozen = (name) => /^lstm\..*_l0$/.test(name); // the first LSTM layer: weight_ih_l0, …, bias_hh_l0

/** torch_common.py's DigitLSTM: parameter names lstm.weight_ih_l0 … lstm.bias_hh_l1, head.weight, head.bias. */
export class DigitLSTM extends nn.Module {
  constructor(hiddenSize = 64) {
    super();
    this.lstm = new nn.LSTM(28, hiddenSize, { numLayers: 2, batchFirst: true });
    this.head = new nn.Linear(hiddenSize, 10);
  }

  /** images [B, 28 rows, 28 pixels] → logits [B, 10] */
  forward(images) {
    const [, [hN]] = this.lstm.forward(images); // hN [2 layers, B, H]
    return this.head.forward(hN.select(0, 1)); // the top layer's last state, PyTorch's h_n[-1]
  }
}

const OPTIONS = {
  epochs: { default: '6', help: 'passes over the new digits' },
  lr: { default: '3e-3', help: 'AdamW learning rate' },
  'weight-decay': { default: '1e-2', help: "AdamW's decoupled weight decay (frozen weights must not decay)" },
  'batch-size': { default: '64', help: 'images per step' },
  seed: { default: '0', help: 'seed of the shuffling' },
  dir: { default: path.join(HERE, 'output'), help: "train_torch.py's output; finetuned*.safetensors are written here too" },
};

function readOptions(argv) {
  const spec = Object.fromEntries(Object.entries(OPTIONS).map(([name, o]) => [name, { type: 'string', default: o.default }]));
  const { values } = parseArgs({ args: argv, options: { ...spec, help: { type: 'boolean', default: false } } });
  if (values.help) {
    const lines = Object.entries(OPTIONS).map(([name, o]) => `  --${name.padEnd(13)} ${o.help} (default ${o.default})`);
    console.log(`Usage: node examples/fine-tuning/main.js [options]\n\n${lines.join('\n')}`);
    process.exit(0);
  }
  const number = (name, valid) => {
    const value = Number(values[name]);
    if (values[name] === '' || !valid(value)) throw new RangeError(`--${name}: invalid value ${JSON.stringify(values[name])}`);
    return value;
  };
  return {
    epochs: number('epochs', (v) => Number.isInteger(v) && v > 0),
    lr: number('lr', (v) => v > 0),
    weightDecay: number('weight-decay', (v) => v >= 0),
    batchSize: number('batch-size', (v) => Number.isInteger(v) && v > 0),
    seed: number('seed', Number.isInteger),
    dir: values.dir,
  };
}

/** The images of `digits` only (from a split sorted by digit). */
function onlyDigits({ images, labels }, digits) {
  const kept = [...labels.keys()].filter((i) => digits.includes(labels[i]));
  const out = new Float32Array(kept.length * PIXELS);
  kept.forEach((index, i) => out.set(images.subarray(index * PIXELS, (index + 1) * PIXELS), i * PIXELS));
  return { images: out, labels: Int32Array.from(kept, (index) => labels[index]) };
}

async function accuracy(model, digits) {
  const predicted = (await predict(model, new DataLoader(toDataset(digits), { batchSize: 500 }))).argmax(1).data;
  return digits.labels.filter((label, i) => predicted[i] === label).length / digits.labels.length;
}

/** Largest |a − b| over two equal-length arrays. */
function maxAbsDiff(a, b) {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

/** Runs the model on the probe images and compares with PyTorch's logits; throws beyond the tolerance. */
function checkProbe(model, probe) {
  const logits = noGrad(() => model.eval().forward(probe.images));
  const diff = maxAbsDiff(logits.data, probe.logits.data);
  const sameClass = logits.argmax(1).data.every((c, i) => c === probe.logits.argmax(1).data[i]);
  console.log(`probe batch (${probe.labels.shape[0]} images): max |rnnkit − PyTorch| logit difference ${diff.toExponential(2)}`
    + ` (tolerance ${LOGIT_TOLERANCE}), same predicted class: ${sameClass}`);
  if (!(diff <= LOGIT_TOLERANCE) || !sameClass) throw new Error('rnnkit does not reproduce PyTorch\'s predictions');
  return logits;
}

/** Freezes the first LSTM layer; returns copies of every parameter's values, by name. */
function freezeFirstLayer(model) {
  const before = new Map();
  for (const [name, p] of model.namedParameters()) {
    if (isFrozen(name)) p.requiresGrad = false;
    before.set(name, p.data.slice());
  }
  return before;
}

/** Per parameter: frozen or not, and how many of its values changed (bitwise). */
function changes(model, before) {
  return model.namedParameters().map(([name, p]) => {
    const old = new Uint32Array(before.get(name).buffer);
    const now = new Uint32Array(p.data.buffer, p.data.byteOffset, p.data.length);
    return { name, frozen: !p.requiresGrad, changed: now.filter((bits, i) => bits !== old[i]).length, size: now.length };
  });
}

async function main() {
  optimizeGcForTraining(); // see docs/training.md: fewer full garbage collections per step
  const options = readOptions(process.argv.slice(2));
  const files = Object.fromEntries(['model', 'probe', 'finetuned', 'finetuned_probe'].map((f) => [f, path.join(options.dir, `${f}.safetensors`)]));
  if (!existsSync(files.model)) throw new Error(`${files.model} is missing: run /usr/bin/python3 examples/fine-tuning/train_torch.py first`);
  manualSeed(options.seed);

  // 1-2. PyTorch's weights in the rnnkit model, and PyTorch's predictions reproduced.
  const model = new DigitLSTM();
  const { tensors: weights, metadata } = readSafetensors(files.model);
  model.loadStateDict(weights);
  console.log(`Loaded ${Object.keys(weights).length} tensors from ${path.relative(process.cwd(), files.model)} (${metadata?.recipe ?? 'no recipe'})`);
  console.log(`rnnkit on ${isa()}`);
  checkProbe(model, loadSafetensors(files.probe));

  // 3. Fine-tune on the new digits with the first LSTM layer frozen.
  const digits = loadMnist();
  const newTrain = onlyDigits(digits.train, NEW_DIGITS);
  const newTest = onlyDigits(digits.test, NEW_DIGITS);
  const oldTest = onlyDigits(digits.test, OLD_DIGITS);
  const before = freezeFirstLayer(model);
  const frozenCount = model.parameters().filter((p) => !p.requiresGrad).reduce((n, p) => n + p.numel, 0);
  const total = model.parameters().reduce((n, p) => n + p.numel, 0);
  console.log(`Frozen: lstm layer 0 (${frozenCount} of ${total} weights); fine-tuning the rest on ${newTrain.labels.length} images of the digits 5–9`);
  const accuracyBefore = { new: await accuracy(model, newTest), old: await accuracy(model, oldTest) };

  // All parameters go to the optimizer: it has to skip the frozen ones itself (PyTorch skips grad None).
  const optimizer = new optim.AdamW(model.parameters(), { lr: options.lr, weightDecay: options.weightDecay });
  const train = new DataLoader(toDataset(newTrain), { batchSize: options.batchSize, shuffle: true });
  const started = performance.now();
  const history = await fit(model, {
    train, loss: 'crossEntropy', optimizer, epochs: options.epochs, clipGradNorm: 1.0,
    progress: process.stderr.isTTY ? 'bar' : false,
    callbacks: { onEpochEnd: (epoch, logs) => console.log(`epoch ${epoch + 1}  loss ${logs.loss.toFixed(4)}`) },
  });
  const seconds = (performance.now() - started) / 1000;
  const accuracyAfter = { new: await accuracy(model, newTest), old: await accuracy(model, oldTest) };
  const percent = (f) => `${(100 * f).toFixed(2)} %`;
  console.log(`Fine-tuned in ${seconds.toFixed(1)} s (loss ${history.metrics.loss[0].toFixed(4)} → ${history.metrics.loss.at(-1).toFixed(4)})`);
  console.log(`accuracy on the ${newTest.labels.length} test images of digits 5–9: ${percent(accuracyBefore.new)} → ${percent(accuracyAfter.new)}`);
  const torchOld = metadata?.testAccuracyDigits0to4 ? `; PyTorch measured ${percent(Number(metadata.testAccuracyDigits0to4))} before` : '';
  console.log(`accuracy on the ${oldTest.labels.length} test images of digits 0–4: ${percent(accuracyBefore.old)} → ${percent(accuracyAfter.old)} (not trained on: forgetting${torchOld})`);

  const report = changes(model, before);
  for (const { name, frozen, changed, size } of report) console.log(`  ${name.padEnd(18)} ${frozen ? 'frozen ' : 'trained'}  ${changed}/${size} values changed`);
  if (report.some((r) => r.frozen && r.changed > 0)) throw new Error('a frozen weight changed: the optimizer did not skip it');
  if (report.some((r) => !r.frozen && r.changed === 0)) throw new Error('a trainable weight did not change');

  // 4. Save with PyTorch's names, plus rnnkit's logits on the probe batch for check_torch.py.
  const probe = loadSafetensors(files.probe);
  const logits = noGrad(() => model.eval().forward(probe.images));
  saveSafetensors(files.finetuned, model.stateDict(), {
    format: 'pt', base: metadata?.recipe ?? '', fineTuning: `digits 5-9, lstm layer 0 frozen, AdamW lr ${options.lr} `
      + `weight decay ${options.weightDecay}, ${options.epochs} epochs, batch ${options.batchSize}, clip 1.0, seed ${options.seed}`,
    testAccuracyDigits5to9: accuracyAfter.new.toFixed(4),
  });
  saveSafetensors(files.finetuned_probe, { images: probe.images, labels: probe.labels, logits }, { source: 'rnnkit' });
  const shown = (file) => path.relative(process.cwd(), file);
  console.log(`Saved ${shown(files.finetuned)}, ${shown(files.finetuned_probe)}\nNext: /usr/bin/python3 ${shown(path.join(HERE, 'check_torch.py'))}`);
}

await main();
