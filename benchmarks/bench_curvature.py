"""Time and check reluscape's Hessian and spectra against PyHessian, hessian-eigenthings and curvlinops.

All tools see the same trained network (moons, n = 1000 with 750 training
points, full-batch binary cross-entropy). For each width the script measures:

* the exact dense Hessian: reluscape's closed form (float64 and float32)
  against generic autograd (torch.func jacrev of grad, float64);
* the full float64 spectrum: reluscape's eigenvalues() (Hessian plus eigh);
* the 5 largest eigenvalues: reluscape (Lanczos on closed-form
  Hessian-vector products above P = 500, dense below), PyHessian's power
  iteration, hessian-eigenthings' Lanczos and scipy eigsh on curvlinops'
  HessianLinearOperator, the peers on the float32 model as trained and on a
  float64 copy.

Errors are relative to a dense float64 reference: the autograd Hessian up to
--autograd-max-width, above it reluscape's own closed form after checking a
random subset of its rows against autograd (the time of a full autograd
Hessian is then extrapolated from those rows and marked as an estimate). Times are the
fastest of --repeats runs.

Run by hand, with the peer tools installed:
    PYTHONPATH=src /work/peers/bin/python benchmarks/bench_curvature.py [--widths 16 128 1024]
"""

from __future__ import annotations

import argparse
import copy
import time
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from _machine import describe_command, describe_machine
from reluscape import GradientAnalyzer, ShallowReLU, ShallowReLUTrainer, SyntheticDatasetBuilder, TaskLoss
from reluscape.models.shallow_relu import forward, unflatten_params

TOP_K = 5


def best_time(function: Callable[[], object], repeats: int) -> tuple[float, float, object]:
    """Return the fastest wall time and the fastest process CPU time of ``repeats`` calls, and the last result.

    On a shared machine the CPU time (summed over this process's threads) is
    the steadier figure, because waiting for a core counts in wall time only.
    """
    best_wall, best_cpu, result = float("inf"), float("inf"), None
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        result = function()
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return best_wall, best_cpu, result


def top_error(values, reference: torch.Tensor) -> float:
    """max_i |λ_i - λ_ref_i| / |λ_ref_0| over the top-k, both sorted in descending order."""
    values = torch.as_tensor(np.asarray(values, dtype=np.float64)).sort(descending=True).values
    return float((values - reference[: values.numel()]).abs().max() / reference[0].abs())


def pyhessian_top(model: nn.Module, X: torch.Tensor, y: torch.Tensor):
    from pyhessian import hessian

    torch.manual_seed(0)  # PyHessian draws its start vectors from the global generator
    engine = hessian(model, nn.BCEWithLogitsLoss(), data=(X, y.unsqueeze(1)), cuda=False)
    values, _ = engine.eigenvalues(top_n=TOP_K)
    return values


def eigenthings_top(model: nn.Module, X: torch.Tensor, y: torch.Tensor):
    from hessian_eigenthings import HessianOperator, lanczos, supervised_loss

    operator = HessianOperator(model, [(X, y.unsqueeze(1))], supervised_loss(nn.BCEWithLogitsLoss()))
    return lanczos(operator, k=TOP_K, which="LA", seed=0).eigenvalues.tolist()


def curvlinops_top(model: nn.Module, X: torch.Tensor, y: torch.Tensor):
    from curvlinops import HessianLinearOperator
    from scipy.sparse.linalg import eigsh

    parameters = [p for p in model.parameters() if p.requires_grad]
    operator = HessianLinearOperator(model, nn.BCEWithLogitsLoss(), parameters, [(X, y.unsqueeze(1))]).to_scipy()
    start = np.random.default_rng(0).standard_normal(operator.shape[0])
    return eigsh(operator, k=TOP_K, which="LA", v0=start, return_eigenvectors=False)


def autograd_hessian(model: ShallowReLU, X: torch.Tensor, y: torch.Tensor, chunk_size: int) -> torch.Tensor:
    """Dense float64 Hessian by reverse-over-reverse torch.func, ``chunk_size`` rows at a time.

    torch.autograd.functional.hessian was not used: at width 1024 its memory
    grew past 12 GiB on the benchmark machine before it finished.
    """
    loss = TaskLoss("binary")
    X64 = X.to(torch.float64)
    shape = (model.in_features, model.width, model.out_features)

    def loss_of(theta: torch.Tensor) -> torch.Tensor:
        return loss(forward(unflatten_params(theta, *shape), X64), y)

    hessian_of = torch.func.jacrev(torch.func.grad(loss_of), chunk_size=chunk_size)
    return hessian_of(model.flat_parameters(dtype=torch.float64))


def autograd_hessian_rows(model: ShallowReLU, X: torch.Tensor, y: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """Rows H[rows] of the float64 Hessian as Hessian-vector products with unit vectors (torch.func)."""
    loss = TaskLoss("binary")
    X64 = X.to(torch.float64)
    shape = (model.in_features, model.width, model.out_features)

    def loss_of(theta: torch.Tensor) -> torch.Tensor:
        return loss(forward(unflatten_params(theta, *shape), X64), y)

    theta = model.flat_parameters(dtype=torch.float64)
    units = torch.eye(theta.numel(), dtype=torch.float64)[rows]

    def hvp(vector: torch.Tensor) -> torch.Tensor:
        return torch.func.jvp(torch.func.grad(loss_of), (theta,), (vector,))[1]

    return torch.func.vmap(hvp)(units)


def run_width(width: int, data, args, rows: list[dict]) -> None:
    model = ShallowReLU(2, width, seed=0)
    ShallowReLUTrainer(model, data, optimizer="adam", epochs=args.epochs, seed=0).fit()
    X, y = data.X_train, data.y_train
    P = model.n_parameters

    # Dense Hessian.
    t64, c64, H = best_time(lambda: GradientAnalyzer(model, data).hessian(), args.repeats)
    t32, c32, H32 = best_time(lambda: GradientAnalyzer(model, data, dtype=torch.float32).hessian(), args.repeats)
    if width <= args.autograd_max_width:
        t_auto, c_auto, reference = best_time(lambda: autograd_hessian(model, X, y, args.autograd_chunk), 1)
        source = "autograd"
        auto_error = 0.0
    else:
        # A full autograd Hessian takes minutes here: check a random subset of rows instead,
        # and extrapolate its time to all P rows (an estimate, marked as such).
        generator = torch.Generator().manual_seed(0)
        subset = torch.randperm(P, generator=generator)[: args.autograd_rows]
        t_rows, c_rows, reference_rows = best_time(lambda: autograd_hessian_rows(model, X, y, subset), 1)
        t_auto, c_auto = t_rows * P / subset.numel(), c_rows * P / subset.numel()
        auto_error = float((H[subset] - reference_rows).abs().max() / reference_rows.abs().max())
        reference = H
        source = f"reluscape ({subset.numel()} random rows match autograd to {auto_error:.1e})"
    scale = float(reference.abs().max())
    rows.append(dict(width=width, P=P, task="exact Hessian", tool="reluscape", dtype="float64", seconds=t64, cpu=c64,
                     error=auto_error if source != "autograd" else float((H - reference).abs().max()) / scale))
    rows.append(dict(width=width, P=P, task="exact Hessian", tool="reluscape", dtype="float32", seconds=t32, cpu=c32,
                     error=float((H32.double() - reference).abs().max()) / scale))
    tool = "torch.func (jacrev of grad)" if source == "autograd" else "torch.func rows, time extrapolated (estimate)"
    rows.append(dict(width=width, P=P, task="exact Hessian", tool=tool, dtype="float64", seconds=t_auto, cpu=c_auto, error=0.0))

    # Full float64 spectrum, and the reference spectrum from the reference Hessian.
    reference_values = torch.linalg.eigvalsh(reference).flip(0)
    t_full, c_full, spectrum = best_time(lambda: GradientAnalyzer(model, data).eigenvalues(), args.repeats)
    rows.append(dict(width=width, P=P, task="full spectrum", tool="reluscape", dtype="float64", seconds=t_full, cpu=c_full,
                     error=float((spectrum.eigenvalues - reference_values).abs().max() / reference_values.abs().max())))

    # Top-k eigenvalues.
    t_top, c_top, top = best_time(lambda: GradientAnalyzer(model, data).eigenvalues(k=TOP_K, which="largest"), args.repeats)
    rows.append(dict(width=width, P=P, task=f"top-{TOP_K}", tool=f"reluscape ({top.method})", dtype="float64", seconds=t_top, cpu=c_top,
                     error=top_error(top.eigenvalues, reference_values)))
    peers = {"PyHessian": pyhessian_top, "hessian-eigenthings": eigenthings_top, "curvlinops + eigsh": curvlinops_top}
    for dtype in (torch.float32, torch.float64):
        peer_model = copy.deepcopy(model).to(dtype)
        Xd, yd = X.to(dtype), y.to(dtype)
        for name, function in peers.items():
            try:
                seconds, cpu, values = best_time(lambda: function(copy.deepcopy(peer_model), Xd, yd), args.repeats)
                error = top_error(values, reference_values)
            except Exception as failure:  # report a broken peer, never hide it
                print(f"  {name} ({dtype}) failed at width {width}: {type(failure).__name__}: {failure}")
                seconds, cpu, error = float("nan"), float("nan"), float("nan")
            rows.append(dict(width=width, P=P, task=f"top-{TOP_K}", tool=name, dtype=str(dtype).removeprefix("torch."),
                             seconds=seconds, cpu=cpu, error=error))
    print(f"  width {width}: reference Hessian from {source}; λ_max = {float(reference_values[0]):.6g}, "
          f"λ_min = {float(reference_values[-1]):.6g}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", type=int, nargs="+", default=[16, 128, 1024])
    parser.add_argument("--epochs", type=int, default=200, help="Adam epochs before the analysis")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats; the fastest is reported")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--autograd-max-width", type=int, default=128,
                        help="largest width whose whole reference Hessian comes from autograd; above it, only sampled rows")
    parser.add_argument("--autograd-rows", type=int, default=32, help="rows checked against autograd above that width")
    parser.add_argument("--autograd-chunk", type=int, default=32, help="Hessian columns per torch.func batch")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    print(describe_machine())
    print(describe_command())
    data = SyntheticDatasetBuilder(1000, noise=0.1, seed=0).moons()
    rows: list[dict] = []
    for width in args.widths:
        run_width(width, data, args, rows)

    import pandas as pd

    frame = pd.DataFrame(rows)
    baseline = frame[frame.tool.str.startswith("reluscape") & (frame.dtype == "float64")].set_index(["width", "task"])["seconds"]
    frame["time / reluscape"] = [
        row.seconds / baseline.get((row.width, row.task), float("nan")) for row in frame.itertuples()
    ]
    frame["wall ms"] = frame.pop("seconds") * 1e3
    frame["cpu ms"] = frame.pop("cpu") * 1e3
    with pd.option_context("display.width", 160, "display.max_rows", 200, "display.float_format", "{:.3g}".format):
        print(frame.to_string(index=False))


if __name__ == "__main__":
    main()
