"""The report's sections, in display order. Add a section by appending its SECTION here."""

from reluscape.report.sections import data, dynamics, training

SECTIONS = [
    data.SECTION,
    training.SECTION,
    dynamics.SECTION,
]

__all__ = ["SECTIONS"]
