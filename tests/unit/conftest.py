"""Fixtures for the unit tests: the analysis of the synthetic ramp (`ramp_run`, in
tests/conftest.py) and a private copy of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from authsurge.analysis import RunAnalysis, analyze_run
from tests.support.synth import SynthRun


@pytest.fixture(scope="session")
def ramp_analysis(ramp_run: SynthRun) -> RunAnalysis:
    return analyze_run(ramp_run.path)


@pytest.fixture()
def run_copy(ramp_run: SynthRun, tmp_path: Path) -> Path:
    """A private copy of the ramp run, for tests that damage it."""
    import shutil

    dest = tmp_path / "run"
    shutil.copytree(ramp_run.path, dest)
    return dest
