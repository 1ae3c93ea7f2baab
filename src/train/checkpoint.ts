/**
 * Training checkpoints: everything a run needs to continue — model weights, optimizer state (step
 * counts, moment buffers, param-group options), scheduler state, the global RNG state, epoch/step,
 * the state of other stateful objects (e.g. a DataLoader's shuffle generator) and user JSON — in ONE
 * safetensors file:
 * - tensors: `model.<parameter name>` (PyTorch's names), `optimizer.state.<param index>.<buffer>`
 *   (in the parameter's shape, e.g. `optimizer.state.0.expAvg`);
 * - `__metadata__` (string → string): `rnnkit.*` keys holding JSON (see {@link CHECKPOINT_KEYS}),
 *   plus `format: "pt"` so Hugging Face / PyTorch tools open the file.
 *
 * Integrity beyond the format: `rnnkit.crc32` records a CRC-32 (zlib's polynomial, `zlib.crc32`)
 * of every tensor's bytes and one of the other metadata entries. Loading verifies them and names
 * the tensor that changed — a flipped bit in the data section is caught, not loaded. Checkpoints
 * written before checksums existed (no `rnnkit.crc32`) load unverified. The file stays a plain
 * safetensors file for every other reader.
 *
 * Saving is atomic and durable: the bytes go to a temporary file next to the target, are fsynced,
 * renamed over the target, and the directory is fsynced — a crash (kill -9, power loss after the
 * fsync) leaves the previous checkpoint or the new one, never a torn file. Temporary files left by a
 * killed process are removed by the next save to the same path. A model or optimizer state with
 * NaN/±Infinity is refused (unless `allowNonFinite`), so a diverged run never overwrites a good
 * checkpoint. Loading restores all or nothing: when it throws, no object has changed.
 *
 * Bitwise resume: with the same seed, ISA and thread count, `save` after K steps → `load` into fresh
 * objects → N−K more steps gives the same weights to the bit as N uninterrupted steps, provided
 * every source of randomness is captured: the global RNG (`rng`, default on: init, dropout and
 * loaders drawing from it) and any object with its own generator or position (`stateful`).
 * @module
 */
import { readdirSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { Module, type TensorLike } from '../nn/module.js';
import { Optimizer, type OptimizerStateDict } from '../optim/optimizer.js';
import { reasonOf, saveError, temporaryName, writeFileAtomicSync } from '../io/files.js';
import {
  readSafetensors, readSafetensorsAsync, readSafetensorsHeader, safetensorsParts, type SafetensorsContents,
} from '../io/safetensors.js';
import { optimBinding } from '../optim/native.js';
import { packageRoot } from '../native.js';
import { getNumThreads, isa } from '../runtime.js';
import { getRngState, setRngState } from '../tensor/random.js';
import { describe, expectObject, isNullish, optionalBool } from '../validate.js';

/** Values `extra` may hold (checkpoints store it as JSON; ±Infinity and NaN survive). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Anything whose state can be saved and restored: schedulers, data loaders, user objects. */
export interface Stateful {
  /** The object's state (JSON-compatible, or holding Float32Arrays). */
  stateDict(): unknown;
  /** Restores a state `stateDict` returned. */
  loadStateDict(state: never): void;
}

/** What {@link saveCheckpoint} stores. */
export interface SaveCheckpointOptions {
  /** The module whose parameters and buffers are saved. */
  model: Module;
  /** The optimizer whose state is saved. */
  optimizer?: Optimizer | null;
  /** An LRScheduler, ReduceLROnPlateau, or anything {@link Stateful}. */
  scheduler?: Stateful | null;
  /** Completed epochs (or the current one; your convention, returned as saved). */
  epoch?: number;
  /** Completed optimizer steps / batches (returned as saved). */
  step?: number;
  /** Capture the global RNG state (default true: needed for a bitwise resume). */
  rng?: boolean;
  /** More objects to save by name, e.g. `{ trainLoader }` for a loader with its own generator. */
  stateful?: Record<string, Stateful>;
  /** Any JSON (history, best metric, config). */
  extra?: JsonValue;
  /** Save even when weights or optimizer buffers hold NaN/±Infinity (default false: throw). */
  allowNonFinite?: boolean;
}

/** What {@link loadCheckpoint} restores into (objects are updated in place). */
export interface LoadCheckpointOptions {
  /** The module the parameters are loaded into. */
  model: Module;
  /** Restored when given; the checkpoint must then hold optimizer state of the same class. */
  optimizer?: Optimizer | null;
  /** Restored when given; the checkpoint must then hold scheduler state of the same class. */
  scheduler?: Stateful | null;
  /** Restore the global RNG state when the checkpoint has one (default true). */
  rng?: boolean;
  /** Objects saved under `stateful`, by the same names (each must be in the checkpoint). */
  stateful?: Record<string, Stateful>;
  /** Missing/unexpected model keys are errors (default true), as in `Module.loadStateDict`. */
  strict?: boolean;
}

/** Where and how a checkpoint was written. */
export interface CheckpointEnvironment {
  /** rnnkit version. */
  version: string;
  /** Kernel set in use (bitwise resume needs the same). */
  isa: string;
  /** Thread-pool size (bitwise resume needs the same). */
  threads: number;
}

/** What a checkpoint says about itself (from the header alone). */
export interface CheckpointInfo {
  /** The epoch saved, if any. */
  epoch: number | undefined;
  /** The step saved, if any. */
  step: number | undefined;
  /** The caller's JSON, if any. */
  extra: JsonValue | undefined;
  /** Where it was written. */
  environment: CheckpointEnvironment;
  /** The raw `__metadata__` strings. */
  metadata: Record<string, string>;
}

/** The `__metadata__` keys (values are JSON text). */
export const CHECKPOINT_KEYS = {
  /** The layout's version ({@link CHECKPOINT_FORMAT_VERSION}). */
  format: 'rnnkit.checkpoint',
  /** Where it was written: {@link CheckpointEnvironment}. */
  environment: 'rnnkit.environment',
  /** The epoch given to save. */
  epoch: 'rnnkit.epoch',
  /** The step given to save. */
  step: 'rnnkit.step',
  /** The optimizer's class, step count and parameter groups (its buffers are tensors). */
  optimizer: 'rnnkit.optimizer',
  /** The scheduler's state. */
  scheduler: 'rnnkit.scheduler',
  /** The global RNG state. */
  rng: 'rnnkit.rng',
  /** The other stateful objects' states, by name. */
  stateful: 'rnnkit.stateful',
  /** The caller's JSON. */
  extra: 'rnnkit.extra',
  /** CRC-32 of every tensor's bytes and of the other metadata entries. */
  checksums: 'rnnkit.crc32',
} as const;

/** Version of the layout above; loading refuses newer ones. */
export const CHECKPOINT_FORMAT_VERSION = 1;

const MODEL_PREFIX = 'model.';
const OPTIMIZER_PREFIX = 'optimizer.state.';

// ---------------------------------------------------------------------------------------------
// JSON that keeps ±Infinity, NaN and Float32Arrays (ReduceLROnPlateau's best starts at Infinity)

const TAG = '__rnnkit__';

function encodeJson(value: unknown): string {
  return JSON.stringify(value, function replacer(this: unknown, key: string, v: unknown) {
    const raw = (this as Record<string, unknown>)[key];  // before toJSON: a Float32Array is still one
    if (raw instanceof Float32Array) return { [TAG]: 'Float32Array', values: Array.from(raw, encodeNumber) };
    return typeof v === 'number' ? encodeNumber(v) : v;
  });
}

function encodeNumber(v: number): number | Record<string, string> {
  return Number.isFinite(v) ? v : { [TAG]: 'number', value: String(v) };
}

function decodeJson(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => {
    if (typeof v !== 'object' || v === null || !(TAG in v)) return v;
    const tagged = v as Record<string, unknown>;
    if (tagged[TAG] === 'number') return Number(tagged.value);
    if (tagged[TAG] === 'Float32Array') return Float32Array.from(tagged.values as number[]);
    return v;
  });
}

// ---------------------------------------------------------------------------------------------
// Building the file's contents

interface Contents {
  tensors: Record<string, TensorLike>;
  metadata: Record<string, string>;
}

let cachedVersion: string | undefined;

function libraryVersion(): string {
  if (cachedVersion === undefined) {
    try {
      const manifest = JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version?: unknown };
      cachedVersion = typeof manifest.version === 'string' ? manifest.version : 'unknown';
    } catch {
      cachedVersion = 'unknown';
    }
  }
  return cachedVersion;
}

function currentEnvironment(): CheckpointEnvironment {
  return { version: libraryVersion(), isa: isa(), threads: getNumThreads() };
}

function optionalCount(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(`Expected non-negative integer for ${name} but received ${describe(value)}`);
  }
  return value;
}

function expectStateful(value: unknown, name: string): Stateful {
  const candidate = value as Partial<Stateful> | null;
  if (typeof candidate !== 'object' || candidate === null
    || typeof candidate.stateDict !== 'function' || typeof candidate.loadStateDict !== 'function') {
    throw new TypeError(`Expected object with stateDict() and loadStateDict() for ${name} but received ${describe(value)}`);
  }
  return candidate as Stateful;
}

function statefulEntries(value: unknown): [string, Stateful][] {
  if (isNullish(value)) return [];
  return Object.entries(expectObject(value, 'stateful')).map(([name, item]) => [name, expectStateful(item, `stateful.${name}`)]);
}

/**
 * Optimizer state: buffers become tensors (the live arrays, not copies: the writer copies or
 * streams them), everything else JSON. Parameters are numbered as `Optimizer.stateDict()` does:
 * first appearance in group order.
 */
function addOptimizer(optimizer: Optimizer, contents: Contents): void {
  const index = new Map<TensorLike, number>();
  const paramGroups = optimizer.paramGroups.map((group) => {
    const options = Object.fromEntries(Object.entries(group).filter(([key]) => key !== 'params'));
    const params = group.params.map((p) => {
      if (!index.has(p)) index.set(p, index.size);
      return index.get(p) as number;
    });
    return { ...options, params };
  });
  const scalars: Record<string, Record<string, number>> = {};
  for (const [param, state] of optimizer.state) {
    const i = index.get(param);
    if (i === undefined) continue;
    scalars[i] = {};
    for (const [key, value] of Object.entries(state)) {
      if (typeof value === 'number') scalars[i][key] = value;
      else contents.tensors[`${OPTIMIZER_PREFIX}${i}.${key}`] = { data: value, shape: param.shape };
    }
  }
  contents.metadata[CHECKPOINT_KEYS.optimizer] = encodeJson({
    class: optimizer.constructor.name, stepCount: optimizer.stepCount, paramGroups, state: scalars,
  });
}

/** The first non-finite value among the tensors, as text for the error, or null. */
function firstNonFinite(tensors: Record<string, TensorLike>): string | null {
  const native = optimBinding();
  for (const [name, { data }] of Object.entries(tensors)) {
    // Σ|x| in double (vectorized) is finite when every x is; a huge finite sum may overflow its
    // float32 partial sums, so a non-finite result is confirmed element by element.
    if (Number.isFinite(native.normPowerSum(data, 1))) continue;
    for (let i = 0; i < data.length; i++) {
      // x - x is 0 for every finite x and NaN for NaN and ±Infinity.
      if (data[i] - data[i] !== 0) return `${name}[${i}] = ${data[i]}`;
    }
  }
  return null;
}

function buildContents(options: SaveCheckpointOptions): Contents {
  const o = expectObject(options, 'options');
  if (!(o.model instanceof Module)) throw new TypeError(`Expected Module for model but received ${describe(o.model)}`);
  const contents: Contents = {
    tensors: {},
    metadata: {
      format: 'pt',
      [CHECKPOINT_KEYS.format]: String(CHECKPOINT_FORMAT_VERSION),
      [CHECKPOINT_KEYS.environment]: encodeJson(currentEnvironment()),
    },
  };
  for (const [name, tensor] of Object.entries(o.model.stateDict())) contents.tensors[MODEL_PREFIX + name] = tensor;
  if (!isNullish(o.optimizer)) {
    if (!(o.optimizer instanceof Optimizer)) throw new TypeError(`Expected Optimizer for optimizer but received ${describe(o.optimizer)}`);
    addOptimizer(o.optimizer, contents);
  }
  if (!isNullish(o.scheduler)) {
    const scheduler = expectStateful(o.scheduler, 'scheduler');
    contents.metadata[CHECKPOINT_KEYS.scheduler] = encodeJson({ class: scheduler.constructor.name, state: scheduler.stateDict() });
  }
  const stateful = statefulEntries(o.stateful);
  if (stateful.length > 0) {
    contents.metadata[CHECKPOINT_KEYS.stateful] = encodeJson(Object.fromEntries(stateful.map(([name, item]) => [name, item.stateDict()])));
  }
  const epoch = optionalCount(o.epoch, 'epoch');
  const step = optionalCount(o.step, 'step');
  if (epoch !== undefined) contents.metadata[CHECKPOINT_KEYS.epoch] = String(epoch);
  if (step !== undefined) contents.metadata[CHECKPOINT_KEYS.step] = String(step);
  if (optionalBool(o.rng, 'rng', true)) contents.metadata[CHECKPOINT_KEYS.rng] = encodeJson(getRngState());
  if (o.extra !== undefined) contents.metadata[CHECKPOINT_KEYS.extra] = encodeJson(o.extra);
  if (!optionalBool(o.allowNonFinite, 'allowNonFinite', false)) {
    const bad = firstNonFinite(contents.tensors);
    if (bad !== null) {
      throw new RangeError(`Refusing to save a checkpoint with non-finite values (${bad}); `
        + 'the previous checkpoint is kept. Pass { allowNonFinite: true } to save anyway');
    }
  }
  contents.metadata[CHECKPOINT_KEYS.checksums] = JSON.stringify(checksumsOf(contents.tensors, contents.metadata));
  return contents;
}

// ---------------------------------------------------------------------------------------------
// Checksums (CRC-32 of each tensor's bytes and of the metadata)

/** The name the metadata's checksum is recorded under (a name no tensor can have in safetensors). */
const METADATA_CHECKSUM = '__metadata__';

const hex32 = (value: number): string => value.toString(16).padStart(8, '0');

function tensorChecksum(data: Float32Array): string {
  return hex32(crc32(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)));
}

/** CRC-32 of the metadata entries other than the checksums, in key order (as JSON pairs). */
function metadataChecksum(metadata: Record<string, string>): string {
  const keys = Object.keys(metadata).filter((key) => key !== CHECKPOINT_KEYS.checksums).sort();
  return hex32(crc32(JSON.stringify(keys.map((key) => [key, metadata[key]]))));
}

function checksumsOf(tensors: Record<string, TensorLike>, metadata: Record<string, string>): Record<string, string> {
  const sums: Record<string, string> = { [METADATA_CHECKSUM]: metadataChecksum(metadata) };
  for (const [name, { data }] of Object.entries(tensors)) sums[name] = tensorChecksum(data);
  return sums;
}

function corrupt(file: string, part: string, saved: string | undefined, computed: string): Error {
  const detail = saved === undefined ? 'has no recorded checksum' : `does not match its checksum (CRC-32 saved ${saved}, computed ${computed})`;
  return new Error(`Checkpoint ${file} is corrupt: ${part} ${detail}; the file changed after it was saved`);
}

/**
 * Compares the recorded checksums with the metadata and, when given, the tensors. A checkpoint
 * without checksums (written before they existed) passes unverified.
 * @throws Error `Checkpoint <file> is corrupt: tensor "model.w" does not match its checksum (…)`
 */
function verifyChecksums(metadata: Record<string, string>, tensors: Record<string, TensorLike> | null, file: string): void {
  if (metadata[CHECKPOINT_KEYS.checksums] === undefined) return;
  const saved = expectObject(parseJsonEntry(metadata, CHECKPOINT_KEYS.checksums, file), CHECKPOINT_KEYS.checksums) as Record<string, string | undefined>;
  const metadataSum = metadataChecksum(metadata);
  if (saved[METADATA_CHECKSUM] !== metadataSum) throw corrupt(file, 'its metadata', saved[METADATA_CHECKSUM], metadataSum);
  if (tensors === null) return;
  for (const [name, { data }] of Object.entries(tensors)) {
    const sum = tensorChecksum(data);
    if (saved[name] !== sum) throw corrupt(file, `tensor ${JSON.stringify(name)}`, saved[name], sum);
  }
  const missing = Object.keys(saved).find((name) => name !== METADATA_CHECKSUM && !Object.hasOwn(tensors, name));
  if (missing !== undefined) throw new Error(`Checkpoint ${file} is corrupt: tensor ${JSON.stringify(missing)} is missing; the file changed after it was saved`);
}

// ---------------------------------------------------------------------------------------------
// Atomic writing

// Saves to the same path are ordered by this counter: a slower async save never renames an older
// state over a newer one.
let saveCounter = 0;
const newestRenamed = new Map<string, number>();

function checkPath(file: unknown): string {
  if (typeof file !== 'string' || file === '') throw new TypeError(`Expected non-empty path string for path but received ${describe(file)}`);
  return path.resolve(file);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Deletes temporary files of earlier saves to `file` (named by `temporaryName`) whose writing process is gone (killed). Files
 * of this process are left alone: a worker thread may be writing one (our own failed saves remove
 * theirs). Process ids are only meaningful on this host and PID namespace, so do not share a
 * checkpoint directory between hosts or containers. Best effort: errors are ignored.
 */
function removeStaleTemporaries(file: string): void {
  const pattern = new RegExp(`^${escapeRegExp(path.basename(file))}\\.(\\d+)\\.[0-9a-f]{8}\\.tmp$`);
  let names: string[];
  try {
    names = readdirSync(path.dirname(file));
  } catch {
    return;
  }
  for (const name of names) {
    const match = pattern.exec(name);
    if (!match) continue;
    const full = path.join(path.dirname(file), name);
    const pid = Number(match[1]);
    if (pid === process.pid || isAlive(pid)) continue;
    try {
      unlinkSync(full);
    } catch {
      // gone already, or not ours to remove
    }
  }
}

/** Renames `temporary` over `file` unless a newer save already did (then drops it). Synchronous on purpose. */
function commit(temporary: string, file: string, order: number): void {
  if ((newestRenamed.get(file) ?? 0) > order) {
    unlinkSync(temporary);
    return;
  }
  renameSync(temporary, file);
  newestRenamed.set(file, order);
}

const bytesOf = (data: Float32Array): Uint8Array => new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

async function fsyncDirectory(directory: string): Promise<void> {
  if (process.platform === 'win32') return;  // directories cannot be opened for fsync there
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function writeAtomicSync(file: string, parts: { header: Uint8Array; pieces: Float32Array[] }): void {
  const order = ++saveCounter;
  removeStaleTemporaries(file);
  // Straight from the live arrays: nothing runs between here and the rename.
  writeFileAtomicSync(file, [parts.header, ...parts.pieces.map(bytesOf)], 'checkpoint', (temporary) => commit(temporary, file, order));
}

/**
 * `chunks` must be private copies: they are written after the caller has moved on. One chunk per
 * tensor, not one buffer for the file: a typed array holds at most 2^32 elements.
 */
async function writeAtomic(file: string, chunks: Uint8Array[]): Promise<void> {
  const order = ++saveCounter;
  removeStaleTemporaries(file);
  const temporary = temporaryName(file);
  try {
    const handle = await open(temporary, 'wx');
    try {
      for (const bytes of chunks) await handle.writeFile(bytes);  // each continues where the last ended
      await handle.sync();
    } finally {
      await handle.close();
    }
    commit(temporary, file, order);
  } catch (error) {
    await unlink(temporary).catch(() => {});
    throw saveError('checkpoint', file, error);
  }
  await fsyncDirectory(path.dirname(file)).catch((error: unknown) => {
    throw saveError('checkpoint', file, error);
  });
}

/**
 * Saves a checkpoint atomically (see the module notes). Blocks until the file is durable.
 * @throws TypeError for a non-Module model, non-Optimizer optimizer, objects without
 *   stateDict/loadStateDict, a bad epoch/step; RangeError `Refusing to save a checkpoint with
 *   non-finite values (model.lstm.weight_ih_l0[3] = NaN); …`; Error `Could not save checkpoint <path>: <reason>`
 *   when the file system fails (the previous checkpoint is then untouched).
 */
export function saveCheckpoint(file: string, options: SaveCheckpointOptions): void {
  const target = checkPath(file);
  const { tensors, metadata } = buildContents(options);
  writeAtomicSync(target, safetensorsParts(tensors, metadata));
}

/**
 * {@link saveCheckpoint} with the file I/O (write, fsync, directory fsync) off the event loop. The
 * state is captured (copied) before this returns its promise, so training may continue at once.
 * Concurrent saves to one path keep the newest state.
 */
export async function saveCheckpointAsync(file: string, options: SaveCheckpointOptions): Promise<void> {
  const target = checkPath(file);
  const { tensors, metadata } = buildContents(options);
  // Copies of the header and every tensor: the snapshot the async write works from while training goes on.
  const { header, pieces } = safetensorsParts(tensors, metadata);
  await writeAtomic(target, [header, ...pieces.map((piece) => bytesOf(piece.slice()))]);
}

// ---------------------------------------------------------------------------------------------
// Loading

function parseJsonEntry(metadata: Record<string, string>, key: string, file: string): unknown {
  const text = metadata[key];
  if (text === undefined) return undefined;
  try {
    return decodeJson(text);
  } catch (error) {
    throw new Error(`Invalid checkpoint ${file}: metadata ${key} is not valid JSON`, { cause: error });
  }
}

function infoOf(metadata: Record<string, string> | null, file: string): CheckpointInfo {
  const format = metadata?.[CHECKPOINT_KEYS.format];
  if (metadata === null || format === undefined) {
    throw new Error(`${file} is a safetensors file but not an rnnkit checkpoint (no ${CHECKPOINT_KEYS.format} metadata); `
      + 'load plain weights with loadSafetensors() and model.loadStateDict()');
  }
  if (!(Number(format) >= 1 && Number(format) <= CHECKPOINT_FORMAT_VERSION)) {
    throw new Error(`${file} has checkpoint format ${format}; this rnnkit (${libraryVersion()}) reads formats up to ${CHECKPOINT_FORMAT_VERSION}`);
  }
  const environment = parseJsonEntry(metadata, CHECKPOINT_KEYS.environment, file) as CheckpointEnvironment | undefined;
  return {
    epoch: parseJsonEntry(metadata, CHECKPOINT_KEYS.epoch, file) as number | undefined,
    step: parseJsonEntry(metadata, CHECKPOINT_KEYS.step, file) as number | undefined,
    extra: parseJsonEntry(metadata, CHECKPOINT_KEYS.extra, file) as JsonValue | undefined,
    environment: environment ?? { version: 'unknown', isa: 'unknown', threads: 0 },
    metadata: { ...metadata },
  };
}

function readError(file: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return Object.assign(new Error(`Checkpoint not found: ${file}`, { cause: error }), { code });
  return new Error(`Could not load checkpoint ${file}: ${reasonOf(error)}`, { cause: error });
}

/**
 * Reads only the header: epoch, step, extra, environment — e.g. to pick the checkpoint to resume
 * from. Verifies the metadata's checksum (the tensors' are verified by loading).
 */
export function readCheckpointInfo(file: string): CheckpointInfo {
  const target = checkPath(file);
  let metadata: Record<string, string> | null;
  try {
    metadata = readSafetensorsHeader(target).metadata;
  } catch (error) {
    throw readError(file, error);
  }
  verifyChecksums(metadata ?? {}, null, file);
  return infoOf(metadata, file);
}

/** The optimizer's stateDict as saved: buffers from the tensors, the rest from the JSON. */
function savedOptimizerState(contents: SafetensorsContents, file: string): { class: string; stepCount: number; dict: OptimizerStateDict } | undefined {
  const saved = parseJsonEntry(contents.metadata ?? {}, CHECKPOINT_KEYS.optimizer, file) as
    { class: string; stepCount: number; paramGroups: OptimizerStateDict['paramGroups']; state: Record<string, Record<string, number>> } | undefined;
  if (saved === undefined) return undefined;
  const state: OptimizerStateDict['state'] = {};
  for (const [index, scalars] of Object.entries(saved.state)) state[Number(index)] = { ...scalars };
  for (const [name, tensor] of Object.entries(contents.tensors)) {
    if (!name.startsWith(OPTIMIZER_PREFIX)) continue;
    const rest = name.slice(OPTIMIZER_PREFIX.length);
    const dot = rest.indexOf('.');
    const index = Number(rest.slice(0, dot));
    if (dot < 1 || !Number.isInteger(index)) throw new Error(`Invalid checkpoint ${file}: unexpected tensor name ${name}`);
    (state[index] ??= {})[rest.slice(dot + 1)] = tensor.data;
  }
  return { class: saved.class, stepCount: saved.stepCount, dict: { state, paramGroups: saved.paramGroups } };
}

function mismatch(file: string, what: string, savedClass: string, given: object): Error {
  return new Error(`Checkpoint ${file} holds ${what} state of ${savedClass} but the ${what} given is ${given.constructor.name}`);
}

function missingPart(file: string, what: string): Error {
  return new Error(`Checkpoint ${file} holds no ${what} state (it was saved without one)`);
}

/** The objects' current states, to roll back to when a later part of a load fails. */
function snapshot(o: LoadCheckpointOptions, stateful: [string, Stateful][]): () => void {
  const weights = Object.entries(o.model.stateDict()).map(([name, t]) => [name, { data: t.data.slice(), shape: t.shape }] as const);
  const optimizer = o.optimizer ? { dict: o.optimizer.stateDict(), stepCount: o.optimizer.stepCount } : undefined;
  const scheduler = o.scheduler?.stateDict();
  const states = stateful.map(([, item]) => item.stateDict());
  const rng = getRngState();
  return () => {
    o.model.loadStateDict(Object.fromEntries(weights), { strict: false });
    if (o.optimizer && optimizer) {
      o.optimizer.loadStateDict(optimizer.dict);
      o.optimizer.stepCount = optimizer.stepCount;
    }
    if (o.scheduler) o.scheduler.loadStateDict(scheduler as never);
    stateful.forEach(([, item], i) => item.loadStateDict(states[i] as never));
    setRngState(rng);
  };
}

function restore(contents: SafetensorsContents, info: CheckpointInfo, o: LoadCheckpointOptions, file: string): void {
  const stateful = statefulEntries(o.stateful);
  const optimizer = savedOptimizerState(contents, file);
  const scheduler = parseJsonEntry(info.metadata, CHECKPOINT_KEYS.scheduler, file) as { class: string; state: unknown } | undefined;
  const savedStateful = (parseJsonEntry(info.metadata, CHECKPOINT_KEYS.stateful, file) ?? {}) as Record<string, unknown>;
  const rng = parseJsonEntry(info.metadata, CHECKPOINT_KEYS.rng, file) as number[] | undefined;
  // Every check that needs no object to change comes first.
  if (o.optimizer) {
    if (!optimizer) throw missingPart(file, 'optimizer');
    if (optimizer.class !== o.optimizer.constructor.name) throw mismatch(file, 'optimizer', optimizer.class, o.optimizer);
  }
  if (o.scheduler) {
    if (!scheduler) throw missingPart(file, 'scheduler');
    if (scheduler.class !== o.scheduler.constructor.name) throw mismatch(file, 'scheduler', scheduler.class, o.scheduler);
  }
  for (const [name] of stateful) if (!Object.hasOwn(savedStateful, name)) throw missingPart(file, `stateful.${name}`);
  const weights = Object.fromEntries(Object.entries(contents.tensors)
    .filter(([name]) => name.startsWith(MODEL_PREFIX)).map(([name, t]) => [name.slice(MODEL_PREFIX.length), t]));

  const rollback = snapshot(o, stateful);
  o.model.loadStateDict(weights, { strict: o.strict ?? true });  // atomic itself: throws before any change
  try {
    if (o.optimizer && optimizer) {
      o.optimizer.loadStateDict(optimizer.dict);
      o.optimizer.stepCount = optimizer.stepCount;
    }
    if (o.scheduler && scheduler) o.scheduler.loadStateDict(scheduler.state as never);
    for (const [name, item] of stateful) item.loadStateDict(savedStateful[name] as never);
    if (rng !== undefined && (o.rng ?? true)) setRngState(rng);
  } catch (error) {
    rollback();
    throw error;
  }
}

function checkLoadOptions(options: LoadCheckpointOptions): LoadCheckpointOptions {
  const o = expectObject(options, 'options') as unknown as LoadCheckpointOptions;
  if (!(o.model instanceof Module)) throw new TypeError(`Expected Module for model but received ${describe(o.model)}`);
  if (!isNullish(o.optimizer) && !(o.optimizer instanceof Optimizer)) {
    throw new TypeError(`Expected Optimizer for optimizer but received ${describe(o.optimizer)}`);
  }
  if (!isNullish(o.scheduler)) expectStateful(o.scheduler, 'scheduler');
  optionalBool(o.rng, 'rng', true);
  optionalBool(o.strict, 'strict', true);
  return o;
}

/** Verifies what was read and restores it into the objects. */
function restoreVerified(contents: SafetensorsContents, file: string, o: LoadCheckpointOptions): CheckpointInfo {
  verifyChecksums(contents.metadata ?? {}, contents.tensors, file);
  const info = infoOf(contents.metadata, file);
  restore(contents, info, o, file);
  return info;
}

/**
 * Restores a checkpoint into `model` (and `optimizer`, `scheduler`, `stateful`, the global RNG),
 * all or nothing, and returns what the checkpoint says about itself (epoch, step, extra, environment).
 * @throws Error `Checkpoint not found: <path>` (code ENOENT); `Could not load checkpoint <path>: Invalid
 *   safetensors file: …` for a torn or malformed file, `…: it is a FIFO (named pipe), not a regular file`
 *   (directories, devices likewise); `Checkpoint <path> is corrupt: tensor "model.w" does not match its
 *   checksum (CRC-32 saved …, computed …); …` for bytes that changed after saving; `<path> is a safetensors file but not an rnnkit
 *   checkpoint …`; the model's `Error(s) in loading state_dict for <Class>: …` (PyTorch's messages) for a
 *   checkpoint of another architecture; `Checkpoint <path> holds optimizer state of Adam but the optimizer
 *   given is SGD`; the optimizer's `loaded state dict has a different number of parameter groups`, ….
 */
export function loadCheckpoint(file: string, options: LoadCheckpointOptions): CheckpointInfo {
  const target = checkPath(file);
  const o = checkLoadOptions(options);
  let contents: SafetensorsContents;
  try {
    contents = readSafetensors(target);
  } catch (error) {
    throw readError(file, error);
  }
  return restoreVerified(contents, file, o);
}

/** {@link loadCheckpoint} reading the file off the event loop. */
export async function loadCheckpointAsync(file: string, options: LoadCheckpointOptions): Promise<CheckpointInfo> {
  const target = checkPath(file);
  const o = checkLoadOptions(options);
  const contents = await readSafetensorsAsync(target).catch((error: unknown) => {
    throw readError(file, error);
  });
  return restoreVerified(contents, file, o);
}
