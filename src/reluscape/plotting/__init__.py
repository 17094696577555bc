"""Figures. Each function takes computed results and ``ax=None`` and returns the Axes.

matplotlib is imported only inside this package, so the numerical core runs headless.
"""

from reluscape.plotting.surfaces import plot_loss_contour, plot_loss_line, plot_loss_surface_3d, plot_trajectory
from reluscape.plotting.training import plot_data, plot_decision_boundary, plot_loss_curve

__all__ = [
    "plot_data",
    "plot_decision_boundary",
    "plot_loss_contour",
    "plot_loss_curve",
    "plot_loss_line",
    "plot_loss_surface_3d",
    "plot_trajectory",
]
