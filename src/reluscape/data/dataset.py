"""The Dataset container: train and test tensors plus how they were made."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import torch

__all__ = ["Dataset"]


@dataclass(frozen=True)
class Dataset:
    """Train/test split of one data set, as torch tensors.

    Attributes:
        X_train: inputs, tensor of shape (n_train, d), float32 or float64.
        y_train: targets of shape (n_train,): int64 class indices for
            classification, floats (same dtype as X) for regression.
        X_test: inputs, tensor of shape (n_test, d).
        y_test: targets of shape (n_test,).
        name: data set name, e.g. ``"moons"`` or a CSV file's stem.
        task: ``"binary"``, ``"multiclass"`` or ``"regression"``.
        n_classes: number of classes, or None for regression.
        feature_names: one name per input column.
        class_names: original label of each class index (classification).
        target_name: name of the target column, if there was one.
        settings: everything needed to rebuild the data set (generator,
            sizes, noise, split, standardisation, resolved seed).
        feature_mean: per-feature mean subtracted from X (train statistics),
            or None without standardisation.
        feature_scale: per-feature divisor applied to X, or None.
        target_mean: training mean subtracted from regression targets, or None.
        target_scale: training standard deviation dividing regression targets, or None.
    """

    X_train: torch.Tensor
    y_train: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor
    name: str
    task: str
    n_classes: int | None
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...] = ()
    target_name: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    feature_mean: torch.Tensor | None = None
    feature_scale: torch.Tensor | None = None
    target_mean: float | None = None
    target_scale: float | None = None

    @property
    def n_features(self) -> int:
        """Input dimension d."""
        return self.X_train.shape[1]

    @property
    def n_train(self) -> int:
        return self.X_train.shape[0]

    @property
    def n_test(self) -> int:
        return self.X_test.shape[0]

    @property
    def n_outputs(self) -> int:
        """Number of network outputs the task needs: 1 for binary and regression, k for multiclass."""
        return self.n_classes if self.task == "multiclass" else 1

    @property
    def dtype(self) -> torch.dtype:
        return self.X_train.dtype

    def to(self, dtype: torch.dtype | None = None, device: torch.device | str | None = None) -> Dataset:
        """Return a copy with inputs (and regression targets) cast to ``dtype`` and all tensors on ``device``."""

        def move(tensor: torch.Tensor | None, *, is_input: bool) -> torch.Tensor | None:
            if tensor is None:
                return None
            cast = dtype if (is_input or self.task == "regression") else None
            return tensor.to(device=device, dtype=cast)

        return dataclasses.replace(
            self,
            X_train=move(self.X_train, is_input=True),
            y_train=move(self.y_train, is_input=False),
            X_test=move(self.X_test, is_input=True),
            y_test=move(self.y_test, is_input=False),
            feature_mean=move(self.feature_mean, is_input=True),
            feature_scale=move(self.feature_scale, is_input=True),
        )

    def summary(self) -> dict[str, Any]:
        """Return the data set's description as plain JSON-ready values."""
        summary = {
            "name": self.name,
            "task": self.task,
            "n_train": self.n_train,
            "n_test": self.n_test,
            "n_features": self.n_features,
            "n_classes": self.n_classes,
            "feature_names": list(self.feature_names),
            "class_names": list(self.class_names),
            "target_name": self.target_name,
            "dtype": str(self.dtype).removeprefix("torch."),
            "settings": dict(self.settings),
        }
        if self.task != "regression":
            counts = torch.bincount(self.y_train, minlength=self.n_classes)
            summary["train_class_counts"] = counts.tolist()
        else:
            summary["target_mean"] = self.target_mean
            summary["target_scale"] = self.target_scale
        return summary
