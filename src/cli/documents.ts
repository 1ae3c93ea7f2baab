/**
 * Documents for `rnnkit train textclass` and `rnnkit predict`: read from CSV (a header row names
 * the columns), JSON Lines (one object per line, or one JSON string per line) or plain lines (one
 * document per line; predict only). Errors name the source, the line and what is wrong.
 * @module
 */
import { CliError } from './errors.js';
import { parseCsv } from './files.js';

/** How the input is laid out; 'auto' decides from the file name and the first line. */
export type InputFormat = 'auto' | 'csv' | 'jsonl' | 'lines';
export const INPUT_FORMATS = ['auto', 'csv', 'jsonl', 'lines'] as const;

/** What was read: the texts, their labels (when asked for), and where each came from (`line 7`). */
export interface Documents {
  texts: string[];
  labels: string[] | null;
  lines: number[];
  format: Exclude<InputFormat, 'auto'>;
}

/** Which columns (CSV) or keys (JSON Lines) hold the text and, for training, the label. */
export interface DocumentColumns {
  text: string;
  label?: string;
}

/**
 * The format of an input: by extension (.csv; .jsonl, .ndjson, .json; .txt), else from its first
 * non-blank line: `{` or `"` starts JSON Lines, a CSV header naming the text column starts CSV,
 * anything else is one document per line.
 */
export function detectFormat(name: string, text: string, textColumn: string): Exclude<InputFormat, 'auto'> {
  const extension = /\.([a-z]+)$/i.exec(name)?.[1]?.toLowerCase();
  if (extension === 'csv') return 'csv';
  if (extension === 'jsonl' || extension === 'ndjson' || extension === 'json') return 'jsonl';
  if (extension === 'txt') return 'lines';
  const first = /^\s*(.*)/.exec(text)?.[1] ?? '';
  if (first.startsWith('{') || first.startsWith('"')) return 'jsonl';
  try {
    return parseCsv(first, name)[0]?.fields.some((f) => f.trim() === textColumn) ? 'csv' : 'lines';
  } catch {
    return 'lines'; // not even CSV (an unclosed quote)
  }
}

function columnIndex(header: string[], column: string, role: string, source: string): number {
  const index = header.findIndex((name) => name.trim() === column);
  if (index < 0) {
    throw new CliError(`${source}: no ${role} column '${column}' in the header (columns: ${header.map((h) => `'${h.trim()}'`).join(', ')}); `
      + `name it with --${role}-column`);
  }
  return index;
}

function fromCsv(text: string, source: string, columns: DocumentColumns): Documents {
  const records = parseCsv(text, source);
  if (records.length === 0) throw new CliError(`${source}: empty (expected a header row naming the columns, then one document per row)`);
  const header = records[0].fields;
  const textAt = columnIndex(header, columns.text, 'text', source);
  const labelAt = columns.label === undefined ? -1 : columnIndex(header, columns.label, 'label', source);
  const rows = records.slice(1);
  const docs: Documents = { texts: [], labels: labelAt >= 0 ? [] : null, lines: [], format: 'csv' };
  for (const record of rows) {
    const needed = Math.max(textAt, labelAt) + 1;
    if (record.fields.length < needed) throw new CliError(`${source} line ${record.line}: ${record.fields.length} fields, the header has ${header.length}`);
    docs.texts.push(record.fields[textAt]);
    docs.lines.push(record.line);
    if (docs.labels) docs.labels.push(labelOf(record.fields[labelAt], source, record.line));
  }
  return docs;
}

function labelOf(value: unknown, source: string, line: number): string {
  const label = typeof value === 'number' && Number.isFinite(value) ? String(value) : typeof value === 'string' ? value.trim() : '';
  if (label === '') throw new CliError(`${source} line ${line}: empty or missing label`);
  return label;
}

function fromJsonLines(text: string, source: string, columns: DocumentColumns): Documents {
  const docs: Documents = { texts: [], labels: columns.label === undefined ? null : [], lines: [], format: 'jsonl' };
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      throw new CliError(`${source} line ${line}: not valid JSON (${(error as Error).message})`);
    }
    const record = typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : null;
    const document = typeof value === 'string' && docs.labels === null ? value : record?.[columns.text];
    if (typeof document !== 'string') {
      throw new CliError(`${source} line ${line}: expected an object with a string "${columns.text}"${docs.labels ? ` and a "${columns.label}"` : ''}`
        + ` (name the keys with --text-column${docs.labels ? ' and --label-column' : ''})`);
    }
    docs.texts.push(document);
    docs.lines.push(line);
    if (docs.labels) docs.labels.push(labelOf(record?.[columns.label as string], source, line));
  });
  return docs;
}

function fromLines(text: string): Documents {
  const docs: Documents = { texts: [], labels: null, lines: [], format: 'lines' };
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') return;
    docs.texts.push(line);
    docs.lines.push(i + 1);
  });
  return docs;
}

/**
 * The documents of `text` (the contents of `source`, a file name or `stdin`), in `format`.
 * @param columns the text column / key, and the label's for training (then every document needs one)
 */
export function readDocuments(text: string, source: string, format: InputFormat, columns: DocumentColumns): Documents {
  const resolved = format === 'auto' ? detectFormat(source, text, columns.text) : format;
  if (resolved === 'lines' && columns.label !== undefined) {
    throw new CliError(`${source}: plain lines carry no labels; training needs CSV with a header or JSON Lines (--input-format csv or jsonl)`);
  }
  const docs = resolved === 'csv' ? fromCsv(text, source, columns) : resolved === 'jsonl' ? fromJsonLines(text, source, columns) : fromLines(text);
  if (docs.texts.length === 0) throw new CliError(`${source}: no documents`);
  return docs;
}
