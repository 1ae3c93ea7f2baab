// `npm run demo` (examples/mnist/main.js) in a reduced form: 3 epochs on 4,000 of the 7,996 training
// digits (batch 32, peak lr 1e-2, no shifts), seed 0, run as a subprocess exactly as the README runs it (the example imports 'rnnkit',
// i.e. the compiled dist/ that `npm install` builds). Checked from the outside:
// - the split: re-derived here from the `mnist` package's files (first 80 % of each digit train);
// - the accuracy beats a nearest-centroid classifier fitted on all 7,996 training digits;
// - the saved safetensors is the whole model: an LSTM + Linear built here from its tensors gives the
//   test accuracy the program reported; the SVG plot and history are written.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSafetensors, nn, noGrad, tensor } from '../src/index.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const PIXELS = 28 * 28;

interface Split {
  trainImages: Float32Array[];
  trainLabels: number[];
  testImages: Float32Array[];
  testLabels: number[];
}

// The split, written independently of examples/mnist/data.js.
function readSplit(): Split {
  const digits = path.join(path.dirname(createRequire(import.meta.url).resolve('mnist/package.json')), 'src', 'digits');
  const split: Split = { trainImages: [], trainLabels: [], testImages: [], testLabels: [] };
  for (let digit = 0; digit < 10; digit++) {
    const data = Float32Array.from((JSON.parse(readFileSync(path.join(digits, `${digit}.json`), 'utf8')) as { data: number[] }).data);
    const count = data.length / PIXELS;
    const trainCount = Math.floor(0.8 * count);
    for (let i = 0; i < count; i++) {
      const image = data.subarray(i * PIXELS, (i + 1) * PIXELS);
      if (i < trainCount) { split.trainImages.push(image); split.trainLabels.push(digit); } else { split.testImages.push(image); split.testLabels.push(digit); }
    }
  }
  return split;
}

// Accuracy of assigning each test image to the digit with the nearest mean training image.
function nearestCentroidAccuracy(split: Split): number {
  const sums = Array.from({ length: 10 }, () => new Float64Array(PIXELS));
  const counts = new Array<number>(10).fill(0);
  split.trainImages.forEach((image, i) => {
    const label = split.trainLabels[i];
    counts[label] += 1;
    for (let p = 0; p < PIXELS; p++) sums[label][p] += image[p];
  });
  const centroids = sums.map((sum, digit) => sum.map((v) => v / counts[digit]));
  let correct = 0;
  split.testImages.forEach((image, i) => {
    const distances = centroids.map((c) => c.reduce((d, v, p) => d + (v - image[p]) ** 2, 0));
    correct += distances.indexOf(Math.min(...distances)) === split.testLabels[i] ? 1 : 0;
  });
  return correct / split.testImages.length;
}

// The saved weights in a model built here: LSTM(28, 128) on rows, Linear(128, 10) on the last state.
function accuracyOfSavedModel(file: string, split: Split): number {
  const weights = loadSafetensors(file);
  const lstm = new nn.LSTM(28, 128);
  const head = new nn.Linear(128, 10);
  const strip = (prefix: string) => Object.fromEntries(Object.entries(weights)
    .filter(([name]) => name.startsWith(prefix)).map(([name, t]) => [name.slice(prefix.length), t]));
  lstm.loadStateDict(strip('lstm.'));
  head.loadStateDict(strip('head.'));
  const batch = split.testImages.length;
  const x = new Float32Array(batch * PIXELS); // [B, 28 rows, 28 pixels]
  split.testImages.forEach((image, b) => x.set(image, b * PIXELS));
  const predicted = noGrad(() => {
    const [, [hN]] = lstm.forward(tensor(x, [batch, 28, 28]).transpose(0, 1)); // time-major [28, B, 28]
    return head.forward(hN.select(0, 0)).argmax(1).data;
  });
  return split.testLabels.filter((label, i) => predicted[i] === label).length / batch;
}

describe('npm run demo (sequential MNIST), reduced', () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'rnnkit-demo-'));
  let split: Split;
  let run: ReturnType<typeof spawnSync>;

  beforeAll(() => {
    if (!existsSync(path.join(ROOT, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run prepare` (or npm install) first');
    run = spawnSync(process.execPath, [path.join(ROOT, 'examples', 'mnist', 'main.js'),
      '--epochs', '3', '--train-limit', '4000', '--batch-size', '32', '--lr', '1e-2', '--shift', '0', '--seed', '0', '--out', out], { cwd: ROOT, encoding: 'utf8' });
    split = readSplit();
  }, 60_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('splits the 10,000 digits per digit: 7,996 train, 2,004 test', () => {
    expect(split.trainLabels.length + split.testLabels.length).toBe(10_000);
    expect(split.testLabels.length).toBe(2004);
    expect(run.stdout).toContain('4000 training and 2004 test digits');
  });

  it('runs, prints per-epoch accuracy and a confusion matrix, and beats nearest-centroid', () => {
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const stdout = String(run.stdout);
    expect(stdout.match(/^epoch +\d+ +loss [\d.]+ +test [\d.]+ %/gm)).toHaveLength(3);
    expect(stdout).toContain('Confusion matrix on the 2004 test digits');
    const history = JSON.parse(readFileSync(path.join(out, 'history.json'), 'utf8')) as { testAccuracy: number };
    const baseline = nearestCentroidAccuracy(split);
    console.log(`reduced demo: test accuracy ${(100 * history.testAccuracy).toFixed(2)} %, nearest centroid ${(100 * baseline).toFixed(2)} %`);
    expect(baseline).toBeGreaterThan(0.75); // the baseline is a real one
    expect(history.testAccuracy).toBeGreaterThan(baseline + 0.05); // 93.3 % vs 80.4 % (avx512, seed 0)
  });

  it('saves the whole model (safetensors, PyTorch names) and a loss/accuracy SVG', () => {
    const history = JSON.parse(readFileSync(path.join(out, 'history.json'), 'utf8')) as { testAccuracy: number; epochs: unknown[] };
    expect(history.epochs).toHaveLength(3);
    expect(Object.keys(loadSafetensors(path.join(out, 'model.safetensors'))).sort()).toEqual([
      'head.bias', 'head.weight', 'lstm.bias_hh_l0', 'lstm.bias_ih_l0', 'lstm.weight_hh_l0', 'lstm.weight_ih_l0']);
    expect(accuracyOfSavedModel(path.join(out, 'model.safetensors'), split)).toBeCloseTo(history.testAccuracy, 6);
    const svg = readFileSync(path.join(out, 'training.svg'), 'utf8');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
  });
});
