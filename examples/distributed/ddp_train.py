#!/usr/bin/python3
"""Continues training an rnnkit model with PyTorch's DistributedDataParallel: WORLD processes on
this machine (gloo backend, rendezvous on 127.0.0.1), each on its shard of the training windows.

Reads from --dir what examples/distributed/main.js wrote:
  weights.safetensors  the rnnkit model's weights under PyTorch's names (rnn.weight_ih_l0, ..., head.bias)
                       and its configuration as metadata
  data.safetensors     the training windows: inputs [N, window, features], targets [N, channels]
  probe.safetensors    a batch of windows and rnnkit's predictions for them
Writes to --dir:
  ddp.safetensors      the trained weights (rank 0's; every rank's are checked identical first)
  ddp_probe.safetensors  PyTorch's predictions for the probe batch with those weights

Run by main.js as /usr/bin/python3 examples/distributed/ddp_train.py --dir DIR [--world 2] [--epochs 2]
"""
import argparse
import json
import os
import sys

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

# The plain safetensors reader/writer of the fine-tuning example (no `safetensors` package needed).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fine-tuning"))
from torch_common import read_safetensors, write_safetensors  # noqa: E402


class Forecaster(nn.Module):
    """rnnkit's forecast.Forecaster in torch.nn: LSTM or GRU (batch first) -> Linear on the last step,
    with the same parameter names."""

    def __init__(self, config):
        super().__init__()
        features = config["channels"] + config["covariates"]
        cell = nn.LSTM if config["cell"] == "lstm" else nn.GRU
        self.rnn = cell(features, config["hiddenSize"], num_layers=config["numLayers"], batch_first=True)
        self.head = nn.Linear(config["hiddenSize"], config["channels"])

    def forward(self, x):
        output, _ = self.rnn(x)
        return self.head(output[:, -1])


def load_model(directory):
    """The Forecaster with rnnkit's weights (strict: every name and shape must match)."""
    tensors, metadata = read_safetensors(os.path.join(directory, "weights.safetensors"))
    model = Forecaster(json.loads(metadata["config"]))
    model.load_state_dict(tensors, strict=True)
    return model


def rank_main(rank, world, args):
    torch.set_num_threads(1)  # one core per process
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{args.port}", rank=rank, world_size=world)
    torch.manual_seed(args.seed)
    model = load_model(args.dir)
    probe, _ = read_safetensors(os.path.join(args.dir, "probe.safetensors"))
    if rank == 0:
        with torch.no_grad():
            gap = (model(probe["inputs"]) - probe["rnnkit"]).abs().max().item()
        print(f"rank 0: PyTorch on rnnkit's weights predicts the probe batch as rnnkit did (max |difference| {gap:.2e})")
        if gap > 1e-4:
            raise SystemExit("the weights did not cross over: PyTorch's predictions differ from rnnkit's")
    data, _ = read_safetensors(os.path.join(args.dir, "data.safetensors"))
    dataset = TensorDataset(data["inputs"], data["targets"])
    sampler = DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=True, seed=args.seed)
    loader = DataLoader(dataset, batch_size=args.batch_size, sampler=sampler)
    ddp = DistributedDataParallel(model)  # averages the gradients over the ranks (gloo all-reduce)
    optimizer = torch.optim.Adam(ddp.parameters(), lr=args.lr)
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        total = torch.zeros(2)
        for inputs, targets in loader:
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(ddp(inputs), targets)
            loss.backward()
            nn.utils.clip_grad_norm_(ddp.parameters(), 1.0)
            optimizer.step()
            total += torch.tensor([loss.item() * len(inputs), len(inputs)])
        dist.all_reduce(total)
        if rank == 0:
            print(f"DDP epoch {epoch + 1}: loss {total[0] / total[1]:.4f} over {int(total[1])} windows on {world} processes")
    # Every replica must hold the same weights: DDP keeps them in step, this checks it.
    flat = torch.cat([p.detach().flatten() for p in model.parameters()])
    replicas = [torch.empty_like(flat) for _ in range(world)]
    dist.all_gather(replicas, flat)
    if rank == 0:
        if not all(torch.equal(replica, flat) for replica in replicas):
            raise SystemExit("the DDP replicas disagree")
        print(f"rank 0: all {world} replicas hold identical weights")
        with torch.no_grad():
            predictions = model(probe["inputs"])
        write_safetensors(os.path.join(args.dir, "ddp.safetensors"), model.state_dict(), {"trainer": f"torch {torch.__version__} DDP x{world}"})
        write_safetensors(os.path.join(args.dir, "ddp_probe.safetensors"), {"torch": predictions})
    dist.destroy_process_group()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", required=True)
    parser.add_argument("--world", type=int, default=2, help="processes (default 2)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32, help="windows per process per step")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--port", type=int, default=29517, help="rendezvous port on 127.0.0.1")
    args = parser.parse_args()
    mp.spawn(rank_main, args=(args.world, args), nprocs=args.world, join=True)


if __name__ == "__main__":
    main()
