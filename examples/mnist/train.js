// The training loop: shuffled mini-batches, cross-entropy, backward, gradient clipping, Adam and a
// one-cycle learning-rate schedule stepped per batch; the test accuracy after every epoch.
import { nn, noGrad, optim, rand } from 'rnnkit';
import { timeMajorBatch } from './data.js';
import { ProgressBar } from './progress.js';

/** 0..n-1 in a random order from the seeded RNG (Fisher–Yates). */
export function shuffledIndices(n) {
  const uniform = rand([n]).data;
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(uniform[i] * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/**
 * The predicted digit of every sample, in eval mode and without recording gradients.
 * @returns {Int32Array} [N]
 */
export function predict(model, dataset, batchSize = 500) {
  const count = dataset.labels.length;
  const predictions = new Int32Array(count);
  model.eval();
  noGrad(() => {
    for (let start = 0; start < count; start += batchSize) {
      const indices = Int32Array.from({ length: Math.min(batchSize, count - start) }, (_, i) => start + i);
      predictions.set(model.forward(timeMajorBatch(dataset, indices).x).argmax(1).data, start);
    }
  });
  model.train();
  return predictions;
}

/** Share of `predictions` equal to the dataset's labels. */
export function accuracy(predictions, dataset) {
  let correct = 0;
  predictions.forEach((digit, i) => { correct += digit === dataset.labels[i] ? 1 : 0; });
  return correct / predictions.length;
}

/**
 * @typedef {object} EpochResult
 * @property {number} epoch
 * @property {number} loss      mean training loss over the epoch
 * @property {number} accuracy  test accuracy after the epoch
 * @property {number} seconds   wall time since training started (training + evaluation)
 */

/**
 * Trains `model` on `train` and evaluates on `test` after every epoch.
 * @param {object} options
 * @param {number} options.epochs
 * @param {number} options.batchSize
 * @param {number} options.maxLr        peak learning rate of the one-cycle schedule
 * @param {number} [options.pctStart]   share of the steps spent warming up (default 0.3)
 * @param {number} [options.maxShift]   random translation of training images by up to this many pixels (0 = none)
 * @param {number} [options.clipNorm]   gradient-norm clipping threshold (default 1)
 * @param {boolean} [options.progress]  draw a progress bar (default: when stderr is a terminal)
 * @param {(result: EpochResult) => void} [options.onEpoch]
 * @returns {EpochResult[]}
 */
export function fit(model, train, test, options) {
  const { epochs, batchSize, maxLr, pctStart = 0.3, maxShift = 0, clipNorm = 1, onEpoch = () => {} } = options;
  const stepsPerEpoch = Math.ceil(train.labels.length / batchSize);
  const optimizer = new optim.Adam(model.parameters(), { lr: maxLr });
  const scheduler = new optim.OneCycleLR(optimizer, maxLr, { epochs, stepsPerEpoch, pctStart });
  const bar = new ProgressBar(stepsPerEpoch, options.progress === undefined ? {} : { enabled: options.progress });
  const history = [];
  const started = performance.now();
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const order = shuffledIndices(train.labels.length);
    let lossSum = 0;
    for (let step = 0; step < stepsPerEpoch; step++) {
      const { x, y } = timeMajorBatch(train, order.subarray(step * batchSize, (step + 1) * batchSize), maxShift);
      optimizer.zeroGrad();
      const loss = nn.crossEntropy(model.forward(x), y);
      loss.backward();
      optim.clipGradNorm_(model.parameters(), clipNorm);
      optimizer.step();
      scheduler.step();
      lossSum += loss.item() * y.length;
      bar.update(step + 1, `epoch ${epoch}/${epochs}`, `loss ${(lossSum / Math.min((step + 1) * batchSize, order.length)).toFixed(4)}`);
    }
    bar.clear();
    const result = {
      epoch, loss: lossSum / train.labels.length, accuracy: accuracy(predict(model, test), test),
      seconds: (performance.now() - started) / 1000,
    };
    history.push(result);
    onEpoch(result);
  }
  return history;
}
