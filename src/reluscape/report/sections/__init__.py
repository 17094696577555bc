"""The report's sections, in display order. Add a section by appending its SECTION here."""

from reluscape.report.sections import data, training

SECTIONS = [
    data.SECTION,
    training.SECTION,
]

__all__ = ["SECTIONS"]
