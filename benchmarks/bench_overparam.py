"""Benchmark: a width sweep with OverparamExperiment against a plain PyTorch loop.

Workload: 8 widths (2, 4, ..., 256) x 4 seeds, 2000 full-batch SGD steps
(lr 0.5) on moons with n = 1000 samples (750 for training), float32, torch
threads = 2. The reference trains the same 32 networks one after another in
a plain loop (nn.Sequential, BCEWithLogitsLoss, torch.optim.SGD) from the
same initial weights. With n_jobs > 1 each worker process uses
cpu_count // n_jobs threads instead. OverparamExperiment does more work per step than the
loop: it also evaluates the test loss and both accuracies after every epoch
and the final gradient norm, as ShallowReLUTrainer records them.

Run from the repository root:

    PYTHONPATH=$PWD/src python benchmarks/bench_overparam.py [--steps 2000] [--repeats 1] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import numpy as np
import torch
from torch import nn

from reluscape import OverparamExperiment, ShallowReLU, SyntheticDatasetBuilder

WIDTHS = (2, 4, 8, 16, 32, 64, 128, 256)
SEEDS = (0, 1, 2, 3)
LR = 0.5


def plain_loop(data, steps: int) -> tuple[float, dict[tuple[int, int], float]]:
    """Train the 32 networks one after another; return seconds and final train losses."""
    X, y = data.X_train, data.y_train.float()
    final = {}
    start = time.perf_counter()
    for width in WIDTHS:
        for seed in SEEDS:
            init = ShallowReLU(2, width, seed=seed)
            model = nn.Sequential(nn.Linear(2, width), nn.ReLU(), nn.Linear(width, 1))
            model.load_state_dict({"0.weight": init.hidden.weight, "0.bias": init.hidden.bias,
                                   "2.weight": init.output.weight, "2.bias": init.output.bias})  # fmt: skip
            optimizer = torch.optim.SGD(model.parameters(), lr=LR)
            criterion = nn.BCEWithLogitsLoss()
            for _ in range(steps):
                optimizer.zero_grad()
                loss = criterion(model(X).squeeze(-1), y)
                loss.backward()
                optimizer.step()
            with torch.no_grad():
                final[(width, seed)] = float(criterion(model(X).squeeze(-1), y))
    return time.perf_counter() - start, final


def reluscape_sweep(data, steps: int, n_jobs: int) -> tuple[float, dict[tuple[int, int], float]]:
    start = time.perf_counter()
    frame = OverparamExperiment(data, WIDTHS, seeds=SEEDS, optimizer="sgd", lr=LR, epochs=steps, n_jobs=n_jobs).run()
    elapsed = time.perf_counter() - start
    return elapsed, {(int(w), int(s)): float(loss) for w, s, loss in frame[["width", "seed", "train_loss"]].values}


def max_difference(left: dict, right: dict) -> float:
    return max(abs(left[key] - right[key]) for key in left)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000, help="full-batch SGD steps per network")
    parser.add_argument("--repeats", type=int, default=1, help="timed repetitions of each method; the minimum is kept")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="values of OverparamExperiment(n_jobs=...) to time")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads of this process")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    data = SyntheticDatasetBuilder(1000, seed=0).moons()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}, torch {torch.__version__}, threads {torch.get_num_threads()}")  # fmt: skip
    print(f"command: {' '.join(sys.argv)}")
    print(f"workload: widths {WIDTHS} x seeds {SEEDS}, {args.steps} full-batch SGD steps, n_train = {data.n_train}")

    times = {}
    plain_time, plain_final = min((plain_loop(data, args.steps) for _ in range(args.repeats)), key=lambda r: r[0])
    times["plain PyTorch loop"] = plain_time
    finals = {}
    for n_jobs in args.jobs:
        label = f"OverparamExperiment n_jobs={n_jobs}"
        elapsed, final = min((reluscape_sweep(data, args.steps, n_jobs) for _ in range(args.repeats)), key=lambda r: r[0])
        times[label] = elapsed
        finals[label] = final

    print(f"{'method':<36}{'seconds':>10}{'speed-up':>10}{'max |final loss diff|':>24}")
    for label, elapsed in times.items():
        difference = 0.0 if label not in finals else max_difference(finals[label], plain_final)
        print(f"{label:<36}{elapsed:>10.2f}{plain_time / elapsed:>9.2f}x{difference:>24.2e}")
    losses = np.array([plain_final[key] for key in sorted(plain_final)])
    print(f"final train losses of the plain loop: min {losses.min():.4f}, max {losses.max():.4f}")


if __name__ == "__main__":
    main()
