/**
 * Input and output files of the CLI: reading with errors that name the file and the reason (only
 * regular files: a FIFO would block the command forever), a small RFC 4180 CSV reader that
 * remembers each record's line, an early check that an output file can be written (before minutes
 * of training, not after), and the rule that the CLI never overwrites a file that is not an rnnkit
 * model unless told to with `--force`.
 * @module
 */
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { nonRegularKind, readTextFileSync } from '../io/files.js';
import { CliError, describeFsError } from './errors.js';

/** The file's text; `cannot read input file 'x.csv': no such file` when it can't be read. */
export function readInputText(file: string, what = 'input file'): string {
  try {
    return readTextFileSync(file, what);
  } catch (error) {
    throw new CliError(`cannot read ${what} '${file}': ${describeFsError(error)}`);
  }
}

/** The file must exist and be a readable regular file (for inputs a library function opens itself). */
export function checkInputFile(file: string, what = 'input file'): void {
  try {
    const kind = nonRegularKind(statSync(file));
    if (kind !== null) throw Object.assign(new Error(kind), { kind });
    accessSync(file, constants.R_OK);
  } catch (error) {
    throw new CliError(`cannot read ${what} '${file}': ${describeFsError(error)}`);
  }
}

/**
 * What the CLI may overwrite without `--force`: an rnnkit model file, i.e. a regular file with a
 * valid safetensors header whose `__metadata__` marks a model of one of rnnkit's tasks — `format`
 * `rnnkit.forecaster` (forecast.saveForecaster) or `rnnkit-classify` (rnnkit train classify), or
 * `rnnkit.task` = `char-lm` (text.save), `text-classifier` (textclass.save) or `seq2seq`
 * (seq2seq.save). Checkpoints (training state) are not models.
 */
export async function isRnnkitModelFile(file: string): Promise<boolean> {
  // Imported here: --help and flag errors must not load the tensor library.
  const { readSafetensorsHeader } = await import('../io/safetensors.js');
  let metadata: Record<string, string> | null;
  try {
    metadata = readSafetensorsHeader(file).metadata;
  } catch {
    return false;
  }
  return metadata !== null && (['rnnkit.forecaster', 'rnnkit-classify'].includes(metadata.format)
    || ['char-lm', 'text-classifier', 'seq2seq'].includes(metadata['rnnkit.task']));
}

/**
 * The folder of `file` must exist and be writable; `file` must not exist, or be an rnnkit model
 * ({@link isRnnkitModelFile}), or be another regular file with `force`.
 */
export async function checkOutputFile(file: string, what = 'output file', force = false): Promise<void> {
  const folder = path.dirname(path.resolve(file));
  try {
    if (!statSync(folder).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    accessSync(folder, constants.W_OK);
  } catch (error) {
    throw new CliError(`cannot write ${what} '${file}': folder '${path.dirname(file)}': ${describeFsError(error).replace('no such file', 'no such folder')}`);
  }
  let kind: string | null;
  try {
    kind = nonRegularKind(statSync(file));
  } catch {
    return; // does not exist yet: fine
  }
  if (kind !== null) throw new CliError(`cannot write ${what} '${file}': it is ${kind}, not a regular file`);
  if (!force && !(await isRnnkitModelFile(file))) {
    throw new CliError(`refusing to overwrite ${what} '${file}': it exists and is not an rnnkit model (pass --force to overwrite it)`);
  }
}

/**
 * Writes an output file after the work is done: checks it again ({@link checkOutputFile}: the file
 * may have appeared meanwhile), then runs `write`; a failure names the file, not a temporary one.
 */
export async function writeOutputFile(file: string, what: string, force: boolean, write: () => void): Promise<void> {
  await checkOutputFile(file, what, force);
  try {
    write();
  } catch (error) {
    // The library's save errors wrap the file system's: describe that one.
    throw new CliError(`cannot write ${what} '${file}': ${describeFsError((error as Error).cause ?? error)}`);
  }
}

/** A CSV record and the line (from 1) it starts on. */
export interface CsvRecord {
  fields: string[];
  line: number;
}

/**
 * Splits CSV text into records (RFC 4180: `,` separators, `"` quoting with `""` for a quote,
 * quoted fields may span lines; CRLF or LF). Blank lines are skipped; fields are not trimmed of
 * anything but the line ending. Throws on an unterminated quote or text after a closing quote.
 */
export function parseCsv(text: string, file: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false; // the current field was quoted (so `""` is a field, not a blank line)
  let line = 1;
  let recordLine = 1;
  const endField = () => { fields.push(field); field = ''; quoted = false; };
  const endRecord = () => {
    const blank = fields.length === 0 && field.trim() === '' && !quoted;
    endField();
    if (!blank) records.push({ fields, line: recordLine });
    fields = [];
  };
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // skip a byte-order mark
  while (i < text.length) {
    const c = text[i];
    if (c === '"' && field === '' && !quoted) {
      const start = line;
      quoted = true;
      for (i++; ; i++) {
        if (i >= text.length) throw new CliError(`${file} line ${start}: a quoted field is never closed (missing '"')`);
        if (text[i] === '"' && text[i + 1] === '"') { field += '"'; i++; continue; }
        if (text[i] === '"') break;
        if (text[i] === '\n') line++;
        field += text[i];
      }
      i++;
      if (i < text.length && !',\r\n'.includes(text[i])) {
        throw new CliError(`${file} line ${line}: unexpected text after a closing quote (write "" for a quote inside a quoted field)`);
      }
    } else if (c === ',') {
      endField();
      i++;
    } else if (c === '\r' || c === '\n') {
      endRecord();
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      recordLine = ++line;
    } else {
      field += c;
      i++;
    }
  }
  if (field !== '' || quoted || fields.length > 0) endRecord();
  return records;
}

/** A CSV field as a finite number; `data.csv line 7, column 3: 'x' is not a number`. */
export function csvNumber(record: CsvRecord, column: number, file: string, columnName?: string): number {
  const text = record.fields[column].trim();
  const value = text === '' ? Number.NaN : Number(text);
  if (!Number.isFinite(value)) {
    const name = columnName ? ` (${columnName})` : '';
    throw new CliError(`${file} line ${record.line}, column ${column + 1}${name}: ${text === '' ? 'empty field' : `'${text}' is not a number`}`);
  }
  return value;
}

/** True when no field of the record (except those skipped) parses as a number: a header row. */
export function looksLikeHeader(record: CsvRecord, skipColumns = 0): boolean {
  return record.fields.slice(skipColumns).every((f) => f.trim() === '' || !Number.isFinite(Number(f.trim())));
}
