"""WeightNormMonitor: norms, path norm, balancedness identities, margins and plots."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest
import torch

from _dynamics_helpers import ParameterRecorder, reference_gradient
from reluscape import ShallowReLU, ShallowReLUTrainer, SyntheticDatasetBuilder, WeightNormMonitor
from reluscape.experiments import WeightNormTrajectory
from reluscape.experiments.weight_norm_monitor import classification_margins
from reluscape.plotting import plot_balancedness_drift, plot_weight_norms

matplotlib.use("Agg")

EPS64 = torch.finfo(torch.float64).eps


@pytest.fixture(scope="module")
def moons64():
    return SyntheticDatasetBuilder(120, seed=1, dtype=torch.float64).moons()


@pytest.fixture(scope="module")
def blobs64():
    return SyntheticDatasetBuilder(120, seed=2, dtype=torch.float64).blobs(centers=3)


@pytest.fixture(scope="module")
def regression64():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=80)
    return SyntheticDatasetBuilder(seed=0, dtype=torch.float64).from_arrays(X, y, task="regression")


def balancedness_of(params) -> torch.Tensor:
    W, b, a, _ = params
    return (W.square().sum(1) + b.square()) - a.square().sum(0)


def gradient_gap(gradient) -> torch.Tensor:
    """‖∇_{(w_j, b_j)}L‖² − ‖∇_{a_j}L‖² per neuron."""
    gW, gb, ga, _ = gradient
    return (gW.square().sum(1) + gb.square()) - ga.square().sum(0)


def train_gd(data, width, lr, steps, *, weight_decay=0.0, seed=0):
    """Full-batch SGD for ``steps`` steps with a per-step monitor and a parameter recorder."""
    monitor = WeightNormMonitor(per_step=True)
    recorder = ParameterRecorder()
    model = ShallowReLU(data.n_features, width, data.n_outputs, seed=seed, dtype=torch.float64)
    ShallowReLUTrainer(
        model, data, optimizer="sgd", lr=lr, weight_decay=weight_decay, epochs=steps, callbacks=[monitor, recorder]
    ).fit()
    result = monitor.result
    Q = np.concatenate([result.balancedness[:1], result.step_balancedness])  # (steps + 1, m)
    return result, recorder, Q


@pytest.mark.parametrize(("data_name", "lr"), [("moons64", 0.3), ("blobs64", 0.3), ("regression64", 0.02)])
def test_gd_step_changes_balancedness_by_eta_squared_gap(data_name, lr, request):
    data = request.getfixturevalue(data_name)
    steps = 12
    result, recorder, Q = train_gd(data, width=10, lr=lr, steps=steps)

    assert Q.shape == (steps + 1, 10)
    for t, (before, after) in enumerate(zip(recorder.before_step, recorder.after_step)):
        np.testing.assert_allclose(Q[t + 1], balancedness_of(after).numpy(), rtol=0, atol=1e-14)
        predicted = lr**2 * gradient_gap(reference_gradient(before, data.X_train, data.y_train, data.task)).numpy()
        scale = float(before.W.square().sum() + before.b.square().sum() + before.a.square().sum())
        tolerance = 64 * EPS64 * scale
        assert np.abs(predicted).max() > 1e4 * tolerance  # the change is far above rounding
        np.testing.assert_allclose(Q[t + 1] - Q[t], predicted, rtol=0, atol=tolerance)


def test_small_step_drift_tiny_while_weights_move(moons64):
    lr, steps = 0.03, 80
    result, recorder, Q = train_gd(moons64, width=8, lr=lr, steps=steps)

    gaps = [gradient_gap(reference_gradient(p, moons64.X_train, moons64.y_train, "binary")) for p in recorder.before_step]
    bound = lr**2 * torch.stack(gaps).abs().sum(0).numpy()
    drift = np.abs(Q[-1] - Q[0])
    assert np.all(drift <= bound + 1e-12)

    start = torch.cat([t.reshape(-1) for t in recorder.initial])
    end = torch.cat([t.reshape(-1) for t in recorder.after_step[-1]])
    movement = float((end - start).square().sum())
    assert movement > 0.1
    assert drift.max() < 1e-2 * movement
    assert result.epoch_records[-1]["max_abs_balancedness_drift"] == pytest.approx(drift.max(), rel=1e-12)
    assert result.epoch_records[-1]["distance_from_init"] == pytest.approx(movement**0.5, rel=1e-12)


def test_weight_decay_scales_balancedness(blobs64):
    lr, decay, steps = 0.2, 0.05, 10
    _, recorder, Q = train_gd(blobs64, width=6, lr=lr, steps=steps, weight_decay=decay)

    # torch.optim.SGD with weight decay λ steps θ ← θ − η(∇L + λθ), so
    # Q_j ← (1 − ηλ)²·Q_j + η²(‖∇_{u_j}L‖² − ‖∇_{a_j}L‖²).
    factor = (1.0 - lr * decay) ** 2
    for t, before in enumerate(recorder.before_step):
        gap = gradient_gap(reference_gradient(before, blobs64.X_train, blobs64.y_train, "multiclass")).numpy()
        np.testing.assert_allclose(Q[t + 1], factor * Q[t] + lr**2 * gap, rtol=0, atol=1e-13)
        assert np.abs(Q[t + 1] - (Q[t] + lr**2 * gap)).max() > 1e-6  # decay is visible


def test_norms_and_path_norm_match_direct_computation(blobs64):
    monitor = WeightNormMonitor()
    recorder = ParameterRecorder()
    model = ShallowReLU(2, 7, 3, seed=3, dtype=torch.float64)
    ShallowReLUTrainer(model, blobs64, optimizer="adam", epochs=3, callbacks=[monitor, recorder]).fit()
    result = monitor.result

    for index, (record, params) in enumerate(zip(result.epoch_records, recorder.after_epoch)):
        W, b, a, c = params
        flat = torch.cat([W.reshape(-1), b, a.reshape(-1), c])
        assert record["norm"] == pytest.approx(float(torch.linalg.vector_norm(flat)), rel=1e-14)
        assert record["norm_hidden"] == pytest.approx(float(torch.cat([W.reshape(-1), b]).norm()), rel=1e-14)
        assert record["norm_output"] == pytest.approx(float(torch.cat([a.reshape(-1), c]).norm()), rel=1e-14)
        for name, block in zip("Wbac", params):
            assert record[f"norm_{name}"] == pytest.approx(float(block.norm()), rel=1e-14)
        path = sum(float(torch.linalg.vector_norm(a[:, j])) * float(torch.cat([W[j], b[j : j + 1]]).norm()) for j in range(7))
        assert record["path_norm"] == pytest.approx(path, rel=1e-13)
        for j in range(7):
            assert result.input_norms[index, j] == pytest.approx(float(torch.cat([W[j], b[j : j + 1]]).norm()), rel=1e-14)
            assert result.output_norms[index, j] == pytest.approx(float(a[:, j].norm()), rel=1e-14)
    assert [record["loss"] for record in result.epoch_records] == monitor._trainer.history.train_loss


def test_margins_binary_and_multiclass(moons64, blobs64):
    for data in (moons64, blobs64):
        monitor = WeightNormMonitor()
        recorder = ParameterRecorder()
        model = ShallowReLU(2, 6, data.n_outputs, seed=4, dtype=torch.float64)
        ShallowReLUTrainer(model, data, optimizer="adam", epochs=2, callbacks=[monitor, recorder]).fit()
        for record, params in zip(monitor.result.epoch_records, recorder.after_epoch):
            outputs = ShallowReLU.from_params(params)(data.X_train).detach()
            margins = []
            for output, label in zip(outputs.tolist(), data.y_train.tolist()):
                if data.task == "binary":
                    margins.append(output[0] if label == 1 else -output[0])
                else:
                    margins.append(output[label] - max(v for i, v in enumerate(output) if i != label))
            theta_square = sum(float(t.square().sum()) for t in params)
            assert record["margin"] == pytest.approx(min(margins), rel=1e-12, abs=1e-14)
            assert record["normalized_margin"] == pytest.approx(min(margins) / theta_square, rel=1e-12, abs=1e-14)


def test_margin_sign_marks_correct_samples():
    outputs = torch.tensor([[2.0, 1.0, -1.0], [0.0, 3.0, 3.5]])
    margins = classification_margins(outputs, torch.tensor([0, 1]), "multiclass")
    assert margins.tolist() == [1.0, -0.5]
    binary = classification_margins(torch.tensor([[1.5], [1.5]]), torch.tensor([1, 0]), "binary")
    assert binary.tolist() == [1.5, -1.5]
    with pytest.raises(ValueError, match="task must be one of 'binary', 'multiclass'; got 'regression'"):
        classification_margins(outputs, torch.tensor([0, 1]), "regression")


def test_margin_options(regression64, moons64):
    plain = WeightNormMonitor()
    ShallowReLUTrainer(ShallowReLU(3, 4, seed=0, dtype=torch.float64), regression64, epochs=1, callbacks=[plain]).fit()
    assert "margin" not in plain.result.table().columns

    forced = WeightNormMonitor(margin=True)
    trainer = ShallowReLUTrainer(ShallowReLU(3, 4, seed=0, dtype=torch.float64), regression64, epochs=1, callbacks=[forced])
    with pytest.raises(ValueError, match="margin=True needs a classification task; the data's task is 'regression'"):
        trainer.fit()

    off = WeightNormMonitor(margin=False)
    ShallowReLUTrainer(ShallowReLU(2, 4, seed=0), moons64, epochs=1, callbacks=[off]).fit()
    assert "margin" not in off.result.table().columns


def test_constructor_rejects_bad_options():
    with pytest.raises(TypeError, match="per_step must be True or False; got 'no'"):
        WeightNormMonitor(per_step="no")
    with pytest.raises(TypeError, match="margin must be True, False or None; got 1"):
        WeightNormMonitor(margin=1)


def test_attached_to_two_trainers_raises(moons64):
    monitor = WeightNormMonitor()
    ShallowReLUTrainer(ShallowReLU(2, 4, seed=0), moons64, epochs=1, callbacks=[monitor]).fit()
    other = ShallowReLUTrainer(ShallowReLU(2, 4, seed=1), moons64, epochs=1, callbacks=[monitor])
    with pytest.raises(RuntimeError, match="this WeightNormMonitor is already attached to another ShallowReLUTrainer"):
        other.fit()


def test_empty_trajectory_has_no_initial_balancedness():
    with pytest.raises(ValueError, match="the trajectory is empty; train with the monitor attached first"):
        WeightNormMonitor().result.initial_balancedness  # noqa: B018


def test_neuron_frame_and_save_load(blobs64, tmp_path):
    monitor = WeightNormMonitor(per_step=True)
    ShallowReLUTrainer(ShallowReLU(2, 5, 3, seed=0, dtype=torch.float64), blobs64, epochs=3, batch_size=45, callbacks=[monitor]).fit()
    result = monitor.result

    neurons = result.neuron_frame()
    assert list(neurons.columns) == ["epoch", "step", "neuron", "input_norm", "output_norm", "balancedness", "balancedness_drift"]
    assert len(neurons) == 4 * 5
    first = neurons[neurons["epoch"] == 0]
    assert (first["balancedness_drift"] == 0.0).all()
    last = neurons[neurons["epoch"] == 3].sort_values("neuron")
    np.testing.assert_array_equal(last["balancedness_drift"].to_numpy(), result.balancedness_drift[-1])
    np.testing.assert_allclose(
        last["balancedness"].to_numpy(), last["input_norm"].to_numpy() ** 2 - last["output_norm"].to_numpy() ** 2, atol=1e-12
    )
    assert len(result.neuron_frame(per_step=True)) == len(result.step_records) * 5

    path = result.save(tmp_path / "weights.npz")
    loaded = WeightNormTrajectory.load(path)
    assert loaded.epoch_records == result.epoch_records
    assert loaded.step_records == result.step_records
    assert loaded.settings == result.settings
    for name in ("input_norms", "output_norms", "balancedness", "step_balancedness"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(result, name))
    pd.testing.assert_frame_equal(loaded.neuron_frame(), neurons)
    long = loaded.to_frame()
    assert list(long.columns) == ["epoch", "step", "metric", "value"]
    with pytest.raises(ValueError, match="name must be one of 'epoch', 'step'; got 'neuron'"):
        loaded.table("neuron")


def test_plots_return_axes(moons64):
    import matplotlib.pyplot as plt

    monitor = WeightNormMonitor()
    ShallowReLUTrainer(ShallowReLU(2, 12, seed=0), moons64, epochs=3, callbacks=[monitor]).fit()
    ax = monitor.plot()
    assert [line.get_label() for line in ax.get_lines()] == ["norm", "path_norm"]
    figure, given = plt.subplots()
    assert plot_weight_norms(monitor.result, ax=given, metrics=["normalized_margin"]) is given
    ax = plot_balancedness_drift(monitor.result, max_neurons=5)
    assert len(ax.get_lines()) == 5 + 1  # five neurons and the zero line
    assert "5 of 12 neurons" in ax.get_title()
    assert monitor.plot_balancedness().get_ylabel() == "Q_j(t) − Q_j(0)"
    with pytest.raises(ValueError, match="max_neurons must be an integer >= 1; got 0"):
        plot_balancedness_drift(monitor.result, max_neurons=0)
    with pytest.raises(ValueError, match="no records to plot; train with the monitor attached and per_step=True"):
        plot_balancedness_drift(monitor.result, per_step=True)
    with pytest.raises(ValueError, match=r"metrics \['grad_norm'\] were not recorded"):
        plot_weight_norms(monitor.result, metrics=["grad_norm"])
    plt.close("all")


def test_balancedness_plot_keeps_label_inside(moons64):
    import io

    import matplotlib.pyplot as plt

    monitor = WeightNormMonitor()
    # A small step gives drifts near 1e-4, whose long tick labels pushed the y-label off a default-layout figure.
    ShallowReLUTrainer(ShallowReLU(2, 12, seed=0), moons64, optimizer="sgd", lr=0.01, epochs=3, callbacks=[monitor]).fit()
    ax = plot_balancedness_drift(monitor.result)
    figure = ax.figure
    figure.savefig(io.BytesIO(), format="png")
    renderer = figure.canvas.get_renderer()
    label = ax.yaxis.label.get_window_extent(renderer)
    assert label.x0 >= 0
    assert ax.get_tightbbox(renderer).x0 >= 0
    given_figure, given = plt.subplots()
    plot_balancedness_drift(monitor.result, ax=given)
    assert given_figure.get_layout_engine() is None  # a caller's figure keeps its own layout
    plt.close("all")
