// The grapheme-to-phoneme example (examples/g2p) in a reduced form: its data rules on CMUdict, and
// the program itself run as a subprocess on 3,000 training words for 4 epochs with a small model —
// it must learn (test WER far below the trivial baseline of the most common pronunciation), write
// its report, attention heat maps and split, and save a model that loads and translates.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seq2seq } from '../src/index.js';
import { ensureBuilt, ROOT } from './helpers/dist.js';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'rnnkit-g2p-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Entry { word: string; phones: string[] }
ensureBuilt(); // the example imports 'rnnkit' (dist/)
const data = await import(path.join(ROOT, 'examples/g2p/data.js')) as {
  loadLexicon(): Entry[];
  splitLexicon(entries: Entry[], seed: number): { train: Entry[]; validation: Entry[]; test: Entry[] };
};

describe('G2P data rules on CMUdict', () => {
  it('first pronunciations of words of letters and apostrophes, 39 phonemes without stress, split 90/5/5 by word', () => {
    const lexicon = data.loadLexicon();
    expect(lexicon).toHaveLength(123_874);
    expect(lexicon.every((e) => /^[a-z']+$/.test(e.word))).toBe(true);
    const phones = new Set(lexicon.flatMap((e) => e.phones));
    expect(phones.size).toBe(39);
    expect([...phones].every((p) => /^[A-Z]+$/.test(p))).toBe(true);
    expect(new Set(lexicon.map((e) => e.word)).size).toBe(lexicon.length); // one pronunciation per word
    const read = lexicon.find((e) => e.word === 'read'); // READ is R EH1 D, READ(1) R IY1 D
    expect(read?.phones).toEqual(['R', 'EH', 'D']);
    const split = data.splitLexicon(lexicon, 0);
    expect([split.train.length, split.validation.length, split.test.length]).toEqual([111_486, 6_194, 6_194]);
    expect(data.splitLexicon(lexicon, 0).test.map((e) => e.word)).toEqual(split.test.map((e) => e.word)); // seeded
    expect(data.splitLexicon(lexicon, 1).test[0].word).not.toBe(split.test[0].word);
  });
});

describe('the G2P example, reduced', () => {
  const out = path.join(scratch, 'output');
  let run: ReturnType<typeof spawnSync>;
  beforeAll(() => {
    run = spawnSync(process.execPath, [path.join(ROOT, 'examples/g2p/main.js'), '--train-words', '3000', '--time-limit', '0', '--epochs', '4', '--hidden', '64',
      '--embedding', '32', '--batch-size', '32', '--lr', '5e-3', '--monitor-words', '300', '--eval-words', '300', '--beam', '3', '--words', 'knight,colonel', '--out', out],
    { encoding: 'utf8', timeout: 300_000 });
  }, 320_000);

  it('learns: test WER far below the most-common-pronunciation baseline, beam search beside greedy', () => {
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')) as {
      trainingSeconds: number; test: { decoding: string; wer: number; per: number }[];
    };
    const [greedy, beam] = report.test;
    expect(greedy.decoding).toBe('greedy');
    expect(beam.decoding).toBe('beam 3');
    const read = (name: string) => readFileSync(path.join(out, 'split', `${name}.tsv`), 'utf8').trim().split('\n').map((l) => l.split('\t'));
    const counts = new Map<string, number>();
    for (const [, phones] of read('train')) counts.set(phones, (counts.get(phones) ?? 0) + 1);
    const common = [...counts].sort((a, b) => b[1] - a[1])[0][0];
    const test = read('test').slice(0, 300);
    const baselineWer = test.filter(([, phones]) => phones !== common).length / test.length;
    console.log(`reduced G2P: test WER greedy ${(100 * greedy.wer).toFixed(1)} %, beam ${(100 * beam.wer).toFixed(1)} %; PER ${(100 * greedy.per).toFixed(1)} %, `
      + `${(100 * beam.per).toFixed(1)} %; baseline WER ${(100 * baselineWer).toFixed(1)} %; ${report.trainingSeconds.toFixed(1)} s`);
    expect(baselineWer).toBeGreaterThan(0.99);
    expect(greedy.wer).toBeLessThan(0.8); // 0.693 on avx512, seed 0
    expect(greedy.per).toBeLessThan(0.3); // 0.217
    expect(beam.per).toBeLessThan(greedy.per + 0.02);
  });

  it('draws attention heat maps and saves a model that loads and translates with attention weights', () => {
    const svg = readFileSync(path.join(out, 'attention-knight.svg'), 'utf8');
    expect(svg).toMatch(/^<svg /);
    expect(svg).toContain('knight →');
    expect((svg.match(/<rect x=/g) ?? []).length).toBeGreaterThanOrEqual(6 * 2); // 6 letters × ≥ 2 phonemes
    expect(existsSync(path.join(out, 'attention-colonel.svg'))).toBe(true);
    const { model, vocabs, metadata } = seq2seq.load(path.join(out, 'model.safetensors'));
    expect(Number(metadata.testWer)).toBeGreaterThan(0);
    const [knight] = seq2seq.translate(model, vocabs, [[...'knight']], { beamWidth: 3 });
    expect(knight.tokens.length).toBeGreaterThanOrEqual(2);
    expect(knight.unknown).toEqual([]);
    for (const row of knight.attention) {
      expect(row).toHaveLength(6);
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
  });
});
