"""The analysis notebook: in sync with its sources, and it runs from top to bottom."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "main_analysis.ipynb"


def test_notebook_matches_sources():
    result = subprocess.run(
        [sys.executable, str(ROOT / "notebooks" / "build_notebook.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_notebook_stored_without_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code_cells
    assert all(not cell.outputs for cell in code_cells)
    assert all(cell.execution_count is None for cell in code_cells)


@pytest.mark.slow
def test_notebook_executes_quick(tmp_path):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    first_code = next(cell for cell in notebook.cells if cell.cell_type == "code")
    assert "QUICK = False" in first_code.source
    first_code.source = first_code.source.replace("QUICK = False", "QUICK = True")
    client = NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "error"
    ]
    assert errors == []
