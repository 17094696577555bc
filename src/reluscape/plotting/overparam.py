"""Figures of a width sweep: a metric against width, and the training curves of all widths."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from reluscape._validation import check_choice
from reluscape.experiments.overparam_experiment import OverparamResult
from reluscape.plotting._axes import get_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_overparam_loss_curves", "plot_overparam_metric"]

_X_AXES = ("width", "n_parameters", "parameters_per_sample")
_SPREADS = ("std", "minmax", "none")


def _check_result(result: OverparamResult) -> None:
    if not isinstance(result, OverparamResult):
        raise TypeError(f"result must be an OverparamResult; got {type(result).__name__}.")


def _threshold_position(result: OverparamResult, x: str) -> float:
    """Return where P = n_train lies on the chosen x axis."""
    if x == "width":
        return result.interpolation_width
    if x == "n_parameters":
        return float(result.settings["n_train"])
    return 1.0


def plot_overparam_metric(
    result: OverparamResult,
    metric: str = "test_loss",
    ax: Axes | None = None,
    *,
    x: str = "width",
    spread: str = "std",
    show_seeds: bool = True,
    log_y: bool = False,
) -> Axes:
    """Plot one column of a width sweep against width on a logarithmic axis.

    The line is the mean over seeds, the band the spread (mean ± one standard
    deviation, or min to max), the dots the individual seeds. A dashed line
    marks the interpolation threshold, where the parameter count P equals
    the number of training samples. Diverged runs are left out and counted
    in the legend.

    Args:
        result: the sweep's result (``OverparamExperiment.result``).
        metric: a numeric column of ``result.frame``, e.g. ``"test_loss"``.
        ax: axes to draw on; a new figure when None.
        x: ``"width"``, ``"n_parameters"`` or ``"parameters_per_sample"``.
        spread: ``"std"``, ``"minmax"`` or ``"none"``.
        show_seeds: draw every seed's value as a dot.
        log_y: logarithmic y axis.

    Returns:
        The Axes drawn on.

    Raises:
        ValueError: if ``metric`` is not a numeric column of the table.
    """
    _check_result(result)
    check_choice("x", x, _X_AXES)
    check_choice("spread", spread, _SPREADS)
    frame = result.frame
    numeric = [column for column in frame.columns if column not in ("width", "seed", "diverged")]
    if metric not in numeric:
        raise ValueError(f"metric must be one of the table's columns {numeric}; got {metric!r}.")
    ax = get_axes(ax)

    finished = frame.loc[~frame["diverged"]]
    finished = finished.loc[np.isfinite(finished[metric].to_numpy(dtype=float))]
    stats = finished.groupby(x)[metric].agg(["mean", "std", "min", "max"]).sort_index()
    positions = stats.index.to_numpy(dtype=float)
    line = ax.plot(positions, stats["mean"], marker="o", label=f"mean over seeds ({len(result.settings['seeds'])})")[0]
    if spread == "std":
        deviation = stats["std"].fillna(0.0)
        ax.fill_between(positions, stats["mean"] - deviation, stats["mean"] + deviation, color=line.get_color(), alpha=0.2, label="± one std")
    elif spread == "minmax":
        ax.fill_between(positions, stats["min"], stats["max"], color=line.get_color(), alpha=0.2, label="min to max")
    if show_seeds:
        ax.scatter(finished[x], finished[metric], s=10, color=line.get_color(), alpha=0.5, zorder=3)
    n_diverged = int(frame["diverged"].sum())
    if n_diverged:
        ax.plot([], [], linestyle="none", label=f"{n_diverged} diverged runs left out")

    ax.axvline(_threshold_position(result, x), color="0.3", linestyle="--", linewidth=1.0, label="P = n_train")
    ax.set_xscale("log")
    if log_y and bool((stats["min"] > 0).all()):
        ax.set_yscale("log")
    ax.set_xlabel({"width": "hidden width m", "n_parameters": "parameters P", "parameters_per_sample": "P / n_train"}[x])
    ax.set_ylabel(metric.replace("_", " "))
    ax.set_title(f"{metric.replace('_', ' ')} against width ({result.settings.get('dataset_name', 'data')})")
    ax.legend(fontsize="small")
    return ax


def plot_overparam_loss_curves(
    result: OverparamResult,
    ax: Axes | None = None,
    *,
    split: str = "train",
    log: bool = True,
    cmap: str = "viridis",
) -> Axes:
    """Draw the loss against epoch for every width in one figure.

    Each width gets one line, the mean over its seeds that did not diverge,
    coloured from small (dark) to large (bright) width.

    Args:
        result: the sweep's result.
        ax: axes to draw on; a new figure when None.
        split: ``"train"`` or ``"test"``.
        log: logarithmic loss axis (used only when every plotted loss is positive).
        cmap: matplotlib colormap name for the widths.

    Returns:
        The Axes drawn on.
    """
    _check_result(result)
    check_choice("split", split, ("train", "test"))
    import matplotlib.pyplot as plt

    ax = get_axes(ax)
    column = f"{split}_loss"
    diverged = set(map(tuple, result.frame.loc[result.frame["diverged"], ["width", "seed"]].values.tolist()))
    curves = result.curves
    keep = [(int(w), int(s)) not in diverged for w, s in zip(curves["width"], curves["seed"])]
    curves = curves.loc[keep]
    widths = sorted(result.frame["width"].unique())
    colors = plt.get_cmap(cmap)(np.linspace(0.0, 0.9, max(len(widths), 1)))
    all_positive = True
    for color, width in zip(colors, widths):
        mean = curves.loc[curves["width"] == width].groupby("epoch")[column].mean()
        if mean.empty:
            ax.plot([], [], color=color, label=f"m = {width} (all diverged)")
            continue
        all_positive &= bool((mean > 0).all())
        ax.plot(mean.index, mean.to_numpy(), color=color, label=f"m = {width}")
    if log and all_positive:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"{split} loss (mean over seeds)")
    ax.set_title(f"{split.capitalize()} loss of every width")
    ax.legend(fontsize="small", ncol=2)
    return ax
