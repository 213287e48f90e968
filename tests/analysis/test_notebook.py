"""The capacity walkthrough notebook executes against a synthetic run directory."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from .synth import SynthRun

NOTEBOOK = Path(__file__).resolve().parents[2] / "analysis" / "capacity_walkthrough.ipynb"


def test_notebook_is_stored_without_outputs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)
    assert NOTEBOOK.stat().st_size < 50_000


def test_notebook_executes(ramp_run: SynthRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTHSURGE_RUN_DIR", str(ramp_run.path))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "login.submit saturates first" in text
    assert "goodput-rule crossing by hand" in text  # the knee is redone by hand and agrees
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 3
