"""Figures. Each function takes computed results and ``ax=None`` and returns the Axes.

matplotlib is imported only inside this package, so the numerical core runs headless.
"""

from reluscape.plotting.dynamics import (
    plot_balancedness_drift,
    plot_gradient_trajectory,
    plot_optimizer_comparison,
    plot_sharpness,
    plot_weight_norms,
)
from reluscape.plotting.training import plot_data, plot_decision_boundary, plot_loss_curve

__all__ = [
    "plot_balancedness_drift",
    "plot_data",
    "plot_decision_boundary",
    "plot_gradient_trajectory",
    "plot_loss_curve",
    "plot_optimizer_comparison",
    "plot_sharpness",
    "plot_weight_norms",
]
