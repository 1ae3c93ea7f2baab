/**
 * What every command takes, declared once, as data: each option's flag, meaning, kind and default.
 * The commands (src/cli/program.ts, src/cli/train.ts) register these lists; each command's module
 * reads its options' type from them (`OptionValues<typeof TRAIN_TEXT_OPTIONS>`), so a flag and the
 * value the runner receives are spelled in one place. No library imports: `rnnkit --help` stays fast.
 * @module
 */
import { MAX_THREADS } from '../runtime.js';
import { MAX_EPOCHS, MAX_GENERATED_STEPS, type OptionSpec, type OptionValues } from './options.js';
import { BENCH_CONFIGS, CALENDAR_FEATURES } from './specs.js';

/** Options every command that computes takes. */
export const THREADS_OPTION = {
  flag: '--threads <n>', description: 'native threads (default: the cores available)', kind: 'positiveInt', max: MAX_THREADS,
} as const satisfies OptionSpec;

/** Options of every command that writes files (see checkOutputFile for what it may replace). */
export const FORCE_OPTION = {
  flag: '--force', description: 'overwrite output files that exist and are not rnnkit models', kind: 'boolean',
} as const satisfies OptionSpec;

/** Training options most tasks share (their values: {@link TrainingCliOptions}). */
function trainingOptions(defaults: { epochs: number; batchSize: number; lr: number; hidden: number; layers: number; dropout?: number }) {
  return [
    { flag: '--cell <cell>', description: 'recurrent cell', kind: ['lstm', 'gru'], default: 'lstm' },
    { flag: '--hidden <n>', description: 'hidden units per recurrent layer', kind: 'positiveInt', default: defaults.hidden },
    { flag: '--layers <n>', description: 'stacked recurrent layers', kind: 'positiveInt', default: defaults.layers },
    { flag: '--dropout <p>', description: 'dropout between recurrent layers', kind: 'probability', default: defaults.dropout ?? 0 },
    { flag: '--epochs <n>', description: 'passes over the training data', kind: 'positiveInt', default: defaults.epochs, max: MAX_EPOCHS },
    { flag: '--batch-size <n>', description: 'sequences per optimizer step', kind: 'positiveInt', default: defaults.batchSize },
    { flag: '--lr <rate>', description: 'learning rate (Adam)', kind: 'positiveNumber', default: defaults.lr },
    { flag: '--clip <norm>', description: 'clip the gradient norm to this', kind: 'positiveNumber', default: 1 },
    // Any integer a double holds exactly.
    { flag: '--seed <n>', description: 'seed of initialization, shuffling and sampling', kind: 'nonNegativeInt', max: Number.MAX_SAFE_INTEGER, default: 0 },
    FORCE_OPTION,
  ] as const satisfies readonly OptionSpec[];
}

/** The model and training options every task's runner takes. */
export type TrainingCliOptions = OptionValues<ReturnType<typeof trainingOptions>>;

/** The options but the one with `flag`. */
function withoutFlag<O extends readonly OptionSpec[], F extends O[number]['flag']>(options: O, flag: F): Exclude<O[number], { flag: F }>[] {
  return options.filter((spec): spec is Exclude<O[number], { flag: F }> => spec.flag !== flag);
}

// ---- rnnkit train <task> -------------------------------------------------------------------------

/** `rnnkit train text`. */
export const TRAIN_TEXT_OPTIONS = [
  { flag: '--input <file>', description: 'the training text (UTF-8)', kind: 'inputFile', required: true },
  { flag: '--out <file>', description: 'where to save the model (safetensors)', kind: 'outputFile', default: 'model.safetensors' },
  { flag: '--val-split <fraction>', description: 'share of the text, from its end, held out for validation (0 = none)', kind: 'probability', default: 0.1 },
  ...trainingOptions({ epochs: 1, batchSize: 32, lr: 3e-3, hidden: 256, layers: 2 }),
  { flag: '--embedding <n>', description: 'character embedding size', kind: 'positiveInt', default: 64 },
  { flag: '--seq-len <n>', description: 'characters per training window', kind: 'positiveInt', default: 256 },
  { flag: '--bptt <n>', description: 'truncated-BPTT chunk: an optimizer step every n characters of a window', kind: 'positiveInt', default: 32 },
  { flag: '--sample <n>', description: 'characters of sample text to print after training (0 = none)', kind: 'nonNegativeInt', default: 200, max: MAX_GENERATED_STEPS },
  { flag: '--temperature <t>', description: 'temperature of the sample', kind: 'positiveNumber', default: 0.8 },
  THREADS_OPTION,
] as const satisfies readonly OptionSpec[];

/** `rnnkit train classify`. */
export const TRAIN_CLASSIFY_OPTIONS = [
  { flag: '--input <file>', description: 'the CSV file (format below)', kind: 'inputFile', required: true },
  { flag: '--out <file>', description: 'where to save the model (safetensors)', kind: 'outputFile', default: 'model.safetensors' },
  { flag: '--features <n>', description: 'features per time step', kind: 'positiveInt', default: 1 },
  { flag: '--steps <n>', description: 'time steps per sequence (default: from the row length; checked when given)', kind: 'positiveInt' },
  { flag: '--val-split <fraction>', description: 'share of the rows held out for validation (0 = none)', kind: 'probability', default: 0.2 },
  ...trainingOptions({ epochs: 10, batchSize: 32, lr: 1e-2, hidden: 64, layers: 1 }),
  THREADS_OPTION,
] as const satisfies readonly OptionSpec[];

/** `rnnkit train textclass`. */
export const TRAIN_TEXTCLASS_OPTIONS = [
  { flag: '--input <file>', description: 'the documents (CSV with a header, or JSON Lines)', kind: 'inputFile', required: true },
  { flag: '--text-column <name>', description: 'column (or JSON key) of the text', kind: 'string', default: 'text' },
  { flag: '--label-column <name>', description: 'column (or JSON key) of the label', kind: 'string', default: 'label' },
  { flag: '--input-format <format>', description: 'input format', kind: ['auto', 'csv', 'jsonl'], default: 'auto' },
  { flag: '--out <file>', description: 'where to save the model (safetensors)', kind: 'outputFile', default: 'model.safetensors' },
  { flag: '--val-split <fraction>', description: 'share of each class held out for validation (0 = none)', kind: 'probability', default: 0.1 },
  ...withoutFlag(trainingOptions({ epochs: 8, batchSize: 32, lr: 3e-3, hidden: 64, layers: 1 }), '--dropout <p>'),
  { flag: '--embedding <n>', description: 'word embedding size', kind: 'positiveInt', default: 64 },
  { flag: '--max-length <n>', description: 'words read per document at most (the rest is cut)', kind: 'positiveInt', default: 400 },
  { flag: '--min-freq <n>', description: 'words seen fewer times in training read as <unk>', kind: 'positiveInt', default: 2 },
  { flag: '--max-vocab <n>', description: 'vocabulary size at most (the most frequent words)', kind: 'positiveInt', default: 20000 },
  { flag: '--pooling <mode>', description: 'how the steps are summarized', kind: ['max', 'mean', 'last'], default: 'max' },
  { flag: '--input-dropout <p>', description: 'variational dropout on the recurrent input (one mask per document)', kind: 'probability', default: 0.25 },
  { flag: '--recurrent-dropout <p>', description: 'variational dropout on the recurrent state (one mask per document)', kind: 'probability', default: 0.25 },
  { flag: '--dropout <p>', description: 'dropout before the output layer', kind: 'probability', default: 0.3 },
  { flag: '--unidirectional', description: 'read documents forward only (default: both ways)', kind: 'boolean' },
  THREADS_OPTION,
] as const satisfies readonly OptionSpec[];

/** `rnnkit train forecast`. */
export const TRAIN_FORECAST_OPTIONS = [
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
  THREADS_OPTION,
] as const satisfies readonly OptionSpec[];

/** `rnnkit train seq2seq`. */
export const TRAIN_SEQ2SEQ_OPTIONS = [
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
  THREADS_OPTION,
] as const satisfies readonly OptionSpec[];

// ---- The other commands ---------------------------------------------------------------------------

/** `rnnkit generate`. */
export const GENERATE_OPTIONS = [
  { flag: '--model <file>', description: "a text model from 'rnnkit train text'", kind: 'inputFile', required: true },
  { flag: '--prompt <text>', description: 'text the model reads first (default: a newline)', kind: 'string' },
  { flag: '--length <n>', description: 'characters to generate', kind: 'positiveInt', default: 200, max: MAX_GENERATED_STEPS },
  { flag: '--temperature <t>', description: 'sampling temperature: < 1 safer, > 1 wilder, 0 = always the likeliest', kind: 'nonNegativeNumber', default: 1 },
  { flag: '--top-k <k>', description: 'sample among the k likeliest characters only (default: all)', kind: 'positiveInt' },
  { flag: '--seed <n>', description: 'seed of the draws: the same seed gives the same text', kind: 'nonNegativeInt', max: Number.MAX_SAFE_INTEGER },
  THREADS_OPTION,
] as const satisfies readonly OptionSpec[];

/** `rnnkit forecast`. */
export const FORECAST_OPTIONS = [
  { flag: '--model <file>', description: "a forecasting model from 'rnnkit train forecast'", kind: 'inputFile', required: true },
  { flag: '--input <file>', description: 'the series (CSV, same columns as in training)', kind: 'inputFile', required: true },
  { flag: '--horizon <n>', description: 'steps to forecast', kind: 'positiveInt', default: 28, max: MAX_GENERATED_STEPS },
  { flag: '--column <names>', description: 'value column(s) (default: those the model was trained on)', kind: 'string' },
  { flag: '--backtest', description: 'forecast the last --horizon steps of the file instead and compare with the truth and baselines', kind: 'boolean' },
  { flag: '--plot <file>', description: 'also draw the forecast as SVG', kind: 'outputFile' },
  { flag: '--output <file>', description: 'write the forecast CSV there instead of stdout', kind: 'outputFile' },
  FORCE_OPTION,
  THREADS_OPTION,
] as const satisfies readonly OptionSpec[];

/** `rnnkit predict`. */
export const PREDICT_OPTIONS = [
  { flag: '--model <file>', description: "a classifier from 'rnnkit train textclass' or 'rnnkit train classify'", kind: 'inputFile', required: true },
  { flag: '--input <file>', description: 'the inputs (default: stdin); text: CSV, JSON Lines or one document per line; sequences: CSV rows', kind: 'string' },
  { flag: '--text-column <name>', description: 'CSV column / JSON key of the text (default: the one the model was trained on)', kind: 'string' },
  { flag: '--input-format <format>', description: 'text input format', kind: ['auto', 'csv', 'jsonl', 'lines'], default: 'auto' },
  { flag: '--format <format>', description: "output: 'text' (label<TAB>probability) or 'json' (one object per line)", kind: ['text', 'json'], default: 'text' },
  { flag: '--batch-size <n>', description: 'inputs per model call', kind: 'positiveInt', default: 64, max: 65536 },
  THREADS_OPTION,
] as const satisfies readonly OptionSpec[];

/** `rnnkit translate`. */
export const TRANSLATE_OPTIONS = [
  { flag: '--model <file>', description: "a model from 'rnnkit train seq2seq'", kind: 'inputFile', required: true },
  { flag: '--input <file>', description: 'sources, one per line (default: stdin)', kind: 'inputFile' },
  { flag: '--beam <n>', description: 'beam width (1 = greedy)', kind: 'positiveInt', default: 1, max: 1000 },
  { flag: '--length-penalty <a>', description: 'beam search ranks by score / length^a', kind: 'nonNegativeNumber', default: 1 },
  { flag: '--max-length <n>', description: 'most output tokens (default: 2 × source length + 10)', kind: 'positiveInt', max: MAX_GENERATED_STEPS },
  THREADS_OPTION,
] as const satisfies readonly OptionSpec[];

/** `rnnkit bench`. */
export const BENCH_OPTIONS = [
  { flag: '--config <names>', description: `configurations, comma-separated, or all: ${Object.keys(BENCH_CONFIGS).join(', ')}`, kind: 'string', default: 'S,M,stream' },
  { flag: '--cell <cell>', description: 'only this cell (M has lstm, gru and rnn)', kind: ['lstm', 'gru', 'rnn', 'all'], default: 'all' },
  { flag: '--seconds <s>', description: 'time per measurement', kind: 'positiveNumber', default: 0.5, max: 3600 },
  { flag: '--seed <n>', description: 'seed of the random weights and data', kind: 'nonNegativeInt', max: Number.MAX_SAFE_INTEGER, default: 0 },
  { flag: '--json', description: 'print the results as JSON', kind: 'boolean' },
  THREADS_OPTION,
] as const satisfies readonly OptionSpec[];
