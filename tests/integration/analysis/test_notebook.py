"""The capacity walkthrough notebook executes against a synthetic run directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat

from tests.support.synth import SynthRun

NOTEBOOK = Path(__file__).resolve().parents[3] / "analysis" / "capacity_walkthrough.ipynb"


EXECUTE = """
import sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": sys.argv[2]}}).execute()
nbformat.write(nb, sys.argv[3])
"""


def test_notebook_executes(ramp_run: SynthRun, tmp_path: Path) -> None:
    # In a fresh interpreter: once a runner test has imported locust, gevent has patched
    # this process's subprocess and sockets, and the kernel launcher breaks under it.
    env = {**os.environ, "AUTHSURGE_RUN_DIR": str(ramp_run.path), "MPLBACKEND": "Agg"}
    executed = tmp_path / "executed.ipynb"
    proc = subprocess.run([sys.executable, "-c", EXECUTE, str(NOTEBOOK), str(tmp_path), str(executed)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    nb = nbformat.read(executed, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "login.submit saturates first" in text
    assert "goodput-rule crossing by hand" in text  # the knee is redone by hand and agrees
    assert "cost model redone by hand: matches the library" in text  # and so is the cost fit
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 3
