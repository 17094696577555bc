"""The results file of a resumable width sweep (CSV or Parquet).

Each row of the file is one finished (width, seed) run plus one
``setting_<name>`` column per setting that decides its result. A rerun reads
the file, checks that every setting matches, and skips the runs it finds.
Training curves go to a sibling file ``<stem>.curves<suffix>``.

The files are rewritten whole through a temporary file and ``os.replace``
after every finished group, so an interruption leaves either the old or the
new complete file, never a half-written row.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

__all__ = ["SETTING_PREFIX", "SUFFIXES", "SweepStore"]

SUFFIXES = (".csv", ".parquet")
SETTING_PREFIX = "setting_"


class SweepStore:
    """Read, check and extend the results file of one sweep configuration.

    Args:
        path: file ending in ``.csv`` or ``.parquet``.
        settings: the sweep's settings as strings, keyed by setting name.

    Raises:
        ValueError: if the suffix is not ``.csv`` or ``.parquet``.
    """

    def __init__(self, path: str | Path, settings: dict[str, str]) -> None:
        path = Path(path)
        if path.suffix.lower() not in SUFFIXES:
            raise ValueError(f"results_path must end in .csv or .parquet; got {str(path)!r}.")
        self.path = path
        self.curves_path = path.with_name(f"{path.stem}.curves{path.suffix}")
        self.settings = dict(settings)
        self.rows = pd.DataFrame()
        self.curves = pd.DataFrame()

    def _read(self, path: Path) -> pd.DataFrame:
        if path.suffix.lower() != ".csv":
            return pd.read_parquet(path)
        # Setting values are compared as the strings that were written, so they
        # are read as strings, and only empty fields (NaN) count as missing:
        # the setting value "None" must stay the string "None".
        header = pd.read_csv(path, nrows=0).columns
        setting_types = {column: str for column in header if column.startswith(SETTING_PREFIX)}
        return pd.read_csv(path, dtype=setting_types, keep_default_na=False, na_values=[""])

    def _write(self, frame: pd.DataFrame, path: Path) -> None:
        temporary = path.with_name(f".{path.name}.tmp")
        if path.suffix.lower() == ".csv":
            frame.to_csv(temporary, index=False)
        else:
            frame.to_parquet(temporary, index=False)
        os.replace(temporary, path)

    def load(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Read the finished runs, after checking that they were made with these settings.

        Returns:
            The rows without their setting columns, and the curves. Both are
            empty when the file does not exist yet.

        Raises:
            ValueError: if the file lacks the setting columns or a setting differs.
        """
        if not self.path.exists():
            return pd.DataFrame(), pd.DataFrame()
        rows = self._read(self.path)
        if rows.empty:
            return pd.DataFrame(), pd.DataFrame()
        for name, expected in self.settings.items():
            column = SETTING_PREFIX + name
            if column not in rows.columns:
                raise ValueError(
                    f"results_path {str(self.path)!r} has no column {column!r}, so it was not written by this "
                    "version of OverparamExperiment. Use another results_path or delete the file."
                )
            found = sorted({str(value) for value in rows[column].tolist()})
            if found != [expected]:
                file_value = found[0] if len(found) == 1 else found
                raise ValueError(
                    f"results_path {str(self.path)!r} contains runs made with a different setting: {name} is "
                    f"{file_value} in the file and {expected} in this experiment. Use another results_path or "
                    "delete the file to start over."
                )
        curves = self._read(self.curves_path) if self.curves_path.exists() else pd.DataFrame()
        setting_columns = [column for column in rows.columns if column.startswith(SETTING_PREFIX)]
        self.rows = rows
        self.curves = curves
        return rows.drop(columns=setting_columns), curves

    def append(self, rows: pd.DataFrame, curves: pd.DataFrame) -> None:
        """Add finished runs and their curves, then rewrite both files."""
        rows = rows.copy()
        for name, value in self.settings.items():
            rows[SETTING_PREFIX + name] = value
        # A run trained again (a width completed for a pairwise metric) replaces its old row and curve.
        if len(self.rows):
            self.rows = self.rows.loc[~_keys_in(self.rows, rows)]
        if len(self.curves):
            self.curves = self.curves.loc[~_keys_in(self.curves, rows)]
        self.curves = pd.concat([self.curves, curves], ignore_index=True) if len(self.curves) else curves.copy()
        self.rows = pd.concat([self.rows, rows], ignore_index=True) if len(self.rows) else rows
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Curves first: the rows mark a run as finished, so they are written last.
        self._write(self.curves, self.curves_path)
        self._write(self.rows, self.path)


def _keys_in(frame: pd.DataFrame, rows: pd.DataFrame) -> pd.Series:
    """Return which rows of ``frame`` have a (width, seed) that appears in ``rows``."""
    keys = set(zip(rows["width"].astype(int), rows["seed"].astype(int)))
    return pd.Series([(int(w), int(s)) in keys for w, s in zip(frame["width"], frame["seed"])], index=frame.index)
