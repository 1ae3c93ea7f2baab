// `rnnkit train seq2seq` and `rnnkit translate` run as a user runs them (a subprocess on small files
// in a temporary folder): the happy path on a learnable toy task (letters → their names as tokens,
// reversed), translation from a file and from stdin, unknown symbols, and the bad-input paths.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors, saveSafetensors, tensor } from '../src/index.js';
import { expectUserError, newCliFolder, type CliFolder } from './helpers/cli.js';
import { CLI_MAIN } from './helpers/dist.js';

let folder: ReturnType<typeof newCliFolder> | undefined;
let rnnkit: CliFolder['rnnkit'];
let file: CliFolder['file'];

const NAMES: Record<string, string> = { a: 'AY', b: 'BEE', c: 'SEE', d: 'DEE', e: 'EE', f: 'EF', g: 'GEE' };

/** `cab<TAB>BEE AY SEE`: the letters' names, last letter first (attention has to find them). */
function toyPairs(count: number): string {
  let state = 5;
  const next = (n: number): number => { state = (state * 16807) % 2147483647; return state % n; };
  const letters = Object.keys(NAMES);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const word = Array.from({ length: 2 + next(4) }, () => letters[next(letters.length)]).join('');
    lines.push(`${word}\t${[...word].reverse().map((c) => NAMES[c]).join(' ')}`);
  }
  return `${lines.join('\n')}\n`;
}

beforeAll(() => {
  folder = newCliFolder('rnnkit-cli-seq2seq-');
  ({ rnnkit, file } = folder);
  writeFileSync(file('pairs.tsv'), toyPairs(600));
}, 240_000);
afterAll(() => folder?.remove());

describe('rnnkit train seq2seq, translate', () => {
  it('have help with their flags, and the program lists them', { timeout: 60_000 }, () => {
    const top = rnnkit(['--help']);
    expect(top.stdout).toMatch(/^  translate /m);
    expect(top.stdout).toContain('rnnkit train seq2seq --input pairs.tsv');
    const expectations: Record<string, string[]> = {
      'train seq2seq': ['--input <file>', 'source<TAB>target', '--val-split <fraction>', '--patience <n>', '--attention <score>', '--source-tokens <kind>'],
      translate: ['--model <file>', '--input <file>', '--beam <n>', '--length-penalty <a>', '--max-length <n>'],
    };
    for (const [command, flags] of Object.entries(expectations)) {
      const help = rnnkit([...command.split(' '), '--help']);
      expect(help.status, command).toBe(0);
      for (const flag of flags) expect(help.stdout, `${command}: ${flag}`).toContain(flag);
    }
  });

  it('trains on a TSV of pairs, reports validation error rates, saves a model that translates files and stdin', { timeout: 300_000 }, () => {
    const run = rnnkit(['train', 'seq2seq', '--input', 'pairs.tsv', '--hidden', '32', '--embedding', '16', '--epochs', '12', '--batch-size', '16',
      '--beam', '3', '--out', 'toy.safetensors'], {}, 280_000);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toBe('pairs.tsv: 540 training and 60 validation pairs; source chars (7 symbols), target spaces (7 symbols)');
    expect(lines.filter((l) => /^epoch +\d+\/12 +loss [\d.]+ +val_wer [\d.]+ +val_per [\d.]+/.test(l)).length).toBeGreaterThanOrEqual(5);
    const report = /^validation: greedy WER ([\d.]+) %, PER ([\d.]+) %; beam 3 WER ([\d.]+) %, PER ([\d.]+) %$/m.exec(run.stdout);
    expect(report, run.stdout).not.toBeNull();
    // Trivial baseline: every output wrong (100 % WER). 12 short epochs of a 32-unit model learn most of it.
    expect(Number(report![1])).toBeLessThan(50);
    expect(Number(report![2])).toBeLessThan(15);
    expect(run.stdout).toContain("saved toy.safetensors; translate with 'rnnkit translate --model toy.safetensors'");
    const { metadata, tensors } = readSafetensors(file('toy.safetensors'));
    expect(metadata?.['rnnkit.task']).toBe('seq2seq');
    expect(JSON.parse(metadata!['rnnkit.vocab.target']).tokenization).toBe('spaces');
    expect(Object.keys(tensors)).toContain('attention.Wa.weight');

    writeFileSync(file('words.txt'), 'cab\n\nfeed\r\ndaz\n');
    const translated = rnnkit(['translate', '--model', 'toy.safetensors', '--input', 'words.txt', '--beam', '3']);
    expect(translated.status).toBe(0);
    const rows = translated.stdout.trim().split('\n').map((l) => l.split('\t'));
    expect(rows.map((r) => r[0])).toEqual(['cab', 'feed', 'daz']);
    for (const row of rows) {
      expect(row).toHaveLength(3);
      expect(Number(row[2])).toBeLessThanOrEqual(0);
    }
    expect(rows[0][1]).toBe('BEE AY SEE');
    // 'z' was never seen: read as <unk>, noted on stderr with its line.
    expect(translated.stderr).toBe('rnnkit: note: line 3: "z" not in the model\'s source vocabulary (read as <unk>)\n');

    const piped = spawnSync(process.execPath, [CLI_MAIN, 'translate', '--model', 'toy.safetensors', '--beam', '3'], { cwd: folder!.dir, input: 'cab\n', encoding: 'utf8' });
    expect(piped.status).toBe(0);
    expect(piped.stdout).toBe(`${translated.stdout.split('\n')[0]}\n`);
  });

  it('a malformed line names the file and the line', { timeout: 60_000 }, () => {
    writeFileSync(file('bad.tsv'), 'ab\tAY BEE\nba\tBEE AY\nabc AY BEE SEE\n');
    expectUserError(rnnkit(['train', 'seq2seq', '--input', 'bad.tsv']),
      'cannot read the pairs: bad.tsv line 3: expected 2 tab-separated fields (source, target) but found 1');
    writeFileSync(file('empty-target.tsv'), 'ab\tAY BEE\nba\t \n');
    expectUserError(rnnkit(['train', 'seq2seq', '--input', 'empty-target.tsv']), 'cannot read the pairs: empty-target.tsv line 2: empty target');
    writeFileSync(file('blank.tsv'), '\n\n');
    expectUserError(rnnkit(['train', 'seq2seq', '--input', 'blank.tsv']), 'cannot read the pairs: blank.tsv: no pairs (expected lines of source<TAB>target)');
  });

  it('translate refuses files that are not seq2seq models, and empty input', { timeout: 60_000 }, () => {
    saveSafetensors(file('other.safetensors'), { w: tensor([1, 2]) });
    expectUserError(rnnkit(['translate', '--model', 'other.safetensors', '--input', 'pairs.tsv']),
      "'other.safetensors' is not a seq2seq model (write one with 'rnnkit train seq2seq'): its metadata has no rnnkit.task = seq2seq");
    writeFileSync(file('none.txt'), '\n  \n');
    expectUserError(rnnkit(['translate', '--model', 'toy.safetensors', '--input', 'none.txt']), 'no source lines in none.txt (one source sequence per line)');
    expectUserError(rnnkit(['translate', '--model', 'toy.safetensors', '--input', 'none.txt', '--beam', '0']),
      "--beam must be a positive integer (decimal digits, at most 1000), got '0'");
  });
});
