// A small model end to end against PyTorch 1.13 (test/fixtures/nn/make_nn.py, small_model.json):
// Embedding(11, 6, paddingIdx 0) → LSTM(6, 12, 2 layers, batchFirst) → Linear(12, 11), cross-entropy
// on next tokens, Adam(lr 0.01), 200 steps cycling over 4 fixed batches of [4, 10] tokens, starting
// from PyTorch's initial weights. The bar: the loss after training within 1e-3 of PyTorch's.
// We also hold every step's loss to the same bound, and print the worst step.
import { describe, expect, it } from 'vitest';
import { nn, optim, type Tensor } from '../src/index.js';
import { loadNnFixture, stateDictOf, type FixtureCase } from './helpers/nn-fixtures.js';

const LOSS_TOLERANCE = 1e-3;

interface SmallModelFixture extends FixtureCase {
  vocab: number;
  embeddingDim: number;
  hiddenSize: number;
  numLayers: number;
  lr: number;
  steps: number;
  batches: number[][][];
  losses: number[];
}

class Model extends nn.Module {
  embedding: nn.Embedding;
  lstm: nn.LSTM;
  head: nn.Linear;

  constructor(vocab: number, embeddingDim: number, hiddenSize: number, numLayers: number) {
    super();
    this.embedding = new nn.Embedding(vocab, embeddingDim, { paddingIdx: 0 });
    this.lstm = new nn.LSTM(embeddingDim, hiddenSize, { numLayers, batchFirst: true });
    this.head = new nn.Linear(hiddenSize, vocab);
  }

  /** tokens [B, T] → logits [B, T, vocab]. */
  forward(tokens: number[][]): Tensor {
    const [output] = this.lstm.forward(this.embedding.forward(tokens));
    return this.head.forward(output);
  }
}

describe('small model: Embedding → 2-layer LSTM → Linear, Adam, 200 steps', () => {
  const fixture = loadNnFixture<SmallModelFixture>('small_model.json');

  it('tracks PyTorch\'s loss at every step within 1e-3', () => {
    const { vocab, embeddingDim, hiddenSize, numLayers } = fixture;
    const model = new Model(vocab, embeddingDim, hiddenSize, numLayers);
    model.loadStateDict(stateDictOf(fixture));
    const optimizer = new optim.Adam(model.parameters(), { lr: fixture.lr });
    const losses: number[] = [];
    for (let step = 0; step < fixture.steps; step++) {
      const batch = fixture.batches[step % fixture.batches.length];
      const inputs = batch.map((row) => row.slice(0, -1));
      const targets = batch.flatMap((row) => row.slice(1));
      const logits = model.forward(inputs);
      const loss = nn.crossEntropy(logits.reshape(-1, vocab), targets);
      optimizer.zeroGrad();
      loss.backward();
      optimizer.step();
      losses.push(loss.item());
    }
    const deviations = losses.map((loss, i) => Math.abs(loss - fixture.losses[i]));
    const worstStep = deviations.indexOf(Math.max(...deviations));
    console.log(`small model: loss ${losses[0].toFixed(6)} → ${losses[losses.length - 1].toFixed(6)} `
      + `(torch ${fixture.losses[0].toFixed(6)} → ${fixture.losses[fixture.losses.length - 1].toFixed(6)}); `
      + `final |Δ| ${deviations[deviations.length - 1].toExponential(2)}, worst |Δ| ${deviations[worstStep].toExponential(2)} at step ${worstStep}`);
    expect(deviations[deviations.length - 1]).toBeLessThanOrEqual(LOSS_TOLERANCE);
    expect(deviations[worstStep]).toBeLessThanOrEqual(LOSS_TOLERANCE);
    // The padding row never receives a gradient, so Adam never moves it.
    expect(Array.from(model.embedding.weight.data.subarray(0, embeddingDim))).toEqual(new Array(embeddingDim).fill(0));
  });
});
