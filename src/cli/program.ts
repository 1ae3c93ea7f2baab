/**
 * The `rnnkit` command: commander program with the subcommands train (text | classify | textclass |
 * forecast | seq2seq), generate, forecast, predict, translate, info and bench. {@link main} runs it and turns every failure into a message
 * and an exit code (see src/cli/errors.ts).
 * @module
 */
import { Command, CommanderError } from 'commander';
import { CliError, EXIT_USAGE, reportError } from './errors.js';
import type { ForecastCliOptions } from './forecast.js';
import { packageVersion, runInfo } from './info.js';
import { addOptions, MAX_GENERATED_STEPS, type OptionSpec } from './options.js';
import { consoleOutput, type Output } from './output.js';
import { BENCH_CONFIGS } from './specs.js';
import type { PredictCliOptions } from './predict.js';
import type { TranslateCliOptions } from './seq2seq.js';
import type { GenerateCliOptions } from './text.js';
import { addTrainCommand, FORCE_OPTION, prepareOptions, runNamingFlags, THREADS_OPTION } from './train.js';

const GENERATE_OPTIONS: OptionSpec[] = [
  { flag: '--model <file>', description: "a text model from 'rnnkit train text'", kind: 'inputFile', required: true },
  { flag: '--prompt <text>', description: 'text the model reads first (default: a newline)', kind: 'string' },
  { flag: '--length <n>', description: 'characters to generate', kind: 'positiveInt', default: 200, max: MAX_GENERATED_STEPS },
  { flag: '--temperature <t>', description: 'sampling temperature: < 1 safer, > 1 wilder, 0 = always the likeliest', kind: 'nonNegativeNumber', default: 1 },
  { flag: '--top-k <k>', description: 'sample among the k likeliest characters only (default: all)', kind: 'positiveInt' },
  { flag: '--seed <n>', description: 'seed of the draws: the same seed gives the same text', kind: 'nonNegativeInt', max: Number.MAX_SAFE_INTEGER },
  THREADS_OPTION,
];

const FORECAST_OPTIONS: OptionSpec[] = [
  { flag: '--model <file>', description: "a forecasting model from 'rnnkit train forecast'", kind: 'inputFile', required: true },
  { flag: '--input <file>', description: 'the series (CSV, same columns as in training)', kind: 'inputFile', required: true },
  { flag: '--horizon <n>', description: 'steps to forecast', kind: 'positiveInt', default: 28, max: MAX_GENERATED_STEPS },
  { flag: '--column <names>', description: 'value column(s) (default: those the model was trained on)', kind: 'string' },
  { flag: '--backtest', description: 'forecast the last --horizon steps of the file instead and compare with the truth and baselines', kind: 'boolean' },
  { flag: '--plot <file>', description: 'also draw the forecast as SVG', kind: 'outputFile' },
  { flag: '--output <file>', description: 'write the forecast CSV there instead of stdout', kind: 'outputFile' },
  FORCE_OPTION,
  THREADS_OPTION,
];

const PREDICT_OPTIONS: OptionSpec[] = [
  { flag: '--model <file>', description: "a classifier from 'rnnkit train textclass' or 'rnnkit train classify'", kind: 'inputFile', required: true },
  { flag: '--input <file>', description: 'the inputs (default: stdin); text: CSV, JSON Lines or one document per line; sequences: CSV rows', kind: 'string' },
  { flag: '--text-column <name>', description: 'CSV column / JSON key of the text (default: the one the model was trained on)', kind: 'string' },
  { flag: '--input-format <format>', description: 'text input format', kind: ['auto', 'csv', 'jsonl', 'lines'], default: 'auto' },
  { flag: '--format <format>', description: "output: 'text' (label<TAB>probability) or 'json' (one object per line)", kind: ['text', 'json'], default: 'text' },
  { flag: '--batch-size <n>', description: 'inputs per model call', kind: 'positiveInt', default: 64, max: 65536 },
  THREADS_OPTION,
];

const TRANSLATE_OPTIONS: OptionSpec[] = [
  { flag: '--model <file>', description: "a model from 'rnnkit train seq2seq'", kind: 'inputFile', required: true },
  { flag: '--input <file>', description: 'sources, one per line (default: stdin)', kind: 'inputFile' },
  { flag: '--beam <n>', description: 'beam width (1 = greedy)', kind: 'positiveInt', default: 1, max: 1000 },
  { flag: '--length-penalty <a>', description: 'beam search ranks by score / length^a', kind: 'nonNegativeNumber', default: 1 },
  { flag: '--max-length <n>', description: 'most output tokens (default: 2 × source length + 10)', kind: 'positiveInt', max: MAX_GENERATED_STEPS },
  THREADS_OPTION,
];

const BENCH_OPTIONS: OptionSpec[] = [
  { flag: '--config <names>', description: `configurations, comma-separated, or all: ${Object.keys(BENCH_CONFIGS).join(', ')}`, kind: 'string', default: 'S,M,stream' },
  { flag: '--cell <cell>', description: 'only this cell (M has lstm, gru and rnn)', kind: ['lstm', 'gru', 'rnn', 'all'], default: 'all' },
  { flag: '--seconds <s>', description: 'time per measurement', kind: 'positiveNumber', default: 0.5, max: 3600 },
  { flag: '--seed <n>', description: 'seed of the random weights and data', kind: 'nonNegativeInt', max: Number.MAX_SAFE_INTEGER, default: 0 },
  { flag: '--json', description: 'print the results as JSON', kind: 'boolean' },
  THREADS_OPTION,
];

/**
 * A command that resolves its declared options, then runs (like a `rnnkit train` task). `run`
 * imports the command's module itself, so help and flag errors answer without loading the tensor
 * library.
 */
interface RunnerCommand {
  name: string;
  summary: string;
  description: string;
  options: OptionSpec[];
  /** Shown at the end of the command's help, under "Example:". */
  example?: string;
  run(values: Record<string, unknown>, output: Output): Promise<unknown>;
}

const GENERATE_COMMAND: RunnerCommand = {
  name: 'generate', options: GENERATE_OPTIONS,
  summary: 'sample text from a model trained with rnnkit train text',
  description: 'Generate text with a character-level language model: the prompt, then what the model writes after it.',
  example: 'rnnkit generate --model lm.safetensors --prompt "The " --length 200 --temperature 0.8 --top-k 10 --seed 1',
  run: async (values, output) => (await import('./text.js')).runGenerate(values as unknown as GenerateCliOptions, output),
};

const FORECAST_COMMAND: RunnerCommand = {
  name: 'forecast', options: FORECAST_OPTIONS,
  summary: 'forecast a CSV series with a model trained with rnnkit train forecast',
  description: 'Forecast the steps after the end of a series (printed as CSV), or backtest on its last steps.',
  example: 'rnnkit forecast --model forecaster.safetensors --input series.csv --horizon 28 --plot forecast.svg',
  run: async (values, output) => (await import('./forecast.js')).runForecast(values as unknown as ForecastCliOptions, output),
};

const PREDICT_COMMAND: RunnerCommand = {
  name: 'predict', options: PREDICT_OPTIONS,
  summary: 'classify inputs with a model from rnnkit train textclass or classify',
  description: 'Print the predicted class and its probability for each input (a file, or stdin), one line per input.\n'
    + 'Text classifiers read CSV (the --text-column, by default the one saved with the model), JSON Lines or plain lines;\n'
    + 'sequence classifiers read CSV rows of steps × features numbers (a label first, as in training, is skipped).',
  example: 'rnnkit predict --model spam.safetensors --input inbox.csv --format json',
  run: async (values, output) => (await import('./predict.js')).runPredict(values as unknown as PredictCliOptions, output),
};

const TRANSLATE_COMMAND: RunnerCommand = {
  name: 'translate', options: TRANSLATE_OPTIONS,
  summary: 'translate lines with a model trained with rnnkit train seq2seq',
  description: 'Decode each source line (greedy, or beam search with --beam) and print source<TAB>output<TAB>score, the\n'
    + 'score being the log-probability of the output. Source symbols the model never saw are read as <unk>, with a note\n'
    + 'on stderr naming them.',
  example: 'echo phoneme | rnnkit translate --model g2p.safetensors --beam 5',
  run: async (values, output) => (await import('./seq2seq.js')).runTranslate(values as unknown as TranslateCliOptions, output),
};

const BENCH_COMMAND: RunnerCommand = {
  name: 'bench', options: BENCH_OPTIONS,
  summary: 'quick benchmark: training and inference tokens/s',
  description: 'Benchmark training steps (forward + MSE + backward + Adam) and inference through the public API on the\n'
    + 'design\'s §8 configurations: S = LSTM 32→64 B16 T50; M = LSTM/GRU/RNN 128→256 B64 T100; L = LSTM 512→1024\n'
    + 'B128 T50; stream = LSTM 128→256 one step at B1 with carried state.',
  run: async (values, output) => {
    checkBenchConfigs(values.config as string);
    (await import('./bench.js')).runBench(values as { config: string; cell: string; seconds: number; seed: number; json?: boolean }, output);
  },
};

/** Adds `spec` to `program`: its flags, help and action (options resolved and checked, then `run`). */
function addRunnerCommand(program: Command, spec: RunnerCommand, output: Output): void {
  const command = addOptions(program.command(spec.name).summary(spec.summary).description(spec.description), spec.options);
  if (spec.example !== undefined) command.addHelpText('after', `\nExample:\n  ${spec.example}`);
  command.action(async (cli: Record<string, unknown>) => {
    const values = await prepareOptions(spec.options, cli, null, output);
    await runNamingFlags(spec.options, () => spec.run(values, output));
  });
}

function checkBenchConfigs(names: string): void {
  if (names === 'all') return;
  for (const name of names.split(',').map((n) => n.trim())) {
    if (!(name in BENCH_CONFIGS) && !(name.toUpperCase() in BENCH_CONFIGS)) {
      throw new CliError(`--config must be a comma-separated list of ${Object.keys(BENCH_CONFIGS).join(', ')} or all, got '${names}'`);
    }
  }
}

/** The whole program; `output` receives the commands' lines (stdout by default). */
export function buildProgram(output: Output = consoleOutput()): Command {
  const program = new Command('rnnkit')
    .description('Recurrent neural networks (RNN, LSTM, GRU) for Node.js: train, generate, forecast, predict, inspect, benchmark.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .showSuggestionAfterError()
    .showHelpAfterError("(add --help for usage)")
    .configureHelp({ sortSubcommands: false, showGlobalOptions: false })
    .addHelpText('after', `
Examples:
  rnnkit train text --input corpus.txt --epochs 2 --out lm.safetensors
  rnnkit generate --model lm.safetensors --prompt "The " --length 300 --temperature 0.8 --top-k 10 --seed 1
  rnnkit train classify --input data.csv --features 3
  rnnkit train textclass --input mail.csv --text-column body --label-column label --out spam.safetensors
  rnnkit predict --model spam.safetensors --input inbox.csv --format json
  rnnkit train forecast --input series.csv --column value --holdout 28 --plot backtest.svg
  rnnkit forecast --model model.safetensors --input series.csv --horizon 28 --plot forecast.svg
  rnnkit train seq2seq --input pairs.tsv --out g2p.safetensors
  echo phoneme | rnnkit translate --model g2p.safetensors --beam 5
  rnnkit info
  rnnkit bench --config M

Errors exit with code 2 (bad flags or files) or 1; RNNKIT_DEBUG=1 prints stack traces.`);

  addTrainCommand(program, output);

  addRunnerCommand(program, GENERATE_COMMAND, output);
  addRunnerCommand(program, FORECAST_COMMAND, output);
  addRunnerCommand(program, PREDICT_COMMAND, output);
  addRunnerCommand(program, TRANSLATE_COMMAND, output);

  program.command('info').summary('version, instruction set, threads, N-API, addon')
    .description('Show the rnnkit version, the kernel instruction set in use and those available (RNNKIT_ISA forces one), threads, Node and N-API versions, and the native addon file.')
    .option('--json', 'print as JSON')
    .action((options: { json?: boolean }) => runInfo(options, output));

  addRunnerCommand(program, BENCH_COMMAND, output);

  for (const command of [program, ...program.commands, ...program.commands.flatMap((c) => c.commands)]) command.exitOverride();
  return program;
}

/** Runs the command line (`argv` as process.argv) and returns the exit code. */
export async function main(argv: readonly string[] = process.argv, output?: Output): Promise<number> {
  const program = buildProgram(output);
  if (argv.length <= 2) {
    program.outputHelp();
    return 0;
  }
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(error.code)) return 0;
      return error.exitCode === 0 ? 0 : EXIT_USAGE; // commander printed the message already
    }
    return reportError(error);
  }
}
