"""PyTorch side of `npm run bench:kernels`: one config, one mode, one process.

Spawned by bench/kernels.js (run with /usr/bin/python3, which has torch 1.13). Speaks the line
protocol of bench/child.js (as bench/ours.js) so the driver can interleave the peers burst by burst;
bench/train_torch.py imports its builder, thread setup and protocol loop.

Modes (same work as bench/ours.js):
  train  out, _ = m(x); loss = mse(out, target); loss.backward()   (grads zeroed every iteration)
  infer  with torch.no_grad(): out, _ = m(x)
"""

import argparse
import ctypes
import json
import re
import sys
import time

import torch
import torch.nn.functional as F

CELLS = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}


def child_parser(description, modes):
    """The flags every PyTorch child takes (the same as bench/child.js readChildArgs)."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--cell", choices=sorted(CELLS), required=True)
    p.add_argument("--input", type=int, required=True)   # I
    p.add_argument("--hidden", type=int, required=True)  # H
    p.add_argument("--batch", type=int, required=True)   # B
    p.add_argument("--steps", type=int, required=True)   # T
    p.add_argument("--mode", choices=modes, required=True)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--threads", default="default",
                   help="n: torch.set_num_threads(n) and OpenBLAS's n threads; 'default': leave both")
    return p


def parse_args():
    return child_parser(__doc__.splitlines()[0], ["train", "infer"]).parse_args()


def openblas():
    try:
        return ctypes.CDLL("libopenblas.so.0")
    except OSError:
        return None


def openblas_threads():
    """Threads of the OpenBLAS behind Debian's torch (libblas.so.3 -> openblas-pthread), or None.

    Debian's torch is built with BLAS=generic, so torch.set_num_threads() does not reach OpenBLAS:
    its GEMMs use OpenBLAS's own default (all cores) whatever torch.get_num_threads() says.
    """
    lib = openblas()
    return lib.openblas_get_num_threads() if lib and hasattr(lib, "openblas_get_num_threads") else None


def cpu_capability():
    """The SIMD level ATen's own kernels dispatch to (1.13 has no public getter; parse the config)."""
    match = re.search(r"CPU capability usage: (\S+)", torch.__config__.show())
    return match.group(1) if match else None


def build(args):
    torch.manual_seed(args.seed)
    # Default nn init = U(-1/sqrt(H), 1/sqrt(H)) for every parameter, as on our side.
    module = CELLS[args.cell](args.input, args.hidden)  # time-major: x [T, B, I]
    x = torch.rand(args.steps, args.batch, args.input) * 2 - 1         # U(-1, 1)
    target = torch.rand(args.steps, args.batch, args.hidden) * 2 - 1   # U(-1, 1)
    return module, x, target


def make_step(args, module, x, target):
    if args.mode == "train":
        module.train()

        def step():
            module.zero_grad()  # set_to_none=False in 1.13: zero-fill, like ours
            out, _ = module(x)
            loss = F.mse_loss(out, target)
            loss.backward()
    else:
        module.eval()

        def step():
            with torch.no_grad():
                module(x)
    return step


def configure_threads(threads):
    """Applies --threads ('default' leaves torch's and OpenBLAS's own); returns the peer's info."""
    default_threads = torch.get_num_threads()
    if threads != "default":
        torch.set_num_threads(int(threads))
        lib = openblas()
        if lib and hasattr(lib, "openblas_set_num_threads"):
            lib.openblas_set_num_threads(int(threads))
    return {
        "framework": "pytorch",
        "version": torch.__version__,
        "threads": torch.get_num_threads(),
        "defaultThreads": default_threads,
        "openblasThreads": openblas_threads(),
        "cpuCapability": cpu_capability(),
    }


def serve(step, info, inner=1):
    """Says "ready" with info, then answers `run <timed> <warm>` until `quit` (bench/child.js)."""
    print(json.dumps({"event": "ready", "info": info}), flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "quit":
            return
        if words[0] != "run":
            raise SystemExit(f"{sys.argv[0]}: unknown command {line!r}")
        timed, warm = int(words[1]), int(words[2])
        warm_times = [sample_ms(step, inner) for _ in range(warm)]
        times = [sample_ms(step, inner) for _ in range(timed)]
        print(json.dumps({"event": "times", "ms": times, "warmMs": warm_times}), flush=True)


def sample_ms(step, inner):
    """Wall time of `inner` calls of step, divided by inner (a µs step is timed over many calls)."""
    start = time.perf_counter()
    for _ in range(inner):
        step()
    return (time.perf_counter() - start) * 1e3 / inner


def main():
    args = parse_args()
    info = configure_threads(args.threads)
    module, x, target = build(args)
    serve(make_step(args, module, x, target), info)


if __name__ == "__main__":
    main()
