/**
 * fit's progress output: a live bar on a terminal (cli-progress: epoch, batch, loss, a metric,
 * tokens/s, ETA), one JSON line per epoch otherwise (logs, CI), nothing with `progress: false`.
 * Written to stderr by default, so stdout stays the program's.
 * @module
 */
import cliProgress from 'cli-progress';
import { describe } from '../validate.js';
import type { EpochLogs } from './callbacks.js';

/** Where and how to report. */
export interface ProgressOptions {
  /** 'auto' (default): a bar when the stream is a TTY, JSON lines otherwise. */
  mode?: 'auto' | 'bar' | 'json';
  /** Default process.stderr. */
  stream?: NodeJS.WritableStream;
}

/** fit's `progress` option: true/'auto' (default), false (silent), 'bar', 'json', or {@link ProgressOptions}. */
export type ProgressSetting = boolean | 'auto' | 'bar' | 'json' | ProgressOptions;

/** What fit tells the reporter after each batch. */
export interface BatchProgress {
  /** The batch just finished, counted from 0 in the epoch. */
  batch: number;
  /** Mean loss of the epoch so far. */
  loss: number;
  /** First non-loss train metric so far, if any. */
  metric?: {
    /** The metric's name. */
    name: string;
    /** Its value so far. */
    value: number;
  };
  /** Tokens (Σ lengths, or B·T) per second over the epoch so far. */
  tokensPerSecond: number;
}

/** Receives fit's events; one per fit call. */
export interface ProgressReporter {
  /** Before the first epoch. */
  trainBegin(epochs: number, batchesPerEpoch: number | undefined): void;
  /** Before each epoch. */
  epochBegin(epoch: number): void;
  /** After each batch. */
  batchEnd(progress: BatchProgress): void;
  /**
   * The epoch is trained and validated and its onEpochEnd callbacks are next: end any live line
   * (the bar) so what they print starts on a line of its own. Optional: JSON lines need nothing.
   */
  finishEpochLine?(): void;
  /** The epoch's logs, after the onEpochEnd callbacks (so with what they added). */
  epochEnd(logs: EpochLogs): void;
  /** After the last epoch. */
  trainEnd(): void;
}

const format = (value: number): string => (Number.isFinite(value) ? (Math.abs(value) >= 1e4 ? value.toExponential(3) : value.toFixed(4)) : String(value));

/**
 * A live bar per epoch; the finished bar stays on screen, and the epoch's validation metrics follow
 * it (below what onEpochEnd callbacks print).
 */
class BarReporter implements ProgressReporter {
  private bar: cliProgress.SingleBar | null = null;
  private epochs = 0;
  private total: number | undefined;

  constructor(private readonly stream: NodeJS.WritableStream) {}

  trainBegin(epochs: number, batchesPerEpoch: number | undefined): void {
    this.epochs = epochs;
    this.total = batchesPerEpoch;
  }

  epochBegin(epoch: number): void {
    const known = this.total !== undefined;
    const layout = known
      ? 'epoch {epoch}/{epochs} {bar} {value}/{total} | loss {loss}{metric} | {tps} tok/s | ETA {eta_formatted}'
      : 'epoch {epoch}/{epochs} | batch {value} | loss {loss}{metric} | {tps} tok/s';
    // A bar forced onto a non-TTY stream prints a line every 2 s (cli-progress' noTTYOutput).
    const tty = (this.stream as NodeJS.WriteStream).isTTY === true;
    this.bar = new cliProgress.SingleBar({
      format: layout, stream: this.stream, barsize: 24, hideCursor: null, clearOnComplete: false, etaBuffer: 20,
      noTTYOutput: !tty, notTTYSchedule: 2000,
    }, cliProgress.Presets.shades_classic);
    this.bar.start(this.total ?? 0, 0, { epoch: epoch + 1, epochs: this.epochs, loss: '-', metric: '', tps: '-' });
  }

  batchEnd(p: BatchProgress): void {
    this.bar?.update(p.batch + 1, {
      loss: format(p.loss),
      metric: p.metric ? ` | ${p.metric.name} ${format(p.metric.value)}` : '',
      tps: Math.round(p.tokensPerSecond).toString(),
    });
  }

  finishEpochLine(): void {
    this.bar?.stop();
    this.bar = null;
  }

  epochEnd(logs: EpochLogs): void {
    this.finishEpochLine();
    const validation = Object.entries(logs).filter(([key]) => key.startsWith('val_'));
    if (validation.length > 0) this.stream.write(`  ${validation.map(([k, v]) => `${k} ${format(v)}`).join(' | ')}\n`);
  }

  trainEnd(): void {
    this.bar?.stop();
    this.bar = null;
  }
}

/** One JSON object per epoch (the epoch's logs), newline-terminated. */
class JsonReporter implements ProgressReporter {
  constructor(private readonly stream: NodeJS.WritableStream) {}

  trainBegin(): void {}
  epochBegin(): void {}
  batchEnd(): void {}

  epochEnd(logs: EpochLogs): void {
    this.stream.write(`${JSON.stringify(logs)}\n`);
  }

  trainEnd(): void {}
}

const SILENT: ProgressReporter = { trainBegin() {}, epochBegin() {}, batchEnd() {}, epochEnd() {}, trainEnd() {} };

/** The reporter for fit's `progress` option. */
export function createProgress(setting: unknown): ProgressReporter {
  if (setting === false) return SILENT;
  const options: ProgressOptions = setting === undefined || setting === true ? {}
    : typeof setting === 'string' ? { mode: setting as ProgressOptions['mode'] }
      : typeof setting === 'object' && setting !== null ? setting as ProgressOptions : invalid(setting);
  const mode = options.mode ?? 'auto';
  if (!['auto', 'bar', 'json'].includes(mode)) invalid(setting);
  const stream = options.stream ?? process.stderr;
  if (typeof stream?.write !== 'function') throw new TypeError(`Expected writable stream for progress.stream but received ${describe(stream)}`);
  const tty = (stream as NodeJS.WriteStream).isTTY === true;
  return mode === 'bar' || (mode === 'auto' && tty) ? new BarReporter(stream) : new JsonReporter(stream);
}

function invalid(setting: unknown): never {
  const message = `Expected boolean, 'auto', 'bar', 'json' or { mode, stream } for progress but received ${describe(setting)}`;
  throw typeof setting === 'string' ? new RangeError(message) : new TypeError(message);
}
