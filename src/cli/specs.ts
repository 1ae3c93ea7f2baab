/**
 * What the commands accept, as plain data (no library imports, so `rnnkit --help` and flag errors
 * answer without loading the tensor library): the classification CSV format, the calendar
 * features, the benchmark configurations.
 * @module
 */

/** The CSV format, as `rnnkit train classify --help` shows it. */
export const CLASSIFY_FORMAT = `
CSV format (one sequence per row):
  label,x1,x2,...,xN
The first field is the class label (any text, e.g. "walk" or 3); the other N fields are the
sequence flattened step by step: with --features F, step t holds fields t*F+1 ... t*F+F, so
N = steps * F (all rows the same length). A first row whose values are not numbers is a header.
Example, 2 features, 3 steps:
  label,t0_a,t0_b,t1_a,t1_b,t2_a,t2_b
  up,0.1,1.0,0.2,1.1,0.3,1.2
  down,0.3,1.2,0.2,1.1,0.1,1.0`;

/** The document formats, as `rnnkit train textclass --help` shows them. */
export const TEXTCLASS_FORMAT = `
Input: CSV with a header row naming the columns (quoted fields may span lines), or JSON Lines
(one object per line); --input-format auto decides from the file name (.csv, .jsonl/.ndjson/.json)
or the first line. Labels are any text (or numbers); two classes give binary metrics for the
second class in sorted order (e.g. 'spam' of ham/spam, '1' of 0/1).
  text,label                            {"text": "Win a free cruise!", "label": "spam"}
  "Win a free cruise!",spam             {"text": "Minutes of Monday's meeting", "label": "ham"}
  "Minutes of Monday's meeting",ham`;

/** Calendar covariates the CLI can add from a date column. */
export const CALENDAR_FEATURES = ['dayOfWeek', 'month', 'dayOfYear'] as const;

/** One §8 configuration. */
export interface BenchConfig {
  name: string;
  cells: readonly CellKind[];
  inputSize: number;
  hiddenSize: number;
  batch: number;
  steps: number;
}

export type CellKind = 'lstm' | 'gru' | 'rnn';

/** ARCHITECTURE.md §8. */
export const BENCH_CONFIGS: Record<string, BenchConfig> = {
  S: { name: 'S', cells: ['lstm'], inputSize: 32, hiddenSize: 64, batch: 16, steps: 50 },
  M: { name: 'M', cells: ['lstm', 'gru', 'rnn'], inputSize: 128, hiddenSize: 256, batch: 64, steps: 100 },
  L: { name: 'L', cells: ['lstm'], inputSize: 512, hiddenSize: 1024, batch: 128, steps: 50 },
  stream: { name: 'stream', cells: ['lstm'], inputSize: 128, hiddenSize: 256, batch: 1, steps: 1 },
};

