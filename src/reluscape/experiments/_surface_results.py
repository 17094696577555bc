"""Result containers of the loss-surface analyses: LossSurface (2-D) and LossCurve (1-D)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["LossCurve", "LossSurface"]


def _write_npz(path: str | Path, arrays: dict[str, np.ndarray | None], metadata: dict[str, Any]) -> Path:
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_suffix(path.suffix + ".npz") if path.suffix else path.with_suffix(".npz")
    stored = {name: array for name, array in arrays.items() if array is not None}
    stored["metadata"] = np.array(json.dumps(metadata))
    np.savez(path, **stored)
    return path


def _read_npz(path: str | Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    with np.load(Path(path), allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files if name != "metadata"}
        metadata = json.loads(str(archive["metadata"]))
    return arrays, metadata


@dataclass
class LossSurface:
    """The loss on a grid over a plane in parameter space.

    The grid point (α, β) represents the parameters
    θ(α, β) = center + (α − α₀)·directions[0] + (β − β₀)·directions[1],
    where (α₀, β₀) = ``center_coordinates`` is the analysed model's position.

    Indexing: ``loss[i, j]`` is the loss at (``alphas[j]``, ``betas[i]``), so
    rows follow β and columns follow α. This is the layout that
    ``matplotlib``'s ``contour(alphas, betas, loss)`` and
    ``numpy.meshgrid(alphas, betas)`` use.

    Attributes:
        alphas: coordinates along the first direction, array of shape (nx,).
        betas: coordinates along the second direction, array of shape (ny,).
        loss: array of shape (ny, nx).
        score: accuracy (classification) or R² (regression) of shape
            (ny, nx), or None when not computed.
        score_name: ``"accuracy"`` or ``"r2"``.
        directions: the two directions as flat parameter vectors, array of shape (2, P).
        center: θ₀, the analysed model's flat parameters, array of shape (P,).
        center_coordinates: (α₀, β₀), the grid coordinates of ``center``.
        center_loss: the model's loss at θ₀, evaluated on its own.
        kind: how the directions were made: ``"random"``, ``"parameters"``,
            ``"hessian"``, ``"pca"``, ``"points"`` or ``"directions"``.
        axis_labels: labels of the α and β axes.
        trajectory: coordinates of a projected training trajectory, array of
            shape (T, 2), or None.
        points: labelled points of interest (e.g. three models), name → (α, β).
        settings: every option that made the surface.
        seed: seed of the random directions, or None.
    """

    alphas: np.ndarray
    betas: np.ndarray
    loss: np.ndarray
    score: np.ndarray | None
    score_name: str
    directions: np.ndarray
    center: np.ndarray
    center_coordinates: tuple[float, float]
    center_loss: float
    kind: str
    axis_labels: tuple[str, str] = ("α", "β")
    trajectory: np.ndarray | None = None
    points: dict[str, tuple[float, float]] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None

    @property
    def shape(self) -> tuple[int, int]:
        """(ny, nx), the shape of ``loss``."""
        return self.loss.shape

    def parameters_at(self, alpha: float, beta: float) -> np.ndarray:
        """Return θ(α, β), the flat parameter vector of shape (P,) at one plane point."""
        alpha0, beta0 = self.center_coordinates
        return self.center + (alpha - alpha0) * self.directions[0] + (beta - beta0) * self.directions[1]

    def project(self, points: np.ndarray) -> np.ndarray:
        """Return the plane coordinates (α, β) of parameter points, array of shape (T, 2).

        Each point of the array of shape (T, P) (or a tensor, or a single point
        of shape (P,)) is mapped to the plane point nearest to it, by least
        squares on the two directions, which need not be orthogonal. Points off
        the plane are represented by their orthogonal projection.
        """
        values = np.asarray(points.detach().cpu() if hasattr(points, "detach") else points, dtype=np.float64)
        values = np.atleast_2d(values)
        if values.ndim != 2 or values.shape[1] != self.center.shape[0]:
            raise ValueError(f"points must have shape (T, {self.center.shape[0]}); got {values.shape}.")
        offsets = values - self.center  # (T, P)
        coefficients, *_ = np.linalg.lstsq(self.directions.T, offsets.T, rcond=None)  # (2, T)
        return coefficients.T + np.asarray(self.center_coordinates)

    @property
    def minimum(self) -> dict[str, float]:
        """The grid point of lowest loss: keys ``alpha``, ``beta``, ``loss``."""
        row, column = np.unravel_index(np.argmin(self.loss), self.loss.shape)
        return {"alpha": float(self.alphas[column]), "beta": float(self.betas[row]), "loss": float(self.loss[row, column])}

    def to_frame(self) -> pd.DataFrame:
        """Return one row per grid point with columns alpha, beta, loss (and the score).

        Rows run through α fastest, in the order of ``loss.ravel()``.
        """
        alpha_grid, beta_grid = np.meshgrid(self.alphas, self.betas)
        columns = {"alpha": alpha_grid.ravel(), "beta": beta_grid.ravel(), "loss": self.loss.ravel()}
        if self.score is not None:
            columns[self.score_name] = self.score.ravel()
        return pd.DataFrame(columns)

    def save(self, path: str | Path) -> Path:
        """Write the surface to a ``.npz`` file (arrays plus JSON metadata). Returns the path."""
        arrays = {
            "alphas": self.alphas,
            "betas": self.betas,
            "loss": self.loss,
            "score": self.score,
            "directions": self.directions,
            "center": self.center,
            "trajectory": self.trajectory,
        }
        metadata = {
            "type": "LossSurface",
            "score_name": self.score_name,
            "center_coordinates": list(self.center_coordinates),
            "center_loss": self.center_loss,
            "kind": self.kind,
            "axis_labels": list(self.axis_labels),
            "points": {name: list(point) for name, point in self.points.items()},
            "settings": self.settings,
            "seed": self.seed,
        }
        return _write_npz(path, arrays, metadata)

    @classmethod
    def load(cls, path: str | Path) -> LossSurface:
        """Read a surface written by :meth:`save`."""
        arrays, metadata = _read_npz(path)
        if metadata.get("type") != "LossSurface":
            raise ValueError(f"{path} does not contain a LossSurface; it contains {metadata.get('type')!r}.")
        return cls(
            alphas=arrays["alphas"],
            betas=arrays["betas"],
            loss=arrays["loss"],
            score=arrays.get("score"),
            score_name=metadata["score_name"],
            directions=arrays["directions"],
            center=arrays["center"],
            center_coordinates=tuple(metadata["center_coordinates"]),
            center_loss=metadata["center_loss"],
            kind=metadata["kind"],
            axis_labels=tuple(metadata["axis_labels"]),
            trajectory=arrays.get("trajectory"),
            points={name: tuple(point) for name, point in metadata["points"].items()},
            settings=metadata["settings"],
            seed=metadata["seed"],
        )


@dataclass
class LossCurve:
    """The loss along a line θ(α) = center + (α − α₀)·direction.

    For the straight line between two models, ``center`` is the first model
    (α = 0), the direction is θ_B − θ_A (so α = 1 is the second model) and
    ``barrier`` is max over the grid's α in [0, 1] of
    L(θ_α) − ((1 − α)·L₀ + α·L₁), with L₀ and L₁ the endpoint losses. It is
    at least 0, because the endpoints themselves give 0.

    Attributes:
        alphas: coordinates along the line, array of shape (n_points,).
        loss: array of shape (n_points,).
        score: accuracy or R² of shape (n_points,), or None.
        score_name: ``"accuracy"`` or ``"r2"``.
        direction: flat vector of shape (P,).
        center: flat parameters at α₀, array of shape (P,).
        center_coordinate: α₀.
        center_loss: the loss at ``center``, evaluated on its own.
        kind: ``"direction"``, ``"random"`` or ``"interpolation"``.
        endpoint_losses: (L₀, L₁) for an interpolation, else None.
        barrier: barrier height for an interpolation, else None.
        barrier_alpha: the α where the barrier is reached, else None.
        axis_label: label of the α axis.
        settings: every option that made the curve.
        seed: seed of a random direction, or None.
    """

    alphas: np.ndarray
    loss: np.ndarray
    score: np.ndarray | None
    score_name: str
    direction: np.ndarray
    center: np.ndarray
    center_coordinate: float
    center_loss: float
    kind: str
    endpoint_losses: tuple[float, float] | None = None
    barrier: float | None = None
    barrier_alpha: float | None = None
    axis_label: str = "α"
    settings: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None

    def parameters_at(self, alpha: float) -> np.ndarray:
        """Return θ(α), the flat parameter vector of shape (P,)."""
        return self.center + (alpha - self.center_coordinate) * self.direction

    def to_frame(self) -> pd.DataFrame:
        """Return one row per point with columns alpha, loss (and the score)."""
        columns = {"alpha": self.alphas, "loss": self.loss}
        if self.score is not None:
            columns[self.score_name] = self.score
        return pd.DataFrame(columns)

    def save(self, path: str | Path) -> Path:
        """Write the curve to a ``.npz`` file. Returns the path."""
        arrays = {
            "alphas": self.alphas,
            "loss": self.loss,
            "score": self.score,
            "direction": self.direction,
            "center": self.center,
        }
        metadata = {
            "type": "LossCurve",
            "score_name": self.score_name,
            "center_coordinate": self.center_coordinate,
            "center_loss": self.center_loss,
            "kind": self.kind,
            "endpoint_losses": None if self.endpoint_losses is None else list(self.endpoint_losses),
            "barrier": self.barrier,
            "barrier_alpha": self.barrier_alpha,
            "axis_label": self.axis_label,
            "settings": self.settings,
            "seed": self.seed,
        }
        return _write_npz(path, arrays, metadata)

    @classmethod
    def load(cls, path: str | Path) -> LossCurve:
        """Read a curve written by :meth:`save`."""
        arrays, metadata = _read_npz(path)
        if metadata.get("type") != "LossCurve":
            raise ValueError(f"{path} does not contain a LossCurve; it contains {metadata.get('type')!r}.")
        endpoints = metadata["endpoint_losses"]
        return cls(
            alphas=arrays["alphas"],
            loss=arrays["loss"],
            score=arrays.get("score"),
            score_name=metadata["score_name"],
            direction=arrays["direction"],
            center=arrays["center"],
            center_coordinate=metadata["center_coordinate"],
            center_loss=metadata["center_loss"],
            kind=metadata["kind"],
            endpoint_losses=None if endpoints is None else tuple(endpoints),
            barrier=metadata["barrier"],
            barrier_alpha=metadata["barrier_alpha"],
            axis_label=metadata["axis_label"],
            settings=metadata["settings"],
            seed=metadata["seed"],
        )
