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


@pytest.fixture(scope="session")
def cost_runs(target, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN001, ANN201
    """Real runs of a varying mix at three hash costs (tests/analysis/real.py)."""
    from .real import cost_run, iterations_for

    tmp = tmp_path_factory.mktemp("cost-runs")
    counts = (1, iterations_for(25.0), iterations_for(50.0))
    return [cost_run(target.data_dir, tmp, n) for n in counts]


@pytest.fixture(scope="session")
def shared_pool(target, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN001, ANN201
    """A 1 x 1 target ramped to 3x its capacity with a 1-s client timeout, analysed."""
    from .real import shared_pool_run

    run_dir, estimate = shared_pool_run(target.data_dir, tmp_path_factory.mktemp("shared-pool"))
    return analyze_run(run_dir), estimate
