"""The capacity walkthrough notebook is stored without outputs (it executes in
tests/integration/analysis/test_notebook.py)."""

from __future__ import annotations

from pathlib import Path

import nbformat

NOTEBOOK = Path(__file__).resolve().parents[3] / "analysis" / "capacity_walkthrough.ipynb"


def test_notebook_is_stored_without_outputs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)
    assert NOTEBOOK.stat().st_size < 50_000
