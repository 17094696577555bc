"""Data sets: synthetic generators, scikit-learn's bundled data and user files."""

from reluscape.data.dataset import Dataset
from reluscape.data.synthetic_generator import (
    BUNDLED_DATASETS,
    DATASET_NAMES,
    SYNTHETIC_DATASETS,
    SyntheticDatasetBuilder,
)

__all__ = ["BUNDLED_DATASETS", "DATASET_NAMES", "SYNTHETIC_DATASETS", "Dataset", "SyntheticDatasetBuilder"]
