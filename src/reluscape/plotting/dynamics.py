"""Figures of training dynamics: gradient norms, sharpness, weight norms, balancedness."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import warnings

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
# plot_sharpness switches to a log y-axis when the drawn values span more than this ratio (two decades).
SHARPNESS_LOG_RATIO = 100.0
# Fraction of the data range (in log10 units on a log axis) left free above and below the curves.
_Y_MARGIN = 0.05


def _new_axes(ax: Axes | None) -> Axes:
    """Return ``ax``, or the axes of a new figure whose layout keeps every label inside it."""
    if ax is not None:
        return ax
    ax = get_axes(None)
    ax.figure.set_layout_engine("constrained")
    return ax


def _padded_limits(values: np.ndarray, log: bool) -> tuple[float, float] | None:
    """Return y-limits that contain the finite ``values`` with a margin, or None when there are none.

    On a log axis the margin is taken in log10 units and non-positive values are ignored.
    """
    values = values[np.isfinite(values)]
    if log:
        values = np.log10(values[values > 0])
    if values.size == 0:
        return None
    low, high = float(values.min()), float(values.max())
    if high > low:
        margin = _Y_MARGIN * (high - low)
    elif log:
        margin = 0.3  # a factor of two either side of a constant curve
    else:
        margin = 0.5 * abs(high) if high != 0 else 1.0
    low, high = low - margin, high + margin
    if log:
        return 10.0**low, 10.0**high
    return low, high


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
    ax = _new_axes(ax)
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

    The y-limits come from the runs that did not diverge, so one blown-up
    run does not flatten the others. Diverged runs (the keys of
    ``frame.attrs["diverged"]``) are drawn dashed, labelled "(diverged)" and
    clipped at the axis edge. A triangle on the top edge marks the epoch at
    which such a run leaves the axes upwards. When every run diverged, the
    limits fit all of them.

    Args:
        frame: the long DataFrame of
            :meth:`GradientTrajectoryAnalyzer.compare_optimizers` (columns
            optimizer, epoch, step, metric, value).
        metric: the metric to draw, e.g. ``"loss"``, ``"grad_norm"``, ``"norm"``.
        ax: axes to draw on; a new figure when None.
        log: logarithmic y-axis when every finite value of the runs that set
            the limits is positive.

    Returns:
        The Axes drawn on.
    """
    _check_long_frame(frame, "frame")
    if "optimizer" not in frame.columns:
        raise ValueError("frame must have an 'optimizer' column; pass the output of compare_optimizers.")
    _check_metrics([metric], frame["metric"].unique().tolist())
    diverged = frame.attrs.get("diverged", {})
    ax = _new_axes(ax)
    rows = frame[frame["metric"] == metric]
    stable = rows[~rows["optimizer"].isin(list(diverged))]
    if stable.empty:
        stable = rows
    scale_values = stable["value"].to_numpy(dtype=float)
    _set_log_scale(ax, scale_values, log)
    limits = _padded_limits(scale_values, ax.get_yscale() == "log")

    for label, run in rows.groupby("optimizer", sort=False):
        is_diverged = label in diverged
        run = run.sort_values("step")
        run = run[np.isfinite(run["value"])]
        style = {"linestyle": "--", "label": f"{label} (diverged)"} if is_diverged else {"label": label}
        line = ax.plot(run["epoch"], run["value"], **style)[0]
        if is_diverged and limits is not None:
            above = run[run["value"] > limits[1]]
            if len(above):
                # clip_on=False keeps the marker visible on the top edge of the axes.
                ax.plot(
                    [above["epoch"].iloc[0]], [limits[1]], marker="^", color=line.get_color(), clip_on=False, label="_nolegend_"
                )
    if limits is not None:
        ax.set_ylim(*limits)
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} by optimizer")
    ax.legend()
    return ax


def plot_sharpness(
    trajectory: GradientTrajectory | pd.DataFrame, ax: Axes | None = None, *, log: bool | None = None
) -> Axes:
    """Plot the sharpness (top Hessian eigenvalue) against epoch with its stability line.

    The dashed line is 2/η for full-batch gradient descent, or its momentum
    form (see :func:`reluscape.experiments.gradient_trajectory_analyzer.stability_threshold`).
    Full-batch training typically pushes the sharpness up to it.

    Args:
        trajectory: an analyzer's result, or a comparison frame (one line
            per optimizer).
        ax: axes to draw on; a new figure when None.
        log: True for a log y-axis, False for a linear one, None (default)
            for a log axis when the finite sharpness values and stability
            lines span more than two decades (a ratio above
            ``SHARPNESS_LOG_RATIO``). A log axis needs every one of these
            values positive; otherwise the axis stays linear with a
            RuntimeWarning.

    Returns:
        The Axes drawn on.
    """
    if isinstance(trajectory, GradientTrajectory):
        frame = trajectory.to_frame()
        frame.insert(0, "optimizer", trajectory.settings.get("optimizer", "run"))
    else:
        _check_long_frame(trajectory, "trajectory")
        frame = trajectory if "optimizer" in trajectory.columns else trajectory.assign(optimizer="run")
    if log is not None and not isinstance(log, bool):
        raise TypeError(f"log must be True, False or None; got {log!r}.")
    sharpness = frame[frame["metric"] == "sharpness"]
    if sharpness.empty:
        raise ValueError("no sharpness was recorded; attach GradientTrajectoryAnalyzer(sharpness_every=k).")
    ax = _new_axes(ax)
    drawn = [sharpness["value"].to_numpy(dtype=float)]
    for label, run in sharpness.groupby("optimizer", sort=False):
        run = run.sort_values("step")
        line = ax.plot(run["epoch"], run["value"], marker="o", markersize=3, label=f"{label}: sharpness")[0]
        thresholds = frame[(frame["optimizer"] == label) & (frame["metric"] == "stability_threshold")]["value"]
        if len(thresholds):
            # Momentum runs have the line (2 + 2β)/η or its Nesterov form, so only plain SGD is called 2/η.
            name = "2/η line" if label == "sgd" else "stability threshold"
            threshold = float(thresholds.iloc[0])
            ax.axhline(threshold, color=line.get_color(), linestyle="--", label=f"{label}: {name}")
            drawn.append(np.array([threshold]))
    _choose_sharpness_scale(ax, np.concatenate(drawn), log)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("top Hessian eigenvalue")
    ax.set_title("Sharpness")
    ax.legend()
    return ax


def _choose_sharpness_scale(ax: Axes, values: np.ndarray, log: bool | None) -> None:
    """Set a log y-axis when ``log`` is True, or when None and the values span more than two decades."""
    finite = values[np.isfinite(values)]
    if log is False or finite.size == 0:
        return
    if np.all(finite > 0):
        if log or finite.max() / finite.min() > SHARPNESS_LOG_RATIO:
            ax.set_yscale("log")
        return
    if log:
        warnings.warn(
            f"log=True needs positive sharpness values; the smallest is {finite.min():.3g}, so the y-axis stays linear.",
            RuntimeWarning,
            stacklevel=3,
        )
        return
    magnitudes = np.abs(finite[finite != 0])
    if magnitudes.size and magnitudes.max() / magnitudes.min() > SHARPNESS_LOG_RATIO:
        warnings.warn(
            f"sharpness values span [{finite.min():.3g}, {finite.max():.3g}], more than two decades, but are not "
            "all positive, so the y-axis stays linear.",
            RuntimeWarning,
            stacklevel=3,
        )


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
    ax = _new_axes(ax)
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
    max_neurons = check_int("max_neurons", max_neurons, minimum=1)
    records = trajectory.step_records if per_step else trajectory.epoch_records
    if not records:
        raise ValueError("no records to plot; train with the monitor attached" + (" and per_step=True." if per_step else "."))
    drift = trajectory.step_balancedness_drift if per_step else trajectory.balancedness_drift  # (records, m)
    x = np.array([record["step" if per_step else "epoch"] for record in records])
    order = np.argsort(-np.abs(np.nan_to_num(drift[-1], nan=np.inf)))[:max_neurons]
    ax = _new_axes(ax)
    ax.plot(x, drift[:, order], linewidth=0.8, alpha=0.8)
    ax.axhline(0.0, color="k", linewidth=0.6)
    ax.set_xlabel("step" if per_step else "epoch")
    ax.set_ylabel("Q_j(t) − Q_j(0)")
    shown = f"{len(order)} of {drift.shape[1]} neurons"
    ax.set_title(f"Balancedness drift ({shown})" + (" (diverged)" if trajectory.diverged else ""))
    return ax
