"""Tests of OverparamExperiment, its batched training engine, results file and plots."""

from __future__ import annotations

import math
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
import torch

from reluscape import OverparamExperiment, ShallowReLU, ShallowReLUTrainer, SyntheticDatasetBuilder
from reluscape.experiments import overparam_experiment as overparam_module
from reluscape.experiments._batched_training import plan_groups
from reluscape.experiments._sweep_metrics import OPTIONAL_METRICS
from reluscape.experiments.overparam_experiment import OverparamResult, summarize_sweep
from reluscape.losses import TaskLoss

# float64 tolerances between batched and one-at-a-time runs, which differ
# only in the summation order of matrix products.
EXACT = 1e-10
RELATIVE = 1e-9


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    # These networks are tiny: a second intra-op thread only adds
    # synchronisation, which is slow on a loaded machine.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def moons():
    return SyntheticDatasetBuilder(80, noise=0.15, seed=1, dtype=torch.float64).moons()


@pytest.fixture(scope="module")
def blobs():
    return SyntheticDatasetBuilder(90, seed=2, dtype=torch.float64).blobs(centers=3)


@pytest.fixture(scope="module")
def regression():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = 2.0 * X[:, 0] + np.sin(X[:, 1])
    return SyntheticDatasetBuilder(seed=0, dtype=torch.float64).from_arrays(X, y, task="regression")


def sweep(dataset, widths=(2, 5), **kwargs):
    kwargs.setdefault("seeds", (0, 1))
    kwargs.setdefault("epochs", 12)
    kwargs.setdefault("dtype", torch.float64)
    return OverparamExperiment(dataset, list(widths), **kwargs)


def without_time(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns="wall_time")


def assert_frames_close(left: pd.DataFrame, right: pd.DataFrame, atol: float = EXACT, rtol: float = RELATIVE) -> None:
    pd.testing.assert_frame_equal(without_time(left), without_time(right), check_exact=False, rtol=rtol, atol=atol)


# --- table layout -----------------------------------------------------------


def test_n_parameters_formula(moons, blobs):
    frame = sweep(moons, widths=(10,), seeds=(0,), epochs=1).run()
    assert frame.loc[0, "n_parameters"] == 41
    assert frame.loc[0, "parameters_per_sample"] == pytest.approx(41 / moons.n_train)

    frame = sweep(blobs, widths=(3, 7), seeds=(0,), epochs=1).run()
    d, k = blobs.n_features, 3
    expected = [(d + 1) * m + (m + 1) * k for m in (3, 7)]
    assert frame["n_parameters"].tolist() == expected


def test_table_columns_and_order(moons):
    frame = sweep(moons, widths=(5, 2), seeds=(1, 0), metrics=("dead_neurons",)).run()
    expected = [
        "width", "seed", "n_parameters", "parameters_per_sample", "train_loss", "test_loss",
        "train_accuracy", "test_accuracy", "epochs_to_target", "grad_norm", "weight_norm",
        "path_norm", "wall_time", "diverged", "dead_neurons",
    ]  # fmt: skip
    assert list(frame.columns) == expected
    assert frame[["width", "seed"]].values.tolist() == [[2, 0], [2, 1], [5, 0], [5, 1]]
    assert frame["diverged"].dtype == bool
    assert (frame["wall_time"] > 0).all()


def test_regression_uses_r2_columns(regression):
    frame = sweep(regression, widths=(3,), seeds=(0,), lr=0.05).run()
    assert "train_r2" in frame.columns
    assert "test_r2" in frame.columns


# --- against ShallowReLUTrainer -------------------------------------------


def test_row_equals_trainer_run(moons):
    experiment = sweep(moons, widths=(6,), seeds=(3,), optimizer="momentum", lr=0.05, epochs=15, target_loss=0.6)
    row = experiment.run().iloc[0]

    model = ShallowReLU(2, 6, seed=3, dtype=torch.float64)
    history = ShallowReLUTrainer(model, moons, optimizer="momentum", lr=0.05, epochs=15, seed=3).fit()
    final = history.final
    assert row["train_loss"] == pytest.approx(final["train_loss"], abs=EXACT)
    assert row["test_loss"] == pytest.approx(final["test_loss"], abs=EXACT)
    assert row["train_accuracy"] == pytest.approx(final["train_accuracy"], abs=EXACT)
    assert row["test_accuracy"] == pytest.approx(final["test_accuracy"], abs=EXACT)
    reached = [epoch for epoch, loss in zip(history.epochs, history.train_loss) if loss <= 0.6]
    assert row["epochs_to_target"] == (reached[0] if reached else math.isnan(row["epochs_to_target"]))

    theta = torch.nn.utils.parameters_to_vector(model.parameters()).detach()
    assert row["weight_norm"] == pytest.approx(float(theta.norm()), abs=EXACT)
    W, b = model.hidden.weight.detach(), model.hidden.bias.detach()
    a = model.output.weight.detach()
    path = sum(float(a[:, j].norm() * torch.cat([W[j], b[j : j + 1]]).norm()) for j in range(6))
    assert row["path_norm"] == pytest.approx(path, abs=EXACT)
    loss = TaskLoss("binary")(model(moons.X_train), moons.y_train)
    grads = torch.autograd.grad(loss, list(model.parameters()))
    assert row["grad_norm"] == pytest.approx(float(torch.cat([g.flatten() for g in grads]).norm()), abs=EXACT)


@pytest.mark.parametrize(
    ("optimizer", "batch_size", "weight_decay"),
    [
        ("sgd", None, 0.0),
        ("momentum", None, 0.0),
        ("nesterov", None, 0.01),
        ("adam", None, 0.0),
        ("adamw", 16, 0.05),
        ("rmsprop", 25, 0.0),
        ("adagrad", None, 0.01),
    ],
)
def test_batched_equals_sequential(moons, optimizer, batch_size, weight_decay):
    settings = dict(optimizer=optimizer, batch_size=batch_size, weight_decay=weight_decay, lr=0.02, target_loss=0.5)
    batched = sweep(moons, widths=(3, 8), seeds=(0, 1, 2), **settings)
    sequential = sweep(moons, widths=(3, 8), seeds=(0, 1, 2), batched=False, **settings)
    assert_frames_close(batched.run(), sequential.run())
    pd.testing.assert_frame_equal(batched.result.curves, sequential.result.curves, check_exact=False, rtol=0, atol=EXACT)


def test_batched_equals_sequential_multiclass_minibatch(blobs):
    settings = dict(optimizer="sgd", lr=0.1, batch_size=20, metrics=("activation_patterns",))
    batched = sweep(blobs, widths=(4,), seeds=(0, 5), **settings).run()
    sequential = sweep(blobs, widths=(4,), seeds=(0, 5), batched=False, **settings).run()
    assert_frames_close(batched, sequential)


def test_batched_equals_sequential_regression_minibatch(regression):
    settings = dict(optimizer="momentum", lr=0.01, batch_size=16)
    batched = sweep(regression, widths=(3, 6), **settings).run()
    sequential = sweep(regression, widths=(3, 6), batched=False, **settings).run()
    assert_frames_close(batched, sequential)


def test_float32_batched_close_to_sequential(moons):
    batched = sweep(moons, widths=(16,), dtype=torch.float32, epochs=30).run()
    sequential = sweep(moons, widths=(16,), dtype=torch.float32, epochs=30, batched=False).run()
    assert_frames_close(batched, sequential, atol=1e-5)


# --- determinism and side effects -----------------------------------------


def test_sweep_deterministic_per_seed(moons):
    first = sweep(moons, widths=(4,), seeds=(0, 1, 2)).run()
    second = sweep(moons, widths=(4,), seeds=(0, 1, 2)).run()
    pd.testing.assert_frame_equal(without_time(first), without_time(second))

    alone = sweep(moons, widths=(4,), seeds=(1,)).run()
    assert_frames_close(alone, first.loc[first["seed"] == 1].reset_index(drop=True))


def test_run_leaves_data_and_global_rng_alone(moons):
    X_before = moons.X_train.clone()
    rng_before = torch.get_rng_state()
    sweep(moons, widths=(3,), batch_size=10).run()
    assert torch.equal(torch.get_rng_state(), rng_before)
    assert torch.equal(moons.X_train, X_before)


# --- parallel execution ----------------------------------------------------


def test_thread_executor_equals_local(moons):
    local = sweep(moons, widths=(2, 4, 6)).run()
    with ThreadPoolExecutor(max_workers=2) as executor:
        remote = sweep(moons, widths=(2, 4, 6), executor=executor).run()
    assert_frames_close(remote, local)


def test_process_pool_equals_local(moons):
    local = sweep(moons, widths=(2, 7), seeds=(0, 1, 2)).run()
    parallel = sweep(moons, widths=(2, 7), seeds=(0, 1, 2), n_jobs=2).run()
    assert_frames_close(parallel, local)


def test_dask_local_cluster_equals_local(moons):
    distributed = pytest.importorskip("distributed")
    local = sweep(moons, widths=(2, 5)).run()
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster, distributed.Client(cluster) as client:
        remote = sweep(moons, widths=(2, 5), executor=client.get_executor()).run()
    assert_frames_close(remote, local)


def test_plan_groups_pads_neighbouring_widths():
    runs = [(width, seed) for width in (2, 4, 8, 16, 32, 64, 128, 256) for seed in range(4)]
    groups = plan_groups(runs, 750)
    widths = [sorted({width for width, _ in group}) for group in groups]
    assert sorted(widths) == [[2, 4, 8], [16, 32], [64], [128], [256]]
    assert widths[0] == [256]
    assert sorted(run for group in groups for run in group) == sorted(runs)


def test_plan_groups_splits_for_workers():
    groups = plan_groups([(64, seed) for seed in range(4)], 750, n_workers=3)
    assert len(groups) == 3
    assert sorted(len(group) for group in groups) == [1, 1, 2]


def test_plan_groups_keeps_widths_whole():
    runs = [(width, seed) for width in (64, 128) for seed in range(4)]
    groups = plan_groups(runs, 750, n_workers=4, split_widths=False)
    assert sorted(sorted({width for width, _ in group}) for group in groups) == [[64], [128]]
    assert all(len(group) == 4 for group in groups)


def test_padded_group_equals_sequential(moons):
    settings = dict(widths=(1, 3, 9), seeds=(0, 1), optimizer="adam", lr=0.05, weight_decay=0.01)
    assert len(plan_groups([(w, s) for w in (1, 3, 9) for s in (0, 1)], moons.n_train)) == 1
    assert_frames_close(sweep(moons, **settings).run(), sweep(moons, batched=False, **settings).run())


# --- resuming ---------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_resumed_sweep_equals_uninterrupted(moons, tmp_path, monkeypatch, suffix):
    # Width 400 is too far from 2 and 3 to share their padded group, so the
    # sweep runs two groups, the larger one first.
    path = tmp_path / f"sweep{suffix}"
    reference = sweep(moons, widths=(2, 3, 400))
    uninterrupted = reference.run()

    real_run_group = overparam_module._run_group
    calls = []

    def interrupted(task):
        calls.append(task.runs)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_run_group(task)

    monkeypatch.setattr(overparam_module, "_run_group", interrupted)
    with pytest.raises(KeyboardInterrupt):
        sweep(moons, widths=(2, 3, 400), results_path=path).run()
    saved = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
    assert saved["width"].tolist() == [400, 400]

    trained = []

    def counting(task):
        trained.append(task.runs)
        return real_run_group(task)

    monkeypatch.setattr(overparam_module, "_run_group", counting)
    experiment = sweep(moons, widths=(2, 3, 400), results_path=path)
    resumed = experiment.run()
    assert trained == [((2, 0), (2, 1), (3, 0), (3, 1))]
    pd.testing.assert_frame_equal(without_time(resumed), without_time(uninterrupted))
    pd.testing.assert_frame_equal(experiment.result.curves, reference.result.curves)

    trained.clear()
    again = sweep(moons, widths=(2, 3, 400), results_path=path).run()
    assert trained == []
    pd.testing.assert_frame_equal(again, resumed)


def test_extended_sweep_reuses_finished_runs(moons, tmp_path, monkeypatch):
    path = tmp_path / "sweep.csv"
    first = sweep(moons, widths=(2,), seeds=(0,), results_path=path).run()

    real_run_group = overparam_module._run_group
    trained = []

    def counting(task):
        trained.extend(task.runs)
        return real_run_group(task)

    monkeypatch.setattr(overparam_module, "_run_group", counting)
    extended = sweep(moons, widths=(2, 5), seeds=(0, 1), results_path=path).run()
    assert sorted(trained) == [(2, 1), (5, 0), (5, 1)]
    pd.testing.assert_frame_equal(extended.iloc[[0]], first)
    assert len(pd.read_csv(path)) == 4


def test_results_file_with_other_setting_rejected(moons, tmp_path):
    path = tmp_path / "sweep.csv"
    sweep(moons, widths=(2,), lr=0.5, results_path=path).run()
    with pytest.raises(ValueError, match=r"lr is 0\.5 in the file and 0\.1 in this experiment"):
        sweep(moons, widths=(2,), lr=0.1, results_path=path).run()
    with pytest.raises(ValueError, match=r"epochs is 12 in the file and 3 in this experiment"):
        sweep(moons, widths=(2,), lr=0.5, epochs=3, results_path=path).run()
    other_data = SyntheticDatasetBuilder(80, noise=0.15, seed=2, dtype=torch.float64).moons()
    with pytest.raises(ValueError, match=r"contains runs made with a different setting: dataset is"):
        sweep(other_data, widths=(2,), lr=0.5, results_path=path).run()


def test_results_file_foreign_table_rejected(moons, tmp_path):
    path = tmp_path / "other.csv"
    pd.DataFrame({"width": [2], "seed": [0]}).to_csv(path, index=False)
    with pytest.raises(ValueError, match="has no column 'setting_dataset'"):
        sweep(moons, widths=(2,), results_path=path).run()


def test_results_path_suffix_checked(moons, tmp_path):
    with pytest.raises(ValueError, match=r"results_path must end in \.csv or \.parquet; got .*sweep\.json"):
        sweep(moons, results_path=tmp_path / "sweep.json")


# --- divergence -------------------------------------------------------------


def test_diverging_runs_flagged_and_sweep_goes_on(regression):
    # At lr 0.5 gradient descent on this regression diverges at width 64 and
    # not at width 2; width 8 is near the edge, so it is not pinned down.
    settings = dict(widths=(2, 8, 64), seeds=(0, 1), lr=0.5, epochs=30)
    with pytest.warns(RuntimeWarning, match="runs diverged") as caught:
        frame = sweep(regression, **settings).run()
    assert frame.loc[frame["width"] == 2, "diverged"].tolist() == [False, False]
    assert frame.loc[frame["width"] == 64, "diverged"].tolist() == [True, True]
    diverged = frame.loc[frame["diverged"], ["width", "seed"]].values.tolist()
    message = next(str(item.message) for item in caught if "runs diverged" in str(item.message))
    assert message.startswith(f"{len(diverged)} of 6 runs diverged: ")
    for width, seed in diverged:
        assert f"(width={width}, seed={seed})" in message

    finished = frame.loc[~frame["diverged"]]
    assert np.isfinite(finished[["train_loss", "grad_norm"]].to_numpy()).all()
    assert frame.loc[frame["diverged"], "grad_norm"].isna().all()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sequential = sweep(regression, batched=False, **settings).run()
    assert sequential["diverged"].tolist() == frame["diverged"].tolist()
    assert_frames_close(frame.loc[~frame["diverged"]], sequential.loc[~sequential["diverged"]])


def test_diverged_run_curve_matches_trainer(regression):
    with pytest.warns(RuntimeWarning, match="diverged"):
        experiment = sweep(regression, widths=(64,), seeds=(1,), lr=0.1, epochs=30, metrics=("dead_neurons",))
        frame = experiment.run()
    model = ShallowReLU(2, 64, seed=1, dtype=torch.float64)
    with pytest.warns(RuntimeWarning, match="Training diverged"):
        history = ShallowReLUTrainer(model, regression, optimizer="sgd", lr=0.1, epochs=30, seed=1).fit()
    curve = experiment.result.curves.query("seed == 1")["train_loss"].to_numpy()
    reference = np.asarray(history.train_loss)
    # Near float64 overflow the two summation orders can overflow one epoch
    # apart, so the curves are compared while the loss is still moderate.
    moderate = np.flatnonzero(reference < 1e6)
    assert moderate.size >= 3
    assert np.allclose(curve[moderate], reference[moderate], rtol=1e-9)
    assert abs(len(curve) - len(reference)) <= 1
    assert not np.isfinite(curve[-1])
    assert frame.loc[0, "diverged"]
    assert math.isnan(frame.loc[0, "dead_neurons"])


# --- optional metrics -------------------------------------------------------


def test_optional_metrics_match_direct_count(moons):
    experiment = sweep(moons, widths=(12,), seeds=(0,), metrics=("dead_neurons", "activation_patterns"))
    row = experiment.run().iloc[0]

    model = ShallowReLU(2, 12, seed=0, dtype=torch.float64)
    ShallowReLUTrainer(model, moons, optimizer="sgd", epochs=12, seed=0).fit()
    active = (moons.X_train @ model.hidden.weight.detach().T + model.hidden.bias.detach()) > 0
    patterns = {tuple(pattern) for pattern in active.tolist()}
    assert row["activation_patterns"] == len(patterns)
    assert row["dead_neurons"] == int((~active.any(dim=0)).sum())


def test_target_loss_none_gives_nan_column(moons):
    frame = sweep(moons, widths=(2,)).run()
    assert frame["epochs_to_target"].isna().all()


# --- summary ----------------------------------------------------------------


def test_summary_matches_hand_computation():
    frame = pd.DataFrame(
        {
            "width": [2, 2, 2, 4, 4],
            "seed": [0, 1, 2, 0, 1],
            "n_parameters": [9, 9, 9, 17, 17],
            "parameters_per_sample": [0.09, 0.09, 0.09, 0.17, 0.17],
            "test_loss": [1.0, 3.0, np.inf, 0.5, 0.7],
            "diverged": [False, False, True, False, False],
        }
    )
    table = summarize_sweep(frame)
    assert table.loc[2, ("test_loss", "mean")] == pytest.approx(2.0)
    assert table.loc[2, ("test_loss", "std")] == pytest.approx(math.sqrt(2.0))
    assert table.loc[2, ("test_loss", "min")] == 1.0
    assert table.loc[2, ("test_loss", "max")] == 3.0
    assert table.loc[4, ("test_loss", "mean")] == pytest.approx(0.6)
    assert table.loc[4, ("test_loss", "std")] == pytest.approx(math.sqrt(0.02))
    assert table.loc[2, ("runs", "total")] == 3
    assert table.loc[2, ("runs", "diverged")] == 1
    assert table.loc[4, ("runs", "diverged")] == 0
    assert table.loc[4, ("model", "n_parameters")] == 17


def test_summary_of_run_indexed_by_width(moons):
    experiment = sweep(moons, widths=(3, 6), seeds=(0, 1, 2))
    frame = experiment.run()
    table = experiment.summary()
    assert table.index.tolist() == [3, 6]
    expected = frame.loc[frame["width"] == 6, "train_loss"].std()
    assert table.loc[6, ("train_loss", "std")] == pytest.approx(expected)


def test_summary_before_run_raises(moons):
    with pytest.raises(RuntimeError, match=r"no results yet; call run\(\) first"):
        sweep(moons).summary()


def test_summary_requires_key_columns():
    with pytest.raises(ValueError, match=r"missing \['diverged'\]"):
        summarize_sweep(pd.DataFrame({"width": [1], "seed": [0]}))


# --- result object ----------------------------------------------------------


def test_result_save_load_roundtrip(moons, tmp_path):
    experiment = sweep(moons, widths=(2, 9))
    experiment.run()
    loaded = OverparamResult.load(experiment.result.save(tmp_path / "result"))
    pd.testing.assert_frame_equal(loaded.frame, experiment.result.frame)
    pd.testing.assert_frame_equal(loaded.curves, experiment.result.curves)
    assert loaded.settings == experiment.result.settings
    assert loaded.interpolation_width == pytest.approx((moons.n_train - 1) / 4)


# --- plots ------------------------------------------------------------------


@pytest.fixture(scope="module")
def finished_experiment(regression):
    experiment = sweep(regression, widths=(2, 8, 64), seeds=(0, 1), lr=0.5, epochs=30)
    with pytest.warns(RuntimeWarning, match="diverged"):
        experiment.run()
    return experiment


def test_plot_metric_marks_threshold(finished_experiment):
    import matplotlib.pyplot as plt

    ax = finished_experiment.plot_metric("train_loss", spread="minmax", log_y=True)
    labels = [line.get_label() for line in ax.get_lines()]
    n_diverged = int(finished_experiment.result.frame["diverged"].sum())
    assert "P = n_train" in labels
    assert f"{n_diverged} diverged runs left out" in labels
    assert ax.get_xscale() == "log"
    threshold = next(line for line in ax.get_lines() if line.get_label() == "P = n_train")
    assert threshold.get_xdata()[0] == pytest.approx(finished_experiment.result.interpolation_width)
    mean_line = ax.get_lines()[0]
    assert np.isfinite(np.asarray(mean_line.get_ydata(), dtype=float)).all()
    plt.close(ax.figure)


def test_plot_metric_on_given_axes(finished_experiment):
    import matplotlib.pyplot as plt

    from reluscape.plotting import plot_overparam_metric

    figure, ax = plt.subplots()
    returned = plot_overparam_metric(finished_experiment.result, "path_norm", ax=ax, x="parameters_per_sample")
    assert returned is ax
    plt.close(figure)


def test_plot_loss_curves_one_line_per_width(finished_experiment):
    import matplotlib.pyplot as plt

    ax = finished_experiment.plot_loss_curves(split="test")
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels[0] == "m = 2"
    assert labels[-1] == "m = 64 (all diverged)"
    assert len(labels) == 3
    for line in ax.get_lines()[:2]:
        assert np.isfinite(np.asarray(line.get_ydata(), dtype=float)).all()
    plt.close(ax.figure)


def test_plot_bad_arguments_rejected(finished_experiment):
    from reluscape.plotting import plot_overparam_loss_curves, plot_overparam_metric

    result = finished_experiment.result
    with pytest.raises(ValueError, match="metric must be one of the table's columns .* got 'sharpness'"):
        plot_overparam_metric(result, "sharpness")
    with pytest.raises(ValueError, match="x must be one of 'width', 'n_parameters', 'parameters_per_sample'; got 'seed'"):
        plot_overparam_metric(result, x="seed")
    with pytest.raises(ValueError, match="spread must be one of"):
        plot_overparam_metric(result, spread="iqr")
    with pytest.raises(ValueError, match="split must be one of 'train', 'test'; got 'both'"):
        plot_overparam_loss_curves(result, split="both")
    with pytest.raises(TypeError, match="result must be an OverparamResult; got DataFrame"):
        plot_overparam_metric(result.frame)


# --- bad input --------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"widths": []}, ValueError, "widths must contain at least one value; got an empty sequence"),
        ({"widths": [4, 0]}, ValueError, "every entry of widths must be an integer >= 1; got 0"),
        ({"widths": [4, -2]}, ValueError, "every entry of widths must be an integer >= 1; got -2"),
        ({"widths": [4, 2.5]}, TypeError, "every entry of widths must be an integer; got 2.5"),
        ({"widths": [4, 8, 4]}, ValueError, r"widths must not repeat values; got \[4, 8, 4\] with duplicates \[4\]"),
        ({"widths": 8}, TypeError, "widths must be a sequence of integers; got 8"),
        ({"seeds": ()}, ValueError, "seeds must contain at least one value"),
        ({"seeds": (0, 0)}, ValueError, "seeds must not repeat values"),
        ({"seeds": (-1,)}, ValueError, "every entry of seeds must be an integer >= 0; got -1"),
        ({"metrics": ("curvature",)}, ValueError, "unknown metric 'curvature'; valid metrics are 'sharpness', 'hessian_index', 'region_count', 'barrier', 'dead_neurons'"),
        ({"metrics": ("dead_neurons", "dead_neurons")}, ValueError, "metrics must not repeat names"),
        ({"n_jobs": 0}, ValueError, "n_jobs must be an integer >= 1; got 0"),
        ({"executor": "dask"}, TypeError, "executor must be a concurrent.futures.Executor; got str"),
        ({"optimizer": "lbfgs"}, ValueError, "optimizer must be one of 'sgd'"),
        ({"lr": 0.0}, ValueError, r"lr must lie in \(0, inf\); got 0"),
        ({"epochs": 0}, ValueError, "epochs must be an integer >= 1; got 0"),
        ({"target_loss": -1.0}, ValueError, r"target_loss must lie in \[0, inf\); got -1"),
        ({"dtype": torch.float16}, ValueError, "dtype must be torch.float32 or torch.float64; got torch.float16"),
        ({"init": "xavier"}, ValueError, "init must be one of 'kaiming'"),
        ({"batched": "yes"}, TypeError, "batched must be True or False; got 'yes'"),
    ],
)
def test_bad_arguments_rejected(moons, kwargs, error, message):
    arguments = {"widths": [2, 4]} | kwargs
    widths = arguments.pop("widths")
    with pytest.raises(error, match=message):
        OverparamExperiment(moons, widths, **arguments)


def test_executor_with_n_jobs_rejected(moons):
    with ThreadPoolExecutor(max_workers=1) as executor, pytest.raises(
        ValueError, match="n_jobs must be 1 when an executor is given, since the executor decides; got 2"
    ):
        OverparamExperiment(moons, [2], n_jobs=2, executor=executor)


def test_dataset_type_checked():
    with pytest.raises(TypeError, match="dataset must be a reluscape Dataset; got ndarray"):
        OverparamExperiment(np.zeros((3, 2)), [2])


def test_unknown_metric_message_lists_all_metrics(moons):
    with pytest.raises(ValueError) as info:
        OverparamExperiment(moons, [2], metrics=("nope",))
    for name in OPTIONAL_METRICS:
        assert repr(name) in str(info.value)


def test_custom_optimizer_factory_runs_sequentially(moons):
    def factory(parameters):
        return torch.optim.SGD(parameters, lr=0.2)

    custom = sweep(moons, widths=(3,), optimizer=factory).run()
    named = sweep(moons, widths=(3,), optimizer="sgd", lr=0.2).run()
    assert_frames_close(custom, named)


def test_sharpness_and_index_match_autograd_hessian(moons):
    experiment = sweep(moons, widths=(5,), seeds=(2,), epochs=20, metrics=("sharpness", "hessian_index"))
    row = experiment.run().iloc[0]

    model = ShallowReLU(2, 5, seed=2, dtype=torch.float64)
    ShallowReLUTrainer(model, moons, optimizer="sgd", epochs=20, seed=2).fit()
    theta = torch.nn.utils.parameters_to_vector(model.parameters()).detach()

    def loss_at(vector):
        W, b, a, c = torch.split(vector, [10, 5, 5, 1])
        params = (W.reshape(5, 2), b, a.reshape(1, 5), c)
        outputs = torch.relu(moons.X_train @ params[0].T + params[1]) @ params[2].T + params[3]
        return TaskLoss("binary")(outputs, moons.y_train)

    eigenvalues = torch.linalg.eigvalsh(torch.autograd.functional.hessian(loss_at, theta))
    tolerance = math.sqrt(torch.finfo(torch.float64).eps) * float(eigenvalues.abs().max())
    assert row["sharpness"] == pytest.approx(float(eigenvalues.max()), rel=1e-8)
    assert row["hessian_index"] == pytest.approx(float((eigenvalues < -tolerance).double().mean()))
    assert row["near_zero_eigenvalues"] == int((eigenvalues.abs() <= tolerance).sum())


def test_hessian_index_too_wide_rejected(moons):
    with pytest.raises(ValueError, match="metrics 'hessian_index' needs the dense 12001 x 12001 Hessian of width 3000"):
        OverparamExperiment(moons, [2, 3000], metrics=("hessian_index",))


def test_region_count_matches_visualizer(moons):
    from reluscape import ActivationPatternVisualizer

    row = sweep(moons, widths=(7,), seeds=(4,), metrics=("region_count",)).run().iloc[0]
    model = ShallowReLU(2, 7, seed=4, dtype=torch.float64)
    ShallowReLUTrainer(model, moons, optimizer="sgd", epochs=12, seed=4).fit()
    assert row["region_count"] == ActivationPatternVisualizer(model, dataset=moons).count_regions()
    assert 1 <= row["region_count"] <= 1 + 7 + 7 * 6 // 2


def test_region_count_needs_two_features(blobs):
    wide = SyntheticDatasetBuilder(60, seed=0, dtype=torch.float64).blobs(centers=2, n_features=3)
    with pytest.raises(ValueError, match="metrics 'region_count' needs data with 2 input features.*the data have 3"):
        OverparamExperiment(wide, [2], metrics=("region_count",))


def test_barrier_matches_loss_surface_interpolation(moons):
    from reluscape import LossSurfaceVisualizer

    frame = sweep(moons, widths=(6,), seeds=(0, 1, 2), metrics=("barrier",)).run()
    models = {}
    for seed in (0, 1, 2):
        models[seed] = ShallowReLU(2, 6, seed=seed, dtype=torch.float64)
        ShallowReLUTrainer(models[seed], moons, optimizer="sgd", epochs=12, seed=seed).fit()
    for seed, partner in ((0, 1), (1, 2), (2, 0)):
        curve = LossSurfaceVisualizer(models[seed], moons).interpolate(models[partner], compute_score=False)
        assert frame.loc[frame["seed"] == seed, "barrier"].item() == pytest.approx(curve.barrier, rel=1e-6, abs=1e-9)
    assert (frame["barrier"] >= 0).all()


def test_barrier_resume_retrains_incomplete_width(moons, tmp_path, monkeypatch):
    path = tmp_path / "sweep.csv"
    sweep(moons, widths=(3,), seeds=(0, 1), metrics=("barrier",), results_path=path).run()
    real_run_group = overparam_module._run_group
    trained = []

    def counting(task):
        trained.extend(task.runs)
        return real_run_group(task)

    monkeypatch.setattr(overparam_module, "_run_group", counting)
    resumed = sweep(moons, widths=(3,), seeds=(0, 1, 2), metrics=("barrier",), results_path=path).run()
    assert sorted(trained) == [(3, 0), (3, 1), (3, 2)]
    fresh = sweep(moons, widths=(3,), seeds=(0, 1, 2), metrics=("barrier",)).run()
    pd.testing.assert_frame_equal(without_time(resumed), without_time(fresh))
    assert len(pd.read_csv(path)) == 3


def test_barrier_needs_two_seeds(moons):
    with pytest.raises(ValueError, match=r"metrics 'barrier' needs at least 2 seeds to pair their solutions; got seeds \[0\]"):
        OverparamExperiment(moons, [2], seeds=(0,), metrics=("barrier",))


def test_report_panels_log_scale_region_count(moons):
    import matplotlib.pyplot as plt

    from reluscape.report.sections.overparam import plot_metrics_vs_width

    experiment = sweep(moons, widths=(2, 8), metrics=("sharpness", "region_count"))
    experiment.run()
    figure = plot_metrics_vs_width(experiment, ["train_loss", "test_loss", "sharpness", "region_count"])
    scales = {ax.get_ylabel(): ax.get_yscale() for ax in figure.axes}
    assert scales["region count"] == "log"
    assert scales["train loss"] == "log"
    assert scales["sharpness"] == "linear"
    plt.close(figure)


def test_report_runs_table_drops_unset_target(moons):
    from reluscape.report.sections.overparam import _runs_table

    frame = sweep(moons, widths=(2,), epochs=3).run()
    assert frame["epochs_to_target"].isna().all()
    table = _runs_table(frame)
    assert "epochs_to_target" not in table.columns
    assert list(table.columns) == [column for column in frame.columns if column != "epochs_to_target"]
