"""Shared test set-up: a headless matplotlib backend and small fixtures."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
import torch  # noqa: E402

from reluscape import ShallowReLU, SyntheticDatasetBuilder  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


@pytest.fixture(scope="session")
def moons():
    """Moons with 200 samples in float32."""
    return SyntheticDatasetBuilder(200, noise=0.1, seed=0).moons()


@pytest.fixture(scope="session")
def moons64():
    """Moons with 200 samples in float64."""
    return SyntheticDatasetBuilder(200, noise=0.1, seed=0, dtype=torch.float64).moons()


@pytest.fixture
def small_model():
    """A float64 2-8-1 network."""
    return ShallowReLU(2, 8, seed=3, dtype=torch.float64)
