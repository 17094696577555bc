"""The report's sections, in display order. Add a section by appending its SECTION here."""

from reluscape.report.sections import curvature, data, overparam, regions, training

SECTIONS = [
    data.SECTION,
    training.SECTION,
    curvature.SECTION,
    regions.SECTION,
    overparam.SECTION,
]

__all__ = ["SECTIONS"]
