// The classifier: an LSTM reads each image row by row (28 steps of 28 pixels); a linear layer maps
// its last hidden state to the 10 digit scores. Parameter names are PyTorch's
// (lstm.weight_ih_l0, …, head.weight, head.bias), so the saved weights load into the same
// torch.nn model (bench/mnist_torch.py's SequentialMnist).
import { nn } from 'rnnkit';

export class SequentialMnist extends nn.Module {
  /**
   * @param {number} hiddenSize  LSTM width (default 128)
   * @param {{ forgetBias?: number | null }} [options]  when a number, bias_ih's forget-gate slice starts
   *   there instead of PyTorch's U(−1/√H, 1/√H): with a bias of 1 the cell keeps what it has read by
   *   default, and the first epochs learn much faster (Gers et al. 2000; Jozefowicz et al. 2015)
   */
  constructor(hiddenSize = 128, { forgetBias = null } = {}) {
    super();
    this.lstm = new nn.LSTM(28, hiddenSize, { batchFirst: true });
    this.head = new nn.Linear(hiddenSize, 10);
    // Gate order i, f, g, o: rows [H, 2H) of the bias are the forget gate's.
    if (forgetBias !== null) this.lstm.bias_ih_l0.data.fill(forgetBias, hiddenSize, 2 * hiddenSize);
  }

  /**
   * @param {import('rnnkit').Tensor} images  [B, 28 rows (steps), 28 pixels (features)]
   * @returns {import('rnnkit').Tensor}  logits [B, 10]
   */
  forward(images) {
    const [, [hN]] = this.lstm.forward(images); // hN [1 layer, B, H]: the state after the last row
    return this.head.forward(hN.select(0, 0));
  }
}
