// `rnnkit train textclass` and `rnnkit predict`, run as a user runs them (node dist/cli/main.js in
// a folder of small files, stdin piped in): CSV and JSON Lines training with named columns, the
// held-out report, predictions from files and stdin in every input format and both output formats,
// sequence (`train classify`) models through the same predict, and the bad-input messages.
import { spawnSync } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensorsHeader } from '../src/index.js';
import { expectUserError, newCliFolder, type CliFolder } from './helpers/cli.js';
import { CLI_MAIN } from './helpers/dist.js';

let folder: ReturnType<typeof newCliFolder> | undefined;
let file: CliFolder['file'];

/** `rnnkit …args` in the folder with `input` on stdin. */
function rnnkit(args: string[], input = '') {
  return spawnSync(process.execPath, [CLI_MAIN, ...args], {
    cwd: folder!.dir, encoding: 'utf8', timeout: 120_000, input, env: { ...process.env, RNNKIT_DEBUG: '', RNNKIT_ISA: '' },
  });
}

// Mail-like documents: spam mentions money and prizes, ham meetings and code; both share filler.
const SPAM = ['win', 'free', 'money', 'prize', 'offer', 'cash', 'click'];
const HAM = ['meeting', 'notes', 'patch', 'review', 'lunch', 'build', 'agenda'];
const FILLER = ['the', 'a', 'for', 'you', 'this', 'week', 'please', 'now', 'and'];
function documents(n: number, seed: number): { text: string; label: string }[] {
  let state = seed;
  const next = (k: number) => { state = (state * 16807) % 2147483647; return state % k; };
  return Array.from({ length: n }, (_, i) => {
    const spam = i % 3 === 0;
    const words = Array.from({ length: 6 + next(8) }, () => (next(3) === 0 ? (spam ? SPAM : HAM)[next(7)] : FILLER[next(9)]));
    return { text: words.join(' ') + (spam ? '!' : '.'), label: spam ? 'spam' : 'ham' };
  });
}
const csvField = (text: string) => `"${text.replace(/"/g, '""')}"`;

beforeAll(() => {
  folder = newCliFolder('rnnkit-cli-textclass-');
  ({ file } = folder);
  const docs = documents(240, 5);
  writeFileSync(file('mail.csv'), `subject,body,label\n${docs.map((d, i) => `s${i},${csvField(`${d.text}\n(line two)`)},${d.label}`).join('\n')}\n`);
  writeFileSync(file('mail.jsonl'), `${docs.map((d) => JSON.stringify({ message: d.text, kind: d.label === 'spam' ? 1 : 0 })).join('\n')}\n`);
}, 240_000);
afterAll(() => folder?.remove());

describe('rnnkit train textclass', () => {
  it('CSV with named columns: per-epoch lines, the held-out report, a model file that remembers the column', () => {
    const run = rnnkit(['train', 'textclass', '--input', 'mail.csv', '--text-column', 'body', '--epochs', '3', '--lr', '0.01', '--out', 'spam.safetensors']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('mail.csv (csv): 240 documents, 2 classes (ham, spam); 216 train, 24 validation (stratified, seed 0)');
    expect(run.stdout.match(/^epoch \d\/3 +loss [\d.]+ +accuracy [\d.]+ % +f1 [\d.]+ +val_loss [\d.]+ +val_accuracy [\d.]+ % +val_f1 [\d.]+ +val_auc [\d.]+/gm)).toHaveLength(3);
    expect(run.stdout).toMatch(/validation \(24 documents\): accuracy [\d.]+ % \(majority class 66\.67 %\)/);
    expect(run.stdout).toMatch(/class 'spam': precision [\d.]+, recall [\d.]+, F1 [\d.]+; ROC AUC [\d.]+/);
    const accuracy = Number(/validation \(24 documents\): accuracy ([\d.]+) %/.exec(run.stdout)![1]);
    expect(accuracy).toBeGreaterThan(90); // majority 66.67 %: the words give the class away
    expect(run.stdout).toContain('saved spam.safetensors');
    const metadata = readSafetensorsHeader(file('spam.safetensors')).metadata!;
    expect(metadata).toMatchObject({ 'rnnkit.task': 'text-classifier', textColumn: 'body' });
    // an rnnkit model may be overwritten without --force
    copyFileSync(file('spam.safetensors'), file('copy.safetensors'));
    expect(rnnkit(['train', 'textclass', '--input', 'mail.csv', '--text-column', 'body', '--epochs', '1', '--out', 'copy.safetensors']).status).toBe(0);
  });

  it('JSON Lines with other keys and numeric labels', () => {
    const run = rnnkit(['train', 'textclass', '--input', 'mail.jsonl', '--text-column', 'message', '--label-column', 'kind', '--epochs', '1',
      '--hidden', '8', '--embedding', '8', '--out', 'numeric.safetensors']);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('mail.jsonl (jsonl): 240 documents, 2 classes (0, 1)');
    expect(run.stdout).toContain("class '1': precision");
  });

  it('bad input: named column, file, line and value', { timeout: 60_000 }, () => {
    expectUserError(rnnkit(['train', 'textclass', '--input', 'mail.csv']),
      "mail.csv: no text column 'text' in the header (columns: 'subject', 'body', 'label'); name it with --text-column");
    writeFileSync(file('one.csv'), 'text,label\nhello,a\nworld,a\n');
    expectUserError(rnnkit(['train', 'textclass', '--input', 'one.csv']), "one.csv: every document has the label 'a'; classification needs at least 2 classes");
    writeFileSync(file('blank.csv'), 'text,label\nhello,a\nworld,\n');
    expectUserError(rnnkit(['train', 'textclass', '--input', 'blank.csv']), 'blank.csv line 3: empty or missing label');
    writeFileSync(file('broken.jsonl'), '{"text": "a", "label": "x"}\n{"text": "b", "label": \n');
    expect(rnnkit(['train', 'textclass', '--input', 'broken.jsonl']).stderr).toMatch(/^rnnkit: broken\.jsonl line 2: not valid JSON \(/);
    writeFileSync(file('nolabel.jsonl'), '{"text": "a", "label": "x"}\n{"text": "b"}\n');
    expectUserError(rnnkit(['train', 'textclass', '--input', 'nolabel.jsonl']), 'nolabel.jsonl line 2: empty or missing label');
    expectUserError(rnnkit(['train', 'textclass', '--input', 'mail.csv', '--text-column', 'body', '--pooling', 'sum']),
      "--pooling must be one of max, mean, last, got 'sum'");
    expectUserError(rnnkit(['train', 'textclass', '--input', 'mail.csv', '--text-column', 'body', '--recurrent-dropout', '1']),
      "--recurrent-dropout must be a number in [0, 1), got '1'");
  });

  it('help lists the options and the formats', () => {
    const help = rnnkit(['train', 'textclass', '--help']);
    for (const flag of ['--text-column <name>', '--label-column <name>', '--input-format <format>', '--max-length <n>', '--recurrent-dropout <p>', 'JSON Lines']) {
      expect(help.stdout).toContain(flag);
    }
  });
});

describe('rnnkit predict', () => {
  it('a CSV file, reading the column the model was trained on: label<TAB>probability per document', () => {
    const run = rnnkit(['predict', '--model', 'spam.safetensors', '--input', 'mail.csv']);
    expect(run.stderr).toBe('');
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(240);
    for (const line of lines) expect(line).toMatch(/^(ham|spam)\t(0\.[5-9]\d{3}|1\.0000)$/);
    const predicted = lines.map((l) => l.split('\t')[0]);
    const truth = documents(240, 5).map((d) => d.label);
    expect(predicted.filter((p, i) => p === truth[i]).length / 240).toBeGreaterThan(0.9);
  });

  it('stdin: plain lines, JSON Lines, CSV; --format json gives one object per input', () => {
    const lines = rnnkit(['predict', '--model', 'spam.safetensors', '--format', 'json'], 'win free money prize now!\nthe meeting notes and agenda.\n');
    expect(lines.stderr).toBe('');
    const objects = lines.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { label: string; probability: number });
    expect(objects.map((o) => o.label)).toEqual(['spam', 'ham']);
    for (const o of objects) expect(Object.keys(o)).toEqual(['label', 'probability']);
    const jsonl = rnnkit(['predict', '--model', 'spam.safetensors', '--text-column', 'm'], '{"m": "cash prize click"}\n"review the patch"\n');
    expect(jsonl.stdout.split('\n').map((l) => l.split('\t')[0])).toEqual(['spam', 'ham', '']);
    const csv = rnnkit(['predict', '--model', 'spam.safetensors', '--input', '-'], 'id,body\n1,free cash now\n2,"lunch,\nthen the build"\n');
    expect(csv.stdout.split('\n').map((l) => l.split('\t')[0])).toEqual(['spam', 'ham', '']);
    const forced = rnnkit(['predict', '--model', 'spam.safetensors', '--input-format', 'lines'], 'id,body\n');
    expect(forced.stdout.split('\n')).toHaveLength(2); // the header read as a document
  });

  it('a `train classify` sequence model: rows with or without the label', () => {
    expect(rnnkit(['train', 'classify', '--input', 'classes.csv', '--features', '2', '--epochs', '3', '--out', 'seq.safetensors']).status).toBe(0);
    const up = Array.from({ length: 8 }, (_, t) => `${(t / 7).toFixed(3)},0.5`).join(',');
    const down = Array.from({ length: 8 }, (_, t) => `${((7 - t) / 7).toFixed(3)},0.5`).join(',');
    const run = rnnkit(['predict', '--model', 'seq.safetensors', '--format', 'json'], `${up}\nlabel-ignored,${down}\n`);
    expect(run.stderr).toBe('');
    expect(run.stdout.trimEnd().split('\n').map((l) => (JSON.parse(l) as { label: string }).label)).toEqual(['up', 'down']);
    const file = rnnkit(['predict', '--model', 'seq.safetensors', '--input', 'classes.csv']);
    expect(file.stdout.trimEnd().split('\n')).toHaveLength(160);
  });

  it('bad input: named model, line and flag', { timeout: 60_000 }, () => {
    expectUserError(rnnkit(['predict', '--model', 'seq.safetensors'], '0.1,0.2,0.3\n'),
      'stdin line 1: expected 16 values (8 steps × 2 features), optionally after a label, got 3 fields');
    expectUserError(rnnkit(['predict', '--model', 'seq.safetensors', '--text-column', 'x'], '1\n'),
      "--text-column is for text classifiers; 'seq.safetensors' classifies sequences of numbers");
    expect(rnnkit(['train', 'text', '--input', 'corpus.txt', '--epochs', '1', '--hidden', '8', '--layers', '1', '--seq-len', '32', '--sample', '0', '--out', 'lm.safetensors']).status).toBe(0);
    expectUserError(rnnkit(['predict', '--model', 'lm.safetensors'], 'x\n'),
      "'lm.safetensors' is not a classifier (write one with 'rnnkit train textclass' or 'rnnkit train classify')");
    expect(rnnkit(['predict', '--model', 'mail.csv', '--input', 'mail.csv']).stderr).toMatch(/^rnnkit: cannot load model 'mail\.csv': Invalid safetensors file/);
    expectUserError(rnnkit(['predict', '--model', 'spam.safetensors', '--input', 'missing.csv']), "cannot read input file 'missing.csv': no such file");
    expectUserError(rnnkit(['predict', '--model', 'spam.safetensors'], ''), 'stdin: no documents');
    expectUserError(rnnkit(['predict', '--model', 'spam.safetensors', '--format', 'xml'], 'x\n'), "--format must be one of text, json, got 'xml'");
  });
});
