/**
 * The `rnnkit` command: commander program with the subcommands train (text | classify | textclass |
 * forecast | seq2seq), generate, forecast, predict, translate, info and bench. {@link main} runs it and turns every failure into a message
 * and an exit code (see src/cli/errors.ts).
 * @module
 */
import { Command, CommanderError } from 'commander';
import { addCommand, defineCommand, type CommandSpec } from './command.js';
import { BENCH_OPTIONS, FORECAST_OPTIONS, GENERATE_OPTIONS, PREDICT_OPTIONS, TRANSLATE_OPTIONS } from './command-options.js';
import { CliError, EXIT_USAGE, reportError } from './errors.js';
import { packageVersion, runInfo } from './info.js';
import { consoleOutput, type Output } from './output.js';
import { BENCH_CONFIGS } from './specs.js';
import { addTrainCommand } from './train.js';

const exampleOf = (example: string): string => `\nExample:\n  ${example}`;

/** The commands besides `train` and `info`, by name, in the order --help lists them (bench last). */
const COMMANDS: Record<string, CommandSpec> = {
  generate: defineCommand({
    options: GENERATE_OPTIONS,
    summary: 'sample text from a model trained with rnnkit train text',
    description: 'Generate text with a character-level language model: the prompt, then what the model writes after it.',
    help: exampleOf('rnnkit generate --model lm.safetensors --prompt "The " --length 200 --temperature 0.8 --top-k 10 --seed 1'),
    run: async (values, output) => (await import('./text.js')).runGenerate(values, output),
  }),
  forecast: defineCommand({
    options: FORECAST_OPTIONS,
    summary: 'forecast a CSV series with a model trained with rnnkit train forecast',
    description: 'Forecast the steps after the end of a series (printed as CSV), or backtest on its last steps.',
    help: exampleOf('rnnkit forecast --model forecaster.safetensors --input series.csv --horizon 28 --plot forecast.svg'),
    run: async (values, output) => (await import('./forecast.js')).runForecast(values, output),
  }),
  predict: defineCommand({
    options: PREDICT_OPTIONS,
    summary: 'classify inputs with a model from rnnkit train textclass or classify',
    description: 'Print the predicted class and its probability for each input (a file, or stdin), one line per input.\n'
      + 'Text classifiers read CSV (the --text-column, by default the one saved with the model), JSON Lines or plain lines;\n'
      + 'sequence classifiers read CSV rows of steps × features numbers (a label first, as in training, is skipped).',
    help: exampleOf('rnnkit predict --model spam.safetensors --input inbox.csv --format json'),
    run: async (values, output) => (await import('./predict.js')).runPredict(values, output),
  }),
  translate: defineCommand({
    options: TRANSLATE_OPTIONS,
    summary: 'translate lines with a model trained with rnnkit train seq2seq',
    description: 'Decode each source line (greedy, or beam search with --beam) and print source<TAB>output<TAB>score, the\n'
      + 'score being the log-probability of the output. Source symbols the model never saw are read as <unk>, with a note\n'
      + 'on stderr naming them.',
    help: exampleOf('echo phoneme | rnnkit translate --model g2p.safetensors --beam 5'),
    run: async (values, output) => (await import('./seq2seq.js')).runTranslate(values, output),
  }),
  bench: defineCommand({
    options: BENCH_OPTIONS,
    summary: 'quick benchmark: training and inference tokens/s',
    description: 'Benchmark training steps (forward + MSE + backward + Adam) and inference through the public API on the\n'
      + 'design\'s §8 configurations: S = LSTM 32→64 B16 T50; M = LSTM/GRU/RNN 128→256 B64 T100; L = LSTM 512→1024\n'
      + 'B128 T50; stream = LSTM 128→256 one step at B1 with carried state.',
    run: async (values, output) => {
      checkBenchConfigs(values.config);
      (await import('./bench.js')).runBench(values, output);
    },
  }),
};

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
  for (const name of ['generate', 'forecast', 'predict', 'translate']) addCommand(program, name, COMMANDS[name], output);

  program.command('info').summary('version, instruction set, threads, N-API, addon')
    .description('Show the rnnkit version, the kernel instruction set in use and those available (RNNKIT_ISA forces one), threads, Node and N-API versions, and the native addon file.')
    .option('--json', 'print as JSON')
    .action((options: { json?: boolean }) => runInfo(options, output));

  addCommand(program, 'bench', COMMANDS.bench, output);

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
