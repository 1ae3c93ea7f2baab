/**
 * safetensors files (the format of Hugging Face's `safetensors`, which PyTorch users save with
 * `safetensors.torch.save_file`): an 8-byte little-endian header size N, N bytes of JSON header
 * `{"__metadata__": {str: str}, name: {"dtype", "shape", "data_offsets": [begin, end]}, …}`, then
 * the tensors' raw little-endian bytes, contiguous and non-overlapping, offsets relative to the
 * end of the header.
 *
 * Reading accepts every dtype of the format and converts it to float32 (rnnkit's only dtype):
 * F64/F16/BF16/F8 round to nearest; integer and BOOL values convert exactly up to 2^24 and emit a
 * process warning (once per tensor) when a value is not exactly representable in float32.
 * `readSafetensors` also returns each tensor's original dtype and the `__metadata__`.
 *
 * Every malformed file — too short, header size huge or past the end, bad UTF-8 or JSON, unknown
 * dtype, shape/size mismatch, offsets overlapping, leaving gaps or running past the data — throws
 * `Invalid safetensors file: …` before anything large is allocated: the header is validated
 * against the file size first, and data is read tensor by tensor straight into its Float32Array,
 * in reads of at most `chunkBytes` (no 2 GiB limit per tensor). A read that fails names the file
 * and the tensor. Only regular files are opened (a FIFO would block the reader forever).
 *
 * Writing produces F32 exactly as the Rust implementation lays it out: tensors in name order
 * (byte order of the UTF-8 names), `__metadata__` first in the header, header padded with spaces
 * to a multiple of 8 bytes. `saveSafetensors` writes a temporary file, fsyncs it, renames it over
 * the target and fsyncs the directory, so a crash leaves either the old file or the new one.
 * @module
 */
import { closeSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import { Tensor } from '../tensor/tensor.js';
import { describe, expectObject, isNullish, optionalIntInRange, optionalObject } from '../validate.js';
import { openRegularFile, openRegularFileSync, reasonOf, writeFileAtomicSync } from './files.js';

/** The element types of the format. */
export type SafetensorsDtype =
  | 'BOOL' | 'U8' | 'I8' | 'F8_E5M2' | 'F8_E4M3' | 'I16' | 'U16' | 'F16' | 'BF16'
  | 'I32' | 'U32' | 'F32' | 'F64' | 'I64' | 'U64';

const DTYPE_SIZES: Record<SafetensorsDtype, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
};

/** Header sizes above this are rejected (the Rust implementation's limit). */
export const MAX_SAFETENSORS_HEADER_SIZE = 100_000_000;

/** One tensor's header entry. `dataOffsets` are relative to the start of the data section. */
export interface SafetensorsTensorInfo {
  /** The stored element type. */
  dtype: SafetensorsDtype;
  /** The tensor's shape (`[]` for a scalar). */
  shape: number[];
  /** `[begin, end)` byte offsets of its data, relative to the start of the data section. */
  dataOffsets: [number, number];
}

/** A validated header: entries in header order, metadata (null when absent), data section start. */
export interface SafetensorsHeader {
  /** The tensors' entries by name, in header order. */
  tensors: Record<string, SafetensorsTensorInfo>;
  /** The `__metadata__` strings, or null when the file has none. */
  metadata: Record<string, string> | null;
  /** Byte position of the data section in the file: 8 + header size. */
  dataStart: number;
}

/** Everything in a file: float32 tensors, their original dtypes, and the metadata. */
export interface SafetensorsContents {
  /** The tensors by name, converted to float32. */
  tensors: Record<string, Tensor>;
  /** Each tensor's dtype in the file, before the conversion. */
  dtypes: Record<string, SafetensorsDtype>;
  /** The `__metadata__` strings, or null when the file has none. */
  metadata: Record<string, string> | null;
}

/** What `saveSafetensors` accepts per name: a Tensor or anything with float `data` and a `shape`. */
export type SafetensorsInput = Tensor | {
  /** The values, row-major. */
  data: Float32Array | ArrayLike<number>;
  /** The dimensions. */
  shape: readonly number[];
};

/** obj[key] = value, also for a key like "__proto__" (names come from untrusted headers). */
function setEntry<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function invalid(reason: string, cause?: unknown): Error {
  return new Error(`Invalid safetensors file: ${reason}`, cause === undefined ? undefined : { cause });
}

function checkLittleEndian(): void {
  if (endianness() !== 'LE') throw new Error('safetensors I/O needs a little-endian host');
}

// ---------------------------------------------------------------------------------------------
// Reading: parsers as generators of reads, run by a synchronous or an asynchronous driver

/** Bytes per read call by default; the limit of one `read` in Node is 2^31 - 1. */
export const DEFAULT_READ_CHUNK_BYTES = 64 << 20;
/** Upper bound of `chunkBytes`. */
export const MAX_READ_CHUNK_BYTES = 1 << 30;

/** Options of the readers. */
export interface SafetensorsReadOptions {
  /**
   * Bytes per read call (default 64 MiB, at most 1 GiB). Float32 tensors are read straight into
   * their arrays; other dtypes go through a scratch buffer of this size, which bounds the extra
   * memory a conversion needs.
   */
  chunkBytes?: number;
}

/** One read a parser asks for: fill `target` from byte `position` of the source; `what` names it. */
interface ReadRequest {
  target: Uint8Array;
  position: number;
  what: string;
}

/** A parser: yields reads, is resumed with the number of bytes each read delivered, returns its result. */
type Reader<T> = Generator<ReadRequest, T, number>;

function chunkBytesOf(options: SafetensorsReadOptions | undefined): number {
  const o = optionalObject(options, 'options');
  return optionalIntInRange(o.chunkBytes, 'options.chunkBytes', 1, MAX_READ_CHUNK_BYTES, DEFAULT_READ_CHUNK_BYTES);
}

/** Fills `target` from `position` in reads of at most `chunkBytes`, however few bytes each read delivers. */
function* readExactly(target: Uint8Array, position: number, what: string, chunkBytes: number): Reader<void> {
  for (let done = 0; done < target.length;) {
    const n = yield { target: target.subarray(done, done + Math.min(chunkBytes, target.length - done)), position: position + done, what };
    if (n === 0) throw invalid(`unexpected end of file at byte ${position + done} while reading ${what} (the file shrank while reading)`);
    done += n;
  }
}

/** `Could not read tensor "w" from /x/model.safetensors: EIO: i/o error`. */
function readFailure(request: ReadRequest, source: string, error: unknown): Error {
  return new Error(`Could not read ${request.what} from ${source}: ${reasonOf(error)}`, { cause: error });
}

/** Runs `reader`, each read done by `readAt` (which returns the bytes it delivered). */
function runSync<T>(reader: Reader<T>, readAt: (request: ReadRequest) => number, source: string): T {
  for (let step = reader.next(); ; ) {
    if (step.done) return step.value;
    let n: number;
    try {
      n = readAt(step.value);
    } catch (error) {
      throw readFailure(step.value, source, error);
    }
    step = reader.next(n);
  }
}

/** {@link runSync} with reads that complete later. */
async function runAsync<T>(reader: Reader<T>, readAt: (request: ReadRequest) => Promise<number>, source: string): Promise<T> {
  for (let step = reader.next(); ; ) {
    if (step.done) return step.value;
    const n = await readAt(step.value).catch((error: unknown) => {
      throw readFailure(step.value as ReadRequest, source, error);
    });
    step = reader.next(n);
  }
}

function copyFrom(buffer: Uint8Array): (request: ReadRequest) => number {
  return ({ target, position }) => {
    const piece = buffer.subarray(position, position + target.length);
    target.set(piece);
    return piece.length;
  };
}

function checkSource(source: unknown): asserts source is string | Uint8Array {
  if (typeof source !== 'string' && !(source instanceof Uint8Array)) {
    throw new TypeError(`Expected path string or Uint8Array for source but received ${describe(source)}`);
  }
}

/** Runs the parser made by `parse(size)` on a file (only a regular one) or a buffer. */
function parseSource<T>(source: string | Uint8Array, parse: (size: number) => Reader<T>): T {
  checkSource(source);
  if (typeof source !== 'string') return runSync(parse(source.length), copyFrom(source), 'the buffer');
  const { fd, size } = openRegularFileSync(source, 'source');
  try {
    return runSync(parse(size), ({ target, position }) => readSync(fd, target, 0, target.length, position), source);
  } finally {
    closeSync(fd);
  }
}

/** {@link parseSource} with the file's reads off the event loop. */
async function parseSourceAsync<T>(source: string | Uint8Array, parse: (size: number) => Reader<T>): Promise<T> {
  checkSource(source);
  if (typeof source !== 'string') return runSync(parse(source.length), copyFrom(source), 'the buffer');
  const { handle, size } = await openRegularFile(source, 'source');
  try {
    return await runAsync(parse(size), async ({ target, position }) => (await handle.read(target, 0, target.length, position)).bytesRead, source);
  } finally {
    await handle.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Header parsing and validation

const shapeText = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/** A JSON value for an error message, cut short (headers can be large). */
function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** The keys of the top-level object of valid JSON `text`, in order, duplicates included. */
function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      const start = i;
      for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++;
      if (depth !== 1) continue;
      let j = i + 1;
      while (/\s/.test(text[j])) j++;
      if (text[j] === ':') keys.push(JSON.parse(text.slice(start, i + 1)) as string);
    } else if (ch === '{' || ch === '[') {
      depth++;
    } else if (ch === '}' || ch === ']') {
      depth--;
    }
  }
  return keys;
}

function parseHeaderJson(bytes: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    throw invalid('header is not valid UTF-8', error);
  }
  if (!text.startsWith('{')) throw invalid('header is not a JSON object');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw invalid('header is not valid JSON', error);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalid('header is not a JSON object');
  const seen = new Set<string>();
  for (const key of topLevelKeys(text)) {
    if (seen.has(key)) throw invalid(`duplicate tensor name ${JSON.stringify(key)} in the header`);
    seen.add(key);
  }
  return parsed as Record<string, unknown>;
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function parseMetadata(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)
    || !Object.values(value).every((v) => typeof v === 'string')) {
    throw invalid('__metadata__ must map strings to strings');
  }
  const metadata: Record<string, string> = {};
  for (const [key, text] of Object.entries(value as Record<string, string>)) setEntry(metadata, key, text);
  return metadata;
}

function parseEntry(name: string, value: unknown): SafetensorsTensorInfo {
  const label = `tensor ${JSON.stringify(name)}`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(`${label} must be an object with dtype, shape and data_offsets`);
  }
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_SIZES, dtype)) {
    throw invalid(`${label} has unknown dtype ${preview(dtype)}`);
  }
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    throw invalid(`${label} has invalid shape ${preview(shape)} (expected an array of non-negative integers)`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    throw invalid(`${label} has invalid data_offsets ${preview(offsets)} (expected [begin, end], non-negative integers)`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) throw invalid(`${label} has data_offsets [${begin}, ${end}] that end before they begin`);
  let bytes = DTYPE_SIZES[dtype as SafetensorsDtype];
  for (const d of shape) bytes *= d; // exact while ≤ 2^53; a larger product cannot match anyway
  if (bytes !== end - begin) {
    throw invalid(`${label} (${dtype} ${shapeText(shape)}) needs ${bytes} bytes but its data_offsets [${begin}, ${end}] span ${end - begin}`);
  }
  return { dtype: dtype as SafetensorsDtype, shape: [...shape], dataOffsets: [begin, end] };
}

/** The data section must be tiled exactly: sorted by offsets, each tensor starts where the last ended. */
function checkLayout(entries: [string, SafetensorsTensorInfo][], dataSize: number): void {
  const sorted = [...entries].sort(([, a], [, b]) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  let covered = 0;
  let previous: [string, SafetensorsTensorInfo] | null = null;
  for (const [name, info] of sorted) {
    const [begin, end] = info.dataOffsets;
    if (begin < covered && previous) {
      throw invalid(`tensor ${JSON.stringify(name)} (data_offsets [${begin}, ${end}]) overlaps tensor ${JSON.stringify(previous[0])} (data_offsets [${previous[1].dataOffsets.join(', ')}])`);
    }
    if (begin > covered) {
      throw invalid(`bytes [${covered}, ${begin}) of the data section belong to no tensor (next: ${JSON.stringify(name)} at [${begin}, ${end}])`);
    }
    if (end > dataSize) {
      throw invalid(`tensor ${JSON.stringify(name)} ends at byte ${end} but the data section holds only ${dataSize} bytes (truncated file?)`);
    }
    covered = end;
    previous = [name, info];
  }
  if (covered < dataSize) {
    throw invalid(`${dataSize - covered} bytes after the last tensor (the data section holds ${dataSize} bytes, tensors cover ${covered})`);
  }
}

function* readHeader(size: number, chunkBytes: number): Reader<SafetensorsHeader> {
  if (size < 8) throw invalid(`${size} bytes is shorter than the 8-byte header size`);
  const prefix = new Uint8Array(8);
  yield* readExactly(prefix, 0, 'the header size', chunkBytes);
  const headerSize = new DataView(prefix.buffer).getBigUint64(0, true);
  if (headerSize > BigInt(MAX_SAFETENSORS_HEADER_SIZE)) {
    throw invalid(`header size ${headerSize} exceeds the limit of ${MAX_SAFETENSORS_HEADER_SIZE} bytes`);
  }
  const n = Number(headerSize);
  if (8 + n > size) throw invalid(`header size ${n} runs past the end of the file (${size} bytes)`);
  const headerBytes = new Uint8Array(n);
  yield* readExactly(headerBytes, 8, 'the header', chunkBytes);
  const json = parseHeaderJson(headerBytes);

  let metadata: Record<string, string> | null = null;
  const tensors: Record<string, SafetensorsTensorInfo> = {};
  const entries: [string, SafetensorsTensorInfo][] = [];
  for (const [name, value] of Object.entries(json)) {
    if (name === '__metadata__') {
      metadata = parseMetadata(value);
      continue;
    }
    const info = parseEntry(name, value);
    setEntry(tensors, name, info);
    entries.push([name, info]);
  }
  checkLayout(entries, size - 8 - n);
  return { tensors, metadata, dataStart: 8 + n };
}

// ---------------------------------------------------------------------------------------------
// Conversion to float32

const warnedTensors = new Set<string>();

function warnInexact(name: string, dtype: SafetensorsDtype): void {
  const key = `${name}\0${dtype}`;
  if (warnedTensors.has(key)) return;
  warnedTensors.add(key);
  process.emitWarning(`safetensors: tensor ${JSON.stringify(name)} (${dtype}) has values that float32 cannot represent exactly; they were rounded`);
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

// float8 e4m3 ("fn": no infinities, S.1111.111 is NaN), exponent bias 7.
function e4m3ToFloat(b: number): number {
  const sign = b & 0x80 ? -1 : 1;
  const exponent = (b >> 3) & 0xf;
  const mantissa = b & 0x7;
  if (exponent === 0xf && mantissa === 0x7) return NaN;
  if (exponent === 0) return sign * mantissa * 2 ** -9;
  return sign * (1 + mantissa / 8) * 2 ** (exponent - 7);
}

/**
 * Converts `raw` (bytes of `dtype` at offset 0 of their own buffer, so every view is aligned) into
 * `out` (one float32 per element).
 */
function convertInto(raw: Uint8Array, dtype: SafetensorsDtype, name: string, out: Float32Array): void {
  const n = out.length;
  const buffer = raw.buffer;
  const integers = (values: ArrayLike<number>): void => {
    let inexact = false;
    for (let i = 0; i < n; i++) {
      out[i] = values[i];
      if (out[i] !== values[i]) inexact = true;
    }
    if (inexact) warnInexact(name, dtype);
  };
  switch (dtype) {
    case 'F32': out.set(new Float32Array(buffer, 0, n)); return;
    case 'F64': out.set(new Float64Array(buffer, 0, n)); return;
    case 'BF16': {
      const bits = new Uint32Array(out.buffer, out.byteOffset, n);
      const half = new Uint16Array(buffer, 0, n);
      for (let i = 0; i < n; i++) bits[i] = half[i] << 16;
      return;
    }
    case 'F16': {
      const half = new Uint16Array(buffer, 0, n);
      for (let i = 0; i < n; i++) out[i] = halfToFloat(half[i]);
      return;
    }
    case 'F8_E5M2': for (let i = 0; i < n; i++) out[i] = halfToFloat(raw[i] << 8); return;
    case 'F8_E4M3': for (let i = 0; i < n; i++) out[i] = e4m3ToFloat(raw[i]); return;
    case 'BOOL': case 'U8': out.set(raw.subarray(0, n)); return;
    case 'I8': out.set(new Int8Array(buffer, 0, n)); return;
    case 'I16': out.set(new Int16Array(buffer, 0, n)); return;
    case 'U16': out.set(new Uint16Array(buffer, 0, n)); return;
    case 'I32': integers(new Int32Array(buffer, 0, n)); return;
    case 'U32': integers(new Uint32Array(buffer, 0, n)); return;
    case 'I64': case 'U64': {
      const big = dtype === 'I64' ? new BigInt64Array(buffer, 0, n) : new BigUint64Array(buffer, 0, n);
      let inexact = false;
      for (let i = 0; i < n; i++) {
        out[i] = Number(big[i]);
        if (!Number.isFinite(out[i]) || BigInt(out[i]) !== big[i]) inexact = true;
      }
      if (inexact) warnInexact(name, dtype);
    }
  }
}

/**
 * One tensor's values as float32: F32 bytes are read straight into the result; other dtypes a
 * chunk at a time through one scratch buffer (at most `chunkBytes`), so a tensor of several GiB
 * needs its result and one chunk, not a second copy of itself.
 */
function* readTensor(name: string, info: SafetensorsTensorInfo, dataStart: number, chunkBytes: number): Reader<Float32Array> {
  const elementSize = DTYPE_SIZES[info.dtype];
  const [begin, end] = info.dataOffsets;
  const count = (end - begin) / elementSize;
  const out = new Float32Array(count);
  const what = `tensor ${JSON.stringify(name)}`;
  if (info.dtype === 'F32') {
    yield* readExactly(new Uint8Array(out.buffer), dataStart + begin, what, chunkBytes);
    return out;
  }
  const perChunk = Math.max(1, Math.floor(chunkBytes / elementSize));
  const scratch = new Uint8Array(Math.min(count, perChunk) * elementSize);
  for (let i = 0; i < count; i += perChunk) {
    const n = Math.min(perChunk, count - i);
    const raw = scratch.subarray(0, n * elementSize);
    yield* readExactly(raw, dataStart + begin + i * elementSize, what, chunkBytes);
    convertInto(raw, info.dtype, name, out.subarray(i, i + n));
  }
  return out;
}

function* readContents(size: number, chunkBytes: number): Reader<SafetensorsContents> {
  const header = yield* readHeader(size, chunkBytes);
  const result: SafetensorsContents = { tensors: {}, dtypes: {}, metadata: header.metadata };
  for (const [name, info] of Object.entries(header.tensors)) {
    const data = yield* readTensor(name, info, header.dataStart, chunkBytes);
    setEntry(result.tensors, name, new Tensor(data, info.shape));
    setEntry(result.dtypes, name, info.dtype);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Public reading API

/**
 * The validated header of a file or buffer (reads only the header). Only regular files are
 * opened: a directory, FIFO or device path throws `Expected regular file for source but received
 * a FIFO (named pipe): <path>` (and never waits on the FIFO).
 */
export function readSafetensorsHeader(source: string | Uint8Array): SafetensorsHeader {
  return parseSource(source, (size) => readHeader(size, DEFAULT_READ_CHUNK_BYTES));
}

/**
 * Every tensor (as float32), its original dtype, and the `__metadata__` (null when absent), from
 * a regular file or a buffer. Files are read in chunks (`options.chunkBytes`), so tensors of 2 GiB
 * and more load.
 * @throws Error `Invalid safetensors file: …` for a malformed file; `Could not read tensor "w" from
 *   <path>: <reason>` when reading fails; `Expected regular file for source but received …`
 */
export function readSafetensors(source: string | Uint8Array, options?: SafetensorsReadOptions): SafetensorsContents {
  checkLittleEndian();
  const chunkBytes = chunkBytesOf(options);
  return parseSource(source, (size) => readContents(size, chunkBytes));
}

/** {@link readSafetensors} with the file's reads off the event loop. */
export async function readSafetensorsAsync(source: string | Uint8Array, options?: SafetensorsReadOptions): Promise<SafetensorsContents> {
  checkLittleEndian();
  const chunkBytes = chunkBytesOf(options);
  return parseSourceAsync(source, (size) => readContents(size, chunkBytes));
}

/**
 * Loads a safetensors file (path) or buffer into float32 Tensors by name, in header order —
 * e.g. a PyTorch state_dict saved with `safetensors.torch.save_file`, ready for
 * `module.loadStateDict()`. See {@link readSafetensors} for dtypes, metadata and errors.
 */
export function loadSafetensors(source: string | Uint8Array): Record<string, Tensor> {
  return readSafetensors(source).tensors;
}

/** {@link loadSafetensors} with the file's reads off the event loop. */
export async function loadSafetensorsAsync(source: string | Uint8Array): Promise<Record<string, Tensor>> {
  return (await readSafetensorsAsync(source)).tensors;
}

// ---------------------------------------------------------------------------------------------
// Writing

function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function float32Of(name: string, value: unknown): { data: Float32Array; shape: number[] } {
  if (value instanceof Tensor) return { data: value.data, shape: [...value.shape] };
  const candidate = expectObject(value, `tensors[${JSON.stringify(name)}]`);
  const { data, shape } = candidate;
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    throw new TypeError(`Expected array of non-negative integers for tensors[${JSON.stringify(name)}].shape but received ${describe(shape)}`);
  }
  const isArrayLike = data instanceof Float32Array || Array.isArray(data) || ArrayBuffer.isView(data);
  if (!isArrayLike) {
    throw new TypeError(`Expected Float32Array or array of numbers for tensors[${JSON.stringify(name)}].data but received ${describe(data)}`);
  }
  const values = data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
  const expected = shape.reduce((p: number, d: number) => p * d, 1);
  if (values.length !== expected) {
    throw new RangeError(`Expected ${expected} values for tensor ${JSON.stringify(name)} of shape ${shapeText(shape)} but received ${values.length}`);
  }
  return { data: values, shape: [...shape] };
}

function metadataOf(metadata: unknown): Record<string, string> | null {
  if (isNullish(metadata)) return null;
  const object = expectObject(metadata, 'metadata');
  const sorted: Record<string, string> = {};
  for (const key of Object.keys(object).sort(compareUtf8)) {
    const value = object[key];
    if (typeof value !== 'string') {
      throw new TypeError(`Expected string for metadata[${JSON.stringify(key)}] but received ${describe(value)}`);
    }
    setEntry(sorted, key, value);
  }
  return sorted;
}

/** The header (with its 8-byte size prefix) and the tensors' data in file order. */
function headerAndData(tensors: Record<string, SafetensorsInput>, metadata: unknown): { header: Uint8Array; pieces: Float32Array[] } {
  const dict = expectObject(tensors, 'tensors');
  const meta = metadataOf(metadata);
  const names = Object.keys(dict).sort(compareUtf8);
  const parts: string[] = meta ? [`"__metadata__":${JSON.stringify(meta)}`] : [];
  const pieces: Float32Array[] = [];
  let offset = 0;
  for (const name of names) {
    if (name === '__metadata__') throw new RangeError('Expected tensor name other than __metadata__ (reserved for the metadata)');
    const { data, shape } = float32Of(name, dict[name]);
    const bytes = data.length * 4;
    parts.push(`${JSON.stringify(name)}:{"dtype":"F32","shape":[${shape.join(',')}],"data_offsets":[${offset},${offset + bytes}]}`);
    pieces.push(data);
    offset += bytes;
  }
  const json = Buffer.from(`{${parts.join(',')}}`, 'utf8');
  const padded = Math.ceil(json.length / 8) * 8;
  const header = new Uint8Array(8 + padded).fill(0x20);
  new DataView(header.buffer).setBigUint64(0, BigInt(padded), true);
  header.set(json, 8);
  return { header, pieces };
}

const bytesOf = (data: Float32Array): Uint8Array => new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

/**
 * The file in parts, without copying tensor data: the header (with its 8-byte size prefix) and
 * the tensors' data in file order. For writers that stream the pieces (checkpoints).
 */
export function safetensorsParts(tensors: Record<string, SafetensorsInput>, metadata?: Record<string, string> | null): { header: Uint8Array; pieces: Float32Array[] } {
  checkLittleEndian();
  return headerAndData(tensors, metadata);
}

/** The file's bytes in memory (what {@link saveSafetensors} writes), in one new buffer: a copy, which later changes to the tensors do not reach. */
export function serializeSafetensors(tensors: Record<string, SafetensorsInput>, metadata?: Record<string, string> | null): Uint8Array {
  checkLittleEndian();
  const { header, pieces } = headerAndData(tensors, metadata);
  const out = new Uint8Array(header.length + pieces.reduce((sum, p) => sum + p.byteLength, 0));
  out.set(header, 0);
  let position = header.length;
  for (const piece of pieces) {
    out.set(bytesOf(piece), position);
    position += piece.byteLength;
  }
  return out;
}

/**
 * Writes `tensors` as F32 (names sorted, as the Rust implementation does) with optional string
 * `metadata` (PyTorch's writer puts `{"format": "pt"}`), atomically: temporary file in the same
 * directory, fsync, rename over `file`, fsync of the directory.
 * @throws Error `Could not save safetensors file <file>: <reason>` when the file system fails (the
 *   previous file is then untouched and no temporary file is left)
 */
export function saveSafetensors(file: string, tensors: Record<string, SafetensorsInput>, metadata?: Record<string, string> | null): void {
  checkLittleEndian();
  if (typeof file !== 'string' || file === '') throw new TypeError(`Expected non-empty path string for file but received ${describe(file)}`);
  const { header, pieces } = headerAndData(tensors, metadata);
  writeFileAtomicSync(file, [header, ...pieces.map(bytesOf)], 'safetensors file');
}
