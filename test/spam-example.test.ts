// examples/spam: the pieces on their own (mail parsing on hand-made MIME messages, naive Bayes
// against a hand computation, the corpus split) and the program in a reduced run (400 training
// messages, 1 epoch, ablation on) as a subprocess, its report checked from the outside.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, ROOT } from './helpers/dist.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
let mail: any, bayes: any, data: any;
beforeAll(async () => {
  ensureBuilt();
  mail = await import('../examples/spam/mail.js' as string);
  bayes = await import('../examples/spam/naive-bayes.js' as string);
  data = await import('../examples/spam/data.js' as string);
}, 240_000);

describe('mail.js: subject and body only', () => {
  it('multipart/alternative: the base64 plain part, a UTF-8 encoded-word subject; no header survives', () => {
    const raw = [
      'From: "Promo" <promo@example.com>', 'Received: from relay.example.com (10.0.0.1)', 'Subject: =?utf-8?B?Q2Fmw6kgb2ZmZXI=?= today',
      'Content-Type: multipart/alternative;', '\tboundary="XYZ"', '', 'preamble', '--XYZ', 'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: base64', '', Buffer.from('Naïve prices\nfor you').toString('base64'), '--XYZ',
      'Content-Type: text/html', '', '<p>HTML copy</p>', '--XYZ--', '',
    ].join('\n');
    expect(mail.readMessage(raw)).toEqual({ subject: 'Café offer today', body: 'Naïve prices\nfor you' });
  });

  it('quoted-printable latin-1, HTML-only bodies reduced to text, HTML sent as plain text too', () => {
    const qp = 'Subject: =?iso-8859-1?Q?R=E9sum=E9?=\nContent-Type: text/plain; charset=iso-8859-1\n'
      + 'Content-Transfer-Encoding: quoted-printable\n\nCaf=E9 au lait, soft=\n break\n';
    expect(mail.readMessage(qp)).toEqual({ subject: 'Résumé', body: 'Café au lait, soft break' });
    const html = 'Subject: Hi\nContent-Type: text/html\n\n<html><style>p{}</style><body>Buy&nbsp;now &amp; save<br>&#36;5 &#x20AC;</body></html>';
    expect(mail.readMessage(html).body.replace(/\s+/g, ' ').trim()).toBe('Buy now & save $5 €');
    const plainHtml = 'Subject: x\n\n<!-- saved from url --><TABLE><TR><TD>Cheap meds</TD></TR></TABLE>';
    expect(mail.readMessage(plainHtml).body.trim()).toBe('Cheap meds');
  });

  it('attachments are skipped; a message without a body gives an empty one', () => {
    const raw = 'Subject: files\nContent-Type: multipart/mixed; boundary=b1\n\n--b1\nContent-Type: text/plain\n\nsee attached\n'
      + '--b1\nContent-Type: image/png\nContent-Transfer-Encoding: base64\n\niVBORw0KGgo=\n--b1--\n';
    expect(mail.readMessage(raw)).toEqual({ subject: 'files', body: 'see attached' });
    expect(mail.readMessage('Subject: only headers')).toEqual({ subject: 'only headers', body: '' });
  });
});

describe('naive-bayes.js against a hand computation', () => {
  it('Laplace-smoothed multinomial likelihoods and priors', () => {
    // ham: a a b (3 tokens); spam: b c (2); vocabulary {a, b, c}; alpha 1.
    // P(a|ham) = 3/6, P(c|ham) = 1/6; P(a|spam) = 1/5, P(c|spam) = 2/5; priors 1/2 each.
    const model = new bayes.MultinomialNaiveBayes().fit([['a', 'a', 'b'], ['b', 'c']], [0, 1], 2);
    expect(model.logOdds(['a', 'c', 'unseen'])).toBeCloseTo(Math.log((1 / 5) * (2 / 5)) - Math.log((3 / 6) * (1 / 6)), 12);
    const [ham, spam] = model.probabilities(['c']);
    expect(spam / ham).toBeCloseTo((2 / 5) / (1 / 6), 12);
  });
});

describe('data.js: the corpus and its split', () => {
  it('6,046 messages, 125 exact duplicates dropped; the split keeps every group in every part', () => {
    const { messages, duplicates, total } = data.loadMessages();
    expect([total, duplicates, messages.length]).toEqual([6046, 125, 5921]);
    const split = data.stratifiedSplit(messages, { seed: 0 });
    expect(split.train.length + split.validation.length + split.test.length).toBe(5921);
    const hard = (part: { group: string }[]) => part.filter((m) => m.group === 'hard-ham-1').length;
    const allHard = hard(messages);
    expect(hard(split.test)).toBe(Math.round(allHard * 0.2));
    expect(hard(split.validation)).toBe(Math.round(allHard * 0.1));
    expect(new Set(split.test.map((m: { text: string }) => m.text)).size).toBe(split.test.length);
    const again = data.stratifiedSplit(messages, { seed: 0 });
    expect(again.test.map((m: { text: string }) => m.text)).toEqual(split.test.map((m: { text: string }) => m.text));
    expect(data.stratifiedSplit(messages, { seed: 1 }).test[0].text).not.toBe(split.test[0].text);
  }, 60_000);
});

describe('examples/spam/main.js, reduced', () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'rnnkit-spam-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('trains, compares with naive Bayes, lists its errors, runs the ablation, writes the report', () => {
    const run = spawnSync(process.execPath, [path.join(ROOT, 'examples', 'spam', 'main.js'), '--train-limit', '400', '--epochs', '1',
      '--max-length', '60', '--hidden', '16', '--embedding', '16', '--ablation', '1', '--out', out], { cwd: ROOT, encoding: 'utf8', timeout: 600_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('SpamAssassin: 6046 messages, 125 exact duplicates dropped, subject and body only');
    expect(run.stdout).toMatch(/^ {2}test +1184: easy-ham-1 \d+, easy-ham-2 \d+, hard-ham-1 50, spam-1 \d+, spam-2 \d+$/m);
    expect(run.stdout).toMatch(/^LSTM, variational dropout( +[\d.]+){6}$/m);
    expect(run.stdout).toMatch(/^multinomial naive Bayes( +[\d.]+){6}$/m);
    expect(run.stdout).toMatch(/^margin: F1 [+-][\d.]+, AUC [+-][\d.]+$/m);
    expect(run.stdout).toMatch(/test messages the LSTM gets wrong/);
    expect(run.stdout).toMatch(/^ {2}no variational dropout +F1 [\d.]+ +AUC [\d.]+$/m);
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
    expect(report.sizes).toEqual({ train: 400, validation: 592, test: 1184 });
    // the naive Bayes baseline is a real one on this split (it trains on the same 400 messages)
    expect(report.naiveBayes.auc).toBeGreaterThan(0.9);
    expect(report.lstm.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(1184);
    expect(report.errors.length).toBe(report.lstm.confusion[0][1] + report.lstm.confusion[1][0]);
    expect(report.ablation.map((r: { name: string }) => r.name)).toEqual(['variational dropout', 'no variational dropout']);
  }, 600_000);
});
