"""SyntheticDatasetBuilder: toy, bundled and user data as train/test tensors.

Generation follows scikit-learn's conventions: the sample count comes first,
options are keyword-only, and one seed is resolved once at entry and used for
both the draw and the split, so equal seeds give identical data sets.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn import datasets as sk_datasets
from sklearn.model_selection import train_test_split

from reluscape._validation import check_choice, check_float, check_int
from reluscape.data.dataset import Dataset
from reluscape.losses import TASKS

__all__ = ["BUNDLED_DATASETS", "DATASET_NAMES", "SYNTHETIC_DATASETS", "SyntheticDatasetBuilder"]

SYNTHETIC_DATASETS = ("moons", "circles", "blobs")
# Small real data sets that ship inside scikit-learn; none is downloaded.
BUNDLED_DATASETS = ("iris", "wine", "breast_cancer", "diabetes")
DATASET_NAMES = SYNTHETIC_DATASETS + BUNDLED_DATASETS

_BUNDLED_LOADERS = {
    "iris": sk_datasets.load_iris,
    "wine": sk_datasets.load_wine,
    "breast_cancer": sk_datasets.load_breast_cancer,
    "diabetes": sk_datasets.load_diabetes,
}
_BUNDLED_TASKS = {"iris": "multiclass", "wine": "multiclass", "breast_cancer": "binary", "diabetes": "regression"}
# Integer-valued targets with at most this many distinct values are read as
# class labels when the task is not given.
_MAX_INFERRED_CLASSES = 20
_FLOAT_DTYPES = (torch.float32, torch.float64)


class SyntheticDatasetBuilder:
    """Build train/test splits of synthetic, bundled or user-supplied data.

    Args:
        n_samples: total number of samples drawn by the synthetic generators
            (train plus test). Ignored for bundled and user data.
        noise: standard deviation of the Gaussian noise of moons and circles.
        test_size: fraction of samples held out for testing, in (0, 1).
        standardize: subtract the training mean and divide by the training
            standard deviation of each feature, and of the target in
            regression tasks (statistics of the training split only, applied
            to both splits). The statistics are kept in the Dataset, so
            predictions can be mapped back to the original units.
        seed: seed of the draw and of the split. None draws a fresh seed,
            which is recorded in ``Dataset.settings["seed"]``.
        dtype: float dtype of the inputs, torch.float32 or torch.float64.

    Example:
        >>> data = SyntheticDatasetBuilder(200, noise=0.1, seed=0).moons()
        >>> data.X_train.shape, data.y_train.dtype, data.task
        (torch.Size([150, 2]), torch.int64, 'binary')
    """

    def __init__(
        self,
        n_samples: int = 1000,
        *,
        noise: float = 0.1,
        test_size: float = 0.25,
        standardize: bool = True,
        seed: int | None = 0,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        self.n_samples = check_int("n_samples", n_samples, minimum=1)
        self.noise = check_float("noise", noise, minimum=0.0)
        self.test_size = check_float("test_size", test_size, minimum=0.0, maximum=1.0, exclusive=True)
        if not isinstance(standardize, bool):
            raise TypeError(f"standardize must be True or False; got {standardize!r}.")
        self.standardize = standardize
        if seed is None:
            # A fresh seed from the OS, so the global NumPy and torch RNGs stay untouched.
            seed = int(np.random.SeedSequence().generate_state(1)[0])
        self.seed = check_int("seed", seed, minimum=0)
        if dtype not in _FLOAT_DTYPES:
            raise ValueError(f"dtype must be torch.float32 or torch.float64; got {dtype}.")
        self.dtype = dtype

    # Synthetic generators -------------------------------------------------

    def moons(self) -> Dataset:
        """Draw two interleaving half circles (scikit-learn's ``make_moons``) with binary labels."""
        X, y = sk_datasets.make_moons(n_samples=self.n_samples, noise=self.noise, random_state=self.seed)
        return self._split(X, y, name="moons", task="binary", generator={"generator": "make_moons"})

    def circles(self, *, factor: float = 0.5) -> Dataset:
        """Draw a circle inside a larger one (``make_circles``) with binary labels.

        Args:
            factor: ratio of the inner to the outer radius, in (0, 1).
        """
        factor = check_float("factor", factor, minimum=0.0, maximum=1.0, exclusive=True)
        X, y = sk_datasets.make_circles(
            n_samples=self.n_samples, noise=self.noise, factor=factor, random_state=self.seed
        )
        settings = {"generator": "make_circles", "factor": factor}
        return self._split(X, y, name="circles", task="binary", generator=settings)

    def blobs(self, *, centers: int = 3, n_features: int = 2, cluster_std: float = 1.0) -> Dataset:
        """Draw isotropic Gaussian clusters (``make_blobs``), one class per cluster.

        Two centers give a binary task, more give a multiclass task.

        Args:
            centers: number of clusters, >= 2.
            n_features: input dimension, >= 1.
            cluster_std: standard deviation of each cluster, > 0.
        """
        centers = check_int("centers", centers, minimum=2)
        n_features = check_int("n_features", n_features, minimum=1)
        cluster_std = check_float("cluster_std", cluster_std, minimum=0.0, exclusive=True)
        X, y = sk_datasets.make_blobs(
            n_samples=self.n_samples,
            n_features=n_features,
            centers=centers,
            cluster_std=cluster_std,
            random_state=self.seed,
        )
        task = "binary" if centers == 2 else "multiclass"
        settings = {"generator": "make_blobs", "centers": centers, "n_features": n_features, "cluster_std": cluster_std}
        return self._split(X, y, name="blobs", task=task, generator=settings)

    def bundled(self, name: str) -> Dataset:
        """Load a small real data set that ships inside scikit-learn.

        Args:
            name: ``"iris"`` (3 classes), ``"wine"`` (3 classes),
                ``"breast_cancer"`` (binary) or ``"diabetes"`` (regression).
        """
        check_choice("name", name, BUNDLED_DATASETS)
        bunch = _BUNDLED_LOADERS[name]()
        task = _BUNDLED_TASKS[name]
        class_names = tuple(str(label) for label in getattr(bunch, "target_names", ())) if task != "regression" else ()
        return self._split(
            np.asarray(bunch.data, dtype=np.float64),
            np.asarray(bunch.target),
            name=name,
            task=task,
            generator={"generator": f"sklearn.datasets.load_{name}"},
            feature_names=tuple(str(column) for column in bunch.feature_names),
            class_names=class_names,
        )

    def build(self, name: str, **options: Any) -> Dataset:
        """Build a data set by name: one of the synthetic generators or a bundled data set.

        Keyword options go to the generator (``factor`` for circles;
        ``centers``, ``n_features``, ``cluster_std`` for blobs).
        """
        check_choice("dataset", name, DATASET_NAMES)
        if name in BUNDLED_DATASETS:
            if options:
                raise ValueError(f"dataset {name!r} takes no options; got {sorted(options)}.")
            return self.bundled(name)
        return getattr(self, name)(**options)

    # User data ------------------------------------------------------------

    def from_arrays(
        self,
        X: Any,
        y: Any,
        *,
        task: str | None = None,
        name: str = "arrays",
        feature_names: Sequence[str] | None = None,
        target_name: str | None = None,
    ) -> Dataset:
        """Split the user's own arrays.

        Args:
            X: inputs, array-like of shape (n, d) (or (n,) for one feature).
            y: targets, array-like of shape (n,). Class labels may be any
                sortable values (strings, integers); they become indices
                0..k-1 in sorted order.
            task: ``"binary"``, ``"multiclass"``, ``"regression"``, or None to
                infer it: string, boolean or integer-valued targets with at
                most 20 distinct values are classes, other numbers are
                regression targets.
            name: data set name for reports.
            feature_names: one name per column; defaults to x0, x1, ...
            target_name: name of the target, for reports.
        """
        if task is not None:
            check_choice("task", task, TASKS)
        X = _as_feature_matrix(X)
        y = np.asarray(y)
        if y.ndim != 1:
            raise ValueError(f"y must be one-dimensional with one target per row; got shape {y.shape}.")
        if len(y) != len(X):
            raise ValueError(f"X and y must have the same number of rows; got {len(X)} and {len(y)}.")
        if feature_names is None:
            feature_names = tuple(f"x{i}" for i in range(X.shape[1]))
        feature_names = tuple(str(column) for column in feature_names)
        if len(feature_names) != X.shape[1]:
            raise ValueError(f"feature_names must have {X.shape[1]} entries, one per column; got {len(feature_names)}.")
        _check_finite_features(X, feature_names)

        task = _infer_task(y) if task is None else task
        y_encoded, class_names = _encode_targets(y, task)
        return self._split(
            X,
            y_encoded,
            name=name,
            task=task,
            generator={"generator": "from_arrays"},
            feature_names=feature_names,
            class_names=class_names,
            target_name=target_name,
        )

    def from_csv(
        self,
        path: str | Path,
        *,
        target: str,
        task: str | None = None,
        features: Sequence[str] | None = None,
    ) -> Dataset:
        """Load a CSV file with a header row and split it.

        Args:
            path: path of the CSV file.
            target: name of the target column.
            task: as in :meth:`from_arrays`; None infers it.
            features: columns to use as inputs; defaults to every column
                except the target. They must be numeric and finite.

        Raises:
            FileNotFoundError: if ``path`` does not exist.
            ValueError: for an empty file, a missing column, non-numeric or
                non-finite values (naming the column and the file line).
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"CSV file not found: {str(path)!r}.")
        try:
            frame = pd.read_csv(path)
        except pd.errors.EmptyDataError:
            raise ValueError(f"CSV file {str(path)!r} is empty; expected a header row and data rows.") from None
        if frame.empty:
            raise ValueError(f"CSV file {str(path)!r} has a header but no data rows.")
        columns = [str(column) for column in frame.columns]
        frame.columns = columns
        if target not in columns:
            raise ValueError(f"target column {target!r} not found in {str(path)!r}; columns are {columns}.")
        if features is None:
            features = [column for column in columns if column != target]
        features = list(features)
        missing = [column for column in features if column not in columns]
        if missing:
            raise ValueError(f"features {missing} not found in {str(path)!r}; columns are {columns}.")
        if not features:
            raise ValueError(f"CSV file {str(path)!r} has no feature columns besides target {target!r}.")

        X = _numeric_columns(frame, features, path)
        y_column = frame[target]
        if y_column.isna().any():
            line = int(np.flatnonzero(y_column.isna().to_numpy())[0]) + 2
            raise ValueError(f"target column {target!r} of {str(path)!r} is missing a value at line {line}.")
        dataset = self.from_arrays(
            X,
            y_column.to_numpy(),
            task=task,
            name=path.stem,
            feature_names=features,
            target_name=target,
        )
        settings = dict(dataset.settings, generator="from_csv", path=str(path), target=target)
        return _replace_settings(dataset, settings)

    # Shared split ---------------------------------------------------------

    def _split(
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        name: str,
        task: str,
        generator: dict[str, Any],
        feature_names: tuple[str, ...] | None = None,
        class_names: tuple[str, ...] = (),
        target_name: str | None = None,
    ) -> Dataset:
        n = len(X)
        n_classes = None
        if task != "regression":
            n_classes = int(np.max(y)) + 1
        n_test = math.ceil(self.test_size * n)
        n_train = n - n_test
        minimum = max(n_classes or 1, 1)
        if n_test < minimum or n_train < minimum:
            needed = "one sample" if n_classes is None else f"{n_classes} samples (one per class)"
            raise ValueError(
                f"n_samples={n} is too small to split with test_size={self.test_size:g}: each split needs at "
                f"least {needed}, but the split gives {n_train} train and {n_test} test samples."
            )
        stratify = None if task == "regression" else y
        if stratify is not None and np.bincount(y).min() < 2:
            raise ValueError(
                f"every class needs at least 2 samples for a stratified split; class counts are {np.bincount(y).tolist()}."
            )
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=n_test, random_state=self.seed, stratify=stratify
        )

        mean = scale = None
        if self.standardize:
            mean = X_train.mean(axis=0)
            scale = X_train.std(axis=0)
            scale = np.where(scale > 0, scale, 1.0)  # constant features stay constant instead of dividing by 0
            X_train = (X_train - mean) / scale
            X_test = (X_test - mean) / scale
        target_mean = target_scale = None
        if self.standardize and task == "regression":
            target_mean = float(np.mean(y_train))
            target_scale = float(np.std(y_train)) or 1.0
            y_train = (y_train - target_mean) / target_scale
            y_test = (y_test - target_mean) / target_scale

        def inputs(array: np.ndarray) -> torch.Tensor:
            return torch.as_tensor(np.ascontiguousarray(array), dtype=torch.float64).to(self.dtype)

        def targets(array: np.ndarray) -> torch.Tensor:
            if task == "regression":
                return torch.as_tensor(np.asarray(array, dtype=np.float64)).to(self.dtype)
            return torch.as_tensor(np.asarray(array, dtype=np.int64))

        if feature_names is None:
            feature_names = tuple(f"x{i}" for i in range(X.shape[1]))
        if task != "regression" and not class_names:
            class_names = tuple(str(i) for i in range(n_classes))
        settings = {
            **generator,
            "n_samples": n,
            "noise": self.noise if name in ("moons", "circles") else None,
            "test_size": self.test_size,
            "standardize": self.standardize,
            "seed": self.seed,
            "dtype": str(self.dtype).removeprefix("torch."),
        }
        return Dataset(
            X_train=inputs(X_train),
            y_train=targets(y_train),
            X_test=inputs(X_test),
            y_test=targets(y_test),
            name=name,
            task=task,
            n_classes=n_classes,
            feature_names=feature_names,
            class_names=class_names,
            target_name=target_name,
            settings=settings,
            feature_mean=None if mean is None else inputs(mean),
            feature_scale=None if scale is None else inputs(scale),
            target_mean=target_mean,
            target_scale=target_scale,
        )


def _replace_settings(dataset: Dataset, settings: dict[str, Any]) -> Dataset:
    return dataclasses.replace(dataset, settings=settings)


def _as_feature_matrix(X: Any) -> np.ndarray:
    array = np.asarray(X)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ValueError(f"X must have shape (n_samples, n_features); got shape {array.shape}.")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"X must have at least one row and one column; got shape {array.shape}.")
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise TypeError(f"X must be numeric; got dtype {array.dtype}.")
    return array.astype(np.float64)


def _check_finite_features(X: np.ndarray, feature_names: tuple[str, ...]) -> None:
    bad = ~np.isfinite(X)
    if bad.any():
        row, column = (int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"feature {feature_names[column]!r} must be finite; row {row} contains {X[row, column]}."
        )


def _numeric_columns(frame: pd.DataFrame, features: list[str], path: Path) -> np.ndarray:
    """Return the feature columns as a float array, naming the first bad cell."""
    columns = []
    for column in features:
        values = pd.to_numeric(frame[column], errors="coerce")
        not_numeric = values.isna() & frame[column].notna()
        if not_numeric.any():
            position = int(np.flatnonzero(not_numeric.to_numpy())[0])
            raise ValueError(
                f"feature column {column!r} of {str(path)!r} must be numeric; line {position + 2} contains "
                f"{frame[column].iloc[position]!r}."
            )
        array = values.to_numpy(dtype=np.float64)
        not_finite = ~np.isfinite(array)
        if not_finite.any():
            position = int(np.flatnonzero(not_finite)[0])
            raise ValueError(
                f"feature column {column!r} of {str(path)!r} must be finite; line {position + 2} contains "
                f"{array[position]}."
            )
        columns.append(array)
    return np.stack(columns, axis=1)


def _is_integer_valued(y: np.ndarray) -> bool:
    if np.issubdtype(y.dtype, np.integer) or y.dtype == bool:
        return True
    if np.issubdtype(y.dtype, np.floating):
        return bool(np.all(np.isfinite(y)) and np.all(y == np.round(y)))
    return False


def _infer_task(y: np.ndarray) -> str:
    numeric = np.issubdtype(y.dtype, np.number) or y.dtype == bool
    if numeric and not _is_integer_valued(y):
        return "regression"
    n_unique = len(np.unique(y))
    if numeric and n_unique > _MAX_INFERRED_CLASSES:
        return "regression"
    return "binary" if n_unique <= 2 else "multiclass"


def _encode_targets(y: np.ndarray, task: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Map targets to float values (regression) or class indices in sorted label order."""
    if task == "regression":
        try:
            values = y.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"regression targets must be numeric; got values such as {y[:3].tolist()}.") from None
        bad = ~np.isfinite(values)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise ValueError(f"regression targets must be finite; row {row} contains {values[row]}.")
        return values, ()

    if np.issubdtype(y.dtype, np.floating) and not _is_integer_valued(y):
        raise ValueError(
            f"labels for task {task!r} must be class labels (integers or strings); got non-integer values "
            f"such as {y[~(y == np.round(y))][:3].tolist()}. Use task='regression' for continuous targets."
        )
    labels, indices = np.unique(y, return_inverse=True)
    if task == "binary" and len(labels) != 2:
        raise ValueError(f"labels for task 'binary' must take exactly 2 distinct values; got {len(labels)}: {labels[:10].tolist()}.")
    if task == "multiclass" and len(labels) < 2:
        raise ValueError(f"labels for task 'multiclass' must take at least 2 distinct values; got {labels.tolist()}.")
    return indices.astype(np.int64), tuple(str(label) for label in labels)
