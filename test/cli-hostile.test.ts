// The `rnnkit` command against hostile input (issue 14 points 6, 7, 9; issue 9 point 7), as a user
// runs it (a subprocess on dist/): unbounded work refused up front, integers in decimal digits
// only, values the library would reject named by their flag (exit 2), models too large for a
// tensor or for the machine refused before anything is allocated, FIFOs / directories / files too
// large never read, existing files that are not rnnkit models never overwritten without --force,
// config paths printed as resolved, forecasting on too few rows or repeated dates refused with the
// row, EPIPE ending the command quietly, and one "rnnkit:" prefix on a loader failure.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  closeSync, cpSync, existsSync, ftruncateSync, mkdirSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliError, flagError } from '../src/cli/errors.js';
import { libraryNameFlags } from '../src/cli/options.js';
import { TRAIN_TASKS } from '../src/cli/train.js';
import { MAX_THREADS } from '../src/runtime.js';
import { readSafetensors, saveCheckpoint, nn } from '../src/index.js';
import { expectUserError, newCliFolder, writeSeriesCsv, type CliFolder } from './helpers/cli.js';
import { CLI_MAIN, ROOT } from './helpers/dist.js';

let dir: string;
let rnnkit: CliFolder['rnnkit'];
let file: CliFolder['file'];

// Small, fast models: the point is what happens around them.
const CLASSIFY = ['train', 'classify', '--input', 'classes.csv', '--features', '2', '--epochs', '1', '--hidden', '4'];
const TEXT = ['train', 'text', '--input', 'corpus.txt', '--epochs', '1', '--hidden', '8', '--layers', '1', '--embedding', '4', '--seq-len', '32', '--sample', '0'];
const FORECAST = ['train', 'forecast', '--input', 'series.csv', '--column', 'value', '--date-column', 'date', '--window', '14', '--epochs', '1', '--hidden', '4'];

let folder: ReturnType<typeof newCliFolder> | undefined;

beforeAll(() => {
  folder = newCliFolder('rnnkit-cli-hostile-');
  ({ dir, rnnkit, file } = folder);
  execFileSync('mkfifo', [file('pipe.fifo')]);
  mkdirSync(file('folder'));
  const run = rnnkit([...FORECAST, '--out', 'forecaster.safetensors']);
  if (run.status !== 0) throw new Error(`training the test's forecaster failed:\n${run.stderr}`);
}, 240_000);
afterAll(() => folder?.remove());

describe('no flag can ask for unbounded work', () => {
  it('counts of generated steps, epochs and benchmark time are bounded', { timeout: 60_000 }, () => {
    const forecast = ['forecast', '--model', 'forecaster.safetensors', '--input', 'series.csv'];
    expectUserError(rnnkit([...forecast, '--horizon', '1e9']), "--horizon must be a positive integer (decimal digits, at most 1000000), got '1e9'");
    expectUserError(rnnkit([...forecast, '--horizon', '1000001']), "--horizon must be a positive integer (decimal digits, at most 1000000), got '1000001'");
    expectUserError(rnnkit(['generate', '--model', 'forecaster.safetensors', '--length', '5000000']),
      "--length must be a positive integer (decimal digits, at most 1000000), got '5000000'");
    expectUserError(rnnkit([...TEXT, '--sample', '99999999']), "--sample must be an integer >= 0 (decimal digits, at most 1000000), got '99999999'");
    expectUserError(rnnkit([...CLASSIFY, '--epochs', '2000000']), "--epochs must be a positive integer (decimal digits, at most 1000000), got '2000000'");
    expectUserError(rnnkit(['bench', '--seconds', '1e9']), "--seconds must be a positive number (at most 3600), got '1e9'");
  });

  it('integers are decimal digits; numbers are decimal', { timeout: 60_000 }, () => {
    expectUserError(rnnkit([...CLASSIFY, '--hidden', '0x10']), "--hidden must be a positive integer (decimal digits, at most 2147483647), got '0x10'");
    expectUserError(rnnkit([...CLASSIFY, '--batch-size', '1e2']), "--batch-size must be a positive integer (decimal digits, at most 2147483647), got '1e2'");
    expectUserError(rnnkit([...CLASSIFY, '--seed', '-1']), "--seed must be an integer >= 0 (decimal digits, at most 9007199254740991), got '-1'");
    expectUserError(rnnkit([...CLASSIFY, '--lr', '0x10']), "--lr must be a positive number, got '0x10'");
    expectUserError(rnnkit([...CLASSIFY, '--lr', 'Infinity']), "--lr must be a positive number, got 'Infinity'");
    expectUserError(rnnkit([...CLASSIFY, '--lr', ' 1']), "--lr must be a positive number, got ' 1'");
    writeFileSync(file('hex.json'), JSON.stringify({ task: 'classify', input: 'classes.csv', hidden: '0x10' }));
    expectUserError(rnnkit(['train', '--config', 'hex.json']), '"hidden" in hex.json must be a positive integer (decimal digits, at most 2147483647), got "0x10"');
  });

  it('values only the library would reject exit 2 and name the flag', { timeout: 60_000 }, () => {
    expectUserError(rnnkit([...CLASSIFY, '--hidden', '2147483648']), "--hidden must be a positive integer (decimal digits, at most 2147483647), got '2147483648'");
    expectUserError(rnnkit([...CLASSIFY, '--threads', '5000']), `--threads must be a positive integer (decimal digits, at most ${MAX_THREADS}), got '5000'`);
    expectUserError(rnnkit(['forecast', '--model', 'forecaster.safetensors', '--input', 'series.csv', '--threads', '1025']),
      "--threads must be a positive integer (decimal digits, at most 1024), got '1025'");
  });

  it('a model too large for one tensor, or for this machine, is refused before anything is built', { timeout: 60_000 }, () => {
    expectUserError(rnnkit([...CLASSIFY, '--hidden', '2147483647']),
      '--hidden 2147483647 is too large: weight_ih_l0 would have 8589934588 × 2 = 17179869176 elements, more than the 2147483647 a tensor holds');
    expectUserError(rnnkit([...TEXT, '--embedding', '2147483647']),
      '--embedding 2147483647 is too large: weight_ih_l0 would have 32 × 2147483647 = 68719476704 elements, more than the 2147483647 a tensor holds');
    // Every tensor fits, all of them do not: 4·20000·2 + 2·(4·20000)² + 4·(4·20000)... see the count below.
    const parameters = 80000 * 2 + 2 * 80000 * 20000 + 4 * 80000 + 80000 * 20000 + 2 * 20000 + 2;
    expect(parameters).toBe(4800520002);
    expectUserError(rnnkit([...CLASSIFY, '--hidden', '20000', '--layers', '2']),
      `--hidden 20000, --layers 2 make a model of 4800520002 parameters: training it needs at least 76.8 GB `
      + `(weights, gradients and Adam's two moments), more than this machine's ${(os.totalmem() / 1e9).toFixed(1)} GB; lower --hidden or --layers`);
  });

  it('a library argument error about a flag\'s value is re-worded to name the flag', () => {
    const flags = libraryNameFlags([...TRAIN_TASKS.text.options]);
    expect(flags.get('hiddenSize')).toBe('--hidden');
    expect(flags.get('embeddingDim')).toBe('--embedding');
    expect(flags.get('seqLength')).toBe('--seq-len');
    expect(flags.has('horizon')).toBe(false);  // not an option of train text
    const error = flagError(new RangeError('Expected positive integer for hiddenSize but received 1.5 of type number'), flags);
    expect(error).toBeInstanceOf(CliError);
    expect(error?.message).toBe('Expected positive integer for --hidden but received 1.5 of type number');
    expect(error?.exitCode).toBe(2);
    expect(flagError(new RangeError('Expected positive integer for horizon but received 0 of type number'), flags)).toBeNull();
    expect(flagError(new Error('Expected positive integer for hiddenSize but received 0 of type number'), flags)).toBeNull();
  });
});

describe('only regular files are read', () => {
  const QUICK = 20_000;  // a FIFO must be refused at once, not waited on

  it('a FIFO as --input, --model or --config', { timeout: 60_000 }, () => {
    const fifo = "is a FIFO (named pipe), not a regular file";
    expectUserError(rnnkit(['train', 'text', '--input', 'pipe.fifo'], {}, QUICK), `cannot read input file 'pipe.fifo': ${fifo}`);
    expectUserError(rnnkit(['train', 'classify', '--input', 'pipe.fifo'], {}, QUICK), `cannot read input file 'pipe.fifo': ${fifo}`);
    expectUserError(rnnkit(['forecast', '--model', 'forecaster.safetensors', '--input', 'pipe.fifo'], {}, QUICK), `cannot read input file 'pipe.fifo': ${fifo}`);
    expectUserError(rnnkit(['forecast', '--model', 'pipe.fifo', '--input', 'series.csv'], {}, QUICK), `cannot read model file 'pipe.fifo': ${fifo}`);
    expectUserError(rnnkit(['generate', '--model', 'pipe.fifo'], {}, QUICK), `cannot read model file 'pipe.fifo': ${fifo}`);
    expectUserError(rnnkit(['train', '--config', 'pipe.fifo'], {}, QUICK), `cannot read config file 'pipe.fifo': ${fifo}`);
    expectUserError(rnnkit(['train', 'classify', '--config', 'pipe.fifo'], {}, QUICK), `cannot read config file 'pipe.fifo': ${fifo}`);
  });

  it('a directory or a device', { timeout: 60_000 }, () => {
    expectUserError(rnnkit(['train', '--config', 'folder']), "cannot read config file 'folder': is a directory, not a regular file");
    expectUserError(rnnkit(['generate', '--model', 'folder']), "cannot read model file 'folder': is a directory, not a regular file");
    expectUserError(rnnkit(['train', 'text', '--input', '/dev/zero'], {}, QUICK), "cannot read input file '/dev/zero': is a character device, not a regular file");
  });

  it('text inputs larger than a string can hold (sparse files)', { timeout: 60_000 }, () => {
    const sized = (name: string, bytes: number) => {
      const fd = openSync(file(name), 'w');
      ftruncateSync(fd, bytes);
      closeSync(fd);
    };
    const tooLong = 'more than 536870888 characters, more than a text input can hold';
    sized('huge.txt', 2 ** 31 + 1);  // refused from its size, unread
    expectUserError(rnnkit(['train', 'text', '--input', 'huge.txt'], {}, 10_000), `cannot read input file 'huge.txt': ${tooLong}`);
    sized('long.txt', 2 ** 29);  // 536870912 NUL characters, more than V8's 536870888: read, then refused
    expectUserError(rnnkit(['train', 'text', '--input', 'long.txt']), `cannot read input file 'long.txt': ${tooLong}`);
    rmSync(file('huge.txt'));
    rmSync(file('long.txt'));
  });
});

describe('output files: an rnnkit model may be replaced, anything else only with --force', () => {
  it('each task retrains over its own model without --force', { timeout: 120_000 }, () => {
    for (const [name, args] of [['classifier', CLASSIFY], ['lm', TEXT], ['forecaster2', FORECAST]] as const) {
      const out = `${name}.safetensors`;
      for (let round = 0; round < 2; round++) {
        const run = rnnkit([...args, '--out', out, '--seed', String(round)]);
        expect(run.stderr, `${name} round ${round}`).toBe('');
        expect(run.status).toBe(0);
      }
    }
  });

  it('an existing file that is not a model is refused for --out, --plot and --output, and kept', { timeout: 120_000 }, () => {
    writeFileSync(file('notes.txt'), 'my notes');
    writeFileSync(file('chart.svg'), '<svg/>');
    writeFileSync(file('numbers.csv'), '1,2,3\n');
    const refused = (what: string, name: string) => `refusing to overwrite ${what} '${name}': it exists and is not an rnnkit model (pass --force to overwrite it)`;
    expectUserError(rnnkit([...CLASSIFY, '--out', 'notes.txt']), refused('output file', 'notes.txt'));
    expectUserError(rnnkit([...FORECAST, '--holdout', '14', '--plot', 'chart.svg', '--out', 'f3.safetensors']), refused('plot file', 'chart.svg'));
    expectUserError(rnnkit(['forecast', '--model', 'forecaster.safetensors', '--input', 'series.csv', '--output', 'numbers.csv']), refused('output file', 'numbers.csv'));
    // A checkpoint is training state, not a model.
    saveCheckpoint(file('run.ckpt'), { model: new nn.Linear(2, 2), rng: false });
    expectUserError(rnnkit([...CLASSIFY, '--out', 'run.ckpt']), refused('output file', 'run.ckpt'));
    expect(readFileSync(file('notes.txt'), 'utf8')).toBe('my notes');
    expect(readFileSync(file('chart.svg'), 'utf8')).toBe('<svg/>');
    expect(readFileSync(file('numbers.csv'), 'utf8')).toBe('1,2,3\n');
    expect(existsSync(file('f3.safetensors'))).toBe(false);

    const forced = rnnkit([...CLASSIFY, '--out', 'notes.txt', '--force']);
    expect(forced.status).toBe(0);
    expect(readSafetensors(file('notes.txt')).metadata?.format).toBe('rnnkit-classify');
    const csv = rnnkit(['forecast', '--model', 'forecaster.safetensors', '--input', 'series.csv', '--horizon', '3', '--output', 'numbers.csv', '--force']);
    expect(csv.status).toBe(0);
    expect(readFileSync(file('numbers.csv'), 'utf8').split('\n')[0]).toBe('step,date,value');
  });

  it('a FIFO as an output is refused even with --force (a rename would replace it, a write would block)', { timeout: 60_000 }, () => {
    expectUserError(rnnkit([...CLASSIFY, '--out', 'pipe.fifo', '--force'], {}, 20_000),
      "cannot write output file 'pipe.fifo': it is a FIFO (named pipe), not a regular file");
  });

  it('a config\'s paths are resolved from its folder and printed; "../" reaching an unrelated file is refused', { timeout: 60_000 }, () => {
    mkdirSync(file('configs/deep'), { recursive: true });
    writeFileSync(file('configs/deep/escape.json'), JSON.stringify({ task: 'classify', input: '../../classes.csv', features: 2, epochs: 1, hidden: 4, out: '../../notes2.txt' }));
    writeFileSync(file('notes2.txt'), 'keep me');
    const escape = rnnkit(['train', '--config', 'configs/deep/escape.json']);
    expect(escape.stdout).toBe(`paths in configs/deep/escape.json, from its folder: input ${file('classes.csv')}, out ${file('notes2.txt')}\n`);
    expect(escape.stderr).toBe(`rnnkit: refusing to overwrite output file '${file('notes2.txt')}': it exists and is not an rnnkit model (pass --force to overwrite it)\n`);
    expect(escape.status).toBe(2);
    expect(readFileSync(file('notes2.txt'), 'utf8')).toBe('keep me');
    writeFileSync(file('configs/deep/ok.json'), JSON.stringify({ task: 'classify', input: '../../classes.csv', features: 2, epochs: 1, hidden: 4, out: 'model.safetensors' }));
    const run = rnnkit(['train', '--config', 'configs/deep/ok.json']);
    expect(run.status).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe(`paths in configs/deep/ok.json, from its folder: input ${file('classes.csv')}, out ${file('configs/deep/model.safetensors')}`);
    expect(existsSync(file('configs/deep/model.safetensors'))).toBe(true);
  });
});

describe('forecasting input checks', () => {
  it('fewer rows than the model\'s window', { timeout: 60_000 }, () => {
    writeSeriesCsv(file('two-rows.csv'), 2);
    expectUserError(rnnkit(['forecast', '--model', 'forecaster.safetensors', '--input', 'two-rows.csv']),
      'two-rows.csv: 2 rows is fewer than the model\'s window of 14 steps (the forecast starts from the state after the last 14 rows); give at least 14 rows');
    writeSeriesCsv(file('twenty-rows.csv'), 20);
    expectUserError(rnnkit(['forecast', '--model', 'forecaster.safetensors', '--input', 'twenty-rows.csv', '--backtest', '--horizon', '7']),
      'twenty-rows.csv: 13 rows before the last --horizon 7 is fewer than the model\'s window of 14 steps (the forecast starts from the state after the last 14 rows); give at least 14 rows');
  });

  it('repeated or backward dates, with the rows named (training and forecasting)', { timeout: 60_000 }, () => {
    writeFileSync(file('repeated.csv'), 'date,value\n2021-01-01,1\n2021-01-02,2\n2021-01-02,3\n2021-01-03,4\n');
    const repeated = "repeated.csv line 4, column 1 (date): '2021-01-02' repeats the date of line 3 ('2021-01-02')";
    expectUserError(rnnkit(['forecast', '--model', 'forecaster.safetensors', '--input', 'repeated.csv']), repeated);
    expectUserError(rnnkit([...FORECAST.map((a) => (a === 'series.csv' ? 'repeated.csv' : a)), '--out', 'x.safetensors']), repeated);
    writeFileSync(file('backward.csv'), 'date,value\n2021-01-01,1\n2021-01-03,2\n2021-01-02,3\n');
    expectUserError(rnnkit(['forecast', '--model', 'forecaster.safetensors', '--input', 'backward.csv']),
      "backward.csv line 4, column 1 (date): '2021-01-02' comes before '2021-01-03' of line 3 (rows must be in time order)");
  });
});

describe('pipes and messages', () => {
  /** Runs the command with stdout a pipe whose reader is already gone. */
  function withClosedStdout(args: string[]): Promise<{ status: number | null; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [CLI_MAIN, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.destroy();  // before the child has written anything: node takes far longer to start
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
      child.on('close', (status) => resolve({ status, stderr }));
    });
  }

  it('EPIPE (`rnnkit info | head -1`) ends the command quietly', { timeout: 60_000 }, async () => {
    for (const args of [['info'], ['--help'], ['info', '--json'], ['train', '--help']]) {
      expect(await withClosedStdout(args), args.join(' ')).toEqual({ status: 0, stderr: '' });
    }
  });

  it('a loader failure carries one "rnnkit:" prefix', { timeout: 60_000 }, () => {
    // The package without any addon: dist/ and package.json, dependencies linked.
    const bare = path.join(dir, 'bare');
    mkdirSync(bare);
    cpSync(path.join(ROOT, 'dist'), path.join(bare, 'dist'), { recursive: true });
    cpSync(path.join(ROOT, 'package.json'), path.join(bare, 'package.json'));
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(bare, 'node_modules'));
    const run = spawnSync(process.execPath, [path.join(bare, 'dist', 'cli', 'main.js'), 'info'], {
      cwd: bare, encoding: 'utf8', timeout: 30_000, env: { ...process.env, RNNKIT_DEBUG: '' },
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^rnnkit: could not load its native addon for /);
    expect(run.stderr).not.toMatch(/rnnkit: rnnkit:/);
  });
});
