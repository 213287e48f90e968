"""Fixtures for the analysis tests: synthetic run directories with planted capacities."""

from __future__ import annotations

from pathlib import Path

import pytest

from authsurge.analysis import RunAnalysis, analyze_run

from .synth import SynthRun, write_run


@pytest.fixture(scope="session")
def ramp_run(tmp_path_factory: pytest.TempPathFactory) -> SynthRun:
    """Step ramp 10..100 journeys/s; login.submit planted at 50/s, login.form at 80/s, api.call healthy."""
    return write_run(tmp_path_factory.mktemp("runs") / "ramp")


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
