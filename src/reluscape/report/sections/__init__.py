"""The report's sections, in display order. Add a section by appending its SECTION here."""

from reluscape.report.sections import data, loss_surface, training

SECTIONS = [
    data.SECTION,
    training.SECTION,
    loss_surface.SECTION,
]

__all__ = ["SECTIONS"]
