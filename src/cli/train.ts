/**
 * `rnnkit train <task>` and `rnnkit train --config cfg.json`: the options of each task, read from
 * flags or a JSON config file (flags win), checked, then handed to the task's runner.
 * @module
 */
import type { Command } from 'commander';
import { addCommand, defineCommand, runCommand, type CommandSpec } from './command.js';
import {
  TRAIN_CLASSIFY_OPTIONS, TRAIN_FORECAST_OPTIONS, TRAIN_SEQ2SEQ_OPTIONS, TRAIN_TEXT_OPTIONS, TRAIN_TEXTCLASS_OPTIONS,
} from './command-options.js';
import { CliError } from './errors.js';
import { configFor, readConfigFile, type OptionSpec } from './options.js';
import type { Output } from './output.js';
import { CLASSIFY_FORMAT, TEXTCLASS_FORMAT } from './specs.js';

const CONFIG_OPTION: OptionSpec = { flag: '--config <file>', description: 'read options from a JSON file (flags given too win)', kind: 'inputFile' };

/** The `rnnkit train` tasks, by name. */
export const TRAIN_TASKS: Record<string, CommandSpec> = {
  text: defineCommand({
    summary: 'character-level language model on a text file (Embedding → LSTM/GRU → Linear, truncated BPTT)',
    help: `
The end of the text (--val-split) is held out to report bits per character after every epoch
(compare with the unigram baseline printed first). After training the model is saved and a sample
is printed; generate more with 'rnnkit generate --model <out>'.

Example:
  rnnkit train text --input corpus.txt --epochs 3 --hidden 256 --layers 2 --out lm.safetensors`,
    options: TRAIN_TEXT_OPTIONS,
    run: async (values, output) => (await import('./text.js')).trainText(values, output),
  }),
  classify: defineCommand({
    summary: 'sequence classification from a CSV file (LSTM/GRU → Linear on the last state)',
    help: `${CLASSIFY_FORMAT}

A random --val-split of the rows (seeded) reports validation accuracy after every epoch, beside the
majority-class baseline. Features are standardized with the training rows' mean and std; the saved
file holds the weights (PyTorch names) and, in its metadata, the classes and the scaling.

Example:
  rnnkit train classify --input gestures.csv --features 3 --epochs 20 --out classifier.safetensors`,
    options: TRAIN_CLASSIFY_OPTIONS,
    run: async (values, output) => (await import('./classify.js')).trainClassify(values, output),
  }),
  textclass: defineCommand({
    summary: 'text classification from CSV or JSON Lines (Embedding → bidirectional LSTM/GRU → pooling → Linear)',
    help: `${TEXTCLASS_FORMAT}

A seeded, stratified --val-split of the documents is held out: each epoch reports on it, and at the
end its accuracy, precision / recall / F1, ROC AUC (two classes) and confusion matrix, beside the
majority-class baseline. The defaults suit a few thousand documents. The saved file holds the
weights, the tokenizer, the vocabulary, the classes and --text-column; 'rnnkit predict' uses them.

Example:
  rnnkit train textclass --input mail.csv --text-column body --label-column label --out spam.safetensors`,
    options: TRAIN_TEXTCLASS_OPTIONS,
    run: async (values, output) => (await import('./textclass.js')).trainTextclass(values, output),
  }),
  forecast: defineCommand({
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
    options: TRAIN_FORECAST_OPTIONS,
    run: async (values, output) => (await import('./forecast.js')).trainForecast(values, output),
  }),
  seq2seq: defineCommand({
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
    options: TRAIN_SEQ2SEQ_OPTIONS,
    run: async (values, output) => (await import('./seq2seq.js')).trainSeq2Seq(values, output),
  }),
};

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
      const task = TRAIN_TASKS[taskOfConfig(options.config, raw.task)];
      await runCommand(task, {}, configFor(options.config, raw, task.options, ['task']), output);
    });

  for (const [name, task] of Object.entries(TRAIN_TASKS)) {
    addCommand(train, name, { ...task, description: `Train: ${task.summary}.` }, output, [CONFIG_OPTION], (cli, self) => {
      // `--config` after the task name may land on the parent `train` command (commander reads a parent's options anywhere).
      const file = (cli.config ?? self.parent?.opts().config) as string | undefined;
      if (file === undefined) return null;
      const raw = readConfigFile(file);
      taskOfConfig(file, raw.task, name);
      return configFor(file, raw, task.options, ['task']);
    });
  }
}
