"""The report's sections, in display order. Add a section by appending its SECTION here."""

from reluscape.report.sections import curvature, data, dynamics, training

SECTIONS = [
    data.SECTION,
    training.SECTION,
    curvature.SECTION,
    dynamics.SECTION,
]

__all__ = ["SECTIONS"]
