/**
 * `rnnkit train textclass`: a text classifier (src/tasks/textclass.ts) from a CSV or JSON Lines
 * file of documents and labels. A seeded, stratified share of the documents (--val-split) is held
 * out: every epoch reports on it, and at the end its full report (accuracy, precision / recall /
 * F1, ROC AUC for two classes, confusion matrix) beside the majority-class baseline. The model file
 * holds the weights, the tokenizer, the vocabulary, the classes and the text column's name.
 * @module
 */
import { SeededGenerator, deriveSeed } from '../data/generator.js';
import * as textclass from '../tasks/textclass.js';
import { manualSeed } from '../tensor/random.js';
import { readDocuments } from './documents.js';
import { CliError } from './errors.js';
import { readInputText, writeOutputFile } from './files.js';
import { checkModelSize } from './limits.js';
import { epochPrinter, plural, progressSetting, type Output } from './output.js';
import type { TRAIN_TEXTCLASS_OPTIONS } from './command-options.js';
import type { OptionValues } from './options.js';

/** Options of `rnnkit train textclass`. */
export type TrainTextclassCliOptions = OptionValues<typeof TRAIN_TEXTCLASS_OPTIONS>;

/** Indices of a seeded, per-class share of the documents: [train, validation]. */
function stratifiedSplit(labels: readonly string[], share: number, seed: number): [number[], number[]] {
  const random = new SeededGenerator(deriveSeed(seed, 1));
  const train: number[] = [], validation: number[] = [];
  for (const label of textclass.sortLabels(labels)) {
    const members = random.shuffle(labels.flatMap((l, i) => (l === label ? [i] : [])));
    const held = share > 0 ? Math.max(1, Math.round(members.length * share)) : 0;
    validation.push(...members.slice(0, Math.min(held, members.length - 1)));
    train.push(...members.slice(Math.min(held, members.length - 1)));
  }
  return [train.sort((a, b) => a - b), validation.sort((a, b) => a - b)];
}

const pick = <T>(values: readonly T[], indices: readonly number[]): T[] => indices.map((i) => values[i]);
const percent = (v: number): string => `${(100 * v).toFixed(2)} %`;

/** The end-of-training report on the held-out documents. */
function report(output: Output, model: textclass.TextClassifier, texts: string[], labels: string[]): void {
  const r = textclass.evaluate(model, texts, labels);
  const counts = model.labels.map((label) => labels.filter((l) => l === label).length);
  output.info(`validation (${texts.length} documents): accuracy ${percent(r.accuracy)} (majority class ${percent(Math.max(...counts) / texts.length)})`);
  if (model.labels.length === 2) {
    output.info(`  class '${model.labels[1]}': precision ${r.precision.toFixed(4)}, recall ${r.recall.toFixed(4)}, F1 ${r.f1.toFixed(4)}; ROC AUC ${r.auc.toFixed(4)}`);
  } else {
    output.info(`  macro precision ${r.precision.toFixed(4)}, recall ${r.recall.toFixed(4)}, F1 ${r.f1.toFixed(4)}`);
  }
  for (const line of r.confusion.format(model.labels).split('\n')) output.info(`  ${line}`);
}

/** Trains, reports and saves a text classifier; returns the last epoch's logs. */
export async function trainTextclass(o: TrainTextclassCliOptions, output: Output): Promise<Record<string, number>> {
  const docs = readDocuments(readInputText(o.input), o.input, o.inputFormat, { text: o.textColumn, label: o.labelColumn });
  const labels = docs.labels as string[];
  const classes = textclass.sortLabels(labels);
  if (classes.length < 2) throw new CliError(`${o.input}: every document has the label '${classes[0]}'; classification needs at least 2 classes`);
  const [trainRows, validationRows] = stratifiedSplit(labels, o.valSplit, o.seed);
  const trainTexts = pick(docs.texts, trainRows), trainLabels = pick(labels, trainRows);
  manualSeed(o.seed);
  const model = textclass.buildClassifier(trainTexts, trainLabels, {
    cell: o.cell, embeddingDim: o.embedding, hiddenSize: o.hidden, numLayers: o.layers, bidirectional: !o.unidirectional, pooling: o.pooling,
    inputDropout: o.inputDropout, recurrentDropout: o.recurrentDropout, dropout: o.dropout, maxLength: o.maxLength,
    minFreq: o.minFreq, maxVocab: o.maxVocab,
  });
  checkModelSize({ cell: o.cell, inputSize: o.embedding, hidden: o.hidden, layers: o.layers, outputs: classes.length,
    embedding: { vocab: model.vocabulary.size, dim: o.embedding } }, `--embedding ${o.embedding}`);
  output.info(`${o.input} (${docs.format}): ${docs.texts.length} documents, ${classes.length} classes (${classes.slice(0, 8).join(', ')}`
    + `${classes.length > 8 ? ', …' : ''}); ${trainRows.length} train, ${validationRows.length} validation (stratified, seed ${o.seed})`);
  output.info(`vocabulary: ${model.vocabulary.size} words (seen ≥ ${o.minFreq} times, at most ${o.maxVocab}); documents cut to ${o.maxLength} words`);
  output.info(`Embedding(${model.vocabulary.size}→${o.embedding}) → ${o.unidirectional ? '' : 'bidirectional '}${o.cell.toUpperCase()}(${o.hidden}, `
    + `${plural(o.layers, 'layer')}, variational dropout ${o.inputDropout} input / ${o.recurrentDropout} recurrent) → ${o.pooling} pooling → `
    + `Dropout(${o.dropout}) → Linear(${classes.length}); Adam one-cycle lr ${o.lr}, batch ${o.batchSize}, ${plural(o.epochs, 'epoch')}`);
  const binary = classes.length === 2;
  const shown = binary ? ['loss', 'accuracy', 'f1', 'val_loss', 'val_accuracy', 'val_f1', 'val_auc'] : ['loss', 'accuracy', 'val_loss', 'val_accuracy', 'val_f1_macro'];
  const validation = validationRows.length > 0 ? { texts: pick(docs.texts, validationRows), labels: pick(labels, validationRows) } : null;
  const history = await textclass.train(model, trainTexts, trainLabels, {
    validation, epochs: o.epochs, batchSize: o.batchSize, lr: o.lr, clipGradNorm: o.clip, seed: o.seed,
    callbacks: epochPrinter(output, o.epochs, shown), progress: progressSetting(output),
  });
  if (validation) report(output, model, validation.texts, validation.labels);
  await writeOutputFile(o.out, 'output file', o.force === true,
    () => textclass.save(o.out, model, { textColumn: o.textColumn, source: 'rnnkit train textclass' }));
  output.info(`saved ${o.out}`);
  return history.epochs.at(-1) ?? { epoch: -1 };
}
