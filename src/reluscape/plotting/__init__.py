"""Figures. Each function takes computed results and ``ax=None`` and returns the Axes.

matplotlib is imported only inside this package, so the numerical core runs headless.
"""

from reluscape.plotting.overparam import plot_overparam_loss_curves, plot_overparam_metric
from reluscape.plotting.training import plot_data, plot_decision_boundary, plot_loss_curve

__all__ = ["plot_data", "plot_decision_boundary", "plot_loss_curve", "plot_overparam_loss_curves", "plot_overparam_metric"]
