// Crash safety of saveCheckpoint / saveCheckpointAsync: a child process writes checkpoints of
// increasing versions in a loop (test/helpers/checkpoint-writer.ts, ~3.6 MB each) and is killed
// with SIGKILL at random moments (half of them inside a save). After every kill the checkpoint
// must exist, load, and be one complete version — at least the last one the child reported saved —
// with every weight and Adam buffer of that version. Temporary files of killed writers must not pile up: the next save
// removes them.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, optim, packageRoot, saveCheckpoint } from '../src/index.js';
import { versionValue, WriterModel } from './helpers/checkpoint-writer.js';

// 12 kills keep the suite short on a busy 2-core machine; RNNKIT_CRASH_ROUNDS=200 for a soak.
const ROUNDS = Number(process.env.RNNKIT_CRASH_ROUNDS ?? 12);
const HIDDEN = 256;         // LSTM(32, 256) + Linear(256, 8) with Adam: ~3.6 MB per checkpoint
const MAX_DELAY_MS = 100;   // even rounds: kill at a random moment up to this long after the child's first save
const SAVE_WINDOW_MS = 40;  // odd rounds: random moment this long after a save starts (one takes ~30-80 ms)

const dir = mkdtempSync(path.join(os.tmpdir(), 'rnnkit-crash-'));
const target = path.join(dir, 'run.safetensors');
// The child runs plain node: the writer is bundled into this test's build directory, one level
// below the package root, so the native loader's packageRoot() still finds the addon.
const bundle = path.join(packageRoot(), 'build-checkpoint', 'checkpoint-writer.mjs');

beforeAll(async () => {
  mkdirSync(path.dirname(bundle), { recursive: true });
  const { build } = await import('rolldown');
  await build({
    input: path.join(packageRoot(), 'test', 'helpers', 'checkpoint-writer.ts'),
    platform: 'node',
    logLevel: 'warn',
    output: { file: bundle, format: 'esm' },
  });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Child {
  /** Resolves when the child has printed a line starting with `word` (with `next`: prints it from now on). */
  waitFor(word: string, next?: boolean): Promise<void>;
  /** Lets the started child load the checkpoint and begin saving. */
  go(): void;
  lastSaved(): number;
  kill(): Promise<void>;
}

function startWriter(): Child {
  const child = spawn(process.execPath, [bundle, target, String(HIDDEN)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let lastSaved = -1;
  let buffered = '';
  const seen = new Set<string>();
  const waiters: { word: string; resolve: () => void }[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      const [word, value] = line.split(' ');
      if (word === 'saved') lastSaved = Number(value);
      seen.add(word);
      for (const waiter of waiters.filter((w) => w.word === word)) waiter.resolve();
    }
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return {
    waitFor: (word, next = false) => new Promise((resolve, reject) => {
      if (seen.has(word) && !next) resolve();
      waiters.push({ word, resolve });
      void exited.then(() => reject(new Error(`writer exited before printing ${word}`)));
    }),
    go: () => child.stdin.end('go\n'),
    lastSaved: () => lastSaved,
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const temporaries = (): string[] => readdirSync(dir).filter((name) => name.endsWith('.tmp'));

const reader = { model: new WriterModel(HIDDEN) };  // reused: building one per check costs ~50 ms

/** Loads the checkpoint and checks it is one complete version; returns the version. */
function verifyCheckpoint(): number {
  const { model } = reader;
  const optimizer = new optim.Adam(model.parameters());
  const info = loadCheckpoint(target, { model, optimizer });
  const version = info.step ?? -1;
  expect(info.epoch).toBe(version);
  const tensors = [...model.parameters().map((p) => p.data)];
  for (const state of optimizer.state.values()) {
    expect(state.step).toBe(version);
    tensors.push(state.expAvg as Float32Array, state.expAvgSq as Float32Array);
  }
  expect(tensors).toHaveLength(3 * model.parameters().length);
  let wrong = 0;
  for (const data of tensors) for (let i = 0; i < data.length; i++) if (data[i] !== versionValue(version, i)) wrong++;
  expect(wrong).toBe(0);
  return version;
}

describe('kill -9 during checkpoint writing', () => {
  it(`${ROUNDS} kills at random moments never leave a missing, corrupt or mixed checkpoint`, async () => {
    let killedMidWrite = 0;
    let maxTemporaries = 0;
    let previous = 0;
    const started = performance.now();
    // Writers start up (the slow part on a busy machine) two rounds ahead of their turn.
    const waiting = [startWriter(), startWriter()];
    for (let round = 0; round < ROUNDS; round++) {
      const writer = waiting.shift() as Child;
      waiting.push(startWriter());
      await writer.waitFor('started');
      writer.go();
      await writer.waitFor('saved');  // the kill lands in the steady save loop (load, JIT warm-up done)
      if (round % 2 === 0) {
        await sleep(Math.random() * MAX_DELAY_MS);  // anywhere in the loop
      } else {
        await writer.waitFor('saving', true);  // inside a save: serializing, writing, fsync, rename
        await sleep(Math.random() * SAVE_WINDOW_MS);
      }
      await writer.kill();

      expect(existsSync(target)).toBe(true);
      const version = verifyCheckpoint();
      expect(version).toBeGreaterThanOrEqual(Math.max(writer.lastSaved(), previous));
      previous = version;
      const left = temporaries().length;
      if (left > 0) killedMidWrite++;
      maxTemporaries = Math.max(maxTemporaries, left);
      expect(left).toBeLessThanOrEqual(1);  // the one being written: the child's first save removed older ones
    }
    await Promise.all(waiting.map((writer) => writer.kill()));  // never given the go: they did not touch the checkpoint
    console.log(`kill -9: ${ROUNDS} kills in ${((performance.now() - started) / 1000).toFixed(1)} s, `
      + `${killedMidWrite} with a write in progress (temp file left), at most ${maxTemporaries} temp files at once; `
      + `reached version ${previous}, every checkpoint complete`);
    expect(killedMidWrite).toBeGreaterThan(0);  // the test really interrupted writes

    // The next save (any process) removes the dead writers' temporary files.
    const model = new WriterModel(HIDDEN);
    const optimizer = new optim.Adam(model.parameters());
    loadCheckpoint(target, { model, optimizer });
    saveCheckpoint(target, { model, optimizer, step: previous, epoch: previous });
    expect(temporaries()).toEqual([]);
    expect(verifyCheckpoint()).toBe(previous);
  }, 60_000 + ROUNDS * 2_000);
});
