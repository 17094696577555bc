"""SyntheticDatasetBuilder: shapes, dtypes, splits, determinism, user data and its errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from reluscape import SyntheticDatasetBuilder


@pytest.mark.parametrize("name", ["moons", "circles", "blobs"])
def test_synthetic_shapes_and_dtypes(name):
    data = SyntheticDatasetBuilder(200, seed=0).build(name)
    assert data.X_train.shape == (150, 2)
    assert data.X_test.shape == (50, 2)
    assert data.X_train.dtype == torch.float32
    assert data.y_train.dtype == torch.int64
    assert data.y_train.shape == (150,)
    assert data.feature_names == ("x0", "x1")


def test_float64_on_request():
    data = SyntheticDatasetBuilder(100, seed=0, dtype=torch.float64).moons()
    assert data.X_train.dtype == torch.float64
    assert data.y_train.dtype == torch.int64


def test_tasks_and_class_counts():
    assert SyntheticDatasetBuilder(90, seed=0).moons().task == "binary"
    blobs = SyntheticDatasetBuilder(90, seed=0).blobs(centers=3)
    assert blobs.task == "multiclass"
    assert blobs.n_classes == 3
    assert blobs.n_outputs == 3
    assert SyntheticDatasetBuilder(90, seed=0).blobs(centers=2).task == "binary"


def test_stratified_split_keeps_class_balance():
    data = SyntheticDatasetBuilder(1000, seed=3).moons()
    assert torch.bincount(data.y_train).tolist() == [375, 375]
    assert torch.bincount(data.y_test).tolist() == [125, 125]
    blobs = SyntheticDatasetBuilder(300, seed=0).blobs(centers=3)
    assert torch.bincount(blobs.y_test).tolist() == [25, 25, 25]


def test_standardize_uses_train_statistics_only():
    data = SyntheticDatasetBuilder(400, seed=0).circles()
    torch.testing.assert_close(data.X_train.mean(0), torch.zeros(2), atol=1e-6, rtol=0)
    torch.testing.assert_close(data.X_train.std(0, unbiased=False), torch.ones(2), atol=1e-5, rtol=0)
    assert data.X_test.mean(0).abs().max() > 1e-4  # test split is not re-centred on its own
    raw = SyntheticDatasetBuilder(400, seed=0, standardize=False).circles()
    torch.testing.assert_close((raw.X_train - data.feature_mean) / data.feature_scale, data.X_train)


def test_same_seed_same_data_and_different_seed_differs():
    first = SyntheticDatasetBuilder(300, seed=7).moons()
    second = SyntheticDatasetBuilder(300, seed=7).moons()
    other = SyntheticDatasetBuilder(300, seed=8).moons()
    assert torch.equal(first.X_train, second.X_train)
    assert torch.equal(first.y_test, second.y_test)
    assert not torch.equal(first.X_train, other.X_train)


def test_seed_none_is_resolved_and_recorded():
    state = np.random.get_state()[1].copy()
    data = SyntheticDatasetBuilder(100, seed=None).moons()
    assert isinstance(data.settings["seed"], int)
    again = SyntheticDatasetBuilder(100, seed=data.settings["seed"]).moons()
    assert torch.equal(data.X_train, again.X_train)
    assert np.array_equal(np.random.get_state()[1], state)


def test_moons_points_lie_near_the_half_circles():
    data = SyntheticDatasetBuilder(500, noise=0.0, standardize=False, seed=0).moons()
    X, y = data.X_train.double(), data.y_train
    upper = X[y == 0]
    lower = X[y == 1]
    torch.testing.assert_close(upper.norm(dim=1), torch.ones(len(upper), dtype=torch.float64), atol=1e-6, rtol=0)
    shifted = lower - torch.tensor([1.0, 0.5], dtype=torch.float64)
    torch.testing.assert_close(shifted.norm(dim=1), torch.ones(len(lower), dtype=torch.float64), atol=1e-6, rtol=0)


@pytest.mark.parametrize(("name", "task", "n_classes"), [("iris", "multiclass", 3), ("wine", "multiclass", 3),
                                                          ("breast_cancer", "binary", 2), ("diabetes", "regression", None)])
def test_bundled_datasets(name, task, n_classes):
    data = SyntheticDatasetBuilder(seed=0).build(name)
    assert data.task == task
    assert data.n_classes == n_classes
    assert len(data.feature_names) == data.n_features
    if task == "regression":
        assert data.y_train.dtype == torch.float32


def test_from_arrays_encodes_string_labels():
    X = np.arange(40, dtype=float).reshape(20, 2)
    y = np.array(["cat", "dog"] * 10)
    data = SyntheticDatasetBuilder(seed=0, test_size=0.5).from_arrays(X, y)
    assert data.task == "binary"
    assert data.class_names == ("cat", "dog")
    assert set(data.y_train.tolist()) == {0, 1}


def test_from_arrays_infers_regression():
    X = np.random.default_rng(0).normal(size=(30, 2))
    data = SyntheticDatasetBuilder(seed=0).from_arrays(X, X[:, 0] * 1.5 + 0.1)
    assert data.task == "regression"
    assert data.n_classes is None
    assert data.y_train.dtype == torch.float32


def test_regression_targets_standardised_on_train():
    data = SyntheticDatasetBuilder(seed=0).bundled("diabetes")
    assert abs(float(data.y_train.double().mean())) < 1e-6
    assert float(data.y_train.double().std(unbiased=False)) == pytest.approx(1.0, abs=1e-5)
    raw = SyntheticDatasetBuilder(seed=0, standardize=False).bundled("diabetes")
    restored = data.y_test.double() * data.target_scale + data.target_mean
    torch.testing.assert_close(restored, raw.y_test.double(), rtol=1e-5, atol=1e-3)
    assert raw.target_mean is None


def test_from_csv_reads_features_and_target(tmp_path):
    frame = pd.DataFrame({"a": np.arange(20.0), "b": np.arange(20.0) ** 2, "label": [0, 1] * 10})
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    data = SyntheticDatasetBuilder(seed=0, standardize=False).from_csv(path, target="label")
    assert data.name == "data"
    assert data.feature_names == ("a", "b")
    assert data.target_name == "label"
    assert data.n_train + data.n_test == 20
    assert data.settings["generator"] == "from_csv"


def test_builder_does_not_touch_global_rng():
    torch_state = torch.get_rng_state()
    numpy_state = np.random.get_state()[1].copy()
    SyntheticDatasetBuilder(200, seed=1).blobs()
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], numpy_state)


# Errors -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"noise": -0.1}, ValueError, r"noise must lie in \[0, inf\); got -0.1"),
        ({"test_size": 0.0}, ValueError, r"test_size must lie in \(0, 1\); got 0"),
        ({"test_size": 1.0}, ValueError, r"test_size must lie in \(0, 1\); got 1"),
        ({"n_samples": 0}, ValueError, "n_samples must be an integer >= 1; got 0"),
        ({"dtype": torch.int32}, ValueError, "dtype must be torch.float32 or torch.float64"),
        ({"standardize": "yes"}, TypeError, "standardize must be True or False"),
    ],
)
def test_builder_rejects_bad_settings(kwargs, error, message):
    with pytest.raises(error, match=message):
        SyntheticDatasetBuilder(**kwargs)


def test_unknown_dataset_name():
    with pytest.raises(ValueError, match="dataset must be one of 'moons', 'circles', 'blobs'.*; got 'spirals'"):
        SyntheticDatasetBuilder().build("spirals")


def test_n_samples_too_small_to_split():
    with pytest.raises(ValueError, match="n_samples=3 is too small to split with test_size=0.25"):
        SyntheticDatasetBuilder(3, seed=0).moons()


def test_x_and_y_lengths_differ():
    with pytest.raises(ValueError, match="X and y must have the same number of rows; got 10 and 9"):
        SyntheticDatasetBuilder().from_arrays(np.zeros((10, 2)), np.zeros(9))


def test_labels_that_do_not_fit_the_task():
    X = np.random.default_rng(0).normal(size=(30, 2))
    with pytest.raises(ValueError, match="labels for task 'binary' must take exactly 2 distinct values; got 3"):
        SyntheticDatasetBuilder().from_arrays(X, np.arange(30) % 3, task="binary")
    with pytest.raises(ValueError, match="labels for task 'multiclass' must be class labels"):
        SyntheticDatasetBuilder().from_arrays(X, np.linspace(0, 1, 30), task="multiclass")
    with pytest.raises(ValueError, match="regression targets must be numeric"):
        SyntheticDatasetBuilder().from_arrays(X, np.array(["a", "b"] * 15), task="regression")


def test_unknown_task_name():
    with pytest.raises(ValueError, match="task must be one of 'binary', 'multiclass', 'regression'; got 'ranking'"):
        SyntheticDatasetBuilder().from_arrays(np.zeros((10, 2)), np.arange(10) % 2, task="ranking")


def test_csv_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="CSV file not found: .*nothing.csv"):
        SyntheticDatasetBuilder().from_csv(tmp_path / "nothing.csv", target="y")


def test_csv_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(ValueError, match="is empty; expected a header row and data rows"):
        SyntheticDatasetBuilder().from_csv(path, target="y")
    path.write_text("x,y\n")
    with pytest.raises(ValueError, match="has a header but no data rows"):
        SyntheticDatasetBuilder().from_csv(path, target="y")


def test_csv_missing_target_column(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("x,z\n1,0\n2,1\n")
    with pytest.raises(ValueError, match=r"target column 'y' not found in .*; columns are \['x', 'z'\]"):
        SyntheticDatasetBuilder().from_csv(path, target="y")


def test_csv_non_numeric_feature(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("x,y\n1,0\n2,1\nabc,0\n4,1\n")
    with pytest.raises(ValueError, match="feature column 'x' of .* must be numeric; line 4 contains 'abc'"):
        SyntheticDatasetBuilder().from_csv(path, target="y")


@pytest.mark.parametrize(("cell", "shown"), [("", "nan"), ("inf", "inf"), ("nan", "nan")])
def test_csv_non_finite_feature(tmp_path, cell, shown):
    path = tmp_path / "data.csv"
    path.write_text(f"x,w,y\n1,1,0\n2,2,1\n3,{cell},0\n4,4,1\n")
    with pytest.raises(ValueError, match=f"feature column 'w' of .* must be finite; line 4 contains {shown}"):
        SyntheticDatasetBuilder().from_csv(path, target="y")


def test_csv_missing_target_value(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("x,y\n1,0\n2,\n3,0\n4,1\n")
    with pytest.raises(ValueError, match="target column 'y' of .* is missing a value at line 3"):
        SyntheticDatasetBuilder().from_csv(path, target="y")


def test_arrays_non_finite_feature():
    X = np.ones((10, 2))
    X[6, 1] = np.inf
    with pytest.raises(ValueError, match="feature 'x1' must be finite; row 6 contains inf"):
        SyntheticDatasetBuilder().from_arrays(X, np.arange(10) % 2)
