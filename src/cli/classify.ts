/**
 * `rnnkit train classify`: sequence classification from a CSV file.
 *
 * Format (see {@link CLASSIFY_FORMAT}): one sequence per row, its label first, then the sequence
 * flattened step by step (`t0f0, t0f1, …, t1f0, …`); `--features F` features per step, so a row of
 * 1 + T·F fields is a sequence of T steps. An optional header row (non-numeric values) is skipped.
 *
 * Model: LSTM (or GRU) over the steps → Linear on the last layer's final state, cross-entropy, Adam,
 * gradient clipping; features standardized with the training rows' mean and std. The saved
 * safetensors holds PyTorch-named weights and, in its metadata, what is needed to use it again
 * (classes, feature scaling, sizes).
 * @module
 */
import { DataLoader, TensorDataset } from '../data/index.js';
import { saveSafetensors } from '../io/safetensors.js';
import * as nn from '../nn/index.js';
import * as optim from '../optim/index.js';
import { sortLabels } from '../tasks/textclass.js';
import { getRngState, manualSeed, randomInt, setRngState } from '../tensor/random.js';
import { tensor, type Tensor } from '../tensor/index.js';
import { fit } from '../train/index.js';
import { CliError } from './errors.js';
import { csvNumber, looksLikeHeader, parseCsv, readInputText, writeOutputFile } from './files.js';
import { checkModelSize } from './limits.js';
import { epochPrinter, plural, progressSetting, type Output } from './output.js';
import type { TRAIN_CLASSIFY_OPTIONS } from './command-options.js';
import type { OptionValues } from './options.js';

/** Options of `rnnkit train classify`. */
export type ClassifyOptions = OptionValues<typeof TRAIN_CLASSIFY_OPTIONS>;

/** The sequences of a classification CSV. */
export interface ClassifyData {
  /** [N, T, F], row-major. */
  inputs: Float32Array;
  /** Class index of each row (into `classes`). */
  labels: Int32Array;
  classes: string[];
  rows: number;
  steps: number;
  features: number;
}

/** Reads and checks a classification CSV; errors name the line and what is wrong. */
export function readClassifyCsv(file: string, features: number, steps?: number): ClassifyData {
  const records = parseCsv(readInputText(file), file);
  if (records.length > 0 && looksLikeHeader(records[0], 1)) records.shift();
  if (records.length === 0) throw new CliError(`${file}: no data rows`);
  const width = records[0].fields.length;
  const valueCount = width - 1;
  if (valueCount < 1) throw new CliError(`${file} line ${records[0].line}: a row needs a label and at least one value, got ${width} field`);
  if (valueCount % features !== 0) {
    throw new CliError(`${file} line ${records[0].line}: ${valueCount} values is not a whole number of steps of --features ${features}`);
  }
  const T = valueCount / features;
  if (steps !== undefined && steps !== T) {
    throw new CliError(`${file} line ${records[0].line}: --steps ${steps} × --features ${features} needs ${steps * features + 1} fields per row, got ${width}`);
  }
  const inputs = new Float32Array(records.length * valueCount);
  const names = records.map((record) => {
    if (record.fields.length !== width) {
      throw new CliError(`${file} line ${record.line}: expected ${width} fields (label + ${T} steps × ${features} features), got ${record.fields.length}`);
    }
    const label = record.fields[0].trim();
    if (label === '') throw new CliError(`${file} line ${record.line}, column 1 (label): empty label`);
    return label;
  });
  records.forEach((record, row) => {
    for (let k = 0; k < valueCount; k++) inputs[row * valueCount + k] = csvNumber(record, k + 1, file);
  });
  const classes = sortLabels(names);
  if (classes.length < 2) throw new CliError(`${file}: every row has the label '${classes[0]}'; classification needs at least 2 classes`);
  const index = new Map(classes.map((name, i) => [name, i]));
  return { inputs, labels: Int32Array.from(names, (name) => index.get(name)!), classes, rows: records.length, steps: T, features };
}

/** LSTM/GRU over `[B, T, F]` → Linear on the last layer's final hidden state → logits `[B, C]`. */
export class SequenceClassifier extends nn.Module {
  readonly rnn: nn.LSTM | nn.GRU;
  readonly head: nn.Linear;

  constructor(features: number, hidden: number, classes: number, options: { cell: 'lstm' | 'gru'; layers: number; dropout: number }) {
    super();
    const rnnOptions = { numLayers: options.layers, dropout: options.dropout, batchFirst: true };
    this.rnn = options.cell === 'gru' ? new nn.GRU(features, hidden, rnnOptions) : new nn.LSTM(features, hidden, rnnOptions);
    this.head = new nn.Linear(hidden, classes);
  }

  forward(x: Tensor): Tensor {
    const hN = this.rnn instanceof nn.LSTM ? this.rnn.forward(x)[1][0] : this.rnn.forward(x)[1]; // [layers, B, H]
    return this.head.forward(hN.select(0, -1));
  }

  async forwardAsync(x: Tensor): Promise<Tensor> {
    const hN = this.rnn instanceof nn.LSTM ? (await this.rnn.forwardAsync(x))[1][0] : (await this.rnn.forwardAsync(x))[1];
    return this.head.forward(hN.select(0, -1));
  }
}

/** Per-feature mean and std over the given rows of `[N, T, F]` (std 1 where a feature is constant). */
function featureScaling(data: ClassifyData, rows: Int32Array): { mean: number[]; std: number[] } {
  const { steps, features, inputs } = data;
  const sum = new Float64Array(features), sumSq = new Float64Array(features);
  for (const row of rows) {
    for (let t = 0; t < steps; t++) {
      for (let f = 0; f < features; f++) {
        const v = inputs[(row * steps + t) * features + f];
        sum[f] += v;
        sumSq[f] += v * v;
      }
    }
  }
  const count = rows.length * steps;
  const mean = Array.from(sum, (s) => s / count);
  const std = Array.from(sumSq, (s, f) => Math.sqrt(Math.max(s / count - mean[f] ** 2, 0)) || 1);
  return { mean, std };
}

/** The given rows, scaled: inputs `[n, T, F]` and labels `[n]`. */
function selectRows(data: ClassifyData, rows: Int32Array, scaling: { mean: number[]; std: number[] }): [Tensor, Tensor] {
  const width = data.steps * data.features;
  const x = new Float32Array(rows.length * width);
  rows.forEach((row, i) => {
    for (let k = 0; k < width; k++) {
      const f = k % data.features;
      x[i * width + k] = (data.inputs[row * width + k] - scaling.mean[f]) / scaling.std[f];
    }
  });
  const y = Float32Array.from(rows, (row) => data.labels[row]);
  return [tensor(x, [rows.length, data.steps, data.features]), tensor(y, [rows.length])];
}

/** A seeded permutation of 0..n-1 (the global RNG), split into [train, validation] (also the pairs of `train seq2seq`). */
export function splitRows(n: number, valSplit: number): [Int32Array, Int32Array] {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const valCount = valSplit > 0 ? Math.max(1, Math.round(n * valSplit)) : 0;
  if (n - valCount < 1) throw new CliError(`--val-split ${valSplit} leaves no training rows out of ${n}`);
  return [order.slice(0, n - valCount).sort(), order.slice(n - valCount).sort()];
}

/** Share of rows whose label is the most common label of the training rows (the baseline to beat). */
function majorityAccuracy(data: ClassifyData, trainRows: Int32Array, evalRows: Int32Array): number {
  const counts = new Array<number>(data.classes.length).fill(0);
  for (const row of trainRows) counts[data.labels[row]]++;
  const majority = counts.indexOf(Math.max(...counts));
  return evalRows.filter((row) => data.labels[row] === majority).length / Math.max(evalRows.length, 1);
}

/** What `train classify` saves in the model file's metadata (`config`, JSON). */
export interface ClassifyConfig {
  task: 'classify';
  cell: 'lstm' | 'gru';
  features: number;
  steps: number;
  hidden: number;
  layers: number;
  classes: string[];
  mean: number[];
  std: number[];
}

/** The metadata `format` of a `train classify` model file. */
export const CLASSIFY_FORMAT_TAG = 'rnnkit-classify';

/** A `train classify` model from its file's tensors and metadata (eval mode; the RNG is left as it was). */
export function loadSequenceClassifier(tensors: Record<string, Tensor>, metadata: Record<string, string>): { model: SequenceClassifier; config: ClassifyConfig } {
  const config = JSON.parse(metadata.config ?? 'null') as ClassifyConfig | null;
  if (metadata.format !== CLASSIFY_FORMAT_TAG || config?.task !== 'classify') throw new CliError(`not a 'rnnkit train classify' model (metadata format ${metadata.format ?? 'missing'})`);
  const rng = getRngState();
  let model: SequenceClassifier;
  try {
    model = new SequenceClassifier(config.features, config.hidden, config.classes.length, { cell: config.cell, layers: config.layers, dropout: 0 });
  } finally {
    setRngState(rng);
  }
  model.loadStateDict(tensors);
  model.eval();
  return { model, config };
}

/** Rows of `steps × features` raw values, scaled as in training: `[rows, steps, features]`. */
export function scaledInputs(config: ClassifyConfig, rows: readonly Float32Array[]): Tensor {
  const width = config.steps * config.features;
  const x = new Float32Array(rows.length * width);
  rows.forEach((row, r) => {
    for (let k = 0; k < width; k++) x[r * width + k] = (row[k] - config.mean[k % config.features]) / config.std[k % config.features];
  });
  return tensor(x, [rows.length, config.steps, config.features]);
}

/** Trains the classifier, prints per-epoch numbers, saves the model; returns the last epoch's logs. */
export async function trainClassify(o: ClassifyOptions, output: Output): Promise<Record<string, number>> {
  const data = readClassifyCsv(o.input, o.features, o.steps);
  checkModelSize({ cell: o.cell, inputSize: data.features, hidden: o.hidden, layers: o.layers, outputs: data.classes.length }, `--features ${o.features}`);
  manualSeed(o.seed);
  const [trainRows, valRows] = splitRows(data.rows, o.valSplit);
  const scaling = featureScaling(data, trainRows);
  const train = new DataLoader(new TensorDataset(...selectRows(data, trainRows, scaling)), { batchSize: o.batchSize, shuffle: true, seed: o.seed });
  const validation = valRows.length > 0 ? new DataLoader(new TensorDataset(...selectRows(data, valRows, scaling)), { batchSize: 256 }) : undefined;
  const model = new SequenceClassifier(data.features, o.hidden, data.classes.length, o);
  const optimizer = new optim.Adam(model.parameters(), { lr: o.lr });

  output.info(`${data.rows} sequences of ${data.steps} steps × ${data.features} features, ${data.classes.length} classes `
    + `(${data.classes.slice(0, 8).join(', ')}${data.classes.length > 8 ? ', …' : ''}); ${trainRows.length} train, ${valRows.length} validation`);
  output.info(`${o.cell.toUpperCase()}(${data.features}→${o.hidden}, ${plural(o.layers, 'layer')}) → Linear(${o.hidden}→${data.classes.length}); `
    + `Adam lr ${o.lr}, batch ${o.batchSize}, ${plural(o.epochs, 'epoch')}, clip ${o.clip}, seed ${o.seed}`);
  if (validation) output.info(`majority-class baseline: ${(100 * majorityAccuracy(data, trainRows, valRows)).toFixed(2)} % validation accuracy`);

  const history = await fit(model, {
    train, validation, loss: 'crossEntropy', metrics: ['accuracy'], optimizer, epochs: o.epochs, clipGradNorm: o.clip,
    callbacks: epochPrinter(output, o.epochs, ['loss', 'accuracy', 'val_loss', 'val_accuracy']), progress: progressSetting(output),
  });
  const config: ClassifyConfig = {
    task: 'classify', cell: o.cell, features: data.features, steps: data.steps, hidden: o.hidden, layers: o.layers,
    classes: data.classes, mean: scaling.mean, std: scaling.std,
  };
  await writeOutputFile(o.out, 'output file', o.force === true,
    () => saveSafetensors(o.out, model.stateDict(), { format: CLASSIFY_FORMAT_TAG, config: JSON.stringify(config) }));
  output.info(`saved ${o.out}`);
  return history.epochs.at(-1) ?? { epoch: -1 };
}
