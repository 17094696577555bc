"""The report folder of `reluscape run`: settings, sections and the HTML page."""

from reluscape.report.builder import ReportResult, build_dataset, run_report
from reluscape.report.config import RunConfig, load_config_file
from reluscape.report.section import ReportContext, ReportSection, SectionContent

__all__ = [
    "ReportContext",
    "ReportResult",
    "ReportSection",
    "RunConfig",
    "SectionContent",
    "build_dataset",
    "load_config_file",
    "run_report",
]
