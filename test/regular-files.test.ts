// Only regular files are read (issue 14 point 7). A FIFO nobody writes to used to block
// loadSafetensors / loadCheckpoint forever in open(); directories and devices are no models either.
// The calls run in a child process (plain node on dist/) with a timeout: should a FIFO block again,
// this test fails instead of hanging the test run.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIST_INDEX, ensureBuilt, ROOT } from './helpers/dist.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rnnkit-regular-'));
const fifo = path.join(dir, 'model.fifo');
const folder = path.join(dir, 'model.safetensors');

beforeAll(() => {
  ensureBuilt();
  execFileSync('mkfifo', [fifo]);
  mkdirSync(folder);
}, 240_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Every reader of model files, sync and async; prints { call: "ErrorClass: message" }.
const childScript = `
const rnnkit = await import(${JSON.stringify(pathToFileURL(DIST_INDEX).href)});
const io = await import(${JSON.stringify(pathToFileURL(path.join(ROOT, 'dist', 'io', 'safetensors.js')).href)});
const file = process.argv[1];
const model = new rnnkit.nn.Linear(2, 2);
const calls = {
  loadSafetensors: () => rnnkit.loadSafetensors(file),
  readSafetensorsHeader: () => rnnkit.readSafetensorsHeader(file),
  readSafetensorsAsync: () => io.readSafetensorsAsync(file),
  loadCheckpoint: () => rnnkit.loadCheckpoint(file, { model }),
  loadCheckpointAsync: () => rnnkit.loadCheckpointAsync(file, { model }),
  readCheckpointInfo: () => rnnkit.readCheckpointInfo(file),
  loadForecaster: () => rnnkit.forecast.loadForecaster(file),
  textLoad: () => rnnkit.text.load(file),
  readCsvSeries: () => rnnkit.forecast.readCsvSeries(file),
};
const result = {};
for (const [name, call] of Object.entries(calls)) {
  try {
    await call();
    result[name] = 'no error';
  } catch (error) {
    result[name] = error.constructor.name + ': ' + error.message;
  }
}
console.log(JSON.stringify(result));
`;

function readersOn(file: string): Record<string, string> {
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', childScript, file], {
    cwd: ROOT, encoding: 'utf8', timeout: 30_000, env: { ...process.env, RNNKIT_ISA: '' },
  });
  expect(run.error, `the readers did not finish on ${file} (blocked?)`).toBeUndefined();
  expect(run.stderr).toBe('');
  return JSON.parse(run.stdout) as Record<string, string>;
}

function expectedMessages(file: string, kind: string): Record<string, string> {
  const direct = `Error: Expected regular file for source but received ${kind}: ${file}`;
  const checkpoint = `Error: Could not load checkpoint ${file}: it is ${kind}, not a regular file`;
  return {
    loadSafetensors: direct, readSafetensorsHeader: direct, readSafetensorsAsync: direct,
    loadCheckpoint: checkpoint, loadCheckpointAsync: checkpoint, readCheckpointInfo: checkpoint,
    loadForecaster: direct, textLoad: direct, readCsvSeries: `Error: Expected regular file for file but received ${kind}: ${file}`,
  };
}

describe('readers refuse anything but a regular file, at once', () => {
  it('a FIFO with no writer', { timeout: 60_000 }, () => {
    expect(readersOn(fifo)).toEqual(expectedMessages(fifo, 'a FIFO (named pipe)'));
  });

  it('a directory', { timeout: 60_000 }, () => {
    expect(readersOn(folder)).toEqual(expectedMessages(folder, 'a directory'));
  });

  it.skipIf(process.platform === 'win32')('a character device', { timeout: 60_000 }, () => {
    expect(readersOn('/dev/null')).toEqual(expectedMessages('/dev/null', 'a character device'));
  });
});
