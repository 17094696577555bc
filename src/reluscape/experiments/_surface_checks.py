"""Argument checks and grid helpers of LossSurfaceVisualizer."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from reluscape._validation import check_choice, check_float, check_int
from reluscape.experiments._directions import BIAS_OPTIONS, NORMALIZATIONS


def resolve_generator(seed: int | torch.Generator) -> tuple[torch.Generator, int | None]:
    """Return a CPU generator for the draw and the seed to record (None for a caller's generator)."""
    if isinstance(seed, torch.Generator):
        if seed.device.type != "cpu":
            raise ValueError(f"seed must be an int or a CPU torch.Generator; got a generator on {seed.device}.")
        return seed, None
    seed = check_int("seed", seed, minimum=0)
    return torch.Generator().manual_seed(seed), seed


def check_normalization(normalization: str | None, bias: str) -> tuple[str | None, str]:
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization must be one of 'filter', 'layer' or None; got {normalization!r}.")
    return normalization, check_choice("bias", bias, BIAS_OPTIONS)


def check_range(name: str, value: Any, *, default: tuple[float, float] | None = None) -> tuple[float, float]:
    if value is None and default is not None:
        value = default
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"{name} must be a pair (min, max) of numbers; got {value!r}.")
    low = check_float(f"{name}[0]", value[0])
    high = check_float(f"{name}[1]", value[1])
    if not low < high:
        raise ValueError(f"{name} must satisfy min < max; got ({low:g}, {high:g}).")
    return low, high


def check_resolution(resolution: int | tuple[int, int]) -> tuple[int, int]:
    if isinstance(resolution, (tuple, list)):
        if len(resolution) != 2:
            raise ValueError(f"resolution must be an int or a pair (nx, ny); got {resolution!r}.")
        return check_int("resolution[0]", resolution[0], minimum=2), check_int("resolution[1]", resolution[1], minimum=2)
    value = check_int("resolution", resolution, minimum=2)
    return value, value


def covering_ranges(coordinates: np.ndarray, margin: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """Return (x_range, y_range) covering the points of shape (n, 2), widened by ``margin`` × extent."""
    low, high = coordinates.min(axis=0), coordinates.max(axis=0)
    extent = high - low
    # A degenerate axis (all points level) gets the other axis's extent, or 1.
    fallback = float(extent.max()) if float(extent.max()) > 0 else 1.0
    extent = np.where(extent > 0, extent, fallback)
    low, high = low - margin * extent, high + margin * extent
    if margin == 0:
        high = np.where(high > low, high, low + extent)
    return (float(low[0]), float(high[0])), (float(low[1]), float(high[1]))


def grid_value_at(alphas: np.ndarray, values: np.ndarray, alpha: float, *, default: float | None) -> float | None:
    """Return the value at the grid point equal to ``alpha`` (to rounding), else ``default``."""
    spacing = (alphas[-1] - alphas[0]) / (len(alphas) - 1)
    index = int(np.argmin(np.abs(alphas - alpha)))
    if abs(alphas[index] - alpha) <= 1e-9 * spacing:
        return float(values[index])
    return default


def check_finite_grid(loss: np.ndarray, alphas: np.ndarray, betas: np.ndarray) -> None:
    """Raise ValueError naming the first grid point whose loss is not finite."""
    finite = np.isfinite(loss)
    if finite.all():
        return
    row, column = (int(index) for index in np.argwhere(~finite)[0])
    raise ValueError(
        f"the loss is not finite ({loss[row, column]}) at grid point alpha={alphas[column]:.6g}, "
        f"beta={betas[row]:.6g} (row {row}, column {column}); {int((~finite).sum())} of {loss.size} points are "
        "affected. Shrink the ranges or use dtype=torch.float64."
    )

