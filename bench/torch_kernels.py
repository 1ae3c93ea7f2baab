"""PyTorch side of `npm run bench:kernels`: one config, one mode, one process.

Spawned by bench/kernels.js (run with /usr/bin/python3, which has torch 1.13). Speaks the line
protocol of bench/child.js (as bench/ours.js) so the driver can interleave the peers burst by burst;
bench/train_torch.py imports its builder, thread setup and protocol loop.

Modes (same work as bench/ours.js):
  train  out, _ = m(x); loss = mse(out, target); loss.backward()   (grads zeroed every iteration)
  infer  with torch.no_grad(): out, _ = m(x)
"""

import argparse
import json
import os
import re
import resource
import sys
import time

import openblas

openblas.choose_fair_kernels()  # before torch loads OpenBLAS (no-op under the drivers, which set it)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

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


def fail(message):
    """Reports message to the driver and exits (bench/child.js fail)."""
    print(json.dumps({"event": "error", "message": message}), flush=True)
    raise SystemExit(1)


def configure_threads(threads):
    """Applies --threads ('default' leaves torch's and OpenBLAS's own); returns the peer's info, with
    the kernels each part runs: OpenBLAS's core type (its GEMMs) and ATen's CPU capability (its own
    kernels), as the driver's environment asked for (bench/isa.js) - a mismatch fails."""
    mismatch = openblas.coretype_mismatch()
    if mismatch:
        fail(mismatch)
    default_threads = torch.get_num_threads()
    if threads != "default":
        torch.set_num_threads(int(threads))
        openblas.set_threads(int(threads))
    return {
        "framework": "pytorch",
        "version": torch.__version__,
        "threads": torch.get_num_threads(),
        "defaultThreads": default_threads,
        "openblasThreads": openblas.threads(),
        "openblasCore": openblas.corename(),
        "openblasCoretypeEnv": os.environ.get("OPENBLAS_CORETYPE"),
        "cpuCapability": cpu_capability(),
        "atenCpuCapabilityEnv": os.environ.get("ATEN_CPU_CAPABILITY"),
    }


def peak_rss_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KB on Linux


def minor_faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def serve(step, info, inner=1):
    """Runs step once (as bench/child.js announce does), says "ready" with info, then answers
    `run <timed> <warm>` until `quit`, with the faults per step and the peak RSS (bench/child.js)."""
    info = {**info, "startRssKB": peak_rss_kb()}
    try:
        step()
    except Exception as err:  # noqa: BLE001 - any failure of the step is reported to the driver
        fail(f"first step failed: {err!r}")
    steps = 1  # calls of step so far
    print(json.dumps({"event": "ready", "info": info}), flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "quit":
            return
        if words[0] != "run":
            fail(f"unknown command {line!r}")
        timed, warm = int(words[1]), int(words[2])
        warm_times = [sample(step, inner)[0] for _ in range(warm)]
        samples = [sample(step, inner) for _ in range(timed)]
        steps += (warm + timed) * inner
        print(json.dumps({"event": "times", "ms": [ms for ms, _ in samples], "warmMs": warm_times,
                          "faults": [faults for _, faults in samples], "maxRssKB": peak_rss_kb(),
                          "steps": steps}), flush=True)


def sample(step, inner):
    """Wall time in ms of `inner` calls of step, divided by inner (a µs step is timed over many
    calls), and the minor page faults per call (counted outside the timing)."""
    faults = minor_faults()
    start = time.perf_counter()
    for _ in range(inner):
        step()
    ms = (time.perf_counter() - start) * 1e3 / inner
    return ms, (minor_faults() - faults) / inner


def main():
    args = parse_args()
    info = configure_threads(args.threads)
    module, x, target = build(args)
    serve(make_step(args, module, x, target), info)


if __name__ == "__main__":
    main()
