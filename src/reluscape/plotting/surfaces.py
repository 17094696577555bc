"""Figures of loss surfaces and loss curves: contours, 3-D surfaces, trajectories, 1-D lines."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np

from reluscape._validation import check_int
from reluscape.experiments._surface_results import LossCurve, LossSurface
from reluscape.plotting._axes import get_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_loss_contour", "plot_loss_line", "plot_loss_surface_3d", "plot_trajectory"]


def _checked_values(values: np.ndarray, what: str) -> np.ndarray:
    """Return ``values`` as float64, raising ValueError if any entry is not finite."""
    values = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(values)):
        count = int(np.sum(~np.isfinite(values)))
        raise ValueError(f"{what} has {count} non-finite value(s); recompute it with smaller ranges before plotting.")
    return values


def _use_log(values: np.ndarray, log: bool) -> bool:
    if log and np.any(values <= 0):
        warnings.warn(
            f"log scale needs positive losses, but the minimum is {values.min():.3g}; drawing on a linear scale.",
            RuntimeWarning,
            stacklevel=3,
        )
        return False
    return log


def _title(surface: LossSurface) -> str:
    names = {
        "random": "random plane",
        "parameters": "two-parameter sweep",
        "hessian": "Hessian eigenvector plane",
        "pca": "PCA plane of the trajectory",
        "points": "plane through three points",
        "directions": "plane",
    }
    return f"Loss surface: {names.get(surface.kind, surface.kind)}"


def plot_loss_contour(
    surface: LossSurface,
    ax: Axes | None = None,
    *,
    filled: bool = True,
    levels: int = 30,
    log: bool = False,
    cmap: str = "viridis",
    show_center: bool = True,
    show_trajectory: bool = True,
    show_points: bool = True,
    colorbar: bool = True,
) -> Axes:
    """Draw a loss surface as contour lines or filled contours.

    Args:
        surface: the surface to draw.
        ax: axes to draw on; a new figure when None.
        filled: filled contours (``contourf``) with thin lines on top, or lines only.
        levels: number of contour levels, >= 2.
        log: space the levels logarithmically; falls back to linear with a
            RuntimeWarning when a loss is not positive.
        cmap: matplotlib colormap name.
        show_center: mark the analysed model (the surface's center) with a star.
        show_trajectory: draw the projected trajectory, if the surface has one.
        show_points: mark the labelled points, if the surface has any.
        colorbar: add a colorbar.

    Returns:
        The Axes drawn on.

    Raises:
        ValueError: if the surface contains a non-finite loss.
    """
    levels = check_int("levels", levels, minimum=2)
    loss = _checked_values(surface.loss, "the surface's loss")
    ax = get_axes(ax)
    log = _use_log(loss, log)

    if log:
        from matplotlib.colors import LogNorm

        low, high = loss.min(), loss.max()
        level_values = np.geomspace(low, high if high > low else low * 1.01, levels)
        norm = LogNorm(vmin=level_values[0], vmax=level_values[-1])
    else:
        low, high = loss.min(), loss.max()
        level_values = np.linspace(low, high if high > low else low + 1e-12, levels)
        norm = None

    if filled:
        mappable = ax.contourf(surface.alphas, surface.betas, loss, levels=level_values, cmap=cmap, norm=norm)
        ax.contour(surface.alphas, surface.betas, loss, levels=level_values, colors="k", linewidths=0.3, alpha=0.5)
    else:
        mappable = ax.contour(surface.alphas, surface.betas, loss, levels=level_values, cmap=cmap, norm=norm)
    if colorbar:
        ax.figure.colorbar(mappable, ax=ax, label="loss (log scale)" if log else "loss", format="%.3g")

    if show_trajectory and surface.trajectory is not None:
        plot_trajectory(surface, ax=ax)
    if show_points:
        for name, (alpha, beta) in surface.points.items():
            ax.plot(alpha, beta, marker="o", color="white", markeredgecolor="k", markersize=7, linestyle="none")
            ax.annotate(name, (alpha, beta), textcoords="offset points", xytext=(5, 5), color="k")
    if show_center:
        alpha0, beta0 = surface.center_coordinates
        ax.plot(alpha0, beta0, marker="*", color="red", markeredgecolor="k", markersize=14, linestyle="none",
                label=f"model (loss {surface.center_loss:.4g})")
    if ax.get_legend_handles_labels()[0]:
        # Below the axes, so the legend never covers the model, the trajectory or its start and end. The grey
        # face keeps the white trajectory markers visible in the legend.
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=4, fontsize="small", facecolor="0.8")
    ax.set_xlabel(surface.axis_labels[0])
    ax.set_ylabel(surface.axis_labels[1])
    ax.set_title(_title(surface))
    return ax


def plot_trajectory(surface: LossSurface, ax: Axes | None = None, *, color: str = "white") -> Axes:
    """Overlay the projected training trajectory of a surface, start and end marked.

    With ``ax=None`` the surface's contour is drawn first.

    Raises:
        ValueError: if the surface has no trajectory (only PCA planes carry one).
    """
    if surface.trajectory is None:
        raise ValueError("the surface has no trajectory; compute it with LossSurfaceVisualizer.pca_plane.")
    if ax is None:
        return plot_loss_contour(surface, show_trajectory=True)
    path = _checked_values(surface.trajectory, "the trajectory")
    ax.plot(path[:, 0], path[:, 1], color=color, linewidth=1.5, marker=".", markersize=4, label="trajectory")
    ax.plot(path[0, 0], path[0, 1], marker="o", color=color, markeredgecolor="k", linestyle="none", label="start")
    ax.plot(path[-1, 0], path[-1, 1], marker="s", color=color, markeredgecolor="k", linestyle="none", label="end")
    return ax


def plot_loss_surface_3d(
    surface: LossSurface, ax: Axes | None = None, *, log: bool = False, cmap: str = "viridis"
) -> Axes:
    """Draw a loss surface as a 3-D surface plot with the model marked.

    Args:
        surface: the surface to draw.
        ax: 3-D axes (``projection="3d"``) to draw on; a new figure when None.
        log: plot log10 of the loss; falls back to linear with a
            RuntimeWarning when a loss is not positive.
        cmap: matplotlib colormap name.

    Returns:
        The 3-D Axes drawn on.
    """
    loss = _checked_values(surface.loss, "the surface's loss")
    if ax is not None and getattr(ax, "name", "") != "3d":
        raise ValueError("ax must be 3-D axes, e.g. figure.add_subplot(projection='3d'); got 2-D axes.")
    ax = get_axes(ax, projection="3d")
    log = _use_log(loss, log)
    heights = np.log10(loss) if log else loss
    alpha_grid, beta_grid = np.meshgrid(surface.alphas, surface.betas)
    ax.plot_surface(alpha_grid, beta_grid, heights, cmap=cmap, linewidth=0, antialiased=True, alpha=0.9)
    alpha0, beta0 = surface.center_coordinates
    center_height = np.log10(surface.center_loss) if log else surface.center_loss
    ax.scatter([alpha0], [beta0], [center_height], color="red", marker="*", s=120, depthshade=False, label="model")
    ax.set_xlabel(surface.axis_labels[0])
    ax.set_ylabel(surface.axis_labels[1])
    ax.set_zlabel("log10 loss" if log else "loss")
    ax.set_title(_title(surface))
    return ax


def plot_loss_line(
    curve: LossCurve,
    ax: Axes | None = None,
    *,
    log: bool = False,
    show_barrier: bool = True,
    show_score: bool = False,
) -> Axes:
    """Draw a 1-D loss curve; for an interpolation, the chord between the endpoints and the barrier.

    Args:
        curve: the curve to draw.
        ax: axes to draw on; a new figure when None.
        log: logarithmic loss axis; falls back to linear with a RuntimeWarning
            when a loss is not positive.
        show_barrier: for an interpolation, draw the chord (1 − α)·L₀ + α·L₁
            and mark the barrier height.
        show_score: also draw the score on a second y axis.

    Returns:
        The Axes drawn on (the loss axis).
    """
    loss = _checked_values(curve.loss, "the curve's loss")
    ax = get_axes(ax)
    ax.plot(curve.alphas, loss, color="C0", label="loss")
    ax.axvline(curve.center_coordinate, color="0.5", linestyle=":", linewidth=1)

    if show_barrier and curve.kind == "interpolation" and curve.endpoint_losses is not None:
        start, end = curve.endpoint_losses
        chord = (1.0 - curve.alphas) * start + curve.alphas * end
        inside = (curve.alphas >= 0.0) & (curve.alphas <= 1.0)
        ax.plot(curve.alphas[inside], chord[inside], color="0.4", linestyle="--", label="linear interpolation of the end losses")
        if curve.barrier is not None and curve.barrier > 0:
            at = curve.barrier_alpha
            base = (1.0 - at) * start + at * end
            ax.annotate(
                "", xy=(at, base + curve.barrier), xytext=(at, base),
                arrowprops={"arrowstyle": "<->", "color": "C3"},
            )
            ax.text(at, base + curve.barrier / 2, f"  barrier {curve.barrier:.3g}", color="C3", va="center")
    if _use_log(loss, log):
        ax.set_yscale("log")
    if show_score and curve.score is not None:
        score_axis = ax.twinx()
        score_axis.plot(curve.alphas, _checked_values(curve.score, "the curve's score"), color="C1", label=curve.score_name)
        score_axis.set_ylabel(curve.score_name)
    ax.set_xlabel(curve.axis_label)
    ax.set_ylabel("loss")
    title = "Loss along the line between two models" if curve.kind == "interpolation" else "Loss along a line"
    ax.set_title(title)
    ax.legend(loc="best", fontsize="small")
    return ax
