"""Assemble main_analysis.ipynb from the percent-format sources in sections/.

Each file in sections/ (taken in name order) contains cells separated by lines
starting with ``# %%``. A ``# %% [markdown]`` cell's lines drop their leading
``# `` and become Markdown. The notebook is written without outputs.

Run ``python notebooks/build_notebook.py`` after editing a section; the test
suite checks that the notebook matches its sources. ``--check`` only compares.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
SECTIONS = HERE / "sections"
NOTEBOOK = HERE / "main_analysis.ipynb"


def _cells_of(source: str) -> list[nbformat.NotebookNode]:
    cells = []
    kind, lines = None, []

    def flush() -> None:
        text = "\n".join(lines).strip("\n")
        if kind is None or not text:
            return
        if kind == "markdown":
            text = "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#") for line in text.splitlines())
            cells.append(nbformat.v4.new_markdown_cell(text))
        else:
            cells.append(nbformat.v4.new_code_cell(text))

    for line in source.splitlines():
        if line.startswith("# %%"):
            flush()
            kind = "markdown" if "[markdown]" in line else "code"
            lines = []
        elif kind is not None:
            lines.append(line)
    flush()
    return cells


def build() -> nbformat.NotebookNode:
    """Return the notebook assembled from every section file."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    notebook.metadata["language_info"] = {"name": "python"}
    for path in sorted(SECTIONS.glob("*.py")):
        notebook.cells.extend(_cells_of(path.read_text()))
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{index:03d}"  # stable ids keep rebuilds identical
    return notebook


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the notebook differs from its sources")
    args = parser.parse_args()
    text = nbformat.writes(build())
    if args.check:
        current = NOTEBOOK.read_text() if NOTEBOOK.exists() else ""
        if current != text:
            print(f"{NOTEBOOK.name} is out of date; run python notebooks/build_notebook.py", file=sys.stderr)
            return 1
        return 0
    NOTEBOOK.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
