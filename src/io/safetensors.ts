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
 * against the file size first, and data is read tensor by tensor straight into its Float32Array.
 *
 * Writing produces F32 exactly as the Rust implementation lays it out: tensors in name order
 * (byte order of the UTF-8 names), `__metadata__` first in the header, header padded with spaces
 * to a multiple of 8 bytes. `saveSafetensors` writes a temporary file, fsyncs it, renames it over
 * the target and fsyncs the directory, so a crash leaves either the old file or the new one.
 * @module
 */
import {
  closeSync, fstatSync, fsyncSync, openSync, readSync, renameSync, unlinkSync, writeSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { endianness } from 'node:os';
import path from 'node:path';
import { Tensor } from '../tensor/tensor.js';
import { describe, expectObject, isNullish } from '../validate.js';

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
  dtype: SafetensorsDtype;
  shape: number[];
  dataOffsets: [number, number];
}

/** A validated header: entries in header order, metadata (null when absent), data section start. */
export interface SafetensorsHeader {
  tensors: Record<string, SafetensorsTensorInfo>;
  metadata: Record<string, string> | null;
  /** Byte position of the data section in the file: 8 + header size. */
  dataStart: number;
}

/** Everything in a file: float32 tensors, their original dtypes, and the metadata. */
export interface SafetensorsContents {
  tensors: Record<string, Tensor>;
  dtypes: Record<string, SafetensorsDtype>;
  metadata: Record<string, string> | null;
}

/** What `saveSafetensors` accepts per name: a Tensor or anything with float `data` and a `shape`. */
export type SafetensorsInput = Tensor | { data: Float32Array | ArrayLike<number>; shape: readonly number[] };

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
// Byte sources: a file read piece by piece, or a buffer in memory

interface ByteSource {
  readonly size: number;
  /** Fills `target` with the bytes at `position` (fresh memory, never a view of the source). */
  readInto(target: Uint8Array, position: number): void;
  close(): void;
}

function bufferSource(buffer: Uint8Array): ByteSource {
  return {
    size: buffer.length,
    readInto: (target, position) => target.set(buffer.subarray(position, position + target.length)),
    close: () => {},
  };
}

function fileSource(file: string): ByteSource {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    return {
      size,
      readInto(target, position) {
        for (let done = 0; done < target.length;) {
          const n = readSync(fd, target, done, target.length - done, position + done);
          if (n === 0) throw invalid(`unexpected end of file at byte ${position + done} (the file shrank while reading)`);
          done += n;
        }
      },
      close: () => closeSync(fd),
    };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

function openSource(source: string | Uint8Array): ByteSource {
  if (typeof source === 'string') return fileSource(source);
  if (source instanceof Uint8Array) return bufferSource(source);
  throw new TypeError(`Expected path string or Uint8Array for source but received ${describe(source)}`);
}

function withSource<T>(source: string | Uint8Array, use: (bytes: ByteSource) => T): T {
  const bytes = openSource(source);
  try {
    return use(bytes);
  } finally {
    bytes.close();
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

function readHeader(bytes: ByteSource): SafetensorsHeader {
  if (bytes.size < 8) throw invalid(`${bytes.size} bytes is shorter than the 8-byte header size`);
  const prefix = new Uint8Array(8);
  bytes.readInto(prefix, 0);
  const headerSize = new DataView(prefix.buffer).getBigUint64(0, true);
  if (headerSize > BigInt(MAX_SAFETENSORS_HEADER_SIZE)) {
    throw invalid(`header size ${headerSize} exceeds the limit of ${MAX_SAFETENSORS_HEADER_SIZE} bytes`);
  }
  const n = Number(headerSize);
  if (8 + n > bytes.size) throw invalid(`header size ${n} runs past the end of the file (${bytes.size} bytes)`);
  const headerBytes = new Uint8Array(n);
  bytes.readInto(headerBytes, 8);
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
  checkLayout(entries, bytes.size - 8 - n);
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

/** `raw` (fresh, 0-aligned bytes of `dtype`) as float32 values. */
function toFloat32(raw: Uint8Array, dtype: SafetensorsDtype, name: string): Float32Array {
  const n = raw.length / DTYPE_SIZES[dtype];
  const buffer = raw.buffer;
  const out = new Float32Array(n);
  const integers = (values: ArrayLike<number>): Float32Array => {
    let inexact = false;
    for (let i = 0; i < n; i++) {
      out[i] = values[i];
      if (out[i] !== values[i]) inexact = true;
    }
    if (inexact) warnInexact(name, dtype);
    return out;
  };
  switch (dtype) {
    case 'F32': return new Float32Array(buffer, 0, n);
    case 'F64': out.set(new Float64Array(buffer, 0, n)); return out;
    case 'BF16': {
      const bits = new Uint32Array(out.buffer);
      const half = new Uint16Array(buffer, 0, n);
      for (let i = 0; i < n; i++) bits[i] = half[i] << 16;
      return out;
    }
    case 'F16': {
      const half = new Uint16Array(buffer, 0, n);
      for (let i = 0; i < n; i++) out[i] = halfToFloat(half[i]);
      return out;
    }
    case 'F8_E5M2': for (let i = 0; i < n; i++) out[i] = halfToFloat(raw[i] << 8); return out;
    case 'F8_E4M3': for (let i = 0; i < n; i++) out[i] = e4m3ToFloat(raw[i]); return out;
    case 'BOOL': case 'U8': out.set(raw); return out;
    case 'I8': out.set(new Int8Array(buffer, 0, n)); return out;
    case 'I16': out.set(new Int16Array(buffer, 0, n)); return out;
    case 'U16': out.set(new Uint16Array(buffer, 0, n)); return out;
    case 'I32': return integers(new Int32Array(buffer, 0, n));
    case 'U32': return integers(new Uint32Array(buffer, 0, n));
    case 'I64': case 'U64': {
      const big = dtype === 'I64' ? new BigInt64Array(buffer, 0, n) : new BigUint64Array(buffer, 0, n);
      let inexact = false;
      for (let i = 0; i < n; i++) {
        out[i] = Number(big[i]);
        if (!Number.isFinite(out[i]) || BigInt(out[i]) !== big[i]) inexact = true;
      }
      if (inexact) warnInexact(name, dtype);
      return out;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Public reading API

/** The validated header of a file or buffer (reads only the header). */
export function readSafetensorsHeader(source: string | Uint8Array): SafetensorsHeader {
  return withSource(source, readHeader);
}

/** Every tensor (as float32), its original dtype, and the `__metadata__` (null when absent). */
export function readSafetensors(source: string | Uint8Array): SafetensorsContents {
  checkLittleEndian();
  return withSource(source, (bytes) => {
    const header = readHeader(bytes);
    const result: SafetensorsContents = { tensors: {}, dtypes: {}, metadata: header.metadata };
    for (const [name, info] of Object.entries(header.tensors)) {
      const [begin, end] = info.dataOffsets;
      const raw = new Uint8Array(end - begin);
      bytes.readInto(raw, header.dataStart + begin);
      setEntry(result.tensors, name, new Tensor(toFloat32(raw, info.dtype, name), info.shape));
      setEntry(result.dtypes, name, info.dtype);
    }
    return result;
  });
}

/**
 * Loads a safetensors file (path) or buffer into float32 Tensors by name, in header order —
 * e.g. a PyTorch state_dict saved with `safetensors.torch.save_file`, ready for
 * `module.loadStateDict()`. See {@link readSafetensors} for dtypes and metadata.
 */
export function loadSafetensors(source: string | Uint8Array): Record<string, Tensor> {
  return readSafetensors(source).tensors;
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
function prepare(tensors: Record<string, SafetensorsInput>, metadata: unknown): { header: Uint8Array; pieces: Float32Array[] } {
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
  return prepare(tensors, metadata);
}

/** The file's bytes in memory (what {@link saveSafetensors} writes), in one new buffer: a copy, which later changes to the tensors do not reach. */
export function serializeSafetensors(tensors: Record<string, SafetensorsInput>, metadata?: Record<string, string> | null): Uint8Array {
  checkLittleEndian();
  const { header, pieces } = prepare(tensors, metadata);
  const out = new Uint8Array(header.length + pieces.reduce((sum, p) => sum + p.byteLength, 0));
  out.set(header, 0);
  let position = header.length;
  for (const piece of pieces) {
    out.set(bytesOf(piece), position);
    position += piece.byteLength;
  }
  return out;
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done, bytes.length - done);
}

// The rename is durable only once the directory entry is on disk (not possible on Windows).
function fsyncDirectory(directory: string): void {
  if (process.platform === 'win32') return;
  const fd = openSync(directory, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes `tensors` as F32 (names sorted, as the Rust implementation does) with optional string
 * `metadata` (PyTorch's writer puts `{"format": "pt"}`), atomically: temporary file in the same
 * directory, fsync, rename over `file`, fsync of the directory.
 */
export function saveSafetensors(file: string, tensors: Record<string, SafetensorsInput>, metadata?: Record<string, string> | null): void {
  checkLittleEndian();
  if (typeof file !== 'string' || file === '') throw new TypeError(`Expected non-empty path string for file but received ${describe(file)}`);
  const { header, pieces } = prepare(tensors, metadata);
  // Not the seeded RNG: a file name must not consume (or depend on) the model's random stream.
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(temporary, 'wx');
  try {
    try {
      writeAll(fd, header);
      for (const piece of pieces) writeAll(fd, bytesOf(piece));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, file);
  } catch (error) {
    try {
      unlinkSync(temporary);
    } catch {
      // already gone
    }
    throw error;
  }
  fsyncDirectory(path.dirname(path.resolve(file)));
}
