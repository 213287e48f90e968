"""A RunAnalysis lets go of its engine when closed, and keeps what it computed."""

from __future__ import annotations

from pathlib import Path

from authsurge.analysis import analyze_run
from tests.support.synth import write_run


def test_a_closed_analysis_removes_its_spill_directory_and_keeps_its_results(tmp_path: Path) -> None:
    run = write_run(tmp_path / "small", levels=(5, 10), level_s=8)
    with analyze_run(run.path) as analysis:
        spill = Path(analysis.index.con.spill)
        assert spill.is_dir()
    assert not spill.exists()
    doc = analysis.to_json()
    assert doc["steps"] and doc["run"]["records"] == run.rows
