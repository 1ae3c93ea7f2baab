"""PyTorch side of `npm run bench` (bench/train.js): one config, one mode, one process.

Run with /usr/bin/python3 (torch 1.13); speaks the line protocol of bench/child.js, like
bench/torch_kernels.py, whose module/data builder, thread setup and protocol loop it reuses.

Modes (the same work as bench/train_ours.js --api model):
  train   out, _ = m(x); F.mse_loss(out, target).backward(); adam.step(); adam.zero_grad()
  infer   m.eval(); with torch.no_grad(): m(x)
  stream  m.eval(); with torch.no_grad(): _, state = m(x1, state)  (state carried step to step)
"""

# torch_kernels first: it sets OpenBLAS's kernels (bench/openblas.py) before torch loads the library.
from torch_kernels import build, child_parser, configure_threads, serve

import torch  # noqa: E402  (isort: skip)
import torch.nn.functional as F  # noqa: E402


def parse_args():
    p = child_parser(__doc__.splitlines()[0], ["train", "infer", "stream"])
    p.add_argument("--inner", type=int, default=1, help="steps per timed sample (the sample is their mean)")
    return p.parse_args()


def make_step(args, module, x, target):
    if args.mode == "train":
        module.train()
        adam = torch.optim.Adam(module.parameters())  # 1.13 defaults (lr 1e-3, for-loop implementation)

        def step():
            out, _ = module(x)
            F.mse_loss(out, target).backward()
            adam.step()
            adam.zero_grad()  # set_to_none=False in 1.13: zero-fill, like ours
        return step

    module.eval()
    if args.mode == "infer":
        def step():
            with torch.no_grad():
                module(x)
        return step

    state = None  # zeros on the first step, then the previous step's final state

    def step():
        nonlocal state
        with torch.no_grad():
            _, state = module(x, state)
    return step


def main():
    args = parse_args()
    info = configure_threads(args.threads)
    module, x, target = build(args)
    serve(make_step(args, module, x, target), info, args.inner)


if __name__ == "__main__":
    main()
