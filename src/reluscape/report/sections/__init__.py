"""The report's sections, in display order. Add a section by appending its SECTION here."""

from reluscape.report.sections import data, overparam, training

SECTIONS = [
    data.SECTION,
    training.SECTION,
    overparam.SECTION,
]

__all__ = ["SECTIONS"]
