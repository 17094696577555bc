"""Figures of training dynamics: gradient norms, sharpness, weight norms, balancedness."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from reluscape._validation import check_int
from reluscape.experiments.gradient_trajectory_analyzer import GradientTrajectory
from reluscape.experiments.weight_norm_monitor import WeightNormTrajectory
from reluscape.plotting._axes import get_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "plot_balancedness_drift",
    "plot_gradient_trajectory",
    "plot_optimizer_comparison",
    "plot_sharpness",
    "plot_weight_norms",
]

_LONG_COLUMNS = ("epoch", "step", "metric", "value")


def _set_log_scale(ax: Axes, values: np.ndarray, log: bool) -> None:
    """Use a log y-axis when asked and every finite value is positive."""
    finite = values[np.isfinite(values)]
    if log and finite.size and np.all(finite > 0):
        ax.set_yscale("log")


def _check_long_frame(frame: pd.DataFrame, name: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame; got {type(frame).__name__}.")
    missing = [column for column in _LONG_COLUMNS if column not in frame.columns]
    if missing:
        raise ValueError(f"{name} must have columns {list(_LONG_COLUMNS)}; missing {missing}.")


def _check_metrics(metrics: Sequence[str], available: Sequence[str]) -> list[str]:
    if isinstance(metrics, str):
        metrics = [metrics]
    unknown = [metric for metric in metrics if metric not in available]
    if unknown:
        raise ValueError(f"metrics {unknown} were not recorded; recorded metrics are {sorted(available)}.")
    return list(metrics)


def _plot_long(
    ax: Axes, frame: pd.DataFrame, metrics: Sequence[str], *, x: str, log: bool, label: str | None = None
) -> None:
    """Draw each metric's finite values against ``x``, labelled ``label`` or by the metric name."""
    values = []
    for metric in metrics:
        rows = frame[frame["metric"] == metric].sort_values("step")
        finite = rows[np.isfinite(rows["value"])]
        ax.plot(finite[x], finite["value"], label=metric if label is None else label)
        values.append(finite["value"].to_numpy())
    _set_log_scale(ax, np.concatenate(values) if values else np.zeros(0), log)


def plot_gradient_trajectory(
    trajectory: GradientTrajectory,
    ax: Axes | None = None,
    *,
    metrics: Sequence[str] = ("loss", "grad_norm"),
    per_step: bool = False,
    log: bool = True,
) -> Axes:
    """Plot the loss and gradient norms of one run against epoch (or step).

    Args:
        trajectory: the analyzer's result.
        ax: axes to draw on; a new figure when None.
        metrics: recorded metrics to draw, e.g. ``"grad_norm_W"`` or
            ``"minibatch_grad_norm"``.
        per_step: draw the per-step records against the step count.
        log: logarithmic y-axis when every value is positive.

    Returns:
        The Axes drawn on.
    """
    if not isinstance(trajectory, GradientTrajectory):
        raise TypeError(f"trajectory must be a GradientTrajectory; got {type(trajectory).__name__}.")
    frame = trajectory.to_frame(per_step=per_step)
    metrics = _check_metrics(metrics, frame["metric"].unique().tolist())
    ax = get_axes(ax)
    _plot_long(ax, frame, metrics, x="step" if per_step else "epoch", log=log)
    ax.set_xlabel("step" if per_step else "epoch")
    ax.set_ylabel("value")
    ax.set_title("Gradient trajectory" + (" (diverged)" if trajectory.diverged else ""))
    ax.legend()
    return ax


def plot_optimizer_comparison(
    frame: pd.DataFrame,
    metric: str = "grad_norm",
    ax: Axes | None = None,
    *,
    log: bool = True,
) -> Axes:
    """Plot one metric against epoch, one line per optimizer.

    Args:
        frame: the long DataFrame of
            :meth:`GradientTrajectoryAnalyzer.compare_optimizers` (columns
            optimizer, epoch, step, metric, value).
        metric: the metric to draw, e.g. ``"loss"``, ``"grad_norm"``, ``"norm"``.
        ax: axes to draw on; a new figure when None.
        log: logarithmic y-axis when every value is positive.

    Returns:
        The Axes drawn on. Runs that diverged are marked in the legend.
    """
    _check_long_frame(frame, "frame")
    if "optimizer" not in frame.columns:
        raise ValueError("frame must have an 'optimizer' column; pass the output of compare_optimizers.")
    _check_metrics([metric], frame["metric"].unique().tolist())
    diverged = frame.attrs.get("diverged", {})
    ax = get_axes(ax)
    rows = frame[frame["metric"] == metric]
    for label, run in rows.groupby("optimizer", sort=False):
        suffix = " (diverged)" if label in diverged else ""
        _plot_long(ax, run, [metric], x="epoch", log=False, label=f"{label}{suffix}")
    _set_log_scale(ax, rows["value"].to_numpy(dtype=float), log)
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} by optimizer")
    ax.legend()
    return ax


def plot_sharpness(trajectory: GradientTrajectory | pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Plot the sharpness (top Hessian eigenvalue) against epoch with its stability line.

    The dashed line is 2/η for full-batch gradient descent, or its momentum
    form (see :func:`reluscape.experiments.gradient_trajectory_analyzer.stability_threshold`).
    Full-batch training typically pushes the sharpness up to it.

    Args:
        trajectory: an analyzer's result, or a comparison frame (one line
            per optimizer).
        ax: axes to draw on; a new figure when None.

    Returns:
        The Axes drawn on.
    """
    if isinstance(trajectory, GradientTrajectory):
        frame = trajectory.to_frame()
        frame.insert(0, "optimizer", trajectory.settings.get("optimizer", "run"))
    else:
        _check_long_frame(trajectory, "trajectory")
        frame = trajectory if "optimizer" in trajectory.columns else trajectory.assign(optimizer="run")
    sharpness = frame[frame["metric"] == "sharpness"]
    if sharpness.empty:
        raise ValueError("no sharpness was recorded; attach GradientTrajectoryAnalyzer(sharpness_every=k).")
    ax = get_axes(ax)
    for label, run in sharpness.groupby("optimizer", sort=False):
        run = run.sort_values("step")
        line = ax.plot(run["epoch"], run["value"], marker="o", markersize=3, label=f"{label}: sharpness")[0]
        thresholds = frame[(frame["optimizer"] == label) & (frame["metric"] == "stability_threshold")]["value"]
        if len(thresholds):
            # Momentum runs have the line (2 + 2β)/η or its Nesterov form, so only plain SGD is called 2/η.
            name = "2/η line" if label == "sgd" else "stability threshold"
            ax.axhline(float(thresholds.iloc[0]), color=line.get_color(), linestyle="--", label=f"{label}: {name}")
    ax.set_xlabel("epoch")
    ax.set_ylabel("top Hessian eigenvalue")
    ax.set_title("Sharpness")
    ax.legend()
    return ax


def plot_weight_norms(
    trajectory: WeightNormTrajectory,
    ax: Axes | None = None,
    *,
    metrics: Sequence[str] = ("norm", "path_norm"),
    log: bool = False,
) -> Axes:
    """Plot weight norms (or any recorded scalar, e.g. ``"normalized_margin"``) against epoch.

    Args:
        trajectory: the monitor's result.
        ax: axes to draw on; a new figure when None.
        metrics: recorded scalars to draw.
        log: logarithmic y-axis when every value is positive.

    Returns:
        The Axes drawn on.
    """
    if not isinstance(trajectory, WeightNormTrajectory):
        raise TypeError(f"trajectory must be a WeightNormTrajectory; got {type(trajectory).__name__}.")
    frame = trajectory.to_frame()
    metrics = _check_metrics(metrics, frame["metric"].unique().tolist())
    ax = get_axes(ax)
    _plot_long(ax, frame, metrics, x="epoch", log=log)
    ax.set_xlabel("epoch")
    ax.set_ylabel("value")
    ax.set_title("Weight norms" + (" (diverged)" if trajectory.diverged else ""))
    ax.legend()
    return ax


def plot_balancedness_drift(
    trajectory: WeightNormTrajectory,
    ax: Axes | None = None,
    *,
    per_step: bool = False,
    max_neurons: int = 64,
) -> Axes:
    """Plot each neuron's balancedness drift Q_j(t) − Q_j(0) against epoch (or step).

    Args:
        trajectory: the monitor's result.
        ax: axes to draw on; a new figure when None.
        per_step: draw the per-step records against the step count.
        max_neurons: draw at most this many neurons (those with the largest
            final drift), >= 1.

    Returns:
        The Axes drawn on.
    """
    if not isinstance(trajectory, WeightNormTrajectory):
        raise TypeError(f"trajectory must be a WeightNormTrajectory; got {type(trajectory).__name__}.")
    check_int("max_neurons", max_neurons, minimum=1)
    records = trajectory.step_records if per_step else trajectory.epoch_records
    if not records:
        raise ValueError("no records to plot; train with the monitor attached" + (" and per_step=True." if per_step else "."))
    drift = trajectory.step_balancedness_drift if per_step else trajectory.balancedness_drift  # (records, m)
    x = np.array([record["step" if per_step else "epoch"] for record in records])
    order = np.argsort(-np.abs(np.nan_to_num(drift[-1], nan=np.inf)))[:max_neurons]
    ax = get_axes(ax)
    ax.plot(x, drift[:, order], linewidth=0.8, alpha=0.8)
    ax.axhline(0.0, color="k", linewidth=0.6)
    ax.set_xlabel("step" if per_step else "epoch")
    ax.set_ylabel("Q_j(t) − Q_j(0)")
    shown = f"{len(order)} of {drift.shape[1]} neurons"
    ax.set_title(f"Balancedness drift ({shown})" + (" (diverged)" if trajectory.diverged else ""))
    return ax
