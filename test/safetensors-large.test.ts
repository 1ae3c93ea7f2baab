// Tensors of 2 GiB and more (issue 14 point 5): one `read` in Node takes at most 2^31 - 1 bytes,
// so files are read (and written) in chunks. A sparse file of just over 2 GiB loads with every
// marked element in place; the chunking itself is checked with tiny chunks on every dtype; failing
// reads (injected into node:fs) name the file and the tensor. The full round trip through the disk
// (a > 2 GiB checkpoint saved and loaded, sync and async, and a > 2 GiB BF16 tensor) writes and
// reads several GB: it runs with RNNKIT_TEST_LARGE_FILES=1.
import * as fs from 'node:fs';
import { closeSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_READ_CHUNK_BYTES, readSafetensors, readSafetensorsAsync, saveSafetensors, type SafetensorsDtype,
} from '../src/io/safetensors.js';
import { loadCheckpoint, loadCheckpointAsync, nn, saveCheckpoint, saveCheckpointAsync } from '../src/index.js';
import { skipBecause } from './helpers/skip.js';

// readSync fault injection: `faults.next` decides what the next reads of the data section do.
const faults = vi.hoisted(() => ({ mode: 'none' as 'none' | 'eio' | 'eof' | 'short', fromPosition: 0 }));
vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs')>();
  const readSync = (fd: number, target: Uint8Array, offset: number, length: number, position: number): number => {
    if (faults.mode === 'none' || position < faults.fromPosition) return actual.readSync(fd, target, offset, length, position);
    if (faults.mode === 'eio') throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO', errno: -5, syscall: 'read' });
    if (faults.mode === 'eof') return 0;
    return actual.readSync(fd, target, offset, Math.min(length, 3), position);  // 'short': 3 bytes at most per call
  };
  return { ...actual, readSync, default: { ...actual, readSync } };
});

const dir = mkdtempSync(path.join(os.tmpdir(), 'rnnkit-large-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string): string => path.join(dir, name);

/** 8-byte size + JSON header of `entries` (name → dtype, element count), in order, tiling the data. */
function headerBytes(entries: [string, SafetensorsDtype, number][], sizes: Record<string, number>): { bytes: Buffer; dataSize: number } {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, dtype, count] of entries) {
    header[name] = { dtype, shape: [count], data_offsets: [offset, offset + count * sizes[dtype]] };
    offset += count * sizes[dtype];
  }
  const json = Buffer.from(JSON.stringify(header));
  const bytes = Buffer.alloc(8 + json.length);
  bytes.writeBigUInt64LE(BigInt(json.length));
  json.copy(bytes, 8);
  return { bytes, dataSize: offset };
}

const SIZES: Record<string, number> = { F32: 4, F64: 8, BF16: 2, F16: 2, I64: 8, U8: 1, I32: 4 };

/** A file of several dtypes whose tensors span many small chunks; data bytes from a fixed pattern. */
function mixedFile(name: string): string {
  const entries: [string, SafetensorsDtype, number][] = [
    ['f32', 'F32', 1001], ['f64', 'F64', 333], ['bf16', 'BF16', 517], ['f16', 'F16', 259], ['i64', 'I64', 77], ['u8', 'U8', 1003], ['i32', 'I32', 129], ['empty', 'F64', 0],
  ];
  const { bytes, dataSize } = headerBytes(entries, SIZES);
  const data = Buffer.alloc(dataSize);
  for (let i = 0; i < dataSize; i++) data[i] = (i * 131 + 7) & 0xff;
  // Keep the floats finite and the integers small (the values only have to survive the chunking).
  const view = new DataView(data.buffer);
  let offset = 0;
  for (const [, dtype, count] of entries) {
    for (let k = 0; k < count; k++) {
      const at = offset + k * SIZES[dtype];
      if (dtype === 'F32') view.setFloat32(at, k * 0.5 - 100, true);
      if (dtype === 'F64') view.setFloat64(at, k / 3, true);
      if (dtype === 'I64') view.setBigInt64(at, BigInt(k * 1000 - 5), true);
      if (dtype === 'BF16' || dtype === 'F16') data[at + 1] &= 0x3f;  // exponent far from Inf/NaN
    }
    offset += count * SIZES[dtype];
  }
  const target = file(name);
  writeFileSync(target, Buffer.concat([bytes, data]));
  return target;
}

const valuesOf = (contents: { tensors: Record<string, { data: Float32Array }> }) =>
  Object.fromEntries(Object.entries(contents.tensors).map(([name, t]) => [name, Array.from(t.data)]));

describe('reading in chunks', () => {
  const mixed = mixedFile('mixed.safetensors');
  const torch = fileURLToPath(new URL('./fixtures/io/torch_written.safetensors', import.meta.url));
  beforeEach(() => { vi.spyOn(process, 'emitWarning').mockImplementation(() => {}); });
  afterEach(() => { vi.restoreAllMocks(); });

  it('any chunk size gives the same tensors, for every dtype, from a file, a buffer, sync or async', async () => {
    for (const source of [mixed, torch]) {
      const whole = valuesOf(readSafetensors(readFileSync(source)));
      expect(Object.keys(whole).length).toBeGreaterThan(5);
      for (const chunkBytes of [1, 3, 8, 24, 4096]) {
        expect(valuesOf(readSafetensors(source, { chunkBytes })), `${source} ${chunkBytes}`).toEqual(whole);
        expect(valuesOf(await readSafetensorsAsync(source, { chunkBytes })), `async ${source} ${chunkBytes}`).toEqual(whole);
        expect(valuesOf(readSafetensors(readFileSync(source), { chunkBytes })), `buffer ${chunkBytes}`).toEqual(whole);
      }
    }
  });

  it('reads that deliver fewer bytes than asked are continued', () => {
    const whole = valuesOf(readSafetensors(mixed));
    faults.mode = 'short';
    try {
      expect(valuesOf(readSafetensors(mixed, { chunkBytes: 64 }))).toEqual(whole);
    } finally {
      faults.mode = 'none';
    }
  });

  it('chunkBytes must be an integer from 1 to 2^30', () => {
    expect(() => readSafetensors(mixed, { chunkBytes: 0 })).toThrow(new RangeError('Expected integer between 1 and 1073741824 for options.chunkBytes but received 0 of type number'));
    expect(() => readSafetensors(mixed, { chunkBytes: 2 ** 31 })).toThrow(new RangeError('Expected integer between 1 and 1073741824 for options.chunkBytes but received 2147483648 of type number'));
    expect(() => readSafetensors(mixed, { chunkBytes: '8' as never })).toThrow(new TypeError('Expected integer between 1 and 1073741824 for options.chunkBytes but received 8 of type string'));
  });
});

describe('a failing read names the file and the tensor', () => {
  const target = mixedFile('faulty.safetensors');
  // Byte 8 + header + 1001·4 + 10: inside "f64", the second tensor.
  const f64At = 8 + Number(readFileSync(target).readBigUInt64LE(0)) + 1001 * 4 + 10;
  afterEach(() => { faults.mode = 'none'; vi.restoreAllMocks(); });

  it('an I/O error (sync)', () => {
    Object.assign(faults, { mode: 'eio', fromPosition: f64At });
    expect(() => readSafetensors(target, { chunkBytes: 16 })).toThrow(new Error(`Could not read tensor "f64" from ${target}: EIO: i/o error, read`));
  });

  it('an I/O error (async)', async () => {
    const handle = await open(target, 'r');
    const fileHandle = Object.getPrototypeOf(handle) as { read: (...args: unknown[]) => Promise<unknown> };
    await handle.close();
    vi.spyOn(fileHandle, 'read').mockRejectedValue(Object.assign(new Error(`EIO: i/o error, read`), { code: 'EIO', syscall: 'read' }));
    await expect(readSafetensorsAsync(target)).rejects.toThrow(new Error(`Could not read the header size from ${target}: EIO: i/o error, read`));
  });

  it('a file that shrinks while it is read', () => {
    Object.assign(faults, { mode: 'eof', fromPosition: f64At });
    expect(() => readSafetensors(target, { chunkBytes: 16 })).toThrow(new Error(
      `Invalid safetensors file: unexpected end of file at byte ${8 + Number(readFileSync(target).readBigUInt64LE(0)) + 1001 * 4 + 16} while reading tensor "f64" (the file shrank while reading)`));
  });
});

const TWO_GIB = 2 ** 31;

/**
 * A sparse file with one F32 tensor of `count` elements, zero but for `markers` (index → value),
 * which sit on both sides of every read chunk's edge and of the 2 GiB mark.
 */
function sparseF32(name: string, count: number): { path: string; markers: Map<number, number> } {
  const { bytes, dataSize } = headerBytes([['big', 'F32', count]], SIZES);
  const target = file(name);
  const fd = openSync(target, 'w');
  try {
    writeSync(fd, bytes, 0, bytes.length, 0);
    ftruncateSync(fd, bytes.length + dataSize);
    const markers = new Map<number, number>();
    const perChunk = DEFAULT_READ_CHUNK_BYTES / 4;
    for (const edge of [0, count, TWO_GIB / 4, ...Array.from({ length: Math.ceil(count / perChunk) }, (_, k) => k * perChunk)]) {
      for (const index of [edge - 1, edge]) if (index >= 0 && index < count) markers.set(index, markers.size + 1.5);
    }
    for (const [index, value] of markers) {
      const element = Buffer.alloc(4);
      element.writeFloatLE(value);
      writeSync(fd, element, 0, 4, bytes.length + index * 4);
    }
    return { path: target, markers };
  } finally {
    closeSync(fd);
  }
}

function expectOnlyMarkers(data: Float32Array, count: number, markers: Map<number, number>): void {
  expect(data.length).toBe(count);
  for (const [index, value] of markers) expect(data[index], `element ${index}`).toBe(value);
  let nonZero = 0;
  for (let i = 0; i < data.length; i++) if (data[i] !== 0) nonZero++;
  expect(nonZero).toBe(markers.size);
}

describe('tensors of 2 GiB and more', () => {
  it('a 2 GiB + 16 bytes F32 tensor loads, every element in place (sparse file)', { timeout: 120_000 }, () => {
    const count = TWO_GIB / 4 + 4;
    const { path: big, markers } = sparseF32('big.safetensors', count);
    const started = performance.now();
    const { tensors } = readSafetensors(big);
    console.log(`loaded a ${count * 4}-byte F32 tensor in ${((performance.now() - started) / 1000).toFixed(2)} s`);
    expectOnlyMarkers(tensors.big.data, count, markers);
    rmSync(big);
  });
});

describe('RNNKIT_TEST_LARGE_FILES=1: > 2 GiB through the disk', () => {
  const enabled = process.env.RNNKIT_TEST_LARGE_FILES === '1';
  const reason = 'writes and reads several GB; set RNNKIT_TEST_LARGE_FILES=1 to run';

  it('async load of a > 2 GiB F32 tensor; a > 2 GiB BF16 tensor converts chunk by chunk', { timeout: 600_000 }, async (context) => {
    if (!enabled) skipBecause(context, reason);
    const count = TWO_GIB / 4 + 4;
    const { path: big, markers } = sparseF32('big-async.safetensors', count);
    expectOnlyMarkers((await readSafetensorsAsync(big)).tensors.big.data, count, markers);
    rmSync(big);

    const halves = TWO_GIB / 2 + 8;  // 2 GiB + 16 bytes of BF16 → 4 GiB of float32
    const { bytes, dataSize } = headerBytes([['half', 'BF16', halves]], SIZES);
    const bf16 = file('big-bf16.safetensors');
    const fd = openSync(bf16, 'w');
    writeSync(fd, bytes, 0, bytes.length, 0);
    ftruncateSync(fd, bytes.length + dataSize);
    writeSync(fd, Buffer.from([0xc0, 0x3f]), 0, 2, bytes.length + (halves - 1) * 2);  // bf16 0x3fc0 = 1.5
    closeSync(fd);
    const data = readSafetensors(bf16).tensors.half.data;
    expect(data.length).toBe(halves);
    expect(data[halves - 1]).toBe(1.5);
    expect(data[halves - 2]).toBe(0);
    rmSync(bf16);
  });

  it('a checkpoint with a > 2 GiB parameter saves and loads, sync and async', { timeout: 900_000 }, async (context) => {
    if (!enabled) skipBecause(context, reason);
    const model = new nn.Linear(32768, 16385, { bias: false });  // 536,903,680 floats: 2 GiB + 128 KiB
    const weight = model.weight.data;
    for (const index of [0, TWO_GIB / 4 - 1, TWO_GIB / 4, weight.length - 1]) weight[index] = index + 0.5;
    const expected = [0, TWO_GIB / 4 - 1, TWO_GIB / 4, weight.length - 1].map((index) => weight[index]);
    const target = file('big-checkpoint.safetensors');
    for (const [save, load] of [[saveCheckpoint, loadCheckpoint], [saveCheckpointAsync, loadCheckpointAsync]] as const) {
      let started = performance.now();
      await save(target, { model, rng: false });
      const saved = (performance.now() - started) / 1000;
      const fresh = new nn.Linear(32768, 16385, { bias: false });
      started = performance.now();
      await load(target, { model: fresh });
      console.log(`${save.name}: ${saved.toFixed(1)} s; ${load.name}: ${((performance.now() - started) / 1000).toFixed(1)} s (checksums verified)`);
      expect([0, TWO_GIB / 4 - 1, TWO_GIB / 4, weight.length - 1].map((index) => fresh.weight.data[index])).toEqual(expected);
      expect(Buffer.compare(Buffer.from(fresh.weight.data.buffer), Buffer.from(weight.buffer))).toBe(0);
    }
    saveSafetensors(target, { w: model.weight });  // the plain writer too
    expect(fs.statSync(target).size).toBeGreaterThan(TWO_GIB);
    rmSync(target);
  });
});
