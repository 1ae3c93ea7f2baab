#!/usr/bin/python3
"""Step 3 of the fine-tuning example: load the model rnnkit fine-tuned back into PyTorch.

Reads --dir/finetuned.safetensors (written by `node examples/fine-tuning/main.js`) into
torch_common.DigitLSTM with load_state_dict (strict: same names and shapes), then checks
  - PyTorch's logits on the probe batch equal rnnkit's (finetuned_probe.safetensors) within 1e-4,
  - the frozen first LSTM layer is bitwise PyTorch's original (model.safetensors),
  - PyTorch's accuracy on the test images of digits 5-9 is the one rnnkit reported.
Exits non-zero when a check fails.

    /usr/bin/python3 examples/fine-tuning/check_torch.py [--dir examples/fine-tuning/output]
"""
import argparse
import os
import sys

import torch

from torch_common import HERE, DigitLSTM, load_split, max_abs_diff, read_safetensors

LOGIT_TOLERANCE = 1e-4  # float32, 28 steps x 2 layers, different GEMMs: measured ~1e-6


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", default=os.path.join(HERE, "output"))
    args = parser.parse_args()
    torch.set_num_threads(1)

    weights, metadata = read_safetensors(os.path.join(args.dir, "finetuned.safetensors"))
    model = DigitLSTM()
    model.load_state_dict(weights)  # strict: a missing, unexpected or misshapen tensor raises
    model.eval()
    print(f"PyTorch {torch.__version__} loaded {len(weights)} tensors from finetuned.safetensors "
          f"(fine-tuning: {(metadata or {}).get('fineTuning', '?')})")

    probe, _ = read_safetensors(os.path.join(args.dir, "finetuned_probe.safetensors"))
    with torch.no_grad():
        logits = model(probe["images"])
    diff = max_abs_diff(logits, probe["logits"])
    same_class = torch.equal(logits.argmax(1), probe["logits"].argmax(1))
    print(f"probe batch ({len(logits)} images): max |PyTorch - rnnkit| logit difference {diff:.2e} "
          f"(tolerance {LOGIT_TOLERANCE}), same predicted class: {same_class}")

    original, _ = read_safetensors(os.path.join(args.dir, "model.safetensors"))
    frozen = [name for name in original if name.startswith("lstm.") and name.endswith("_l0")]
    frozen_same = all(torch.equal(weights[name], original[name]) for name in frozen)
    print(f"frozen layer ({', '.join(frozen)}) bitwise equal to PyTorch's original: {frozen_same}")

    test_x, test_y = load_split(range(5, 10))["test"]
    with torch.no_grad():
        accuracy = (model(test_x).argmax(1) == test_y).float().mean().item()
    reported = float((metadata or {}).get("testAccuracyDigits5to9", "nan"))
    print(f"PyTorch's accuracy on the {len(test_y)} test images of digits 5-9: {100 * accuracy:.2f} % "
          f"(rnnkit reported {100 * reported:.2f} %)")

    ok = diff <= LOGIT_TOLERANCE and same_class and frozen_same and abs(accuracy - reported) < 1.5 / len(test_y)
    print("OK: PyTorch reproduces rnnkit's fine-tuned model" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
