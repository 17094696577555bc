"""The report's sections, in display order. Add a section by appending its SECTION here."""

from reluscape.report.sections import curvature, data, dynamics, loss_surface, regions, training

SECTIONS = [
    data.SECTION,
    training.SECTION,
    loss_surface.SECTION,
    curvature.SECTION,
    regions.SECTION,
    dynamics.SECTION,
]

__all__ = ["SECTIONS"]
