"""The pieces a report section is made of.

A section is one :class:`ReportSection`: a name, a title and one ``build``
function that fills a :class:`SectionContent` with paragraphs, figures,
tables, notes and metrics, in the order they should appear. The renderer
turns that content into one HTML block, saves the figures as PNG files and
the tables as CSV files, and puts the metrics into ``metrics.json`` under the
section's name. A section that needs to watch training names its callbacks in
``callbacks``; they are attached to the main training run and handed back in
``ReportContext.callbacks``.

To add a section, write one module in ``reluscape/report/sections/`` that
defines ``SECTION = ReportSection(...)`` and add it to the list in
``reluscape/report/sections/__init__.py``.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from reluscape.data.dataset import Dataset
from reluscape.experiments.shallow_trainer import Callback, ShallowReLUTrainer
from reluscape.experiments.training_history import TrainingHistory
from reluscape.models.shallow_relu import ShallowParams, ShallowReLU
from reluscape.report.config import RunConfig

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["ReportContext", "ReportSection", "SectionContent"]

FIGURES_DIR = "figures"
DATA_DIR = "data"


@dataclass
class ReportContext:
    """Everything a section may read: the run's settings, data, trained model and records.

    Sections must treat the model, the data and the history as read-only.

    Attributes:
        config: the run's settings.
        dataset: the data the model was trained on.
        model: the trained model.
        initial_params: the parameters before training, a detached copy.
        trainer: the trainer that ran.
        history: the per-epoch history of the run.
        callbacks: the sections' training callbacks, by the names they chose.
        out_dir: the report folder.
    """

    config: RunConfig
    dataset: Dataset
    model: ShallowReLU
    initial_params: ShallowParams
    trainer: ShallowReLUTrainer
    history: TrainingHistory
    callbacks: dict[str, Callback]
    out_dir: Path

    @property
    def quick(self) -> bool:
        """True for a `--quick` run: sections should keep their work to a few seconds."""
        return self.config.quick

    @property
    def seed(self) -> int:
        return self.config.seed

    @property
    def diverged(self) -> bool:
        """True when training diverged; sections should then explain instead of drawing NaN."""
        return self.history.diverged


@dataclass(frozen=True)
class ReportSection:
    """One section of the report.

    Attributes:
        name: identifier used for anchors, file names and the ``metrics.json`` key.
        title: heading shown in the report.
        build: fills the content; called as ``build(ctx, content)``.
        callbacks: optional factory called with the run's config before
            training; returns named callbacks to attach to the main run.
    """

    name: str
    title: str
    build: Callable[[ReportContext, SectionContent], None]
    callbacks: Callable[[RunConfig], dict[str, Callback]] | None = None


@dataclass
class SectionContent:
    """The blocks of one section, in display order, plus its metrics.

    Each block is a ``(kind, payload)`` pair; kinds are ``paragraph``,
    ``note``, ``figure``, ``table`` and ``html``.
    """

    name: str
    out_dir: Path
    blocks: list[tuple[str, Any]] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    def paragraph(self, text: str) -> None:
        """Add a paragraph of plain text (HTML is escaped)."""
        self.blocks.append(("paragraph", text))

    def note(self, text: str) -> None:
        """Add a highlighted caveat, e.g. a diverged run or a skipped analysis."""
        self.blocks.append(("note", text))

    def html(self, markup: str) -> None:
        """Add trusted HTML markup as it is (for the section's own template block)."""
        self.blocks.append(("html", markup))

    def figure(self, figure: Figure, filename: str, caption: str) -> str:
        """Save a matplotlib figure as PNG, close it, and show it with a caption.

        Returns:
            The PNG's path relative to the report folder.
        """
        import matplotlib.pyplot as plt

        relative, path = self._new_file(FIGURES_DIR, filename, ".png")
        figure.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(figure)
        self.blocks.append(("figure", (relative, caption)))
        return relative

    def table(self, frame: pd.DataFrame, filename: str, caption: str, *, max_rows: int = 30) -> str:
        """Save a table as CSV and show its first ``max_rows`` rows.

        Non-finite numbers are shown as they are ("nan", "inf"), never dropped.

        Returns:
            The CSV's path relative to the report folder.
        """
        relative, path = self._new_file(DATA_DIR, filename, ".csv")
        frame.to_csv(path, index=False)
        self.blocks.append(("table", (frame, relative, caption, max_rows)))
        return relative

    def data_file(self, filename: str, payload: Any) -> str:
        """Write a JSON data file next to the report (non-finite floats become null)."""
        relative, path = self._new_file(DATA_DIR, filename, ".json")
        path.write_text(json.dumps(to_json_ready(payload), indent=2))
        return relative

    def _new_file(self, folder: str, filename: str, suffix: str) -> tuple[str, Path]:
        """Return the relative and absolute path of a new file of this section, creating its folder."""
        relative = f"{folder}/{self.name}_{filename}"
        if not relative.endswith(suffix):
            relative += suffix
        path = self.out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        self.files.append(relative)
        return relative, path

    def render(self, title: str) -> str:
        """Return the section's HTML block."""
        parts = [f'<section id="{html.escape(self.name)}">', f"<h2>{html.escape(title)}</h2>"]
        for kind, payload in self.blocks:
            if kind == "paragraph":
                parts.append(f"<p>{html.escape(payload)}</p>")
            elif kind == "note":
                parts.append(f'<p class="note">{html.escape(payload)}</p>')
            elif kind == "html":
                parts.append(payload)
            elif kind == "figure":
                relative, caption = payload
                parts.append(
                    f'<figure><a href="{html.escape(relative)}"><img src="{html.escape(relative)}" '
                    f'alt="{html.escape(caption)}"></a><figcaption>{html.escape(caption)}</figcaption></figure>'
                )
            elif kind == "table":
                frame, relative, caption, max_rows = payload
                shown = frame.head(max_rows)
                more = f" (first {max_rows} of {len(frame)} rows)" if len(frame) > max_rows else ""
                table_html = shown.to_html(index=False, float_format=_format_number, na_rep="nan", border=0)
                parts.append(
                    f'<div class="table"><p class="caption">{html.escape(caption)}{more} — '
                    f'<a href="{html.escape(relative)}">CSV</a></p>{table_html}</div>'
                )
        parts.append("</section>")
        return "\n".join(parts)


def _format_number(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    return f"{value:.4g}"


def to_json_ready(value: Any) -> Any:
    """Convert tensors, arrays and non-finite floats into JSON-ready values (nan/inf become null)."""
    import numpy as np
    import torch

    if isinstance(value, dict):
        return {str(key): to_json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json_ready(item) for item in value]
    if isinstance(value, torch.Tensor):
        return to_json_ready(value.detach().cpu().tolist())
    if isinstance(value, np.ndarray):
        return to_json_ready(value.tolist())
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value
