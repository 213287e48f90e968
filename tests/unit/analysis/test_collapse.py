"""Collapse: goodput far below its peak while the load stays up, and nothing else."""

from __future__ import annotations

from pathlib import Path

from authsurge.analysis import analyze_run
from tests.support.synth import Step, write_run


def test_a_ramp_back_down_is_no_collapse(tmp_path: Path) -> None:
    # goodput falls with the load after the peak level: the load did not stay up
    run = write_run(tmp_path / "down", levels=(20, 40, 60, 15, 5), level_s=12,
                    steps=(Step("login.submit", 500, 40),), drop_share_above=(1e9, 0.0))
    doc = analyze_run(run.path).to_json()
    assert doc["collapse"] is None
    assert not doc["steps"]["login.submit"]["collapse"]["collapsed"]
