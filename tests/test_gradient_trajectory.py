"""GradientTrajectoryAnalyzer, the optimizer comparison and their plots."""

from __future__ import annotations

import math
import re
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest
import torch

from _dynamics_helpers import ParameterRecorder, reference_gradient
from reluscape import (
    GradientAnalyzer,
    GradientTrajectoryAnalyzer,
    ShallowReLU,
    ShallowReLUTrainer,
    SyntheticDatasetBuilder,
    WeightNormMonitor,
)
from reluscape.experiments import GradientTrajectory, compare_optimizers
from reluscape.experiments.gradient_trajectory_analyzer import stability_threshold
from reluscape.losses import TaskLoss
from reluscape.models.shallow_relu import forward, unflatten_params
from reluscape.plotting import plot_gradient_trajectory, plot_optimizer_comparison, plot_sharpness

matplotlib.use("Agg")

BLOCKS = ("W", "b", "a", "c")


@pytest.fixture(scope="module")
def moons64():
    return SyntheticDatasetBuilder(120, seed=1, dtype=torch.float64).moons()


@pytest.fixture(scope="module")
def blobs():
    return SyntheticDatasetBuilder(120, seed=2).blobs(centers=3)


def norms_of(gradient) -> dict[str, float]:
    norms = {f"grad_norm_{name}": float(block.norm()) for name, block in zip(BLOCKS, gradient)}
    norms["grad_norm"] = float(torch.cat([block.reshape(-1) for block in gradient]).norm())
    return norms


def test_full_batch_norm_matches_autograd(moons64):
    analyzer = GradientTrajectoryAnalyzer()
    recorder = ParameterRecorder()
    model = ShallowReLU(2, 8, seed=3, dtype=torch.float64)
    ShallowReLUTrainer(model, moons64, optimizer="adam", epochs=4, batch_size=32, callbacks=[analyzer, recorder]).fit()

    records = analyzer.result.epoch_records
    assert [record["epoch"] for record in records] == [0, 1, 2, 3, 4]
    assert len(recorder.after_epoch) == len(records)
    for record, params in zip(records, recorder.after_epoch):
        expected = norms_of(reference_gradient(params, moons64.X_train, moons64.y_train, "binary"))
        for key, value in expected.items():
            assert record[key] == pytest.approx(value, rel=1e-12, abs=1e-15), key


def test_recorded_loss_equals_history(moons64):
    analyzer = GradientTrajectoryAnalyzer()
    model = ShallowReLU(2, 8, seed=3, dtype=torch.float64)
    history = ShallowReLUTrainer(model, moons64, optimizer="sgd", epochs=3, callbacks=[analyzer]).fit()
    recorded = [record["loss"] for record in analyzer.result.epoch_records]
    np.testing.assert_allclose(recorded, history.train_loss, rtol=1e-14)


def test_per_step_and_minibatch_norms(moons64):
    analyzer = GradientTrajectoryAnalyzer(per_step=True)
    recorder = ParameterRecorder()
    model = ShallowReLU(2, 8, seed=4, dtype=torch.float64)
    ShallowReLUTrainer(model, moons64, optimizer="momentum", lr=0.05, epochs=2, batch_size=40, callbacks=[analyzer, recorder]).fit()

    steps = analyzer.result.step_records
    assert [record["step"] for record in steps] == list(range(1, len(recorder.after_step) + 1))
    for record, after, before, (X_batch, y_batch) in zip(steps, recorder.after_step, recorder.before_step, recorder.batches):
        full = norms_of(reference_gradient(after, moons64.X_train, moons64.y_train, "binary"))
        assert record["grad_norm"] == pytest.approx(full["grad_norm"], rel=1e-12)
        batch = norms_of(reference_gradient(before, X_batch, y_batch, "binary"))
        assert record["minibatch_grad_norm"] == pytest.approx(batch["grad_norm"], rel=1e-12)

    # The per-epoch value is the mean over that epoch's updates.
    for record in analyzer.result.epoch_records[1:]:
        in_epoch = [step["minibatch_grad_norm"] for step in steps if step["epoch"] == record["epoch"]]
        assert record["minibatch_grad_norm"] == pytest.approx(sum(in_epoch) / len(in_epoch), rel=1e-14)


def test_full_batch_run_has_no_minibatch_norm(moons64):
    analyzer = GradientTrajectoryAnalyzer(per_step=True)
    ShallowReLUTrainer(ShallowReLU(2, 4, seed=0, dtype=torch.float64), moons64, optimizer="sgd", epochs=2, callbacks=[analyzer]).fit()
    assert "minibatch_grad_norm" not in analyzer.result.table("epoch").columns
    assert "minibatch_grad_norm" not in analyzer.result.table("step").columns


def test_float64_recomputation_of_float32_model(moons64):
    data32 = moons64.to(dtype=torch.float32)
    analyzer = GradientTrajectoryAnalyzer(dtype=torch.float64)
    recorder = ParameterRecorder()
    ShallowReLUTrainer(ShallowReLU(2, 8, seed=5), data32, optimizer="adam", epochs=2, callbacks=[analyzer, recorder]).fit()
    for record, params in zip(analyzer.result.epoch_records, recorder.after_epoch):
        X64 = data32.X_train.to(torch.float64)
        expected = norms_of(reference_gradient(params.to(torch.float64), X64, data32.y_train, "binary"))
        assert record["grad_norm"] == pytest.approx(expected["grad_norm"], rel=1e-12)
    assert analyzer.result.settings["dtype"] == "float64"


@pytest.mark.parametrize(
    ("optimizer", "batch_size"), [("sgd", None), ("adam", 30), ("rmsprop", 50), ("nesterov", None)]
)
def test_monitors_leave_training_bit_identical(blobs, optimizer, batch_size):
    def train(callbacks):
        model = ShallowReLU(2, 8, 3, seed=6)
        torch.manual_seed(123)
        history = ShallowReLUTrainer(
            model, blobs, optimizer=optimizer, lr=0.05, epochs=2, batch_size=batch_size, callbacks=callbacks
        ).fit()
        return model, history, torch.rand(3)

    plain_model, plain_history, plain_draw = train([])
    monitors = [GradientTrajectoryAnalyzer(per_step=True, sharpness_every=1), WeightNormMonitor(per_step=True)]
    model, history, draw = train(monitors)

    strip = lambda records: [{k: v for k, v in record.items() if k != "wall_time"} for record in records]  # noqa: E731
    assert strip(history.records) == strip(plain_history.records)
    for watched, plain in zip(model.parameters(), plain_model.parameters()):
        assert torch.equal(watched, plain)
        assert watched.grad is None
    assert torch.equal(draw, plain_draw)  # the global generator advanced identically


def test_stability_threshold_on_quadratic():
    """Below the line the iteration of torch.optim.SGD contracts, above it grows."""
    lr, beta, decay = 0.1, 0.7, 0.3
    for name, options in (
        ("sgd", {}),
        ("momentum", {"momentum": beta}),
        ("nesterov", {"momentum": beta, "nesterov": True}),
    ):
        threshold = stability_threshold(name, lr, momentum=beta, weight_decay=decay)
        for factor, grows in ((0.95, False), (1.05, True)):
            curvature = factor * threshold
            x = torch.ones(1, dtype=torch.float64, requires_grad=True)
            optimizer = torch.optim.SGD([x], lr=lr, weight_decay=decay, **options)
            for _ in range(800):
                optimizer.zero_grad()
                (0.5 * curvature * x.square()).sum().backward()
                optimizer.step()
            assert (abs(float(x.detach())) > 1.0) == grows, (name, factor)
    assert stability_threshold("adam", lr) is None


def test_threshold_recorded_only_for_full_batch_sgd(moons64):
    full = GradientTrajectoryAnalyzer()
    ShallowReLUTrainer(ShallowReLU(2, 4, seed=0), moons64, optimizer="sgd", lr=0.2, epochs=1, callbacks=[full]).fit()
    assert full.result.stability_threshold == pytest.approx(10.0)
    mini = GradientTrajectoryAnalyzer()
    ShallowReLUTrainer(ShallowReLU(2, 4, seed=0), moons64, optimizer="sgd", lr=0.2, epochs=1, batch_size=10, callbacks=[mini]).fit()
    assert mini.result.stability_threshold is None


def test_attached_to_two_trainers_raises(moons64):
    analyzer = GradientTrajectoryAnalyzer()
    first = ShallowReLUTrainer(ShallowReLU(2, 4, seed=0), moons64, epochs=1, callbacks=[analyzer])
    second = ShallowReLUTrainer(ShallowReLU(2, 4, seed=1), moons64, epochs=1, callbacks=[analyzer])
    first.fit()
    with pytest.raises(RuntimeError, match="already attached to another ShallowReLUTrainer"):
        second.fit()
    first.fit()  # the same trainer may train again; the record restarts
    assert len(analyzer.result.epoch_records) == 2

    analyzer.reset()
    second.fit()
    assert len(analyzer.result.epoch_records) == 2


def test_listed_twice_raises(moons64):
    analyzer = GradientTrajectoryAnalyzer()
    trainer = ShallowReLUTrainer(ShallowReLU(2, 4, seed=0), moons64, epochs=1, callbacks=[analyzer, analyzer])
    with pytest.raises(RuntimeError, match="appears twice in the trainer's callbacks"):
        trainer.fit()


def test_constructor_rejects_bad_options():
    with pytest.raises(TypeError, match="per_step must be True or False; got 1"):
        GradientTrajectoryAnalyzer(per_step=1)
    with pytest.raises(TypeError, match="minibatch must be True or False; got 'yes'"):
        GradientTrajectoryAnalyzer(minibatch="yes")
    with pytest.raises(ValueError, match="dtype must be None, torch.float32 or torch.float64; got torch.int64"):
        GradientTrajectoryAnalyzer(dtype=torch.int64)
    with pytest.raises(ValueError, match="sharpness_every must be an integer >= 1; got 0"):
        GradientTrajectoryAnalyzer(sharpness_every=0)
    with pytest.raises(TypeError, match="sharpness_every must be an integer; got 2.5"):
        GradientTrajectoryAnalyzer(sharpness_every=2.5)
    with pytest.raises(ValueError, match="sharpness_method must be one of 'auto', 'dense', 'lanczos'; got 'power'"):
        GradientTrajectoryAnalyzer(sharpness_every=1, sharpness_method="power")
    with pytest.raises(ValueError, match=r"sharpness_tol must lie in \[0, inf\); got -1"):
        GradientTrajectoryAnalyzer(sharpness_tol=-1.0)


def test_trajectory_save_load_roundtrip(moons64, tmp_path):
    analyzer = GradientTrajectoryAnalyzer(per_step=True)
    ShallowReLUTrainer(ShallowReLU(2, 4, seed=0), moons64, epochs=2, batch_size=60, callbacks=[analyzer]).fit()
    path = analyzer.result.save(tmp_path / "trajectory.json")
    loaded = GradientTrajectory.load(path)
    assert loaded == analyzer.result
    pd.testing.assert_frame_equal(loaded.to_frame(per_step=True), analyzer.result.to_frame(per_step=True))
    with pytest.raises(ValueError, match="name must be one of 'epoch', 'step', 'sharpness'; got 'steps'"):
        loaded.table("steps")


def test_long_frame_layout(moons64):
    analyzer = GradientTrajectoryAnalyzer()
    ShallowReLUTrainer(ShallowReLU(2, 4, seed=0), moons64, epochs=2, callbacks=[analyzer]).fit()
    frame = analyzer.result.to_frame()
    assert list(frame.columns) == ["epoch", "step", "metric", "value"]
    assert set(frame["metric"]) == {"loss", "grad_norm", "grad_norm_W", "grad_norm_b", "grad_norm_a", "grad_norm_c"}
    assert len(frame) == 3 * 6
    assert frame["value"].notna().all()


def test_diverged_run_is_flagged(moons64):
    analyzer = GradientTrajectoryAnalyzer()
    model = ShallowReLU(2, 4, seed=0)
    with pytest.warns(RuntimeWarning, match="Training diverged"):
        ShallowReLUTrainer(model, moons64, optimizer="sgd", lr=1e30, epochs=5, callbacks=[analyzer]).fit()
    assert analyzer.result.diverged
    assert "diverged" in analyzer.result.message
    ax = plot_gradient_trajectory(analyzer.result)
    assert "(diverged)" in ax.get_title()


# Sharpness -------------------------------------------------------------------


def autograd_sharpness(params, X, y, task) -> float:
    """Top eigenvalue of torch.autograd.functional.hessian of the loss, by dense eigvalsh."""
    theta = torch.cat([tensor.reshape(-1) for tensor in params])
    d, m, k = params.W.shape[1], params.W.shape[0], params.a.shape[0]

    def loss_of(flat):
        return TaskLoss(task)(forward(unflatten_params(flat, d, m, k), X), y)

    hessian = torch.autograd.functional.hessian(loss_of, theta)
    return float(torch.linalg.eigvalsh(hessian)[-1])


@pytest.mark.parametrize("method", ["auto", "dense", "lanczos"])
def test_sharpness_equals_top_eigenvalue(moons64, method):
    analyzer = GradientTrajectoryAnalyzer(sharpness_every=2, sharpness_method=method)
    recorder = ParameterRecorder()
    model = ShallowReLU(2, 6, seed=8, dtype=torch.float64)
    ShallowReLUTrainer(model, moons64, optimizer="sgd", lr=0.5, epochs=5, callbacks=[analyzer, recorder]).fit()

    records = analyzer.result.sharpness_records
    assert [record["epoch"] for record in records] == [0, 2, 4]
    for record in records:
        params = recorder.after_epoch[record["epoch"]]
        spectrum = GradientAnalyzer(ShallowReLU.from_params(params), moons64).eigenvalues(k=None)
        assert record["sharpness"] == pytest.approx(float(spectrum.eigenvalues[0]), rel=1e-10)
        reference = autograd_sharpness(params, moons64.X_train, moons64.y_train, "binary")
        assert record["sharpness"] == pytest.approx(reference, rel=1e-9)
        assert record["stability_threshold"] == pytest.approx(2 / 0.5)


def test_sharpness_of_float32_model_in_float64(moons64):
    data32 = moons64.to(dtype=torch.float32)
    analyzer = GradientTrajectoryAnalyzer(sharpness_every=3)
    recorder = ParameterRecorder()
    ShallowReLUTrainer(ShallowReLU(2, 6, seed=8), data32, optimizer="adam", epochs=3, callbacks=[analyzer, recorder]).fit()
    for record in analyzer.result.sharpness_records:
        params = recorder.after_epoch[record["epoch"]].to(torch.float64)
        reference = autograd_sharpness(params, data32.X_train.to(torch.float64), data32.y_train, "binary")
        assert record["sharpness"] == pytest.approx(reference, rel=1e-9)
        assert "stability_threshold" not in record  # Adam has no 2/η line


def test_dense_sharpness_too_large_raises(moons64):
    analyzer = GradientTrajectoryAnalyzer(sharpness_every=1, sharpness_method="dense", max_dense_bytes=1000)
    model = ShallowReLU(2, 8, seed=0)  # P = 33, a 33 x 33 float64 matrix takes 8712 bytes
    trainer = ShallowReLUTrainer(model, moons64, epochs=1, callbacks=[analyzer])
    with pytest.raises(ValueError, match=r"sharpness_method='dense' needs a 33 x 33 float64 Hessian \(8712 bytes\), "
                       r"above max_dense_bytes = 1000. Pass sharpness_method='lanczos'"):
        trainer.fit()
    assert len(trainer.history) == 1  # raised before the first update
    assert torch.equal(model.hidden.weight, ShallowReLU(2, 8, seed=0).hidden.weight)

    lanczos = GradientTrajectoryAnalyzer(sharpness_every=1, sharpness_method="lanczos", max_dense_bytes=1000)
    ShallowReLUTrainer(ShallowReLU(2, 8, seed=0), moons64, epochs=1, callbacks=[lanczos]).fit()
    assert len(lanczos.result.sharpness_records) == 2


def test_sharpness_plot_with_threshold(moons64):
    analyzer = GradientTrajectoryAnalyzer(sharpness_every=1)
    ShallowReLUTrainer(ShallowReLU(2, 6, seed=0), moons64, optimizer="sgd", lr=0.4, epochs=3, callbacks=[analyzer]).fit()
    ax = plot_sharpness(analyzer.result)
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["sgd: sharpness", "sgd: 2/η line"]
    assert ax.get_lines()[1].get_ydata()[0] == pytest.approx(5.0)
    without = GradientTrajectoryAnalyzer()
    ShallowReLUTrainer(ShallowReLU(2, 6, seed=0), moons64, epochs=1, callbacks=[without]).fit()
    with pytest.raises(ValueError, match="no sharpness was recorded"):
        plot_sharpness(without.result)


def test_lanczos_failure_warns_and_skips(moons64, monkeypatch):
    from scipy.sparse.linalg import ArpackNoConvergence

    from reluscape.analysis.gradient_analysis import GradientAnalyzer as Analyzer

    def fail(self, *args, **kwargs):
        try:
            raise ArpackNoConvergence("no convergence", [], [])
        except ArpackNoConvergence as error:
            raise ValueError("Lanczos (ARPACK eigsh) found only 0 of k = 1 eigenvalues") from error

    monkeypatch.setattr(Analyzer, "eigenvalues", fail)
    analyzer = GradientTrajectoryAnalyzer(sharpness_every=1)
    trainer = ShallowReLUTrainer(ShallowReLU(2, 4, seed=0), moons64, epochs=1, callbacks=[analyzer])
    with pytest.warns(RuntimeWarning, match=r"no sharpness recorded at epoch \d: Lanczos"):
        trainer.fit()
    assert analyzer.result.sharpness_records == []
    assert len(analyzer.result.epoch_records) == 2


# Optimizer comparison -------------------------------------------------------


class StartAndOrder(ParameterRecorder):
    """Keep the initial weights and the mini-batches of one run."""


def test_comparison_same_start_and_data_order(moons64):
    model = ShallowReLU(2, 6, seed=7, dtype=torch.float64)
    before = [parameter.detach().clone() for parameter in model.parameters()]
    recorders: dict[str, StartAndOrder] = {}

    def make_callbacks(label):
        recorders[label] = StartAndOrder()
        return [recorders[label]]

    frame = compare_optimizers(
        model, moons64, ("sgd", "momentum", "adam", "rmsprop"), epochs=2, batch_size=25, callbacks=make_callbacks
    )

    reference = recorders["sgd"]
    for label, recorder in recorders.items():
        for got, expected in zip(recorder.initial, reference.initial):
            assert torch.equal(got, expected), label
        assert len(recorder.batches) == len(reference.batches)
        for (X_got, y_got), (X_expected, y_expected) in zip(recorder.batches, reference.batches):
            assert torch.equal(X_got, X_expected), label
            assert torch.equal(y_got, y_expected), label
    for got, expected in zip(model.parameters(), before):
        assert torch.equal(got, expected)  # the caller's model is untouched

    assert list(frame.columns) == ["optimizer", "epoch", "step", "metric", "value"]
    assert set(frame["optimizer"]) == {"sgd", "momentum", "adam", "rmsprop"}
    start = frame[(frame["epoch"] == 0) & (frame["metric"] == "grad_norm")]
    assert start["value"].nunique() == 1
    for metric in ("loss", "grad_norm", "minibatch_grad_norm", "norm", "path_norm", "test_loss", "test_accuracy"):
        assert metric in set(frame["metric"]), metric
    assert frame.attrs["diverged"] == {}


def test_comparison_with_options_and_steps(moons64):
    runs = {"sgd": {"lr": 0.1}, "sgd-decay": {"optimizer": "sgd", "lr": 0.1, "weight_decay": 0.01}}
    frame = GradientTrajectoryAnalyzer.compare_optimizers(
        ShallowReLU(2, 4, seed=0), moons64, runs, epochs=2, per_step=True, weight_norms=False, sharpness_every=1
    )
    thresholds = frame[frame["metric"] == "stability_threshold"].groupby("optimizer")["value"].first()
    assert thresholds["sgd"] == pytest.approx(20.0)
    assert thresholds["sgd-decay"] == pytest.approx(20.0 - 0.01)
    assert len(frame[frame["metric"] == "sharpness"]) == 2 * 3
    assert len(plot_sharpness(frame).get_lines()) == 4
    assert set(frame["optimizer"]) == {"sgd", "sgd-decay"}
    assert "step_grad_norm" in set(frame["metric"])
    assert "norm" not in set(frame["metric"])
    steps = frame[(frame["optimizer"] == "sgd") & (frame["metric"] == "step_grad_norm")]
    assert steps["step"].tolist() == [1, 2]


def test_comparison_records_divergence(moons64):
    with pytest.warns(RuntimeWarning, match="Training diverged"):
        frame = compare_optimizers(
            ShallowReLU(2, 4, seed=0), moons64, {"sgd": {"lr": 1e30}, "adam": {}}, epochs=3, weight_norms=False
        )
    assert list(frame.attrs["diverged"]) == ["sgd"]
    ax = plot_optimizer_comparison(frame, "loss")
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == ["sgd (diverged)", "adam"]


def test_comparison_on_regression_has_no_margin():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 2))
    data = SyntheticDatasetBuilder(seed=0).from_arrays(X, X @ np.array([1.0, -1.0]), task="regression")
    frame = compare_optimizers(ShallowReLU(2, 4, seed=0), data, ("sgd", "adam"), epochs=2)
    metrics = set(frame["metric"])
    assert "margin" not in metrics
    assert {"train_r2", "test_r2", "norm", "grad_norm"} <= metrics


def test_comparison_rejects_bad_input(moons64):
    model = ShallowReLU(2, 4, seed=0)
    with pytest.raises(ValueError, match="optimizers must be one of .*; got 'adamax'"):
        compare_optimizers(model, moons64, ("sgd", "adamax"))
    with pytest.raises(ValueError, match=r"optimizers\['fast'\]\['optimizer'\] must be one of .*; got 'fast'"):
        compare_optimizers(model, moons64, {"fast": {"lr": 0.1}})
    with pytest.raises(ValueError, match=r"optimizers\['sgd'\] has unknown options \['beta'\]"):
        compare_optimizers(model, moons64, {"sgd": {"beta": 0.9}})
    with pytest.raises(ValueError, match="optimizers must not repeat a name; got \\['sgd', 'sgd'\\]"):
        compare_optimizers(model, moons64, ["sgd", "sgd"])
    with pytest.raises(ValueError, match="optimizers must name at least one optimizer"):
        compare_optimizers(model, moons64, [])
    with pytest.raises(TypeError, match="optimizers must be a sequence of names or a mapping; got the string 'sgd'"):
        compare_optimizers(model, moons64, "sgd")
    with pytest.raises(ValueError, match="epochs must be an integer >= 1; got 0"):
        compare_optimizers(model, moons64, ["sgd"], epochs=0)
    with pytest.raises(ValueError, match="sharpness_every must be an integer >= 1; got -2"):
        compare_optimizers(model, moons64, ["sgd"], sharpness_every=-2)
    with pytest.raises(TypeError, match="callbacks must be None or a function of the run label"):
        compare_optimizers(model, moons64, ["sgd"], callbacks=[ParameterRecorder()])
    with pytest.raises(TypeError, match="model must be a ShallowReLU; got str"):
        compare_optimizers("model", moons64, ["sgd"])


# Plots -----------------------------------------------------------------------


def test_trajectory_plots_return_axes(moons64):
    import matplotlib.pyplot as plt

    analyzer = GradientTrajectoryAnalyzer(per_step=True)
    ShallowReLUTrainer(ShallowReLU(2, 4, seed=0), moons64, epochs=3, batch_size=30, callbacks=[analyzer]).fit()
    ax = analyzer.plot()
    assert ax.get_yscale() == "log"
    assert [line.get_label() for line in ax.get_lines()] == ["loss", "grad_norm"]
    figure, given = plt.subplots()
    assert plot_gradient_trajectory(analyzer.result, ax=given, metrics=["minibatch_grad_norm"], per_step=True) is given
    assert given.get_xlabel() == "step"
    with pytest.raises(ValueError, match=r"metrics \['sharpness'\] were not recorded"):
        plot_gradient_trajectory(analyzer.result, metrics=["sharpness"])
    with pytest.raises(TypeError, match="trajectory must be a GradientTrajectory; got DataFrame"):
        plot_gradient_trajectory(analyzer.result.to_frame())
    plt.close("all")


def test_comparison_plot_one_line_per_optimizer(moons64):
    import matplotlib.pyplot as plt

    frame = compare_optimizers(ShallowReLU(2, 4, seed=0), moons64, ("sgd", "adam"), epochs=3)
    ax = plot_optimizer_comparison(frame, "grad_norm")
    assert len(ax.get_lines()) == 2
    assert ax.get_yscale() == "log"
    with pytest.raises(ValueError, match=r"metrics \['speed'\] were not recorded"):
        plot_optimizer_comparison(frame, "speed")
    with pytest.raises(ValueError, match="frame must have columns"):
        plot_optimizer_comparison(frame.drop(columns="metric"))
    assert math.isfinite(float(frame["value"].sum()))
    plt.close("all")


def comparison_frame(values: dict[str, list[float]], diverged: tuple[str, ...]) -> pd.DataFrame:
    """Build a compare_optimizers-like long frame of one metric, "loss", per optimizer."""
    rows = [
        {"optimizer": label, "epoch": epoch, "step": epoch, "metric": "loss", "value": value}
        for label, series in values.items()
        for epoch, value in enumerate(series)
    ]
    frame = pd.DataFrame(rows)
    frame.attrs["diverged"] = {label: "Training diverged." for label in diverged}
    return frame


@pytest.mark.parametrize("log", [True, False])
def test_comparison_limits_ignore_diverged_run(log):
    import matplotlib.pyplot as plt

    stable = {"adam": [1.0, 0.5, 0.3, 0.2], "rmsprop": [1.0, 0.4, 0.25, 0.1]}
    frame = comparison_frame({"sgd": [1.0, 1e3, 1e9, 1e18], **stable}, diverged=("sgd",))
    ax = plot_optimizer_comparison(frame, "loss", log=log)
    low, high = ax.get_ylim()
    assert ax.get_yscale() == ("log" if log else "linear")
    assert high < 2.0  # 1e18 of the diverged run would otherwise set the top
    assert high >= 1.0
    assert low <= 0.1
    assert low > (0.0 if log else -0.1)
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert lines["sgd (diverged)"].get_linestyle() == "--"
    assert lines["adam"].get_linestyle() == "-"
    edge_markers = [line for line in ax.get_lines() if line.get_marker() == "^"]
    assert len(edge_markers) == 1
    assert edge_markers[0].get_xdata()[0] == 1  # the epoch where the diverged run leaves the axes
    assert edge_markers[0].get_ydata()[0] == pytest.approx(high)
    plt.close("all")


def test_comparison_limits_when_all_diverged():
    import matplotlib.pyplot as plt

    frame = comparison_frame({"sgd": [1.0, 1e6], "momentum": [1.0, 1e3]}, diverged=("sgd", "momentum"))
    ax = plot_optimizer_comparison(frame, "loss")
    low, high = ax.get_ylim()
    assert high >= 1e6
    assert low <= 1.0
    assert not [line for line in ax.get_lines() if line.get_marker() == "^"]
    plt.close("all")


def sharpness_frame(values: list[float], threshold: float | None = None) -> pd.DataFrame:
    rows = [{"epoch": epoch, "step": epoch, "metric": "sharpness", "value": value} for epoch, value in enumerate(values)]
    if threshold is not None:
        rows.append({"epoch": 0, "step": 0, "metric": "stability_threshold", "value": threshold})
    return pd.DataFrame(rows).assign(optimizer="sgd")


@pytest.mark.parametrize(
    ("values", "threshold", "scale"),
    [
        ([30.0, 29.0, 1.5e10], 4.0, "log"),  # a diverging run far above its 2/η line
        ([30.0, 29.0, 28.0], 59.0, "linear"),  # within one decade
        ([1.0, 2.0, 3.0], 500.0, "log"),  # the line alone makes the span wide
    ],
)
def test_sharpness_scale_follows_span(values, threshold, scale):
    import matplotlib.pyplot as plt

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ax = plot_sharpness(sharpness_frame(values, threshold))
    assert ax.get_yscale() == scale
    ticks = [tick for tick in ax.get_xticks() if 0 <= tick <= len(values) - 1]
    assert ticks
    assert all(float(tick).is_integer() for tick in ticks)
    plt.close("all")


def test_sharpness_scale_overrides_and_warnings():
    import matplotlib.pyplot as plt

    wide_with_negative = sharpness_frame([-0.5, 10.0, 1e4])
    with pytest.warns(RuntimeWarning, match=r"more than two decades, but are not all positive"):
        ax = plot_sharpness(wide_with_negative)
    assert ax.get_yscale() == "linear"
    with pytest.warns(RuntimeWarning, match=r"log=True needs positive sharpness values; the smallest is -0.5"):
        ax = plot_sharpness(wide_with_negative, log=True)
    assert ax.get_yscale() == "linear"
    assert plot_sharpness(sharpness_frame([1.0, 2.0]), log=True).get_yscale() == "log"
    assert plot_sharpness(sharpness_frame([1.0, 1e6]), log=False).get_yscale() == "linear"
    with pytest.raises(TypeError, match="log must be True, False or None; got 'yes'"):
        plot_sharpness(sharpness_frame([1.0, 2.0]), log="yes")
    plt.close("all")


# Report section ------------------------------------------------------------------


def test_dynamics_report_section(tmp_path):
    import json

    from reluscape.report import RunConfig, run_report
    from reluscape.report.sections import dynamics

    config = RunConfig(quick=True, epochs=6, n_samples=120, width=8, output=str(tmp_path / "out"))
    result = run_report(config, sections=[dynamics.SECTION])
    assert result.failed_sections == []
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())["sections"]["dynamics"]
    assert set(metrics["optimizers"]) == {"sgd", "momentum", "adam", "rmsprop"}
    assert all(run["epochs"] == 6 for run in metrics["optimizers"].values())
    assert metrics["main_run"]["norm_final"] > 0
    assert metrics["sharpness"]["stability_threshold"] == pytest.approx(2 / 0.5)
    assert metrics["sharpness"]["max"] >= metrics["sharpness"]["final"]
    assert metrics["sharpness"]["initial_sharpness"] == pytest.approx(metrics["sharpness"]["initial"])
    assert metrics["sharpness"]["lr"] <= 2 / metrics["sharpness"]["initial_sharpness"]
    figures = ("dynamics_optimizers.png", "dynamics_balancedness.png", "dynamics_sharpness.png")
    for name in [f"figures/{figure}" for figure in figures] + ["data/dynamics_optimizers_final.csv"]:
        assert (tmp_path / "out" / name).is_file(), name


def test_dynamics_report_section_after_divergence(tmp_path):
    from reluscape.report import RunConfig, run_report
    from reluscape.report.sections import dynamics

    config = RunConfig(quick=True, epochs=5, n_samples=120, width=8, optimizer="sgd", lr=1e30, output=str(tmp_path / "out"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # the report logs a divergence instead of warning
        result = run_report(config, sections=[dynamics.SECTION])
    assert result.failed_sections == []
    page = result.index.read_text()
    assert "The main training run diverged, so the balancedness of that run is not shown" in page
    section = page.split('<section id="dynamics">')[1].split("</section>")[0]
    assert "This gradient-descent run diverged" in section  # the config's step size is used and flagged
    cells = re.findall(r"<td>(.*?)</td>", section)
    assert cells
    assert not any("nan" in cell.lower() for cell in cells)


def test_sharpness_step_matches_initial_sharpness():
    from types import SimpleNamespace

    from reluscape.report import RunConfig
    from reluscape.report.sections.dynamics import _sharpness_step

    default_run = SimpleNamespace(config=RunConfig(optimizer="adam"))
    lr, reason = _sharpness_step(default_run, 29.5)
    assert lr == pytest.approx(1 / 29.5)  # the default 0.5 exceeds 2/λ₀ ≈ 0.068
    assert "η = 1/λ₀" in reason
    lr, reason = _sharpness_step(default_run, 1.0)
    assert lr == 0.5
    assert "starts stable" in reason
    lr, reason = _sharpness_step(default_run, -1.0)
    assert lr == 0.5
    assert "not positive" in reason
    user_run = SimpleNamespace(config=RunConfig(optimizer="sgd", lr=1.0))
    lr, reason = _sharpness_step(user_run, 29.5)
    assert lr == 1.0
    assert "is kept although it exceeds 2/λ₀" in reason
