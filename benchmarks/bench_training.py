"""Time one training epoch of ShallowReLUTrainer against a plain PyTorch loop.

Both train the same network on moons (n = 1000) with Adam: reluscape through
its trainer (which also evaluates train and test loss and accuracy after every
epoch), the plain loop through nn.Sequential with no per-epoch evaluation.
The ratio shows what the trainer's bookkeeping costs.

Run by hand:  python benchmarks/bench_training.py [--epochs 200] [--threads 2]
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from _machine import describe_command, describe_machine
from reluscape import ShallowReLU, ShallowReLUTrainer, SyntheticDatasetBuilder


def time_reluscape(data, width: int, epochs: int, batch_size: int | None) -> float:
    model = ShallowReLU(2, width, seed=0)
    trainer = ShallowReLUTrainer(model, data, optimizer="adam", epochs=epochs, batch_size=batch_size, seed=0)
    started = time.perf_counter()
    trainer.fit()
    return (time.perf_counter() - started) / epochs


def time_plain_loop(data, width: int, epochs: int, batch_size: int | None) -> float:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, width), nn.ReLU(), nn.Linear(width, 1))
    optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
    loss_fn = nn.BCEWithLogitsLoss()
    X, y = data.X_train, data.y_train.float()
    n = len(X)
    generator = torch.Generator().manual_seed(0)
    started = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator) if batch_size else torch.arange(n)
        size = batch_size or n
        for indices in torch.split(order, size):
            optimizer.zero_grad()
            loss = loss_fn(net(X[indices])[:, 0], y[indices])
            loss.backward()
            optimizer.step()
    return (time.perf_counter() - started) / epochs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats; the fastest is reported")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    print(describe_machine())
    print(describe_command())
    data = SyntheticDatasetBuilder(1000, noise=0.1, seed=0).moons()
    print(f"{'width':>6} {'batch':>6} {'reluscape ms/epoch':>19} {'plain loop ms/epoch':>20} {'ratio':>6}")
    for width in (16, 128, 1024):
        for batch_size in (None, 64):
            ours = min(time_reluscape(data, width, args.epochs, batch_size) for _ in range(args.repeats))
            plain = min(time_plain_loop(data, width, args.epochs, batch_size) for _ in range(args.repeats))
            label = "full" if batch_size is None else str(batch_size)
            print(f"{width:>6} {label:>6} {ours * 1e3:>19.3f} {plain * 1e3:>20.3f} {ours / plain:>6.2f}")


if __name__ == "__main__":
    main()
