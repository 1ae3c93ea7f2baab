/**
 * `rnnkit predict`: the class and its probability for each input of a classifier file — a text
 * classifier (`rnnkit train textclass`) reads documents (CSV, JSON Lines or plain lines), a
 * sequence classifier (`rnnkit train classify`) reads CSV rows of numbers — from a file or stdin.
 * One line per input: `label<TAB>probability`, or with --format json one JSON object
 * `{"label": …, "probability": …}` per line.
 * @module
 */
import { readSafetensors } from '../io/safetensors.js';
import * as textclass from '../tasks/textclass.js';
import { noGrad } from '../tensor/autograd.js';
import type { Tensor } from '../tensor/tensor.js';
import { loadSequenceClassifier, scaledInputs } from './classify.js';
import { readDocuments } from './documents.js';
import { asUserError, CliError } from './errors.js';
import { checkInputFile, csvNumber, looksLikeHeader, parseCsv, readInputText } from './files.js';
import { plural, type Output } from './output.js';
import type { PREDICT_OPTIONS } from './command-options.js';
import type { OptionValues } from './options.js';

/** Options of `rnnkit predict`. */
export type PredictCliOptions = OptionValues<typeof PREDICT_OPTIONS>;

/** One prediction as printed. */
interface Prediction {
  label: string;
  probability: number;
}

/** Most bytes read from stdin (a text input larger than this can not be one string anyway). */
const MAX_STDIN_BYTES = 256 * 1024 * 1024;

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) {
    throw new CliError('no --input given and stdin is a terminal: pipe the inputs in (cat mail.csv | rnnkit predict --model m.safetensors) or give --input <file>');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > MAX_STDIN_BYTES) throw new CliError(`stdin: more than ${MAX_STDIN_BYTES} bytes; give the input as a file with --input`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The input's text and its name for messages. */
async function inputText(file: string | undefined): Promise<{ text: string; source: string }> {
  if (file === undefined || file === '-') return { text: await readStdin(), source: 'stdin' };
  return { text: readInputText(file), source: file };
}

function best(probabilities: ArrayLike<number>, labels: readonly string[]): Prediction {
  let top = 0;
  for (let c = 1; c < probabilities.length; c++) if (probabilities[c] > probabilities[top]) top = c;
  return { label: labels[top], probability: probabilities[top] };
}

/** A text classifier's predictions for the documents of the input. */
function predictTexts(o: PredictCliOptions, model: textclass.TextClassifier, metadata: Record<string, string>, text: string, source: string): Prediction[] {
  const column = o.textColumn ?? metadata.textColumn ?? 'text';
  const docs = readDocuments(text, source, o.inputFormat, { text: column });
  return model.predict(docs.texts, o.batchSize).map(({ label, probability }) => ({ label, probability }));
}

/** A sequence classifier's predictions for CSV rows of steps × features numbers (a label first is skipped). */
function predictSequences(o: PredictCliOptions, tensors: Record<string, Tensor>, metadata: Record<string, string>, text: string, source: string): Prediction[] {
  const { model, config } = loadSequenceClassifier(tensors, metadata);
  const width = config.steps * config.features;
  const records = parseCsv(text, source);
  if (records.length > 0 && looksLikeHeader(records[0], records[0].fields.length === width + 1 ? 1 : 0)) records.shift();
  if (records.length === 0) throw new CliError(`${source}: no rows`);
  const rows = records.map((record) => {
    const skip = record.fields.length === width + 1 ? 1 : 0;
    if (record.fields.length !== width && skip === 0) {
      throw new CliError(`${source} line ${record.line}: expected ${width} values (${plural(config.steps, 'step')} × ${plural(config.features, 'feature')}), `
        + `optionally after a label, got ${record.fields.length} fields`);
    }
    return Float32Array.from({ length: width }, (_, k) => csvNumber(record, k + skip, source));
  });
  const predictions: Prediction[] = [];
  for (let start = 0; start < rows.length; start += o.batchSize) {
    const probabilities = noGrad(() => model.forward(scaledInputs(config, rows.slice(start, start + o.batchSize))).softmax(-1)).data;
    const C = config.classes.length;
    for (let r = 0; r * C < probabilities.length; r++) predictions.push(best(probabilities.subarray(r * C, (r + 1) * C), config.classes));
  }
  return predictions;
}

/** Loads the model, reads the inputs, prints one prediction per input; returns them. */
export async function runPredict(o: PredictCliOptions, output: Output): Promise<Prediction[]> {
  checkInputFile(o.model, 'model file');
  let file: ReturnType<typeof readSafetensors>;
  try {
    file = readSafetensors(o.model);
  } catch (error) {
    throw new CliError(`cannot load model '${o.model}': ${(error as Error).message}`);
  }
  const metadata = file.metadata ?? {};
  const isText = metadata[textclass.TEXTCLASS_METADATA_KEYS.task] === textclass.TEXTCLASS_TASK;
  if (!isText && metadata.format !== 'rnnkit-classify') {
    throw new CliError(`'${o.model}' is not a classifier (write one with 'rnnkit train textclass' or 'rnnkit train classify')`);
  }
  const { text, source } = await inputText(o.input);
  let predictions: Prediction[];
  if (isText) {
    let loaded: ReturnType<typeof textclass.load>;
    try {
      loaded = textclass.load(o.model);
    } catch (error) {
      return asUserError(error, `cannot load model '${o.model}'`);
    }
    predictions = predictTexts(o, loaded.model, loaded.metadata, text, source);
  } else {
    if (o.textColumn !== undefined) throw new CliError(`--text-column is for text classifiers; '${o.model}' classifies sequences of numbers`);
    predictions = predictSequences(o, file.tensors, metadata, text, source);
  }
  for (const p of predictions) {
    output.info(o.format === 'json' ? JSON.stringify(p) : `${p.label}\t${p.probability.toFixed(4)}`);
  }
  return predictions;
}
