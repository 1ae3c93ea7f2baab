// The `rnnkit` command (package.json "bin" → dist/cli/main.js), run as a user runs it: a subprocess
// `node dist/cli/main.js …` on tiny files written to a temporary folder. Happy paths of every
// command (train text | classify | forecast, --config, generate, forecast, info, bench, --help) and
// the bad-input paths (missing file, malformed CSV, unknown flag, bad number, bad config), asserting
// exit codes and messages. dist/ is rebuilt first when any src/ file is newer than it.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../src/index.js';
import { expectUserError, newCliFolder, type CliFolder } from './helpers/cli.js';
import { ROOT } from './helpers/dist.js';

let folder: ReturnType<typeof newCliFolder> | undefined;
let rnnkit: CliFolder['rnnkit'];
let file: CliFolder['file'];

beforeAll(() => {
  folder = newCliFolder('rnnkit-cli-');
  ({ rnnkit, file } = folder);
}, 240_000);
afterAll(() => folder?.remove());

describe('rnnkit --help, --version, info', () => {
  it('has help for the program and every command', { timeout: 60_000 }, () => {
    const top = rnnkit(['--help']);
    expect(top.status).toBe(0);
    for (const command of ['train', 'generate', 'forecast', 'info', 'bench']) expect(top.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    const expectations: Record<string, string[]> = {
      'train': ['--config <file>', 'text', 'classify', 'forecast'],
      'train text': ['--input <file>', '--seq-len <n>', '--epochs <n>', '--cell <cell>', '(default: 256)'],
      'train classify': ['--features <n>', 'label,x1,x2,...,xN', '--val-split <fraction>'],
      'train forecast': ['--column <names>', '--holdout <n>', '--calendar <features>'],
      'generate': ['--prompt <text>', '--temperature <t>', '--top-k <k>', '--seed <n>'],
      'forecast': ['--horizon <n>', '--plot <file>', '--backtest'],
      'info': ['--json'],
      'bench': ['--config <names>', 'S, M, L, stream', '--seconds <s>'],
    };
    for (const [command, flags] of Object.entries(expectations)) {
      const help = rnnkit([...command.split(' '), '--help']);
      expect(help.status, command).toBe(0);
      expect(help.stdout, command).toContain(`Usage: rnnkit ${command} [options]`);
      for (const flag of flags) expect(help.stdout, `${command}: ${flag}`).toContain(flag);
    }
  });

  it('prints the package version', { timeout: 30_000 }, () => {
    const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    const run = rnnkit(['--version']);
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe(version);
  });

  it('info: version, ISA chosen and available, threads, N-API, Node, addon path', { timeout: 30_000 }, () => {
    const text = rnnkit(['info']);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^isa +\w+ \(best available\)$/m);
    expect(text.stdout).toContain(`node      ${process.versions.node} (N-API ${process.versions.napi})`);
    const report = JSON.parse(rnnkit(['info', '--json']).stdout) as Record<string, unknown>;
    expect(report.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(report.availableIsas).toContain('scalar');
    expect(report.availableIsas).toContain(report.isa);
    expect((report.availableIsas as string[])[0]).toBe(report.isa); // best first, chosen when not forced
    expect(report.threads).toBeGreaterThanOrEqual(1);
    expect(report.addonNapi).toBe(8);
    expect(path.basename(report.addonPath as string)).toBe('rnnkit.node');
    expect(existsSync(report.addonPath as string)).toBe(true);
    const forced = JSON.parse(rnnkit(['info', '--json'], { RNNKIT_ISA: 'scalar' }).stdout) as Record<string, unknown>;
    expect(forced.isa).toBe('scalar');
    expect(forced.isaForced).toBe('scalar');
  });
});

describe('rnnkit train classify', () => {
  it('trains on a CSV, beats the majority baseline, saves weights and metadata', () => {
    const run = rnnkit(['train', 'classify', '--input', 'classes.csv', '--features', '2', '--epochs', '6', '--hidden', '16', '--out', 'classifier.safetensors']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('160 sequences of 8 steps × 2 features, 2 classes (down, up); 128 train, 32 validation');
    expect(run.stdout).toContain('majority-class baseline: ');
    const epochs = [...run.stdout.matchAll(/^epoch +\d+\/6 +loss ([\d.]+) .*val_accuracy ([\d.]+) %/gm)];
    expect(epochs).toHaveLength(6);
    expect(Number(epochs[5][2])).toBeGreaterThanOrEqual(90); // the rising/falling signal is plain; majority = 50 %
    const { tensors, metadata } = readSafetensors(file('classifier.safetensors'));
    expect(Object.keys(tensors).sort()).toEqual(['head.bias', 'head.weight', 'rnn.bias_hh_l0', 'rnn.bias_ih_l0', 'rnn.weight_hh_l0', 'rnn.weight_ih_l0']);
    expect(tensors['rnn.weight_ih_l0'].shape).toEqual([64, 2]); // 4 gates × 16 hidden, 2 features
    const config = JSON.parse(metadata!.config) as { classes: string[]; steps: number; mean: number[] };
    expect(config.classes).toEqual(['down', 'up']);
    expect(config.steps).toBe(8);
    expect(config.mean).toHaveLength(2);
  }, 60_000);

  it('reads options from a JSON config (paths relative to it); flags win over it', () => {
    writeFileSync(file('classify.json'), JSON.stringify({ task: 'classify', input: 'classes.csv', features: 2, 'val-split': 0.25, epochs: 2, hidden: 8, out: 'from-config.safetensors' }));
    const run = rnnkit(['train', '--config', 'classify.json']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('120 train, 40 validation');
    expect(run.stdout).toContain(`paths in classify.json, from its folder: input ${file('classes.csv')}, out ${file('from-config.safetensors')}\n`);
    expect(run.stdout.match(/^epoch +\d\/2 /gm)).toHaveLength(2);
    expect(existsSync(file('from-config.safetensors'))).toBe(true);
    const override = rnnkit(['train', 'classify', '--config', 'classify.json', '--epochs', '1', '--out', 'override.safetensors']);
    expect(override.status).toBe(0);
    expect(override.stdout.match(/^epoch 1\/1 /gm)).toHaveLength(1);
    expect(existsSync(file('override.safetensors'))).toBe(true);
  }, 60_000);
});

describe('rnnkit train text, generate', () => {
  it('trains a character model, reports bits per character, saves it, and generates reproducibly', () => {
    const run = rnnkit(['train', 'text', '--input', 'corpus.txt', '--epochs', '2', '--hidden', '32', '--layers', '1', '--embedding', '16',
      '--seq-len', '64', '--bptt', '32', '--sample', '40', '--out', 'lm.safetensors']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/unigram baseline [\d.]+ bits\/char/);
    expect(run.stdout.match(/^epoch +\d\/2 +loss [\d.]+ +bpc [\d.]+ +val_loss [\d.]+ +val_bpc [\d.]+/gm)).toHaveLength(2);
    expect(run.stdout).toContain('saved lm.safetensors');
    expect(readSafetensors(file('lm.safetensors')).metadata!['rnnkit.task']).toBe('char-lm');

    const args = ['generate', '--model', 'lm.safetensors', '--prompt', 'the ', '--length', '50', '--temperature', '0.8', '--top-k', '5', '--seed', '1'];
    const first = rnnkit(args);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    const generated = first.stdout.replace(/\n$/, '');
    expect(generated.startsWith('the ')).toBe(true);
    expect([...generated].length).toBe(4 + 50);
    expect([...generated.slice(4)].every((c) => 'thecasonmdgr.\n '.includes(c))).toBe(true); // only the corpus's characters
    expect(rnnkit(args).stdout).toBe(first.stdout); // same seed, same text
    expect(rnnkit(args.map((a) => (a === '1' ? '2' : a))).stdout).not.toBe(first.stdout);
  }, 60_000);
});

describe('rnnkit train forecast, forecast', () => {
  it('trains with a held-out tail against the baselines, plots, then forecasts dated future steps and backtests', () => {
    const run = rnnkit(['train', 'forecast', '--input', 'series.csv', '--column', 'value', '--date-column', 'date', '--calendar', 'dayOfWeek',
      '--holdout', '14', '--window', '14', '--epochs', '3', '--hidden', '16', '--plot', 'backtest.svg', '--out', 'forecaster.safetensors']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('160 steps of value + calendar dayOfWeek (7 covariates); 146 for training, last 14 held out');
    for (const name of ['model', 'naive \\(last value\\)', 'seasonal naive \\(7\\)']) expect(run.stdout).toMatch(new RegExp(`^  ${name} +MAE +[\\d.]+ +RMSE +[\\d.]+$`, 'm'));
    expect(readFileSync(file('backtest.svg'), 'utf8')).toMatch(/^<svg[^]*<\/svg>\s*$/);

    const future = rnnkit(['forecast', '--model', 'forecaster.safetensors', '--input', 'series.csv', '--horizon', '7', '--plot', 'future.svg']);
    expect(future.stderr).toBe('');
    expect(future.status).toBe(0);
    const lines = future.stdout.trim().split('\n');
    expect(lines[0]).toBe('step,date,value');
    expect(lines.slice(1, 8).map((line) => line.split(',')[1])).toEqual(['2021-06-10', '2021-06-11', '2021-06-12', '2021-06-13', '2021-06-14', '2021-06-15', '2021-06-16']);
    for (const line of lines.slice(1, 8)) expect(Number.isFinite(Number(line.split(',')[2]))).toBe(true);
    expect(lines[8]).toBe('wrote future.svg');
    expect(existsSync(file('future.svg'))).toBe(true);

    const backtest = rnnkit(['forecast', '--model', 'forecaster.safetensors', '--input', 'series.csv', '--horizon', '14', '--backtest', '--output', 'bt.csv']);
    expect(backtest.status).toBe(0);
    expect(backtest.stdout).toContain('wrote 14 forecast steps to bt.csv');
    expect(backtest.stdout).toContain('held-out last 14 steps:');
    // the same model on the same held-out tail as during training: the same error
    const maeOf = (text: string) => /^ {2}model +MAE +([\d.]+)/m.exec(text)![1];
    expect(maeOf(backtest.stdout)).toBe(maeOf(run.stdout));
    expect(readFileSync(file('bt.csv'), 'utf8').trim().split('\n')).toHaveLength(15);
  }, 60_000);
});

describe('rnnkit bench', () => {
  it('measures training and inference tokens/s on a §8 config, and streaming steps', () => {
    const table = rnnkit(['bench', '--config', 'S', '--seconds', '0.05']);
    expect(table.stderr).toBe('');
    expect(table.status).toBe(0);
    expect(table.stdout).toMatch(/^S +lstm +I=32 H=64 B=16 T=50 +train +[\d,]+ tok\/s +[\d.,]+ ms +[\d.,]+ GFLOP\/s +infer +[\d,]+ tok\/s/m);
    const stream = JSON.parse(rnnkit(['bench', '--config', 'stream', '--seconds', '0.05', '--json']).stdout) as { results: { config: string; batch: number; infer: { msPerStep: number; iterations: number } }[] };
    expect(stream.results).toHaveLength(1);
    expect(stream.results[0]).toMatchObject({ config: 'stream', batch: 1 });
    expect(stream.results[0].infer.iterations).toBeGreaterThanOrEqual(100);
    expect(stream.results[0].infer.msPerStep).toBeGreaterThan(0);
  }, 60_000);
});

describe('bad input: a message that says what is wrong, a non-zero exit, no stack trace', () => {
  it('missing input file', { timeout: 30_000 }, () => {
    expectUserError(rnnkit(['train', 'classify', '--input', 'x.csv']), "cannot read input file 'x.csv': no such file");
    expectUserError(rnnkit(['generate', '--model', 'none.safetensors']), "cannot read model file 'none.safetensors': no such file");
    expectUserError(rnnkit(['train', '--config', 'none.json']), "cannot read config file 'none.json': no such file");
    expectUserError(rnnkit(['train', 'classify', '--input', '.']), "cannot read input file '.': is a directory, not a regular file");
  });

  it('malformed CSV: the line and why', { timeout: 30_000 }, () => {
    writeFileSync(file('short-row.csv'), 'label,a,b\nx,1,2\ny,3\n');
    expectUserError(rnnkit(['train', 'classify', '--input', 'short-row.csv']), 'short-row.csv line 3: expected 3 fields (label + 2 steps × 1 features), got 2');
    writeFileSync(file('not-number.csv'), 'label,a,b\nx,1,2\n\ny,3,oops\n');
    expectUserError(rnnkit(['train', 'classify', '--input', 'not-number.csv']), "not-number.csv line 4, column 3: 'oops' is not a number");
    writeFileSync(file('open-quote.csv'), 'label,a\nx,"1\ny,2\n');
    expectUserError(rnnkit(['train', 'classify', '--input', 'open-quote.csv']), 'open-quote.csv line 2: a quoted field is never closed (missing \'"\')');
    writeFileSync(file('one-class.csv'), 'a,1,2\na,3,4\n');
    expectUserError(rnnkit(['train', 'classify', '--input', 'one-class.csv']), "one-class.csv: every row has the label 'a'; classification needs at least 2 classes");
    writeFileSync(file('bad-series.csv'), 'date,value\n2021-01-01,1\n2021-01-02,n/a\n');
    expectUserError(rnnkit(['train', 'forecast', '--input', 'bad-series.csv']), "bad-series.csv line 3, column 2 (value): 'n/a' is not a number");
    expectUserError(rnnkit(['forecast', '--model', 'forecaster.safetensors', '--input', 'series.csv', '--column', 'price']),
      "series.csv has no column 'price' (columns: date, value)");
  });

  it('unknown flag or command: commander\'s message, with a suggestion', { timeout: 30_000 }, () => {
    const run = rnnkit(['train', 'text', '--input', 'corpus.txt', '--epoch', '3']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("error: unknown option '--epoch'\n(Did you mean --epochs?)");
    expect(run.stdout).toBe('');
    const command = rnnkit(['trian']);
    expect(command.status).toBe(2);
    expect(command.stderr).toContain("error: unknown command 'trian'\n(Did you mean train?)");
  });

  it('bad numbers and choices', { timeout: 30_000 }, () => {
    expectUserError(rnnkit(['train', 'classify', '--input', 'classes.csv', '--epochs', 'abc']), "--epochs must be a positive integer (decimal digits, at most 1000000), got 'abc'");
    expectUserError(rnnkit(['train', 'text', '--input', 'corpus.txt', '--lr', '-1']), "--lr must be a positive number, got '-1'");
    expectUserError(rnnkit(['train', 'classify', '--input', 'classes.csv', '--batch-size', '2.5']), "--batch-size must be a positive integer (decimal digits, at most 2147483647), got '2.5'");
    expectUserError(rnnkit(['train', 'classify', '--input', 'classes.csv', '--val-split', '1']), "--val-split must be a number in [0, 1), got '1'");
    expectUserError(rnnkit(['train', 'text', '--input', 'corpus.txt', '--cell', 'rnn']), "--cell must be one of lstm, gru, got 'rnn'");
    expectUserError(rnnkit(['generate', '--model', 'lm.safetensors', '--top-k', '0']), "--top-k must be a positive integer (decimal digits, at most 2147483647), got '0'");
    expectUserError(rnnkit(['bench', '--config', 'XL']), "--config must be a comma-separated list of S, M, L, stream or all, got 'XL'");
    expectUserError(rnnkit(['train', 'classify']), '--input is required: the CSV file (format below)');
  });

  it('bad config files', { timeout: 30_000 }, () => {
    writeFileSync(file('typo.json'), JSON.stringify({ task: 'classify', input: 'classes.csv', epoch: 2 }));
    const typo = rnnkit(['train', '--config', 'typo.json']);
    expect(typo.status).toBe(2);
    expect(typo.stderr).toMatch(/^rnnkit: unknown key "epoch" in config file 'typo.json' \(did you mean "epochs"\?\); known keys: input, /);
    writeFileSync(file('bad-value.json'), JSON.stringify({ task: 'classify', input: 'classes.csv', epochs: 'abc' }));
    expectUserError(rnnkit(['train', '--config', 'bad-value.json']), '"epochs" in bad-value.json must be a positive integer (decimal digits, at most 1000000), got "abc"');
    writeFileSync(file('no-task.json'), JSON.stringify({ input: 'classes.csv' }));
    expectUserError(rnnkit(['train', '--config', 'no-task.json']), 'no-task.json needs a "task" (text, classify, textclass, forecast, seq2seq) when no task is given on the command line');
    writeFileSync(file('broken.json'), '{"task": "classify",');
    const broken = rnnkit(['train', '--config', 'broken.json']);
    expect(broken.status).toBe(2);
    expect(broken.stderr).toMatch(/^rnnkit: config file 'broken.json' is not valid JSON: /);
  });

  it('a model file of the wrong kind, an unwritable output', { timeout: 30_000 }, () => {
    expectUserError(rnnkit(['generate', '--model', 'classifier.safetensors']),
      "'classifier.safetensors' is not a text model (write one with 'rnnkit train text'): its metadata has no rnnkit.task = char-lm");
    expectUserError(rnnkit(['forecast', '--model', 'lm.safetensors', '--input', 'series.csv']),
      "'lm.safetensors' is not a forecasting model (write one with 'rnnkit train forecast')");
    expectUserError(rnnkit(['train', 'classify', '--input', 'classes.csv', '--out', 'no/such/dir/m.safetensors']),
      "cannot write output file 'no/such/dir/m.safetensors': folder 'no/such/dir': no such folder");
  });

  it('RNNKIT_DEBUG=1 adds the stack trace', { timeout: 30_000 }, () => {
    const run = rnnkit(['train', 'classify', '--input', 'x.csv'], { RNNKIT_DEBUG: '1' });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^rnnkit: cannot read input file 'x.csv': no such file\nCliError: [^\n]+\n +at /);
  });
});
