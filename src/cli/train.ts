/**
 * `rnnkit train <task>` and `rnnkit train --config cfg.json`: the options of each task, read from
 * flags or a JSON config file (flags win), checked, then handed to the task's runner.
 * @module
 */
import type { Command } from 'commander';
import { MAX_THREADS, setNumThreads } from '../runtime.js';
import type { ClassifyOptions } from './classify.js';
import { CliError, flagError } from './errors.js';
import { checkInputFile, checkOutputFile } from './files.js';
import type { TrainForecastCliOptions } from './forecast.js';
import {
  addOptions, configFor, configPaths, libraryNameFlags, MAX_EPOCHS, MAX_GENERATED_STEPS, optionKey, readConfigFile,
  resolveOptions, type ConfigFile, type OptionSpec,
} from './options.js';
import type { Output } from './output.js';
import { CALENDAR_FEATURES, CLASSIFY_FORMAT, TEXTCLASS_FORMAT } from './specs.js';
import type { TrainSeq2SeqCliOptions } from './seq2seq.js';
import type { TrainTextCliOptions } from './text.js';
import type { TrainTextclassCliOptions } from './textclass.js';

/** Options every command that computes takes. */
export const THREADS_OPTION: OptionSpec = { flag: '--threads <n>', description: 'native threads (default: the cores available)', kind: 'positiveInt', max: MAX_THREADS };

/** Options of every command that writes files (see checkOutputFile for what it may replace). */
export const FORCE_OPTION: OptionSpec = { flag: '--force', description: 'overwrite output files that exist and are not rnnkit models', kind: 'boolean' };

/** `--seed`: any integer a double holds exactly. */
const seedOption = (description: string, defaultSeed?: number): OptionSpec => (
  { flag: '--seed <n>', description, kind: 'nonNegativeInt', max: Number.MAX_SAFE_INTEGER, default: defaultSeed });

const CONFIG_OPTION: OptionSpec = { flag: '--config <file>', description: 'read options from a JSON file (flags given too win)', kind: 'inputFile' };

/** What {@link trainingOptions} resolves to: the model and training options every task's runner takes. */
export interface TrainingCliOptions {
  cell: 'lstm' | 'gru';
  hidden: number;
  layers: number;
  dropout: number;
  epochs: number;
  batchSize: number;
  lr: number;
  clip: number;
  seed: number;
  force?: boolean;
}

/** Training options most tasks share (resolved: {@link TrainingCliOptions}). */
function trainingOptions(defaults: { epochs: number; batchSize: number; lr: number; hidden: number; layers: number; dropout?: number }): OptionSpec[] {
  return [
    { flag: '--cell <cell>', description: 'recurrent cell', kind: ['lstm', 'gru'], default: 'lstm' },
    { flag: '--hidden <n>', description: 'hidden units per recurrent layer', kind: 'positiveInt', default: defaults.hidden },
    { flag: '--layers <n>', description: 'stacked recurrent layers', kind: 'positiveInt', default: defaults.layers },
    { flag: '--dropout <p>', description: 'dropout between recurrent layers', kind: 'probability', default: defaults.dropout ?? 0 },
    { flag: '--epochs <n>', description: 'passes over the training data', kind: 'positiveInt', default: defaults.epochs, max: MAX_EPOCHS },
    { flag: '--batch-size <n>', description: 'sequences per optimizer step', kind: 'positiveInt', default: defaults.batchSize },
    { flag: '--lr <rate>', description: 'learning rate (Adam)', kind: 'positiveNumber', default: defaults.lr },
    { flag: '--clip <norm>', description: 'clip the gradient norm to this', kind: 'positiveNumber', default: 1 },
    seedOption('seed of initialization, shuffling and sampling', 0),
    FORCE_OPTION,
  ];
}

/** One `rnnkit train` task: its options, help and runner (imported when it runs: help and flag errors stay fast). */
interface TrainTask {
  summary: string;
  help: string;
  options: OptionSpec[];
  run(values: Record<string, unknown>, output: Output): Promise<unknown>;
}

export const TRAIN_TASKS: Record<string, TrainTask> = {
  text: {
    summary: 'character-level language model on a text file (Embedding → LSTM/GRU → Linear, truncated BPTT)',
    help: `
The end of the text (--val-split) is held out to report bits per character after every epoch
(compare with the unigram baseline printed first). After training the model is saved and a sample
is printed; generate more with 'rnnkit generate --model <out>'.

Example:
  rnnkit train text --input corpus.txt --epochs 3 --hidden 256 --layers 2 --out lm.safetensors`,
    options: [
      { flag: '--input <file>', description: 'the training text (UTF-8)', kind: 'inputFile', required: true },
      { flag: '--out <file>', description: 'where to save the model (safetensors)', kind: 'outputFile', default: 'model.safetensors' },
      { flag: '--val-split <fraction>', description: 'share of the text, from its end, held out for validation (0 = none)', kind: 'probability', default: 0.1 },
      ...trainingOptions({ epochs: 1, batchSize: 32, lr: 3e-3, hidden: 256, layers: 2 }),
      { flag: '--embedding <n>', description: 'character embedding size', kind: 'positiveInt', default: 64 },
      { flag: '--seq-len <n>', description: 'characters per training window', kind: 'positiveInt', default: 256 },
      { flag: '--bptt <n>', description: 'truncated-BPTT chunk: an optimizer step every n characters of a window', kind: 'positiveInt', default: 32 },
      { flag: '--sample <n>', description: 'characters of sample text to print after training (0 = none)', kind: 'nonNegativeInt', default: 200, max: MAX_GENERATED_STEPS },
      { flag: '--temperature <t>', description: 'temperature of the sample', kind: 'positiveNumber', default: 0.8 },
    ],
    run: async (values, output) => (await import('./text.js')).trainText(values as unknown as TrainTextCliOptions, output),
  },
  classify: {
    summary: 'sequence classification from a CSV file (LSTM/GRU → Linear on the last state)',
    help: `${CLASSIFY_FORMAT}

A random --val-split of the rows (seeded) reports validation accuracy after every epoch, beside the
majority-class baseline. Features are standardized with the training rows' mean and std; the saved
file holds the weights (PyTorch names) and, in its metadata, the classes and the scaling.

Example:
  rnnkit train classify --input gestures.csv --features 3 --epochs 20 --out classifier.safetensors`,
    options: [
      { flag: '--input <file>', description: 'the CSV file (format below)', kind: 'inputFile', required: true },
      { flag: '--out <file>', description: 'where to save the model (safetensors)', kind: 'outputFile', default: 'model.safetensors' },
      { flag: '--features <n>', description: 'features per time step', kind: 'positiveInt', default: 1 },
      { flag: '--steps <n>', description: 'time steps per sequence (default: from the row length; checked when given)', kind: 'positiveInt' },
      { flag: '--val-split <fraction>', description: 'share of the rows held out for validation (0 = none)', kind: 'probability', default: 0.2 },
      ...trainingOptions({ epochs: 10, batchSize: 32, lr: 1e-2, hidden: 64, layers: 1 }),
    ],
    run: async (values, output) => (await import('./classify.js')).trainClassify(values as unknown as ClassifyOptions, output),
  },
  textclass: {
    summary: 'text classification from CSV or JSON Lines (Embedding → bidirectional LSTM/GRU → pooling → Linear)',
    help: `${TEXTCLASS_FORMAT}

A seeded, stratified --val-split of the documents is held out: each epoch reports on it, and at the
end its accuracy, precision / recall / F1, ROC AUC (two classes) and confusion matrix, beside the
majority-class baseline. The defaults suit a few thousand documents. The saved file holds the
weights, the tokenizer, the vocabulary, the classes and --text-column; 'rnnkit predict' uses them.

Example:
  rnnkit train textclass --input mail.csv --text-column body --label-column label --out spam.safetensors`,
    options: [
      { flag: '--input <file>', description: 'the documents (CSV with a header, or JSON Lines)', kind: 'inputFile', required: true },
      { flag: '--text-column <name>', description: 'column (or JSON key) of the text', kind: 'string', default: 'text' },
      { flag: '--label-column <name>', description: 'column (or JSON key) of the label', kind: 'string', default: 'label' },
      { flag: '--input-format <format>', description: 'input format', kind: ['auto', 'csv', 'jsonl'], default: 'auto' },
      { flag: '--out <file>', description: 'where to save the model (safetensors)', kind: 'outputFile', default: 'model.safetensors' },
      { flag: '--val-split <fraction>', description: 'share of each class held out for validation (0 = none)', kind: 'probability', default: 0.1 },
      ...trainingOptions({ epochs: 8, batchSize: 32, lr: 3e-3, hidden: 64, layers: 1 }).filter((spec) => spec.flag !== '--dropout <p>'),
      { flag: '--embedding <n>', description: 'word embedding size', kind: 'positiveInt', default: 64 },
      { flag: '--max-length <n>', description: 'words read per document at most (the rest is cut)', kind: 'positiveInt', default: 400 },
      { flag: '--min-freq <n>', description: 'words seen fewer times in training read as <unk>', kind: 'positiveInt', default: 2 },
      { flag: '--max-vocab <n>', description: 'vocabulary size at most (the most frequent words)', kind: 'positiveInt', default: 20000 },
      { flag: '--pooling <mode>', description: 'how the steps are summarized', kind: ['max', 'mean', 'last'], default: 'max' },
      { flag: '--input-dropout <p>', description: 'variational dropout on the recurrent input (one mask per document)', kind: 'probability', default: 0.25 },
      { flag: '--recurrent-dropout <p>', description: 'variational dropout on the recurrent state (one mask per document)', kind: 'probability', default: 0.25 },
      { flag: '--dropout <p>', description: 'dropout before the output layer', kind: 'probability', default: 0.3 },
      { flag: '--unidirectional', description: 'read documents forward only (default: both ways)', kind: 'boolean' },
    ],
    run: async (values, output) => (await import('./textclass.js')).trainTextclass(values as unknown as TrainTextclassCliOptions, output),
  },
  forecast: {
    summary: 'time-series forecasting from a CSV column (LSTM/GRU → Linear, multi-step with carried state)',
    help: `
CSV: one row per time step, in time order; a header row names the columns (without one, name
columns by position: --column 2). The model reads windows of --window steps and predicts the next
value; forecasts of several steps feed each prediction back in. With --holdout N the last N steps
are held out: the model forecasts them and is compared (MAE, RMSE) with the naive (last value) and
seasonal-naive baselines; --plot draws that comparison as SVG. With --date-column and --calendar
the model also sees calendar features of the step it predicts (e.g. dayOfWeek for daily data).

Example:
  rnnkit train forecast --input births.csv --column births --date-column date --calendar dayOfWeek \\
    --holdout 28 --window 56 --epochs 10 --plot backtest.svg --out forecaster.safetensors`,
    options: [
      { flag: '--input <file>', description: 'the CSV file', kind: 'inputFile', required: true },
      { flag: '--column <names>', description: 'value column(s) to forecast, by header name or 1-based position, comma-separated (default: the last column)', kind: 'string' },
      { flag: '--date-column <name>', description: 'column of dates (for --calendar and dated forecasts)', kind: 'string' },
      { flag: '--calendar <features>', description: `calendar covariates from the dates, comma-separated: ${CALENDAR_FEATURES.join(', ')}`, kind: 'string' },
      { flag: '--out <file>', description: 'where to save the model (safetensors)', kind: 'outputFile', default: 'model.safetensors' },
      { flag: '--window <n>', description: 'steps the model reads per training sample (and warm-up before forecasting)', kind: 'positiveInt', default: 28 },
      { flag: '--holdout <n>', description: 'hold out the last n steps to compare the forecast with baselines (0 = train on all)', kind: 'nonNegativeInt', default: 0 },
      { flag: '--season <n>', description: 'season of the seasonal-naive baseline (default: 7 for daily, 12 for monthly dates)', kind: 'positiveInt' },
      { flag: '--plot <file>', description: 'SVG of the held-out forecast vs truth (with --holdout)', kind: 'outputFile' },
      ...trainingOptions({ epochs: 10, batchSize: 64, lr: 3e-3, hidden: 64, layers: 1 }),
    ],
    run: async (values, output) => (await import('./forecast.js')).trainForecast(values as unknown as TrainForecastCliOptions, output),
  },
  seq2seq: {
    summary: 'sequence to sequence from a TSV file of pairs (bidirectional encoder, attention, decoder; e.g. spelling to pronunciation)',
    help: `
TSV: one pair per line, source<TAB>target. Each side is read as characters, or as space-separated
tokens when any of its fields has a space (--source-tokens / --target-tokens choose). A seeded
--val-split of the pairs is decoded after every epoch: its word error rate (share of outputs with
any error) and token error rate (edit distance / reference length) are printed, the learning rate
halves when the error rate stalls, and training stops after --patience epochs without a better one,
keeping the best weights. The saved file holds the weights, both vocabularies and the
configuration; 'rnnkit translate --model <out>' uses it.

Example:
  rnnkit train seq2seq --input pairs.tsv --out g2p.safetensors
  echo hello | rnnkit translate --model g2p.safetensors --beam 5`,
    options: [
      { flag: '--input <file>', description: 'the pairs (TSV: source<TAB>target per line)', kind: 'inputFile', required: true },
      { flag: '--out <file>', description: 'where to save the model (safetensors)', kind: 'outputFile', default: 'model.safetensors' },
      { flag: '--val-split <fraction>', description: 'share of the pairs held out for validation and early stopping (0 = none)', kind: 'probability', default: 0.1 },
      { flag: '--source-tokens <kind>', description: 'how to split a source', kind: ['auto', 'chars', 'spaces'], default: 'auto' },
      { flag: '--target-tokens <kind>', description: 'how to split a target', kind: ['auto', 'chars', 'spaces'], default: 'auto' },
      ...trainingOptions({ epochs: 40, batchSize: 32, lr: 3e-3, hidden: 128, layers: 1, dropout: 0.1 }),
      { flag: '--embedding <n>', description: 'size of the source and target embeddings', kind: 'positiveInt', default: 64 },
      { flag: '--attention <score>', description: 'attention score', kind: ['general', 'dot', 'additive'], default: 'general' },
      { flag: '--patience <n>', description: 'epochs without a better validation error rate before stopping', kind: 'positiveInt', default: 4, max: MAX_EPOCHS },
      { flag: '--smoothing <eps>', description: 'label smoothing of the cross-entropy', kind: 'probability', default: 0.1 },
      { flag: '--beam <n>', description: 'beam width of the final validation report', kind: 'positiveInt', default: 5, max: 1000 },
    ],
    run: async (values, output) => (await import('./seq2seq.js')).trainSeq2Seq(values as unknown as TrainSeq2SeqCliOptions, output),
  },
};

/** How messages name the file of a path option: `input file`, `output file`, `plot file`, … */
export function fileRole(key: string): string {
  return key === 'input' ? 'input file' : key === 'out' || key === 'output' ? 'output file' : `${key} file`;
}

/** Checks files before the (long) work starts: inputs readable, outputs writable (and not another kind of file, without --force). */
async function checkFiles(specs: readonly OptionSpec[], values: Record<string, unknown>): Promise<void> {
  for (const spec of specs) {
    const key = optionKey(spec);
    const value = values[key];
    if (typeof value !== 'string') continue;
    if (spec.kind === 'inputFile') checkInputFile(value, fileRole(key));
    if (spec.kind === 'outputFile') await checkOutputFile(value, fileRole(key), values.force === true);
  }
}

/**
 * The command's options (flags over config over defaults), files checked, --threads applied; the
 * paths a config gave are printed as resolved (relative to the config's folder).
 */
export async function prepareOptions(specs: readonly OptionSpec[], cli: Record<string, unknown>, config: ConfigFile | null, output: Output): Promise<Record<string, unknown>> {
  const values = resolveOptions(specs, cli, config);
  const paths = config ? configPaths(specs, cli, config, values) : [];
  if (paths.length > 0) output.info(`paths in ${config!.file}, from its folder: ${paths.map(([key, file]) => `${key} ${file}`).join(', ')}`);
  await checkFiles(specs, values);
  if (values.threads !== undefined) setNumThreads(values.threads as number);
  return values;
}

/** Runs a command; an argument error of the library about a value a flag gave names the flag (exit 2). */
export async function runNamingFlags(specs: readonly OptionSpec[], run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch (error) {
    throw flagError(error, libraryNameFlags(specs)) ?? error;
  }
}

/** Resolves and checks the task's options, then runs the task. */
async function runTask(name: string, cli: Record<string, unknown>, config: ConfigFile | null, output: Output): Promise<void> {
  const task = TRAIN_TASKS[name];
  const specs = [...task.options, THREADS_OPTION];
  const values = await prepareOptions(specs, cli, config, output);
  await runNamingFlags(specs, () => task.run(values, output));
}

/** The task a config file names (checked against the command line's, when one was given). */
function taskOfConfig(file: string, task: unknown, expected?: string): string {
  const tasks = Object.keys(TRAIN_TASKS);
  if (expected !== undefined) {
    if (task !== undefined && task !== expected) throw new CliError(`"task" in ${file} is ${JSON.stringify(task)}, but the command is 'rnnkit train ${expected}'`);
    return expected;
  }
  if (task === undefined) throw new CliError(`${file} needs a "task" (${tasks.join(', ')}) when no task is given on the command line`);
  if (typeof task !== 'string' || !tasks.includes(task)) throw new CliError(`"task" in ${file} must be one of ${tasks.join(', ')}, got ${JSON.stringify(task)}`);
  return task;
}

/** Adds `train` and its task subcommands to the program. */
export function addTrainCommand(program: Command, output: Output): void {
  const train = program.command('train')
    .summary('train a model: text, classify, textclass, forecast or seq2seq')
    .description('Train a model on a file and save it (safetensors). Choose a task, or give a JSON config with a "task" key.')
    .option(CONFIG_OPTION.flag, 'JSON file with "task" and the task\'s options, e.g. {"task": "text", "input": "corpus.txt", "epochs": 2}')
    .addHelpText('after', `
Config file: option names as keys, camelCase or as flags ("seqLen" or "seq-len"); relative paths
are relative to the config file. Flags given on the command line win over the file:
  rnnkit train --config cfg.json
  rnnkit train text --config cfg.json --epochs 5`)
    .action(async (options: { config?: string }) => {
      if (options.config === undefined) {
        train.outputHelp({ error: true });
        throw new CliError(`choose a task (rnnkit train ${Object.keys(TRAIN_TASKS).join('|')} ...) or give --config <file>`);
      }
      const raw = readConfigFile(options.config);
      const name = taskOfConfig(options.config, raw.task);
      await runTask(name, {}, configFor(options.config, raw, [...TRAIN_TASKS[name].options, THREADS_OPTION], ['task']), output);
    });

  for (const [name, task] of Object.entries(TRAIN_TASKS)) {
    const command = train.command(name).summary(task.summary).description(`Train: ${task.summary}.`);
    addOptions(command, [...task.options, THREADS_OPTION, CONFIG_OPTION]);
    command.addHelpText('after', task.help);
    command.action(async (cli: Record<string, unknown>, self: Command) => {
      // `--config` after the task name may land on the parent `train` command (commander reads a parent's options anywhere).
      const file = (cli.config ?? self.parent?.opts().config) as string | undefined;
      let config: ConfigFile | null = null;
      if (file !== undefined) {
        const raw = readConfigFile(file);
        taskOfConfig(file, raw.task, name);
        config = configFor(file, raw, [...task.options, THREADS_OPTION], ['task']);
      }
      await runTask(name, cli, config, output);
    });
  }
}
