"""Time the activation-region analysis: grid patterns, exact count and exact polygons.

For widths 16, 128 and 1024 (kaiming networks on a moons box), and for one
network whose lines meet many times three or more at a point, it times

* the grid: patterns of a 500 × 500 grid and their distinct count
  (``count_grid_regions``), reluscape's
  row encoding against evaluating every grid point and running
  ``torch.unique(dim=0)`` on the bit-packed patterns;
* the exact count inside the box, against counting shapely's polygonize cells
  (only where shapely is installed, and only up to --shapely-max-width);
* all exact polygons with patterns and affine maps, against shapely's
  noding and polygonize (same condition).

The network with many concurrent lines (``degenerate_network``) gets the
count and the polygons only, against shapely whenever it is installed.

Every comparison also checks that both routes give the same count.

Run by hand:  python benchmarks/bench_regions.py [--threads 2] [--repeats 3] [--shapely-max-width 128]
              [--widths 16 128 1024]
"""

from __future__ import annotations

import argparse
import time
from functools import partial

import numpy as np
import torch

from _machine import describe_command, describe_machine
from reluscape import ActivationPatternVisualizer, ShallowParams, ShallowReLU, SyntheticDatasetBuilder

try:
    import shapely
    from shapely.geometry import LineString, box
except ImportError:  # the peer venv has no shapely
    shapely = None


def fastest(function, repeats: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - started)
    return best, result


def grid_by_unique(W: torch.Tensor, b: torch.Tensor, bounds, resolution: int, chunk: int = 25_000) -> int:
    """Baseline: evaluate every grid point, pack its bits into int64 words, then torch.unique(dim=0)."""
    xs = torch.linspace(bounds[0], bounds[1], resolution, dtype=torch.float64)
    ys = torch.linspace(bounds[2], bounds[3], resolution, dtype=torch.float64)
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    points = torch.stack([grid_x.reshape(-1), grid_y.reshape(-1)], dim=1)
    m = W.shape[0]
    n_words = (m + 62) // 63
    padded = n_words * 63
    weights = (2 ** torch.arange(63, dtype=torch.int64)).repeat(n_words)[:padded].reshape(n_words, 63)
    words = []
    for start in range(0, len(points), chunk):
        bits = (points[start : start + chunk] @ W.T + b) > 0  # (chunk, m)
        bits = torch.nn.functional.pad(bits, (0, padded - m)).reshape(-1, n_words, 63).long()
        words.append((bits * weights).sum(dim=-1))  # (chunk, n_words)
    return len(torch.unique(torch.cat(words), dim=0))


def shapely_cells(W: np.ndarray, b: np.ndarray, bounds) -> list:
    x0, x1, y0, y1 = bounds
    frame = box(x0, y0, x1, y1)
    far = 10.0 * max(map(abs, bounds)) + 10.0
    pieces = [frame.exterior]
    for (w0, w1), offset in zip(W, b):
        if w0 == 0 and w1 == 0:  # a dead neuron has no line
            continue
        if abs(w1) >= abs(w0):
            xs = np.array([-far, far])
            ys = -(w0 * xs + offset) / w1
        else:
            ys = np.array([-far, far])
            xs = -(w1 * ys + offset) / w0
        pieces.append(LineString(np.column_stack([xs, ys])).intersection(frame))
    return list(shapely.get_parts(shapely.polygonize([shapely.unary_union(pieces)])))


def degenerate_network(seed: int = 0) -> ShallowParams:
    """Build a network whose lines often meet three or more at one point.

    It has 300 lines through the origin, 300 lines with small integer weights
    and offsets in eighths, which meet at many shared rational points, and 50
    dead neurons (w = 0).
    """
    rng = np.random.default_rng(seed)
    through_origin = np.column_stack([rng.integers(1, 51, 300), rng.integers(-50, 51, 300)])
    small_integers = np.column_stack([rng.integers(1, 10, 300), rng.integers(-9, 10, 300)])
    W = np.concatenate([through_origin, small_integers, np.zeros((50, 2))]).astype(np.float64)
    b = np.concatenate([np.zeros(300), rng.integers(-20, 21, 300) / 8, np.ones(50)])
    m = len(b)
    a, c = torch.ones(1, m, dtype=torch.float64), torch.zeros(1, dtype=torch.float64)
    return ShallowParams(torch.from_numpy(W), torch.from_numpy(b), a, c)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats; the fastest is reported")
    parser.add_argument("--resolution", type=int, default=500)
    parser.add_argument("--shapely-max-width", type=int, default=128)
    parser.add_argument("--widths", type=int, nargs="+", default=[16, 128, 1024], help="hidden widths to time")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    print(describe_machine())
    print(describe_command())
    data = SyntheticDatasetBuilder(1000, noise=0.1, seed=0).moons()
    print(f"shapely {'not installed: its columns are skipped' if shapely is None else shapely.__version__}")
    header = (
        f"{'width':>6} {'task':>9} {'reluscape ms':>13} {'baseline ms':>12} {'ratio':>7} "
        f"{'count':>9} {'baseline count':>15}"
    )
    print(header)
    for width in args.widths:
        model = ShallowReLU(2, width, seed=0)
        viz = ActivationPatternVisualizer(model, dataset=data, resolution=args.resolution)
        params = model.params(dtype=torch.float64)
        W_np, b_np = params.W.numpy(), params.b.numpy()

        grid_time, grid_count = fastest(viz.count_grid_regions, args.repeats)
        base_time, base_count = fastest(
            partial(grid_by_unique, params.W, params.b, viz.bounds, args.resolution), args.repeats
        )
        print(
            f"{width:>6} {'grid':>9} {grid_time * 1e3:>13.1f} {base_time * 1e3:>12.1f} {base_time / grid_time:>7.2f} "
            f"{grid_count:>9} {base_count:>15}"
        )

        count_time, count = fastest(viz.count_regions, max(args.repeats, 5))
        # One run at width 1024: its polygons take seconds, so repeats add little.
        polygon_repeats = 1 if width >= 1024 else args.repeats
        polygon_time, regions = fastest(partial(viz.compute, grid=False, polygons=True), polygon_repeats)
        if shapely is not None and width <= args.shapely_max_width:
            cells_time, cells = fastest(partial(shapely_cells, W_np, b_np, viz.bounds), args.repeats)
            cells_text = (f"{cells_time * 1e3:>12.1f}", f"{cells_time / count_time:>7.2f}", f"{len(cells):>15}")
            polygon_ratio = f"{cells_time / polygon_time:>7.2f}"
        else:
            cells_text = (f"{'-':>12}", f"{'-':>7}", f"{'-':>15}")
            polygon_ratio = f"{'-':>7}"
        print(f"{width:>6} {'count':>9} {count_time * 1e3:>13.1f} {cells_text[0]} {cells_text[1]} {count:>9} {cells_text[2]}")
        print(
            f"{width:>6} {'polygons':>9} {polygon_time * 1e3:>13.1f} {cells_text[0]} {polygon_ratio} "
            f"{len(regions.areas):>9} {cells_text[2]}"
        )

    # Many vertices of three or more lines: the merge and closure paths dominate here.
    params = degenerate_network()
    bounds = (-2.0, 2.0, -2.0, 2.0)
    viz = ActivationPatternVisualizer(params, bounds=bounds, resolution=args.resolution)
    count_time, count = fastest(viz.count_regions, args.repeats)
    polygon_time, regions = fastest(partial(viz.compute, grid=False, polygons=True), args.repeats)
    if shapely is not None:
        cells_time, cells = fastest(partial(shapely_cells, params.W.numpy(), params.b.numpy(), bounds), 1)
        cells_text = (f"{cells_time * 1e3:>12.1f}", f"{cells_time / count_time:>7.2f}", f"{len(cells):>15}")
        polygon_ratio = f"{cells_time / polygon_time:>7.2f}"
    else:
        cells_text = (f"{'-':>12}", f"{'-':>7}", f"{'-':>15}")
        polygon_ratio = f"{'-':>7}"
    print(
        f"{'650*':>6} {'count':>9} {count_time * 1e3:>13.1f} {cells_text[0]} {cells_text[1]} {count:>9} "
        f"{cells_text[2]}"
    )
    print(
        f"{'650*':>6} {'polygons':>9} {polygon_time * 1e3:>13.1f} {cells_text[0]} {polygon_ratio} "
        f"{len(regions.areas):>9} {cells_text[2]}"
    )
    print("650* = degenerate_network(): 300 lines through the origin, 300 small-integer lines, 50 dead neurons")
    print("ratio = baseline time / reluscape time (above 1: reluscape is faster)")
    print("polygons = compute(grid=False, polygons=True): exact count, plane count, polygons, patterns, affine maps")


if __name__ == "__main__":
    main()
