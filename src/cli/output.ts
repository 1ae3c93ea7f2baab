/**
 * What the CLI prints while it works: result lines on stdout, fit's live progress bar on stderr
 * when stderr is a terminal (never in logs or pipes), one line per finished epoch.
 * @module
 */
import type { Callback, EpochLogs, ProgressSetting } from '../train/index.js';

/** Where the command's lines go (tests pass their own). */
export interface Output {
  info(line: string): void;
  /** Show fit's progress bar (stderr is a TTY). */
  readonly bar: boolean;
}

/**
 * `rnnkit info | head -1`: once the reader has gone, the next write fails with EPIPE (Node ignores
 * SIGPIPE), which would crash with a stack trace. The output is no longer wanted, so the process
 * ends quietly: exit code 0, or the code an error report had already set.
 */
export function endQuietlyWhenReaderCloses(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    });
  }
}

/** stdout for lines, a bar on stderr when it is a terminal. */
export function consoleOutput(): Output {
  return { info: (line) => process.stdout.write(`${line}\n`), bar: Boolean(process.stderr.isTTY) };
}

/** `1 epoch`, `3 epochs`. */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** fit's `progress` option for this output. */
export function progressSetting(output: Output): ProgressSetting {
  return output.bar ? 'bar' : false;
}

/** A number for an epoch line: accuracies as %, other values with 4 decimals. */
export function formatLog(name: string, value: number): string {
  if (/accuracy$/.test(name)) return `${name} ${(100 * value).toFixed(2)} %`;
  return `${name} ${Math.abs(value) >= 1e4 ? value.toExponential(3) : value.toFixed(4)}`;
}

/** A fit callback printing `epoch 2/5  loss 0.4123  val_loss 0.3990  …  1.2 s` after each epoch. */
export function epochPrinter(output: Output, epochs: number, names: readonly string[]): Callback {
  let started = 0;
  return {
    onTrainBegin: () => { started = performance.now(); },
    onEpochEnd: (epoch: number, logs: EpochLogs) => {
      const values = names.filter((name) => typeof logs[name] === 'number').map((name) => formatLog(name, logs[name]));
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      output.info(`epoch ${String(epoch + 1).padStart(String(epochs).length)}/${epochs}  ${values.join('  ')}  ${seconds} s`);
    },
  };
}
