/**
 * Text classification, from raw documents and their labels to predictions (the `textclass`
 * namespace):
 *
 * ```ts
 * import { textclass } from 'rnnkit';
 * const model = textclass.buildClassifier(trainTexts, trainLabels);        // vocabulary, classes, model
 * await textclass.train(model, trainTexts, trainLabels, { validation: { texts, labels }, epochs: 8 });
 * const report = textclass.evaluate(model, testTexts, testLabels);        // accuracy, F1, AUC, confusion
 * model.predict(['Win money now!'])                                       // [{ label: 'spam', probability: 0.97, … }]
 * textclass.save('spam.safetensors', model);                              // weights + tokenizer + vocabulary + classes
 * const { model: again } = textclass.load('spam.safetensors');
 * ```
 *
 * The model ({@link TextClassifier}) is Embedding → bidirectional LSTM/GRU with variational dropout
 * → max pooling over each document's valid steps → Dropout → Linear; training batches documents of
 * similar length together (bucketing), pads them with `<pad>` and passes their lengths to the
 * recurrent kernels, so padding costs neither time nor accuracy.
 * @module
 */
import { DataLoader } from '../data/loader.js';
import { padCollate, sequenceLength, type PaddedBatch } from '../data/collate.js';
import { TextDataset, type TextItem } from '../data/text-dataset.js';
import { WordTokenizer, type WordTokenizerOptions } from '../data/tokenizer.js';
import { Vocabulary } from '../data/vocabulary.js';
import { readSafetensors, saveSafetensors, serializeSafetensors } from '../io/safetensors.js';
import { Adam } from '../optim/adam.js';
import { OneCycleLR } from '../optim/one-cycle.js';
import { getRngState, setRngState } from '../tensor/random.js';
import type { Callback } from '../train/callbacks.js';
import { ConfusionMatrix, rocAuc } from '../train/classification.js';
import { fit, type History } from '../train/fit.js';
import type { MetricSpec } from '../train/metrics.js';
import type { ProgressSetting } from '../train/progress.js';
import { checkOptions, describe, expectObject, isNullish, optionalObject, positiveInt } from '../validate.js';
import { resolveOptions, TextClassifier, type TextClassifierConfig, type TextClassifierOptions } from './text-classifier.js';

export { TextClassifier, type TextClassifierConfig, type TextClassifierOptions, type TextPrediction } from './text-classifier.js';

/** Class names sorted as numbers when they all are numbers (`2` before `10`), else as text. */
export function sortLabels(names: Iterable<string>): string[] {
  const list = [...new Set(names)];
  const numeric = list.every((name) => name.trim() !== '' && Number.isFinite(Number(name)));
  return numeric ? list.sort((a, b) => Number(a) - Number(b)) : list.sort();
}

function checkTexts(texts: unknown, name: string): string[] {
  if (!Array.isArray(texts)) throw new TypeError(`Expected array of strings for ${name} but received ${describe(texts)}`);
  texts.forEach((text, i) => {
    if (typeof text !== 'string') throw new TypeError(`Expected string for ${name}[${i}] but received ${describe(text)}`);
  });
  return texts as string[];
}

/** Class ids of label names; a name the model does not know is an error naming it. */
function labelIds(model: TextClassifier, labels: unknown, count: number, name: string): Int32Array {
  const names = checkTexts(labels, name);
  if (names.length !== count) throw new RangeError(`Expected ${count} labels (one per text) for ${name} but received ${names.length}`);
  const ids = new Map(model.labels.map((label, i) => [label, i]));
  return Int32Array.from(names, (label, i) => {
    const id = ids.get(label);
    if (id === undefined) throw new RangeError(`Expected one of ${model.labels.join(', ')} for ${name}[${i}] but received ${JSON.stringify(label)}`);
    return id;
  });
}

/** Options of {@link buildClassifier}: the architecture, and how the vocabulary is chosen. */
export interface BuildClassifierOptions extends TextClassifierOptions {
  /** How text becomes words (default: lowercase, punctuation tokens). */
  tokenizer?: WordTokenizerOptions;
  /** Words seen fewer times in the training texts read as `<unk>` (default 2). */
  minFreq?: number;
  /** At most this many words, the most frequent (default 20000). */
  maxVocab?: number;
}

/**
 * A new (untrained) classifier for these training texts: their vocabulary (`minFreq`, `maxVocab`)
 * and their classes (the distinct labels, sorted: {@link sortLabels}). Draws its initial weights
 * from the global RNG (`manualSeed` first for a reproducible run).
 */
export function buildClassifier(texts: readonly string[], labels: readonly string[], options: BuildClassifierOptions = {}): TextClassifier {
  const documents = checkTexts(texts, 'texts');
  const names = checkTexts(labels, 'labels');
  if (names.length !== documents.length) throw new RangeError(`Expected ${documents.length} labels (one per text) for labels but received ${names.length}`);
  const { tokenizer: tokenizerOptions, minFreq, maxVocab, ...architecture } = optionalObject(options, 'options') as BuildClassifierOptions;
  const tokenizer = new WordTokenizer(tokenizerOptions);
  const vocabulary = Vocabulary.build(documents.map((text) => tokenizer.tokenize(text)), {
    minFreq: minFreq ?? 2, maxSize: maxVocab ?? 20000,
  });
  const classes = sortLabels(names);
  if (classes.length < 2) throw new RangeError(`Expected at least 2 classes in labels but every label is ${JSON.stringify(classes[0])}`);
  return new TextClassifier(classes, vocabulary, resolveOptions(architecture), tokenizer);
}

/** Options of {@link train}. */
export interface TrainTextClassifierOptions {
  /** Texts and labels scored after every epoch (`val_*` logs). */
  validation?: {
    /** The validation texts. */
    texts: readonly string[];
    /** Their labels, one per text. */
    labels: readonly string[];
  } | null;
  /** Passes over the training texts (default 8). */
  epochs?: number;
  /** Documents per step (default 32). */
  batchSize?: number;
  /** Peak learning rate of Adam's one-cycle schedule (default 3e-3). */
  lr?: number;
  /** Clip the gradient norm to this (default 1). */
  clipGradNorm?: number;
  /** Seed of the batch order (default: drawn from the global RNG). */
  seed?: number;
  /** Metrics to log (default: accuracy, f1 and auc for two classes; accuracy and f1_macro otherwise). */
  metrics?: MetricSpec[];
  /** Passed to fit. */
  callbacks?: Callback | Callback[];
  /** Passed to fit (default: false). */
  progress?: ProgressSetting;
  /** Aborts the training (fit stops after the current batch). */
  signal?: AbortSignal;
}

const TRAIN_KEYS = ['validation', 'epochs', 'batchSize', 'lr', 'clipGradNorm', 'seed', 'metrics', 'callbacks', 'progress', 'signal'];

function positiveNumber(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value;
  const message = `Expected positive number for ${name} but received ${describe(value)}`;
  throw typeof value === 'number' ? new RangeError(message) : new TypeError(message);
}

/** Batches of `texts` for fit: bucketed by length, padded with `<pad>`, with lengths. */
function loaderOf(model: TextClassifier, texts: readonly string[], ids: Int32Array, batchSize: number, shuffle: boolean, seed?: number): DataLoader<TextItem, PaddedBatch> {
  const dataset = new TextDataset([...texts], ids, { tokenizer: model.tokenizer, vocabulary: model.vocabulary, maxLength: model.config.maxLength });
  return new DataLoader(dataset, {
    batchSize, shuffle, seed, bucketBy: sequenceLength, collate: padCollate({ paddingValue: model.vocabulary.padIndex }),
  });
}

/**
 * Trains `model` on texts and their label names with `fit`: cross-entropy, Adam with a one-cycle
 * learning rate (10 % warm-up), gradient clipping, bucketed batches; validation after every epoch.
 * @throws TypeError / RangeError for bad options (named) or a label the model does not know.
 */
export async function train(model: TextClassifier, texts: readonly string[], labels: readonly string[],
  options: TrainTextClassifierOptions = {}): Promise<History> {
  if (!(model instanceof TextClassifier)) throw new TypeError(`Expected TextClassifier for model but received ${describe(model)}`);
  const o = checkOptions(options, 'train', TRAIN_KEYS) as TrainTextClassifierOptions;
  const documents = checkTexts(texts, 'texts');
  const ids = labelIds(model, labels, documents.length, 'labels');
  const epochs = o.epochs === undefined ? 8 : positiveInt(o.epochs, 'epochs');
  const batchSize = o.batchSize === undefined ? 32 : positiveInt(o.batchSize, 'batchSize');
  const lr = positiveNumber(o.lr, 'lr', 3e-3);
  const clipGradNorm = positiveNumber(o.clipGradNorm, 'clipGradNorm', 1);
  const trainLoader = loaderOf(model, documents, ids, batchSize, true, o.seed);
  let validation: DataLoader<TextItem, PaddedBatch> | undefined;
  if (!isNullish(o.validation)) {
    const v = expectObject(o.validation, 'validation');
    const validationTexts = checkTexts(v.texts, 'validation.texts');
    validation = loaderOf(model, validationTexts, labelIds(model, v.labels, validationTexts.length, 'validation.labels'), 128, false);
  }
  const optimizer = new Adam(model.parameters(), { lr });
  const scheduler = new OneCycleLR(optimizer, lr, { epochs, stepsPerEpoch: trainLoader.length as number, pctStart: 0.1 });
  const metrics = o.metrics ?? (model.labels.length === 2 ? ['accuracy', 'f1', 'auc'] : ['accuracy', 'f1_macro']);
  return fit(model, {
    train: trainLoader, validation, loss: 'crossEntropy', optimizer, scheduler, epochs, clipGradNorm, metrics,
    callbacks: o.callbacks, progress: o.progress, signal: o.signal,
  });
}

/** What {@link evaluate} reports. */
export interface TextClassificationReport {
  /** Share of the texts classified right. */
  accuracy: number;
  /** Of class 1 for two classes (binary), macro averages otherwise. */
  precision: number;
  /** Of class 1 for two classes (binary), macro averages otherwise. */
  recall: number;
  /** Of class 1 for two classes (binary), macro averages otherwise. */
  f1: number;
  /** ROC AUC of class 1 (two classes only; NaN otherwise, or with one class present). */
  auc: number;
  /** Counts by true class (rows) and predicted class (columns). */
  confusion: ConfusionMatrix;
  /** Each text's class probabilities. */
  probabilities: Float32Array[];
  /** Each text's predicted class id. */
  predicted: Int32Array;
}

/** Scores `model` on texts with known labels (eval mode, no gradients). */
export function evaluate(model: TextClassifier, texts: readonly string[], labels: readonly string[]): TextClassificationReport {
  if (!(model instanceof TextClassifier)) throw new TypeError(`Expected TextClassifier for model but received ${describe(model)}`);
  const documents = checkTexts(texts, 'texts');
  const truth = labelIds(model, labels, documents.length, 'labels');
  const probabilities = model.probabilities(documents);
  const predicted = Int32Array.from(probabilities, (p) => p.indexOf(Math.max(...p)));
  const confusion = ConfusionMatrix.fromPredictions(predicted, truth, model.labels.length);
  const binary = model.labels.length === 2;
  const score = (kind: 'precision' | 'recall' | 'f1') => (binary ? confusion[kind](1) : confusion.macro(kind));
  return {
    accuracy: confusion.compute(), precision: score('precision'), recall: score('recall'), f1: score('f1'),
    auc: binary ? rocAuc(probabilities.map((p) => p[1]), truth) : Number.NaN, confusion, probabilities, predicted,
  };
}

/** Metadata keys {@link save} writes. */
export const TEXTCLASS_METADATA_KEYS = {
  /** The task name. */
  task: 'rnnkit.task',
  /** The classifier's configuration, tokenizer and vocabulary (JSON). */
  config: 'rnnkit.textclass',
} as const;
/** The `rnnkit.task` value of a text classifier file. */
export const TEXTCLASS_TASK = 'text-classifier';

/** The model as safetensors bytes: weights (PyTorch names) + configuration, tokenizer, vocabulary and classes + `metadata`. */
export function serialize(model: TextClassifier, metadata: Record<string, string> = {}): Uint8Array {
  return serializeSafetensors(model.stateDict(), metadataOf(model, metadata));
}

/** {@link serialize} to a file (written atomically). */
export function save(file: string, model: TextClassifier, metadata: Record<string, string> = {}): void {
  if (typeof file !== 'string' || file === '') throw new TypeError(`Expected non-empty string for file but received ${describe(file)}`);
  saveSafetensors(file, model.stateDict(), metadataOf(model, metadata));
}

function metadataOf(model: TextClassifier, metadata: Record<string, string>): Record<string, string> {
  if (!(model instanceof TextClassifier)) throw new TypeError(`Expected TextClassifier for model but received ${describe(model)}`);
  const extra = expectObject(metadata, 'metadata');
  for (const [key, value] of Object.entries(extra)) {
    if ((Object.values(TEXTCLASS_METADATA_KEYS) as string[]).includes(key)) throw new RangeError(`Expected a metadata key other than ${key} (written by save) but received ${key}`);
    if (typeof value !== 'string') throw new TypeError(`Expected string for metadata.${key} but received ${describe(value)}`);
  }
  return { ...extra as Record<string, string>, [TEXTCLASS_METADATA_KEYS.task]: TEXTCLASS_TASK, [TEXTCLASS_METADATA_KEYS.config]: JSON.stringify(model.config) };
}

/**
 * A classifier written by {@link save} (a path or its bytes), in eval mode, with the caller's
 * metadata. Building it does not consume the global RNG.
 * @throws TypeError `Expected a text-classifier safetensors file (metadata rnnkit.task = text-classifier) for source but received one without it`
 */
export function load(source: string | Uint8Array): {
  /** The classifier. */
  model: TextClassifier;
  /** The file's `__metadata__` strings. */
  metadata: Record<string, string>;
} {
  const { tensors, metadata } = readSafetensors(source);
  if (metadata?.[TEXTCLASS_METADATA_KEYS.task] !== TEXTCLASS_TASK) {
    throw new TypeError(`Expected a ${TEXTCLASS_TASK} safetensors file (metadata ${TEXTCLASS_METADATA_KEYS.task} = ${TEXTCLASS_TASK}) for source but received one without it`);
  }
  const config = expectObject(JSON.parse(metadata[TEXTCLASS_METADATA_KEYS.config] ?? 'null'), `metadata ${TEXTCLASS_METADATA_KEYS.config}`) as unknown as TextClassifierConfig;
  const { labels, vocabulary, tokenizer, ...architecture } = config;
  const rng = getRngState();
  let model: TextClassifier;
  try {
    model = new TextClassifier(labels, Vocabulary.fromJSON({ tokens: vocabulary }), architecture, WordTokenizer.fromJSON(tokenizer));
  } finally {
    setRngState(rng); // the random init is overwritten anyway
  }
  model.loadStateDict(tensors);
  model.eval();
  const own = Object.values(TEXTCLASS_METADATA_KEYS) as string[];
  return { model, metadata: Object.fromEntries(Object.entries(metadata).filter(([key]) => !own.includes(key))) };
}
