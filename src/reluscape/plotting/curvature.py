"""Figures of gradients, Hessian spectra, spectral densities and critical-point evidence."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

from reluscape._validation import check_choice, check_int
from reluscape.analysis.results import GradientNorms, SpectralDensity, Spectrum
from reluscape.experiments.critical_point_classifier import CriticalPointReport
from reluscape.plotting._axes import get_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "plot_critical_point",
    "plot_eigenvector_neurons",
    "plot_gradient_norms",
    "plot_hessian_spectrum",
    "plot_spectral_density",
]

_POSITIVE_COLOR = "tab:blue"
_NEGATIVE_COLOR = "tab:red"


def _finite_array(name: str, values: torch.Tensor) -> np.ndarray:
    array = values.detach().to("cpu", torch.float64).numpy()
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite to be plotted; it contains nan or inf.")
    return array


def plot_gradient_norms(norms: GradientNorms, ax: Axes | None = None, *, by: str = "block", log: bool = True) -> Axes:
    """Draw gradient norms as bars, per parameter block (W, b, a, c) or per hidden neuron.

    Args:
        norms: result of ``GradientAnalyzer.gradient_norms()``.
        ax: axes to draw on; a new figure when None.
        by: ``"block"`` or ``"neuron"``.
        log: logarithmic value axis (used only when every norm is positive).

    Returns:
        The Axes drawn on.
    """
    check_choice("by", by, ("block", "neuron"))
    ax = get_axes(ax)
    if by == "block":
        labels = list(norms.blocks)
        values = np.array([norms.blocks[name] for name in labels], dtype=float)
        positions = np.arange(len(labels))
        ax.bar(positions, values, color="tab:blue")
        ax.set_xticks(positions, labels)
        ax.set_xlabel("parameter block")
    else:
        values = _finite_array("per-neuron gradient norms", norms.per_neuron)
        ax.bar(np.arange(values.size), values, width=1.0, color="tab:blue")
        ax.set_xlabel("hidden neuron j")
    if not np.all(np.isfinite(values)):
        raise ValueError("gradient norms must be finite to be plotted; they contain nan or inf.")
    if log and np.all(values > 0):
        ax.set_yscale("log")
    ax.set_ylabel("‖∂L/∂θ‖")
    ax.set_title(f"Gradient norm per {by} (total {norms.total:.2e})")
    return ax


def plot_hessian_spectrum(
    spectrum: Spectrum,
    ax: Axes | None = None,
    *,
    kind: str = "stem",
    log_magnitude: bool = False,
    bins: int = 50,
) -> Axes:
    """Draw Hessian eigenvalues as a stem plot over their rank or as a histogram.

    With ``log_magnitude=True`` the value axis shows |λ| on a log scale,
    positive eigenvalues in blue and negative ones in red; exact zeros,
    which a log scale cannot show, are counted in the legend. In the stem
    plot, eigenvalues below the float64 round-off level P·ε·max|λ| are grey
    (their sign and size are noise), the level is a dashed line, and values
    more than three decades below it are drawn at the axis floor as triangles.

    Args:
        spectrum: result of ``GradientAnalyzer.eigenvalues()``.
        ax: axes to draw on; a new figure when None.
        kind: ``"stem"`` or ``"hist"``.
        log_magnitude: plot log10 |λ| split by sign.
        bins: number of histogram bins.

    Returns:
        The Axes drawn on.
    """
    check_choice("kind", kind, ("stem", "hist"))
    bins = check_int("bins", bins, minimum=1)
    ax = get_axes(ax)
    values = _finite_array("eigenvalues", spectrum.eigenvalues)
    positive, negative = values > 0, values < 0
    n_zero = int(np.sum(values == 0))
    zero_note = f" ({n_zero} exact zeros not shown)" if log_magnitude and n_zero else ""

    if kind == "stem":
        ranks = np.arange(values.size)
        if log_magnitude:
            magnitudes = np.abs(values)
            roundoff = values.size * np.finfo(np.float64).eps * float(magnitudes.max(initial=0.0))
            noise = (magnitudes <= roundoff) & (magnitudes > 0)
            for mask, color, name in ((positive, _POSITIVE_COLOR, "λ > 0"), (negative, _NEGATIVE_COLOR, "λ < 0")):
                if (mask & ~noise).any():
                    ax.scatter(ranks[mask & ~noise], magnitudes[mask & ~noise], s=8, color=color, label=name)
            if noise.any():
                floor = roundoff * 1e-3
                shown = np.maximum(magnitudes[noise], floor)
                clipped = magnitudes[noise] < floor
                ax.scatter(ranks[noise][~clipped], shown[~clipped], s=8, color="0.6", label="|λ| below round-off")
                if clipped.any():
                    ax.scatter(ranks[noise][clipped], shown[clipped], s=14, marker="v", color="0.6")
                ax.axhline(roundoff, color="0.4", linestyle="--", linewidth=0.8, label="round-off P·ε·max|λ|")
            ax.set_yscale("log")
            ax.set_ylabel("|λ|")
        else:
            markers, stems, base = ax.stem(ranks, values, basefmt="k-")
            markers.set_markersize(3)
            ax.set_ylabel("λ")
        ax.set_xlabel("rank (0 = largest)")
    else:
        if log_magnitude:
            for mask, color, name in ((positive, _POSITIVE_COLOR, "λ > 0"), (negative, _NEGATIVE_COLOR, "λ < 0")):
                if mask.any():
                    ax.hist(np.log10(np.abs(values[mask])), bins=bins, color=color, alpha=0.6, label=name)
            ax.set_xlabel("log10 |λ|")
        else:
            ax.hist(values, bins=bins, color=_POSITIVE_COLOR)
            ax.set_xlabel("λ")
        ax.set_ylabel("count")
    if log_magnitude and (positive.any() or negative.any()):
        ax.legend(title=zero_note.strip() or None)
    ax.set_title(f"Hessian spectrum ({spectrum.method}, {len(spectrum)} of P = {spectrum.n_parameters}){zero_note}")
    return ax


def plot_spectral_density(
    density: SpectralDensity,
    ax: Axes | None = None,
    *,
    grid: torch.Tensor | None = None,
    bandwidth: float | None = None,
    log: bool = False,
) -> Axes:
    """Draw the Gaussian-smoothed spectral density of a stochastic Lanczos quadrature result.

    Args:
        density: result of ``GradientAnalyzer.spectral_density()``.
        ax: axes to draw on; a new figure when None.
        grid: eigenvalue positions, tensor of shape (g,); defaults to 500
            points spanning the nodes plus three bandwidths.
        bandwidth: kernel width, see :meth:`SpectralDensity.density`.
        log: logarithmic density axis, as usual for Hessian spectra, whose
            mass piles up near zero.

    Returns:
        The Axes drawn on.
    """
    ax = get_axes(ax)
    nodes = _finite_array("density nodes", density.nodes)
    if grid is None:
        spread = float(nodes.max() - nodes.min()) or 1.0
        width = bandwidth if bandwidth is not None else 0.01 * spread
        grid = torch.linspace(float(nodes.min()) - 3 * width, float(nodes.max()) + 3 * width, 500, dtype=torch.float64)
    values = _finite_array("density", density.density(grid, bandwidth))
    ax.plot(np.asarray(grid), values, color=_POSITIVE_COLOR)
    if log:
        floor = values.max() * 1e-12 if values.max() > 0 else 1e-300
        ax.set_yscale("log")
        ax.set_ylim(bottom=floor)
    ax.set_xlabel("λ")
    ax.set_ylabel("density")
    ax.set_title(f"Spectral density (SLQ: {density.n_vectors} probes × {density.n_steps} steps)")
    return ax


def plot_eigenvector_neurons(spectrum: Spectrum, ax: Axes | None = None, *, max_vectors: int = 10) -> Axes:
    """Draw how each eigenvector spreads over the hidden neurons, as a heat map.

    Row r shows ‖v_r restricted to (w_j, b_j, a_j)‖ for every neuron j, so
    a bright cell marks a neuron that the eigen-direction moves.

    Args:
        spectrum: a spectrum computed with ``return_eigenvectors=True``.
        ax: axes to draw on; a new figure when None.
        max_vectors: draw at most this many eigenvectors (the first ones).

    Returns:
        The Axes drawn on.
    """
    max_vectors = check_int("max_vectors", max_vectors, minimum=1)
    ax = get_axes(ax)
    norms = _finite_array("eigenvector norms", spectrum.eigenvector_neuron_norms()[:max_vectors])
    image = ax.imshow(norms, aspect="auto", cmap="magma", interpolation="nearest")
    eigenvalues = spectrum.eigenvalues[: norms.shape[0]].cpu().numpy()
    ax.set_yticks(np.arange(norms.shape[0]), [f"λ={value:.2e}" for value in eigenvalues])
    ax.set_xlabel("hidden neuron j")
    ax.set_title("Eigenvector weight per neuron")
    ax.figure.colorbar(image, ax=ax, label="‖v restricted to neuron j‖")
    return ax


def plot_critical_point(report: CriticalPointReport, ax: Axes | None = None) -> Axes:
    """Draw the eigenvalues behind a critical-point label, with the zero band ±eigenvalue_tol.

    Eigenvalues are those left after removing the rescaling directions, on a
    symmetric log scale so that both signs and the zero band are visible.

    Returns:
        The Axes drawn on.
    """
    ax = get_axes(ax)
    values = _finite_array("eigenvalues", report.eigenvalues)
    ranks = np.arange(values.size)
    colors = np.where(values > report.eigenvalue_tol, _POSITIVE_COLOR, np.where(values < -report.eigenvalue_tol, _NEGATIVE_COLOR, "gray"))
    ax.scatter(ranks, values, c=list(colors), s=10)
    tol = report.eigenvalue_tol
    ax.axhspan(-tol, tol, color="gray", alpha=0.2, label=f"|λ| <= {tol:.1e} (zero)")
    ax.set_yscale("symlog", linthresh=max(tol, 1e-300))
    ax.set_xlabel("rank (0 = largest)")
    ax.set_ylabel("λ")
    title = f"{report.label}: {report.n_negative} negative, {report.n_zero} zero, {report.n_positive} positive"
    if not report.second_order_valid:
        title += " (kink: not valid)"
    ax.set_title(title)
    ax.legend(loc="best")
    return ax
