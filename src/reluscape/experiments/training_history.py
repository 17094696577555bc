"""TrainingHistory: the per-epoch record of one training run."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["TrainingHistory"]


@dataclass
class TrainingHistory:
    """Per-epoch metrics of a training run, starting with epoch 0 (the initial weights).

    Attributes:
        task: the data set's task; decides whether scores are accuracy or R².
        score_name: ``"accuracy"`` or ``"r2"``.
        records: one dict per evaluated epoch with a finite training loss.
            Keys are ``epoch``, ``step``, ``train_loss``, ``test_loss``,
            ``train_<score>``, ``test_<score>`` and ``wall_time``. The wall
            time (seconds since training began) is the one entry that
            differs between otherwise identical runs.
        diverged: True when a non-finite loss stopped training.
        message: why training stopped early, or an empty string.
        settings: the trainer's resolved settings.
    """

    task: str
    score_name: str
    records: list[dict[str, float]] = field(default_factory=list)
    diverged: bool = False
    message: str = ""
    settings: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.records)

    def column(self, name: str) -> list[float]:
        """Return one metric for every recorded epoch."""
        if self.records and name not in self.records[0]:
            raise KeyError(f"column {name!r} not in the history; columns are {list(self.records[0])}.")
        return [record[name] for record in self.records]

    @property
    def epochs(self) -> list[int]:
        return [int(epoch) for epoch in self.column("epoch")]

    @property
    def train_loss(self) -> list[float]:
        return self.column("train_loss")

    @property
    def test_loss(self) -> list[float]:
        return self.column("test_loss")

    @property
    def final(self) -> dict[str, float]:
        """Metrics of the last recorded epoch."""
        if not self.records:
            raise ValueError("the history is empty; train first.")
        return dict(self.records[-1])

    def to_frame(self) -> pd.DataFrame:
        """Return the records as a DataFrame, one row per recorded epoch."""
        return pd.DataFrame.from_records(self.records)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def save(self, path: str | Path) -> Path:
        """Write the history as JSON (non-finite numbers as null). Returns the path."""
        path = Path(path)
        payload = self.to_dict()
        payload["records"] = [
            {key: (None if isinstance(value, float) and not math.isfinite(value) else value) for key, value in record.items()}
            for record in self.records
        ]
        path.write_text(json.dumps(payload, indent=2))
        return path

    @classmethod
    def load(cls, path: str | Path) -> TrainingHistory:
        """Read a history written by :meth:`save`."""
        payload = json.loads(Path(path).read_text())
        payload["records"] = [
            {key: (math.nan if value is None else value) for key, value in record.items()}
            for record in payload["records"]
        ]
        return cls(**payload)
