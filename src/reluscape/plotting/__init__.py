"""Figures. Each function takes computed results and ``ax=None`` and returns the Axes.

matplotlib is imported only inside this package, so the numerical core runs headless.
"""

from reluscape.plotting.curvature import (
    plot_critical_point,
    plot_eigenvector_neurons,
    plot_gradient_norms,
    plot_hessian_spectrum,
    plot_spectral_density,
)
from reluscape.plotting.dynamics import (
    plot_balancedness_drift,
    plot_gradient_trajectory,
    plot_optimizer_comparison,
    plot_sharpness,
    plot_weight_norms,
)
from reluscape.plotting.overparam import plot_overparam_loss_curves, plot_overparam_metric
from reluscape.plotting.regions import color_regions, plot_activation_regions, plot_region_count
from reluscape.plotting.surfaces import plot_loss_contour, plot_loss_line, plot_loss_surface_3d, plot_trajectory
from reluscape.plotting.training import plot_data, plot_decision_boundary, plot_loss_curve

__all__ = [
    "color_regions",
    "plot_activation_regions",
    "plot_balancedness_drift",
    "plot_critical_point",
    "plot_data",
    "plot_decision_boundary",
    "plot_eigenvector_neurons",
    "plot_gradient_norms",
    "plot_gradient_trajectory",
    "plot_hessian_spectrum",
    "plot_loss_contour",
    "plot_loss_curve",
    "plot_loss_line",
    "plot_loss_surface_3d",
    "plot_optimizer_comparison",
    "plot_overparam_loss_curves",
    "plot_overparam_metric",
    "plot_region_count",
    "plot_sharpness",
    "plot_spectral_density",
    "plot_trajectory",
    "plot_weight_norms",
]
