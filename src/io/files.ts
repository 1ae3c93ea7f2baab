/**
 * File helpers shared by the readers and writers of src/io, src/train/checkpoint.ts and the CLI:
 *
 * - Only regular files are read. Opening a FIFO for reading blocks until a writer appears (forever,
 *   for a pipe nobody writes to), and a device or directory is never a model, so every path is
 *   checked before it is opened ({@link openRegularFileSync}, {@link openRegularFile}).
 * - Atomic writes ({@link writeFileAtomicSync}): a temporary file next to the target, fsync,
 *   rename over the target, fsync of the directory, so a crash leaves the old file or the new one.
 *   Their errors name the target, never the temporary file ({@link saveError}).
 * @module
 */
import { constants as bufferConstants } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import {
  closeSync, constants, fstatSync, fsyncSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync, type Stats,
} from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

/**
 * What a file system entry is, as words for a message (`a FIFO (named pipe)`), or null for a
 * regular file.
 */
export function nonRegularKind(stats: Stats): string | null {
  if (stats.isFile()) return null;
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/**
 * `Expected regular file for source but received a FIFO (named pipe): /tmp/x`, with `code` EISDIR
 * or ENOTREGULAR and the `kind` in words.
 */
export function notRegularFileError(file: string, kind: string, name: string): Error {
  return Object.assign(new Error(`Expected regular file for ${name} but received ${kind}: ${file}`), {
    code: kind === 'a directory' ? 'EISDIR' : 'ENOTREGULAR', kind,
  });
}

function expectRegular(stats: Stats, file: string, name: string): void {
  const kind = nonRegularKind(stats);
  if (kind !== null) throw notRegularFileError(file, kind, name);
}

// O_NONBLOCK: should the path turn into a FIFO between the stat and the open, the open still
// returns at once (and the fstat after it refuses the FIFO) instead of waiting for a writer.
// Windows has no such flag (and no FIFOs that open() reaches).
const READ_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/**
 * Opens `file` for reading when it is a regular file (symbolic links followed). The check comes
 * before the open, so a device is never opened and a FIFO never waited on.
 * @returns the descriptor and the file's size
 * @throws Error `Expected regular file for <name> but received a directory: <file>` (code EISDIR;
 *   ENOTREGULAR for FIFOs, sockets, devices); Node's errors (ENOENT, EACCES, …)
 */
export function openRegularFileSync(file: string, name: string): { fd: number; size: number } {
  expectRegular(statSync(file), file, name);
  const fd = openSync(file, READ_FLAGS);
  try {
    const stats = fstatSync(fd);
    expectRegular(stats, file, name);
    return { fd, size: stats.size };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/** {@link openRegularFileSync} with the file system calls off the event loop. */
export async function openRegularFile(file: string, name: string): Promise<{ handle: FileHandle; size: number }> {
  expectRegular(await stat(file), file, name);
  const handle = await open(file, READ_FLAGS);
  try {
    const stats = await handle.stat();
    expectRegular(stats, file, name);
    return { handle, size: stats.size };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** Every 3 bytes of UTF-8 decode to at least one UTF-16 unit: a larger file can not be a string. */
const MAX_TEXT_FILE_BYTES = 3 * bufferConstants.MAX_STRING_LENGTH;

/**
 * The UTF-8 text of a regular file.
 * @throws Error (code ERR_STRING_TOO_LONG) for a file too large to become a string, refused
 *   from its size before reading gigabytes; those of {@link openRegularFileSync}
 */
export function readTextFileSync(file: string, name: string): string {
  const { fd, size } = openRegularFileSync(file, name);
  try {
    if (size > MAX_TEXT_FILE_BYTES) {
      throw Object.assign(new RangeError(`Expected text file of at most ${MAX_TEXT_FILE_BYTES} bytes for ${name} but received ${size} bytes: ${file}`), {
        code: 'ERR_STRING_TOO_LONG',
      });
    }
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------------
// Atomic writes

/** `<file>.<pid>.<8 hex>.tmp`: the process id lets a later save remove files of killed writers. */
export function temporaryName(file: string): string {
  // Not the seeded RNG: a file name must not consume (or depend on) the model's random stream.
  return `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
}

/**
 * A file system error's message without the path Node appends (`EACCES: permission denied, open
 * '/dir/x.1234.ab12cd34.tmp'` → `EACCES: permission denied`; `it is a FIFO (named pipe), not a
 * regular file`): the caller names the file itself.
 */
export function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const { kind } = error as { kind?: unknown };
  if (typeof kind === 'string') return `it is ${kind}, not a regular file`;
  const { syscall, path: where } = error as NodeJS.ErrnoException;
  const suffix = syscall !== undefined && where !== undefined ? `, ${syscall} '${where}'` : null;
  return suffix !== null && error.message.endsWith(suffix) ? error.message.slice(0, -suffix.length) : error.message;
}

/** `Could not save <what> <file>: <reason>`, the original error as its cause. */
export function saveError(what: string, file: string, error: unknown): Error {
  return new Error(`Could not save ${what} ${file}: ${reasonOf(error)}`, { cause: error });
}

/** Durability of a rename needs the directory entry on disk (directories can't be opened for fsync on Windows). */
export function fsyncDirectorySync(directory: string): void {
  if (process.platform === 'win32') return;
  const fd = openSync(directory, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Bytes per write call: Node refuses a length above 2^31 - 1 in one call. */
const WRITE_CHUNK_BYTES = 1 << 30;

/** Writes all of `bytes`, in calls of at most 1 GiB (and a write may take less than asked). */
export function writeAllSync(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done, Math.min(bytes.length - done, WRITE_CHUNK_BYTES));
}

/**
 * Writes `chunks` to `file` atomically: temporary file beside it (`wx`: never an existing file),
 * fsync, `rename(temporary, file)` (or `commit`, which may decide otherwise), fsync of the folder.
 * On failure the temporary file is removed and the target is untouched.
 * @throws Error `Could not save <what> <file>: <reason>` (the reason without the temporary name)
 */
export function writeFileAtomicSync(file: string, chunks: Iterable<Uint8Array>, what: string,
  commit: (temporary: string, file: string) => void = renameSync): void {
  const temporary = temporaryName(file);
  try {
    const fd = openSync(temporary, 'wx');
    try {
      for (const bytes of chunks) writeAllSync(fd, bytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    commit(temporary, file);
  } catch (error) {
    try {
      unlinkSync(temporary);
    } catch {
      // never created, or already renamed
    }
    throw saveError(what, file, error);
  }
  try {
    fsyncDirectorySync(path.dirname(path.resolve(file)));
  } catch (error) {
    throw saveError(what, file, error);
  }
}
