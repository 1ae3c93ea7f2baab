/**
 * User errors of the `rnnkit` command: a bad flag value, a missing or malformed file. They are
 * printed as one `rnnkit: <message>` line and exit non-zero, without a stack trace; any other error
 * is a bug (or an environment problem such as a missing addon) and is printed with its stack when
 * `RNNKIT_DEBUG=1`.
 * @module
 */
import { constants } from 'node:buffer';

/** Exit code of a user error (bad flags, bad input files). */
export const EXIT_USAGE = 2;
/** Exit code of anything else that went wrong. */
export const EXIT_FAILURE = 1;

/** An error the user can fix; its message says what is wrong. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT_USAGE) {
    super(message);
    this.name = 'CliError';
  }
}

/** A library error caused by the user's input, re-raised as a one-line CLI error. */
export function asUserError(error: unknown, context: string): never {
  if (error instanceof TypeError || error instanceof RangeError) throw new CliError(`${context}: ${error.message}`);
  throw error;
}

/**
 * A library argument error about a value a flag passed through, as a usage error naming the flag:
 * `Expected positive integer for hiddenSize but received …` → `… for --hidden but received …`.
 * `flags` maps the library's argument names to the command's flags; other errors give null.
 */
export function flagError(error: unknown, flags: ReadonlyMap<string, string>): CliError | null {
  if (!(error instanceof TypeError || error instanceof RangeError)) return null;
  const match = /\bfor ([A-Za-z]+) but received\b/.exec(error.message);
  const flag = match ? flags.get(match[1]) : undefined;
  if (match === null || flag === undefined) return null;
  return new CliError(error.message.replace(match[0], `for ${flag} but received`));
}

/** `RNNKIT_DEBUG=1` (or any non-empty value but 0): print stacks. */
export function debugEnabled(): boolean {
  const value = process.env.RNNKIT_DEBUG;
  return value !== undefined && value !== '' && value !== '0';
}

/**
 * The message of a Node file-system error in words: `no such file`, `permission denied`, `is a
 * FIFO (named pipe), not a regular file` (errors of src/io/files.ts carry the `kind`), …
 */
export function describeFsError(error: unknown): string {
  const { code, kind } = (error ?? {}) as { code?: unknown; kind?: unknown };
  if (typeof kind === 'string') return `is ${kind}, not a regular file`;
  switch (code) {
    case 'ENOENT': return 'no such file';
    case 'EACCES':
    case 'EPERM': return 'permission denied';
    case 'EISDIR': return 'is a directory, not a regular file';
    case 'ENOTDIR': return 'a part of the path is not a directory';
    case 'EMFILE': return 'too many open files';
    case 'ENOSPC': return 'no space left on the device';
    case 'EROFS': return 'read-only file system';
    case 'ERR_STRING_TOO_LONG': return `more than ${constants.MAX_STRING_LENGTH} characters, more than a text input can hold`;
    default: return error instanceof Error ? error.message : String(error);
  }
}

/**
 * Prints an error the way the CLI reports it and returns the exit code: a {@link CliError} or an
 * error from the library's argument validation as one line, anything else with its stack under
 * RNNKIT_DEBUG (and a hint to set it otherwise).
 */
export function reportError(error: unknown, stderr: NodeJS.WritableStream = process.stderr): number {
  const debug = debugEnabled();
  // One "rnnkit: " prefix: some messages (the addon loader's) carry it already.
  const message = (error instanceof Error ? error.message : String(error)).replace(/^rnnkit: /, '');
  if (error instanceof CliError) {
    stderr.write(`rnnkit: ${message}\n`);
    if (debug && error.stack) stderr.write(`${error.stack}\n`);
    return error.exitCode;
  }
  stderr.write(`rnnkit: ${message}\n`);
  if (debug) {
    if (error instanceof Error && error.stack) stderr.write(`${error.stack}\n`);
  } else {
    stderr.write('(set RNNKIT_DEBUG=1 to see where it happened)\n');
  }
  return EXIT_FAILURE;
}
