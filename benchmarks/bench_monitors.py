"""Time what the training monitors add to an epoch of ShallowReLUTrainer.

Trains the same width-128 network on moons (n = 1000, 750 for training) with
Adam, full-batch and with mini-batches of 64, once with no callback and once
with each monitor configuration. Every configuration is timed ``--repeats``
times in interleaved order and the fastest run is reported, both in
wall-clock time and in process CPU time. CPU time (summed over torch's
threads) is the steadier figure on a machine shared with other jobs. The
"in hooks" column is the median, over repeats, of the time spent inside the
monitor's hooks divided by the rest of the same run's time. Both parts come
from one run, so this ratio is the least sensitive to other jobs. A naive gradient-norm callback (a deep copy of the
module and ``loss.backward()`` every epoch) is timed beside the analyzer as
the usual hand-written alternative. Last, one sharpness evaluation
(GradientAnalyzer's top eigenvalue, as the analyzer records it) is timed at
widths 128 and 1024 next to PyHessian's power iteration at the same weights,
with both errors against a dense float64 eigvalsh.

Run by hand from benchmarks/ with the peers' environment:
    python bench_monitors.py [--epochs 30] [--repeats 5] [--threads 2]
"""

from __future__ import annotations

import argparse
import copy
import time
from collections.abc import Callable

import numpy as np
import torch

from _machine import describe_command, describe_machine
from reluscape import GradientTrajectoryAnalyzer, ShallowReLU, ShallowReLUTrainer, SyntheticDatasetBuilder, WeightNormMonitor
from reluscape.experiments import Callback
from reluscape.losses import TaskLoss


class NaiveGradientNorm(Callback):
    """Full-batch gradient norm by deep-copying the module and calling backward."""

    def __init__(self) -> None:
        self.norms: list[float] = []

    def on_epoch_end(self, state) -> None:
        model = copy.deepcopy(state.model)
        model.zero_grad(set_to_none=True)
        loss = TaskLoss(state.dataset.task)(model(state.dataset.X_train), state.dataset.y_train)
        loss.backward()
        self.norms.append(float(torch.cat([p.grad.reshape(-1) for p in model.parameters()]).norm()))


class TimedHooks(Callback):
    """Forward every hook to ``inner`` and add up the wall-clock time spent inside it."""

    def __init__(self, inner: Callback) -> None:
        self.inner = inner
        self.seconds = 0.0

    def _call(self, hook: str, state) -> None:
        started = time.perf_counter()
        getattr(self.inner, hook)(state)
        self.seconds += time.perf_counter() - started

    def on_train_begin(self, state) -> None:
        self._call("on_train_begin", state)

    def on_step_end(self, state) -> None:
        self._call("on_step_end", state)

    def on_epoch_end(self, state) -> None:
        self._call("on_epoch_end", state)

    def on_train_end(self, state) -> None:
        self._call("on_train_end", state)


def configurations() -> dict[str, Callable[[], list[Callback]]]:
    configs = {
        "no monitor": lambda: [],
        "WeightNormMonitor(margin=False)": lambda: [WeightNormMonitor(margin=False)],
        "WeightNormMonitor()": lambda: [WeightNormMonitor()],
        "WeightNormMonitor(per_step=True, margin=False)": lambda: [WeightNormMonitor(per_step=True, margin=False)],
        "GradientTrajectoryAnalyzer()": lambda: [GradientTrajectoryAnalyzer()],
        "GradientTrajectoryAnalyzer(minibatch=False)": lambda: [GradientTrajectoryAnalyzer(minibatch=False)],
        "GradientTrajectoryAnalyzer(per_step=True)": lambda: [GradientTrajectoryAnalyzer(per_step=True)],
        "naive deepcopy + backward per epoch": lambda: [NaiveGradientNorm()],
    }
    configs["GradientTrajectoryAnalyzer(sharpness_every=10)"] = lambda: [GradientTrajectoryAnalyzer(sharpness_every=10)]
    return configs


def time_fit(data, width: int, epochs: int, batch_size: int | None, callbacks) -> tuple[float, float, float]:
    """Return the wall-clock and process CPU seconds per epoch of one fit, and the share spent in the hooks."""
    timed = [TimedHooks(callback) for callback in callbacks]
    model = ShallowReLU(2, width, seed=0)
    trainer = ShallowReLUTrainer(model, data, optimizer="adam", epochs=epochs, batch_size=batch_size, seed=0, callbacks=timed)
    wall, cpu = time.perf_counter(), time.process_time()
    trainer.fit()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    in_hooks = sum(callback.seconds for callback in timed)
    return wall / epochs, cpu / epochs, in_hooks / (wall - in_hooks)


def time_sharpness_once(data, width: int, repeats: int) -> None:
    """Time one sharpness evaluation: ours (GradientAnalyzer) and PyHessian's power iteration."""
    from reluscape.analysis import GradientAnalyzer

    model = ShallowReLU(2, width, seed=0)
    ShallowReLUTrainer(model, data, optimizer="adam", epochs=50, seed=0).fit()
    X, y = data.X_train, data.y_train
    if model.n_parameters <= 600:
        flat = model.flat_parameters(dtype=torch.float64)
        dense = torch.autograd.functional.hessian(lambda theta: _loss_of_flat(theta, model, X.double(), y, data.task), flat)
        source = "eigvalsh of torch.autograd.functional.hessian, float64"
    else:
        # Autograd's dense Hessian takes minutes at this P; the closed form is checked against it in the tests.
        dense = GradientAnalyzer(model, (X, y)).hessian()
        source = "eigvalsh of GradientAnalyzer.hessian(), float64"
    reference = float(torch.linalg.eigvalsh(dense)[-1])

    def ours() -> float:
        return GradientAnalyzer(model, (X, y)).sharpness()

    def ours_loose() -> float:
        return GradientAnalyzer(model, (X, y)).sharpness(tol=1e-6)

    rows = [("reluscape GradientAnalyzer.sharpness()", ours), ("reluscape sharpness(tol=1e-6)", ours_loose)]
    try:
        from pyhessian import hessian as pyhessian_hessian

        def peer() -> float:
            criterion = torch.nn.BCEWithLogitsLoss()
            wrapped = _LogitModule(model)
            wrapped.zero_grad(set_to_none=True)  # PyHessian's backward would add to an earlier call's .grad
            computer = pyhessian_hessian(wrapped, criterion, data=(X, y.float()), cuda=False)
            return float(computer.eigenvalues(top_n=1)[0][0])

        rows.append(("PyHessian eigenvalues(top_n=1)", peer))
    except ImportError as error:
        print(f"PyHessian not available: {error}")

    print(f"\nOne sharpness evaluation at width {width} (P = {model.n_parameters}), fastest of {repeats}; "
          f"reference top eigenvalue {reference:.10g} ({source})")
    print(f"{'method':<42} {'ms':>10} {'value':>16} {'relative error':>15}")
    for name, function in rows:
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            value = function()
            times.append(time.perf_counter() - started)
        print(f"{name:<42} {min(times) * 1e3:>10.2f} {value:>16.10g} {abs(value - reference) / abs(reference):>15.2e}")


class _LogitModule(torch.nn.Module):
    """The model with a squeezed logit, as BCEWithLogitsLoss expects."""

    def __init__(self, model: ShallowReLU) -> None:
        super().__init__()
        self.model = model

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.model(X)[:, 0]


def _loss_of_flat(theta, model, X, y, task):
    from reluscape.models.shallow_relu import forward, unflatten_params

    params = unflatten_params(theta, model.in_features, model.width, model.out_features)
    return TaskLoss(task)(forward(params, X), y)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-sharpness", action="store_true", help="skip the single sharpness evaluations")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats; the fastest is reported")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    print(describe_machine())
    print(describe_command())
    data = SyntheticDatasetBuilder(1000, noise=0.1, seed=0).moons()
    configs = configurations()
    for make in configs.values():  # warm-up: first calls pay for lazy initialisation
        time_fit(data, args.width, 2, 64, make())
    for batch_size in (None, 64):
        best_wall = {name: float("inf") for name in configs}
        best_cpu = {name: float("inf") for name in configs}
        shares: dict[str, list[float]] = {name: [] for name in configs}
        for _ in range(args.repeats):
            for name, make in configs.items():
                wall, cpu, share = time_fit(data, args.width, args.epochs, batch_size, make())
                best_wall[name] = min(best_wall[name], wall)
                best_cpu[name] = min(best_cpu[name], cpu)
                shares[name].append(share)
        label = "full batch" if batch_size is None else f"batch {batch_size}"
        print(f"\nwidth {args.width}, {label}, {args.epochs} epochs, fastest of {args.repeats}")
        print(f"{'configuration':<50} {'wall ms/epoch':>14} {'overhead':>9} {'CPU ms/epoch':>13} {'overhead':>9} {'in hooks':>9}")
        for name in configs:
            wall, cpu = best_wall[name], best_cpu[name]
            wall_ratio = wall / best_wall["no monitor"] - 1
            cpu_ratio = cpu / best_cpu["no monitor"] - 1
            share = float(np.median(shares[name]))
            print(f"{name:<50} {wall * 1e3:>14.3f} {wall_ratio:>+9.1%} {cpu * 1e3:>13.3f} {cpu_ratio:>+9.1%} {share:>+9.1%}")
    if not args.skip_sharpness:
        for width in (args.width, 1024):
            time_sharpness_once(data, width, args.repeats)


if __name__ == "__main__":
    main()
