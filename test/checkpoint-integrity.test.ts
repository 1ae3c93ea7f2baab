// Checkpoint integrity beyond the format (issue 14): saveCheckpoint records a CRC-32 of every
// tensor's bytes and of the metadata (`rnnkit.crc32`); loading verifies them and names what changed.
// A flipped bit anywhere in the data section, or in a metadata value, is an error instead of a
// silently different model. Checkpoints written before checksums existed still load.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CHECKPOINT_KEYS, loadCheckpoint, loadCheckpointAsync, manualSeed, nn, optim, randn, readCheckpointInfo,
  readSafetensors, readSafetensorsHeader, saveCheckpoint, saveCheckpointAsync, saveSafetensors,
} from '../src/index.js';
import { BATCH, Classifier, INPUT_SIZE, SEQ_LEN, weightBits } from './helpers/checkpoint-model.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rnnkit-integrity-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string): string => path.join(dir, name);

/** CRC-32 (reflected polynomial 0xEDB88320, zlib's and PNG's), bit by bit: the reference the recorded sums must match. */
function crc32Reference(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
const hex = (value: number): string => value.toString(16).padStart(8, '0');

function savedCheckpoint(name: string): { path: string; model: Classifier } {
  manualSeed(21);
  const model = new Classifier(8);
  const optimizer = new optim.Adam(model.parameters());
  model.forward(randn(BATCH, SEQ_LEN, INPUT_SIZE)).sum().backward();
  optimizer.step();  // Adam's buffers: tensors beside the model's
  const target = file(name);
  saveCheckpoint(target, { model, optimizer, epoch: 1, step: 3, extra: { run: 'integrity' } });
  return { path: target, model };
}

/** The checkpoint's bytes with bit `bit` of byte `offset` flipped, written to a new file. */
function flipped(source: string, name: string, offset: number, bit = 3): string {
  const bytes = readFileSync(source);
  bytes[offset] ^= 1 << bit;
  const target = file(name);
  writeFileSync(target, bytes);
  return target;
}

describe('recorded checksums', () => {
  it('the reference CRC-32 gives the standard check value', () => {
    expect(hex(crc32Reference(Buffer.from('123456789')))).toBe('cbf43926');
  });

  it('every tensor\'s bytes and the metadata have their CRC-32 in rnnkit.crc32', () => {
    const { path: saved } = savedCheckpoint('sums.safetensors');
    const bytes = readFileSync(saved);
    const header = readSafetensorsHeader(saved);
    const metadata = header.metadata!;
    const sums = JSON.parse(metadata[CHECKPOINT_KEYS.checksums]) as Record<string, string>;
    const names = Object.keys(header.tensors);
    expect(Object.keys(sums).sort()).toEqual(['__metadata__', ...names].sort());
    for (const name of names) {
      const [begin, end] = header.tensors[name].dataOffsets;
      expect(sums[name], name).toBe(hex(crc32Reference(bytes.subarray(header.dataStart + begin, header.dataStart + end))));
    }
    // The metadata's: its other entries as [key, value] pairs in key order, as JSON.
    const pairs = Object.keys(metadata).filter((key) => key !== CHECKPOINT_KEYS.checksums).sort().map((key) => [key, metadata[key]]);
    expect(sums.__metadata__).toBe(hex(crc32Reference(Buffer.from(JSON.stringify(pairs)))));
  });

  it('the async save records the same sums', async () => {
    const { path: saved, model } = savedCheckpoint('sync.safetensors');
    const asyncFile = file('async.safetensors');
    const optimizer = new optim.Adam(model.parameters());
    loadCheckpoint(saved, { model, optimizer });
    await saveCheckpointAsync(asyncFile, { model, optimizer, epoch: 1, step: 3, extra: { run: 'integrity' } });
    const sumsOf = (p: string) => JSON.parse(readSafetensorsHeader(p).metadata![CHECKPOINT_KEYS.checksums]) as Record<string, string>;
    const { __metadata__: _a, ...syncSums } = sumsOf(saved);
    const { __metadata__: _b, ...asyncSums } = sumsOf(asyncFile);
    expect(asyncSums).toEqual(syncSums);
  });
});

describe('a changed file is refused, naming what changed; nothing is restored', () => {
  const { path: good } = savedCheckpoint('good.safetensors');
  const header = readSafetensorsHeader(good);
  const sums = JSON.parse(header.metadata![CHECKPOINT_KEYS.checksums]) as Record<string, string>;

  it('a bit flip in any tensor\'s bytes (sync and async load)', async () => {
    for (const [index, [name, info]] of Object.entries(header.tensors).entries()) {
      const [begin, end] = info.dataOffsets;
      const offset = header.dataStart + begin + Math.floor((end - begin) / 2);
      const bad = flipped(good, `flip-${index}.safetensors`, offset, index % 8);
      const computed = hex(crc32Reference(readFileSync(bad).subarray(header.dataStart + begin, header.dataStart + end)));
      const message = `Checkpoint ${bad} is corrupt: tensor ${JSON.stringify(name)} does not match its checksum `
        + `(CRC-32 saved ${sums[name]}, computed ${computed}); the file changed after it was saved`;
      manualSeed(4);
      const model = new Classifier(8);
      const optimizer = new optim.Adam(model.parameters());
      const before = weightBits(model);
      expect(() => loadCheckpoint(bad, { model, optimizer }), name).toThrow(new Error(message));
      await expect(loadCheckpointAsync(bad, { model, optimizer }), name).rejects.toThrow(new Error(message));
      expect(weightBits(model)).toEqual(before);
      expect(optimizer.state.size).toBe(0);
    }
    expect(Object.keys(header.tensors)).toHaveLength(30);  // every tensor was tried: 10 parameters, 2 Adam buffers each
  });

  it('a changed metadata value (loadCheckpoint and readCheckpointInfo)', () => {
    const bytes = readFileSync(good);
    const at = bytes.indexOf('"rnnkit.step":"3"');
    expect(at).toBeGreaterThan(0);
    const bad = flipped(good, 'step-changed.safetensors', at + '"rnnkit.step":"'.length, 1);  // "3" → "1": still valid JSON
    expect(readSafetensors(bad).metadata![CHECKPOINT_KEYS.step]).toBe('1');
    const metadata = readSafetensorsHeader(bad).metadata!;
    const pairs = Object.keys(metadata).filter((key) => key !== CHECKPOINT_KEYS.checksums).sort().map((key) => [key, metadata[key]]);
    const message = `Checkpoint ${bad} is corrupt: its metadata does not match its checksum `
      + `(CRC-32 saved ${sums.__metadata__}, computed ${hex(crc32Reference(Buffer.from(JSON.stringify(pairs))))}); the file changed after it was saved`;
    expect(() => readCheckpointInfo(bad)).toThrow(new Error(message));
    expect(() => loadCheckpoint(bad, { model: new Classifier(8) })).toThrow(new Error(message));
  });

  it('a tensor removed or added after saving', () => {
    const { tensors, metadata } = readSafetensors(good);
    const { 'model.head.bias': removed, ...rest } = tensors;
    expect(removed).toBeDefined();
    const withoutOne = file('removed.safetensors');
    saveSafetensors(withoutOne, rest, metadata);
    expect(() => loadCheckpoint(withoutOne, { model: new Classifier(8), strict: false })).toThrow(new Error(
      `Checkpoint ${withoutOne} is corrupt: tensor "model.head.bias" is missing; the file changed after it was saved`));
    const withExtra = file('added.safetensors');
    saveSafetensors(withExtra, { ...tensors, 'model.extra': randn(2) }, metadata);
    expect(() => loadCheckpoint(withExtra, { model: new Classifier(8), strict: false })).toThrow(new Error(
      `Checkpoint ${withExtra} is corrupt: tensor "model.extra" has no recorded checksum; the file changed after it was saved`));
  });
});

describe('compatibility', () => {
  it('a checkpoint written before checksums (format 1, no rnnkit.crc32) still loads', async () => {
    const fixture = fileURLToPath(new URL('./fixtures/checkpoint/pre-checksum-v1.safetensors', import.meta.url));
    const old = file('old.safetensors');
    copyFileSync(fixture, old);
    const { tensors, metadata } = readSafetensors(old);
    expect(metadata![CHECKPOINT_KEYS.checksums]).toBeUndefined();
    for (const load of [loadCheckpoint, loadCheckpointAsync]) {
      const model = new nn.LSTM(3, 4);
      const optimizer = new optim.Adam(model.parameters(), { lr: 0.01 });
      const info = await load(old, { model, optimizer, rng: false });
      expect(info).toMatchObject({ epoch: 1, step: 1, extra: { note: 'written before checksums' } });
      for (const [name, value] of Object.entries(model.stateDict())) expect(Array.from(value.data), name).toEqual(Array.from(tensors[`model.${name}`].data));
      expect(optimizer.stepCount).toBe(1);
    }
  });

  it('a checkpoint stays a plain safetensors file: every tensor as F32, metadata strings only', () => {
    const { path: saved } = savedCheckpoint('plain-reader.safetensors');
    const { dtypes, metadata } = readSafetensors(saved);
    expect(new Set(Object.values(dtypes))).toEqual(new Set(['F32']));
    expect(Object.values(metadata!).every((value) => typeof value === 'string')).toBe(true);
    expect(metadata!.format).toBe('pt');
  });
});
