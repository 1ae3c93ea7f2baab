// safetensors I/O: files written by PyTorch 1.13 + a plain writer following the Rust layout
// (test/fixtures/io/make_safetensors.py) load with exact values; rnnkit writes byte-identical
// files to that writer's golden; malformed files fail with exact messages and no large allocation.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { Tensor } from '../src/tensor/tensor.js';
import {
  loadSafetensors, readSafetensors, readSafetensorsHeader, saveSafetensors, serializeSafetensors,
} from '../src/io/safetensors.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/io/', import.meta.url));
const tmp = mkdtempSync(path.join(tmpdir(), 'rnnkit-safetensors-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Entry { shape: number[]; data: (number | string)[] }
const readJson = <T>(name: string): T => JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8')) as T;
const decode = (values: (number | string)[]): Float32Array => Float32Array.from(values, Number); // "Infinity", "NaN"

function expectTensorEqual(actual: Tensor, expected: Entry, name: string): void {
  expect(actual.shape, name).toEqual(expected.shape);
  // Object.is per element: -0 and NaN must survive exactly.
  expect(Array.from(actual.data), name).toEqual(Array.from(decode(expected.data)));
}

describe('reading a PyTorch-written file', () => {
  const expected = readJson<{ metadata: Record<string, string>; dtypes: Record<string, string>; tensors: Record<string, Entry> }>('torch_written.json');
  const file = path.join(FIXTURES, 'torch_written.safetensors');

  it('every dtype converts to the float32 values torch gives', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const contents = readSafetensors(file);
    expect(contents.metadata).toEqual(expected.metadata);
    expect(contents.dtypes).toEqual(expected.dtypes);
    expect(Object.keys(contents.tensors).sort()).toEqual(Object.keys(expected.tensors).sort());
    for (const [name, entry] of Object.entries(expected.tensors)) expectTensorEqual(contents.tensors[name], entry, name);
    // 16777217 (I32) is not a float32: rounded, with one warning naming the tensor.
    expect(warn.mock.calls.map((call) => call[0])).toEqual([
      'safetensors: tensor "i32" (I32) has values that float32 cannot represent exactly; they were rounded',
    ]);
    warn.mockRestore();
  });

  it('a path and the same bytes in memory load the same; header alone', () => {
    const fromPath = loadSafetensors(file);
    const fromBuffer = loadSafetensors(readFileSync(file));
    for (const name of Object.keys(fromPath)) expect(fromBuffer[name].data).toEqual(fromPath[name].data);
    const header = readSafetensorsHeader(file);
    expect(header.metadata).toEqual({ format: 'pt' });
    expect(header.tensors['lstm.weight_ih_l0']).toEqual({ dtype: 'F32', shape: [8, 3], dataOffsets: [120, 216] });
    expect(fromPath['lstm.weight_ih_l0'].requiresGrad).toBe(false);
  });
});

describe('writing', () => {
  const golden = readJson<{ metadata: Record<string, string>; tensors: Record<string, Entry> }>('golden_f32.json');
  const goldenBytes = readFileSync(path.join(FIXTURES, 'golden_f32.safetensors'));
  const tensors = Object.fromEntries(Object.entries(golden.tensors).map(([name, e]) => [name, new Tensor(decode(e.data), e.shape)]));

  it('bytes identical to the Rust-layout golden (sorted names, __metadata__ first, space padding)', () => {
    expect(Buffer.from(serializeSafetensors(tensors, golden.metadata)).equals(goldenBytes)).toBe(true);
  });

  it('saveSafetensors writes the same bytes atomically and leaves no temporary file', () => {
    const dir = mkdtempSync(path.join(tmp, 'save-'));
    const file = path.join(dir, 'model.safetensors');
    writeFileSync(file, 'old contents');
    saveSafetensors(file, tensors, golden.metadata);
    expect(readFileSync(file).equals(goldenBytes)).toBe(true);
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
    // For the PyTorch-side check: RNNKIT_SAFETENSORS_OUT=x.safetensors, then make_safetensors.py --check x.safetensors
    if (process.env.RNNKIT_SAFETENSORS_OUT) saveSafetensors(process.env.RNNKIT_SAFETENSORS_OUT, tensors, golden.metadata);
  });

  it('a failed save keeps the old file and leaves no temporary file', () => {
    const dir = mkdtempSync(path.join(tmp, 'fail-'));
    const file = path.join(dir, 'model.safetensors');
    writeFileSync(file, 'old contents');
    expect(() => saveSafetensors(file, { a: { data: [1, 2, 3], shape: [2, 2] } }))
      .toThrow('Expected 4 values for tensor "a" of shape [2, 2] but received 3');
    expect(readFileSync(file, 'utf8')).toBe('old contents');
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
  });

  it('a save the file system refuses names the target, not the temporary file', () => {
    const target = path.join(tmp, 'no-such-folder', 'model.safetensors');
    expect(() => saveSafetensors(target, { a: { data: [1], shape: [1] } }))
      .toThrow(new Error(`Could not save safetensors file ${target}: ENOENT: no such file or directory`));
  });

  it('round trip is exact, special values included; plain {data, shape} accepted', () => {
    const special = Float32Array.of(-0, 0, NaN, Infinity, -Infinity, 1e-45, 3.4028234663852886e38, -1.5);
    const file = path.join(tmp, 'special.safetensors');
    saveSafetensors(file, { special: new Tensor(special, [2, 4]), plain: { data: [1, 2, 3], shape: [3] }, __proto__: { data: [7], shape: [] } } as never);
    const { tensors: loaded, metadata } = readSafetensors(file);
    expect(metadata).toBeNull();
    expect(Array.from(loaded.special.data)).toEqual(Array.from(special));
    expect(loaded.special.shape).toEqual([2, 4]);
    expect(Array.from(loaded.plain.data)).toEqual([1, 2, 3]);
  });

  it('an empty dict is a valid 16-byte file', () => {
    const bytes = serializeSafetensors({});
    expect(Buffer.from(bytes).toString('latin1')).toBe('\x08\0\0\0\0\0\0\0{}      ');
    expect(loadSafetensors(bytes)).toEqual({});
  });

  it('bad arguments', () => {
    expect(() => serializeSafetensors({ __metadata__: new Tensor(new Float32Array(1), [1]) }))
      .toThrow('Expected tensor name other than __metadata__ (reserved for the metadata)');
    expect(() => serializeSafetensors({ a: new Tensor(new Float32Array(1), [1]) }, { epoch: 3 } as never))
      .toThrow('Expected string for metadata["epoch"] but received 3 of type number');
    expect(() => serializeSafetensors({ a: { data: 'x', shape: [1] } } as never))
      .toThrow('Expected Float32Array or array of numbers for tensors["a"].data but received x of type string');
    expect(() => serializeSafetensors({ a: { data: [1], shape: [-1] } }))
      .toThrow('Expected array of non-negative integers for tensors["a"].shape but received an Array of length 1');
    expect(() => loadSafetensors(42 as never)).toThrow('Expected path string or Uint8Array for source but received 42 of type number');
  });
});

// ---------------------------------------------------------------------------------------------

/** A file: 8-byte size + header (JSON text or object) + `dataLength` bytes, size field overridable. */
function build(header: string | object | Uint8Array, dataLength: number, sizeField?: bigint): Uint8Array {
  const text = header instanceof Uint8Array ? header : Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const out = new Uint8Array(8 + text.length + dataLength);
  new DataView(out.buffer).setBigUint64(0, sizeField ?? BigInt(text.length), true);
  out.set(text, 8);
  return out;
}

const f32 = (shape: number[], begin: number, end: number) => ({ dtype: 'F32', shape, data_offsets: [begin, end] });

describe('malformed files', () => {
  const cases: [string, Uint8Array, string][] = [
    ['shorter than 8 bytes', new Uint8Array(5), '5 bytes is shorter than the 8-byte header size'],
    ['header size huge', build('{}', 0, 1n << 40n), 'header size 1099511627776 exceeds the limit of 100000000 bytes'],
    ['header size = u64 max', build('{}', 0, (1n << 64n) - 1n), 'header size 18446744073709551615 exceeds the limit of 100000000 bytes'],
    ['header past the end', build('{}', 90, 500n), 'header size 500 runs past the end of the file (100 bytes)'],
    ['not JSON', build('{not json}', 0), 'header is not valid JSON'],
    ['not an object', build('[1, 2]', 0), 'header is not a JSON object'],
    ['invalid UTF-8', build(Uint8Array.of(0x7b, 0xff, 0x7d), 0), 'header is not valid UTF-8'],
    ['duplicate names', build('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', 8),
      'duplicate tensor name "a" in the header'],
    ['unknown dtype', build({ a: { dtype: 'F17', shape: [1], data_offsets: [0, 4] } }, 4), 'tensor "a" has unknown dtype "F17"'],
    ['entry not an object', build({ a: [1] }, 0), 'tensor "a" must be an object with dtype, shape and data_offsets'],
    ['negative dimension', build({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4),
      'tensor "a" has invalid shape [-1] (expected an array of non-negative integers)'],
    ['one offset', build({ a: { dtype: 'F32', shape: [1], data_offsets: [4] } }, 4),
      'tensor "a" has invalid data_offsets [4] (expected [begin, end], non-negative integers)'],
    ['end before begin', build({ a: f32([1], 8, 4) }, 8), 'tensor "a" has data_offsets [8, 4] that end before they begin'],
    ['shape/size mismatch', build({ a: f32([2, 3], 0, 20) }, 20), 'tensor "a" (F32 [2, 3]) needs 24 bytes but its data_offsets [0, 20] span 20'],
    ['wrong dtype for the bytes', build({ a: { dtype: 'F64', shape: [2], data_offsets: [0, 8] } }, 8),
      'tensor "a" (F64 [2]) needs 16 bytes but its data_offsets [0, 8] span 8'],
    ['overlapping offsets', build({ a: f32([6], 0, 24), b: f32([6], 16, 40) }, 40),
      'tensor "b" (data_offsets [16, 40]) overlaps tensor "a" (data_offsets [0, 24])'],
    ['gap in offsets', build({ a: f32([6], 0, 24), b: f32([6], 32, 56) }, 56),
      'bytes [24, 32) of the data section belong to no tensor (next: "b" at [32, 56])'],
    ['gap at the start', build({ a: f32([1], 4, 8) }, 8), 'bytes [0, 4) of the data section belong to no tensor (next: "a" at [4, 8])'],
    ['truncated data', build({ a: f32([6], 0, 24), b: f32([6], 24, 48) }, 40),
      'tensor "b" ends at byte 48 but the data section holds only 40 bytes (truncated file?)'],
    ['trailing bytes', build({ a: f32([6], 0, 24) }, 32), '8 bytes after the last tensor (the data section holds 32 bytes, tensors cover 24)'],
    ['metadata not strings', build({ __metadata__: { epoch: 3 } }, 0), '__metadata__ must map strings to strings'],
    ['offsets beyond 2^53', build({ a: f32([1], 0, 2 ** 60) }, 0), 'tensor "a" has invalid data_offsets [0,1152921504606847000] (expected [begin, end], non-negative integers)'],
  ];

  for (const [name, bytes, reason] of cases) {
    it(name, () => {
      expect(() => loadSafetensors(bytes)).toThrow(new Error(`Invalid safetensors file: ${reason}`));
    });
  }

  it('the same checks on files; a truncated real file', () => {
    const huge = path.join(tmp, 'huge-header.safetensors');
    writeFileSync(huge, build('{}', 0, 1n << 40n));
    expect(() => loadSafetensors(huge)).toThrow(new Error('Invalid safetensors file: header size 1099511627776 exceeds the limit of 100000000 bytes'));
    const golden = readFileSync(path.join(FIXTURES, 'golden_f32.safetensors'));
    const cut = path.join(tmp, 'truncated.safetensors');
    writeFileSync(cut, golden.subarray(0, golden.length - 10));
    const dataSize = golden.length - 10 - 8 - Number(golden.readBigUInt64LE(0));
    // "scalar" [208, 212) is the first tensor (in offset order) that runs past the cut.
    expect(() => loadSafetensors(cut)).toThrow(new Error(
      `Invalid safetensors file: tensor "scalar" ends at byte 212 but the data section holds only ${dataSize} bytes (truncated file?)`));
    expect(dataSize).toBe(210);
  });

  it('every prefix of a valid file fails cleanly (never a crash)', () => {
    const golden = readFileSync(path.join(FIXTURES, 'golden_f32.safetensors'));
    for (let n = 0; n < golden.length; n++) {
      expect(() => loadSafetensors(golden.subarray(0, n))).toThrow(/^Invalid safetensors file: /);
    }
  });

  it('float8 and float16 special values decode', () => {
    const header = { e4m3: { dtype: 'F8_E4M3', shape: [4], data_offsets: [0, 4] }, e5m2: { dtype: 'F8_E5M2', shape: [3], data_offsets: [4, 7] },
      f16: { dtype: 'F16', shape: [3], data_offsets: [8, 14] }, pad: { dtype: 'U8', shape: [1], data_offsets: [7, 8] } };
    const file = build(header, 14);
    const data = file.subarray(file.length - 14);
    data.set([0x38, 0xc0, 0x7f, 0x01], 0); // e4m3: 1, -2, NaN, 2^-9
    data.set([0x3c, 0x7c, 0x01], 4); // e5m2: 1, Infinity, 2^-16
    new DataView(data.buffer, data.byteOffset).setUint16(8, 0xfc00, true); // f16: -Infinity
    new DataView(data.buffer, data.byteOffset).setUint16(10, 0x0001, true); // 2^-24
    new DataView(data.buffer, data.byteOffset).setUint16(12, 0x7bff, true); // 65504
    const { tensors, dtypes } = readSafetensors(file);
    expect(Array.from(tensors.e4m3.data)).toEqual([1, -2, NaN, 2 ** -9]);
    expect(Array.from(tensors.e5m2.data)).toEqual([1, Infinity, 2 ** -16]);
    expect(Array.from(tensors.f16.data)).toEqual([-Infinity, 2 ** -24, 65504]);
    expect(dtypes.e4m3).toBe('F8_E4M3');
  });
});
