"""Loss-surface throughput: reluscape against loss-landscapes and a copy-into-model loop.

All three evaluate the training loss (binary cross-entropy) of the same float32
network on a 51 × 51 grid of a filter-normalised random plane, on moons with
n = 1000 training samples:

* reluscape: ``LossSurfaceVisualizer.random_plane`` (piecewise method, no
  score), timed over the whole call (direction draw included);
* loss-landscapes: ``loss_landscapes.random_plane`` with a ``Loss`` metric;
* plain loop: for each grid point, copy θ₀ + α·u + β·v into the module with
  ``vector_to_parameters`` and run a forward pass (the method of the original
  loss-landscape code).

Each figure is the fastest of ``--repeats`` runs. The "share of peak" column
divides reluscape's effective FLOP rate, points/s times the FLOPs of one
dense forward pass (2·n·m·(d + k) multiply-adds plus n·m bias additions), by
the measured rate of a 2048 × 2048 float32 matrix product. The piecewise
method does fewer FLOPs than a dense pass, so this share is a throughput
comparison, not a hardware utilisation.

reluscape compiles nothing, so there is no one-time compilation cost to report.

The networks use the ``"pytorch"`` initialisation because loss-landscapes
3.0.6 divides by zero when an output bias is exactly 0 (the default
``"kaiming"`` initialisation sets c = 0).

Run by hand from the repository root:
    PYTHONPATH=$PWD/src /work/peers/bin/python benchmarks/bench_loss_surface.py [--threads 2]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from _machine import describe_command, describe_machine
from reluscape import LossSurfaceVisualizer, ShallowReLU, SyntheticDatasetBuilder, TaskLoss


def fastest(function, repeats: int) -> float:
    """Return the fastest wall time of ``repeats`` calls, in seconds."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times)


def peak_matmul_flops(repeats: int) -> float:
    a = torch.randn(2048, 2048)
    b = torch.randn(2048, 2048)
    torch.mm(a, b)
    seconds = fastest(lambda: torch.mm(a, b), repeats + 2)
    return 2 * 2048**3 / seconds


def forward_flops(n: int, d: int, m: int, k: int) -> int:
    return 2 * n * m * (d + k) + n * m


def run_reluscape(model, data, resolution: int):
    visualizer = LossSurfaceVisualizer(model, data)
    return lambda: visualizer.random_plane(resolution=resolution, seed=0, compute_score=False)


def run_loss_landscapes(model, data, resolution: int):
    import loss_landscapes
    from loss_landscapes.metrics import Loss

    loss = TaskLoss("binary")
    metric = Loss(lambda outputs, targets: loss(outputs, targets), data.X_train, data.y_train)

    def evaluate():
        with torch.no_grad():
            loss_landscapes.random_plane(
                model, metric, distance=1, steps=resolution, normalization="filter", deepcopy_model=True
            )

    return evaluate


def run_plain_loop(model, data, resolution: int):
    loss = TaskLoss("binary")
    copy = ShallowReLU(model.in_features, model.width, model.out_features, seed=0)
    center = model.flat_parameters()
    generator = torch.Generator().manual_seed(0)
    u = torch.randn(center.shape, generator=generator)
    v = torch.randn(center.shape, generator=generator)
    coordinates = torch.linspace(-1.0, 1.0, resolution)

    def evaluate():
        values = torch.empty(resolution, resolution)
        with torch.no_grad():
            for row, beta in enumerate(coordinates):
                for column, alpha in enumerate(coordinates):
                    torch.nn.utils.vector_to_parameters(center + alpha * u + beta * v, copy.parameters())
                    values[row, column] = loss(copy(data.X_train), data.y_train).item()
        return values

    return evaluate


def peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", type=int, nargs="+", default=[16, 128, 1024])
    parser.add_argument("--resolution", type=int, default=51, help="grid points per axis")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--skip-peers", action="store_true", help="time reluscape only")
    parser.add_argument("--large-resolution", type=int, default=201, help="grid of the memory check at width 128")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    print(describe_machine())
    print(describe_command())
    data = SyntheticDatasetBuilder(1250, test_size=0.2, seed=0).moons()
    n = data.n_train
    points = args.resolution**2
    peak = peak_matmul_flops(args.repeats)
    print(f"moons n = {n}, grid {args.resolution} x {args.resolution}, peak float32 matmul {peak / 1e9:.1f} GFLOP/s")
    print()
    print("| width | reluscape pts/s | loss-landscapes pts/s | plain loop pts/s | vs loss-landscapes | vs plain loop | share of peak |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for width in args.widths:
        model = ShallowReLU(2, width, init="pytorch", seed=0)
        ours = points / fastest(run_reluscape(model, data, args.resolution), args.repeats)
        share = ours * forward_flops(n, 2, width, 1) / peak
        if args.skip_peers:
            print(f"| {width} | {ours:,.0f} | - | - | - | - | {share:.1%} |")
            continue
        peer = points / fastest(run_loss_landscapes(model, data, args.resolution), args.repeats)
        plain = points / fastest(run_plain_loop(model, data, args.resolution), args.repeats)
        print(
            f"| {width} | {ours:,.0f} | {peer:,.0f} | {plain:,.0f} | {ours / peer:.1f}x | {ours / plain:.1f}x | {share:.1%} |"
        )

    print()
    resolution = args.large_resolution
    model = ShallowReLU(2, 128, init="pytorch", seed=0)
    visualizer = LossSurfaceVisualizer(model, data)
    resettable = reset_peak_rss()
    before = peak_rss_mib()
    started = time.perf_counter()
    visualizer.random_plane(resolution=resolution, seed=0, compute_score=False)
    seconds = time.perf_counter() - started
    growth = peak_rss_mib() - before
    memory = f"peak RSS grew by {growth:.0f} MiB" if resettable else "peak RSS not measurable here"
    print(
        f"{resolution} x {resolution} grid at width 128: {seconds:.2f} s ({resolution**2 / seconds:,.0f} pts/s), "
        f"{memory} (max_memory budget {visualizer.max_memory / 2**20:.0f} MiB per chunk)"
    )


if __name__ == "__main__":
    main()
