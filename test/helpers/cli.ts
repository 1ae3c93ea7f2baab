// Running the `rnnkit` command as a user runs it (`node dist/cli/main.js …` in a folder of small
// files) and the files its tests train on. Shared by test/cli.test.ts and test/cli-hostile.test.ts.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { CLI_MAIN, ensureBuilt } from './dist.js';

/** A folder to run the command in, and the command. */
export interface CliFolder {
  dir: string;
  /** A file of the folder, by name. */
  file(name: string): string;
  /** `rnnkit …args` in the folder. RNNKIT_DEBUG is cleared unless `env` sets it. */
  rnnkit(args: string[], env?: Record<string, string>, timeout?: number): SpawnSyncReturns<string>;
}

export function cliFolder(dir: string): CliFolder {
  return {
    dir,
    file: (name) => path.join(dir, name),
    rnnkit: (args, env = {}, timeout = 60_000) => spawnSync(process.execPath, [CLI_MAIN, ...args], {
      cwd: dir, encoding: 'utf8', timeout, env: { ...process.env, RNNKIT_DEBUG: '', RNNKIT_ISA: '', ...env },
    }),
  };
}

/**
 * dist/ built, a new temporary folder with classes.csv, series.csv and corpus.txt in it (see the
 * writers below), and the command to run there; `remove()` deletes the folder.
 */
export function newCliFolder(prefix: string): CliFolder & { remove(): void } {
  ensureBuilt();
  const folder = cliFolder(mkdtempSync(path.join(os.tmpdir(), prefix)));
  writeClassifyCsv(folder.file('classes.csv'));
  writeSeriesCsv(folder.file('series.csv'));
  writeCorpus(folder.file('corpus.txt'));
  return { ...folder, remove: () => rmSync(folder.dir, { recursive: true, force: true }) };
}

// A tiny deterministic RNG (the data must not depend on rnnkit's).
function lcg(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 16807) % 2147483647;
    return state / 2147483647;
  };
}

/** 160 sequences of 8 steps × 2 features: 'up' rises, 'down' falls (feature 0); feature 1 is noise. */
export function writeClassifyCsv(file: string): void {
  const random = lcg(7);
  const header = ['label', ...Array.from({ length: 16 }, (_, i) => `t${i >> 1}_${'ab'[i & 1]}`)];
  const rows = [header.join(',')];
  for (let n = 0; n < 160; n++) {
    const up = n % 2 === 0;
    const values: string[] = [];
    for (let t = 0; t < 8; t++) values.push((((up ? t : 7 - t) / 7) + 0.4 * (random() - 0.5)).toFixed(3), random().toFixed(3));
    rows.push(`${up ? 'up' : 'down'},${values.join(',')}`);
  }
  writeFileSync(file, `${rows.join('\n')}\n`);
}

/** `days` daily values from 2021-01-01: weekly cycle + trend + noise. */
export function writeSeriesCsv(file: string, days = 160): void {
  const random = lcg(11);
  const rows = ['date,value'];
  for (let t = 0; t < days; t++) {
    const date = new Date(Date.UTC(2021, 0, 1) + t * 86_400_000).toISOString().slice(0, 10);
    rows.push(`${date},${(10 + 5 * Math.sin((2 * Math.PI * t) / 7) + 0.05 * t + 0.5 * (random() - 0.5)).toFixed(3)}`);
  }
  writeFileSync(file, `${rows.join('\n')}\n`);
}

/** ~3,000 characters of a small vocabulary. */
export function writeCorpus(file: string): void {
  const random = lcg(3);
  const words = ['the', 'cat', 'sat', 'on', 'a', 'mat', 'and', 'dog', 'ran', 'to', 'hat'];
  let text = '';
  for (let i = 0; i < 700; i++) text += words[Math.floor(random() * words.length)] + (i % 12 === 11 ? '.\n' : ' ');
  writeFileSync(file, text);
}

/** The user-error contract: exit code 2, exactly `rnnkit: <message>` on stderr, no stack trace, nothing on stdout. */
export function expectUserError(run: SpawnSyncReturns<string>, message: string): void {
  expect(run.stderr).toBe(`rnnkit: ${message}\n`);
  expect(run.status).toBe(2);
  expect(run.stdout).toBe('');
}
