"""Argument checks shared by the experiments."""

from __future__ import annotations

from typing import Any

from reluscape.data.dataset import Dataset
from reluscape.models.shallow_relu import ShallowReLU


def check_model_fits_dataset(model: Any, dataset: Any) -> None:
    """Raise unless ``model`` is a ShallowReLU whose input and output sizes fit ``dataset``."""
    if not isinstance(model, ShallowReLU):
        raise TypeError(f"model must be a ShallowReLU; got {type(model).__name__}.")
    if not isinstance(dataset, Dataset):
        raise TypeError(f"dataset must be a reluscape Dataset; got {type(dataset).__name__}.")
    if dataset.n_features != model.in_features:
        raise ValueError(
            f"model.in_features must equal the data's n_features = {dataset.n_features}; got {model.in_features}."
        )
    if dataset.n_outputs != model.out_features:
        raise ValueError(
            f"model.out_features must be {dataset.n_outputs} for the {dataset.task} task of {dataset.name!r}; "
            f"got {model.out_features}."
        )
