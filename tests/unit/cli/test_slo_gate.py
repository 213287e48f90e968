"""`authsurge analyze` exits 1 when an SLO is breached, 0 when all hold or cannot be judged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from authsurge.cli import main
from authsurge.errors import ExitStatus
from tests.support.planted import copy_run


@pytest.mark.parametrize(("slos", "expected", "shown"), [
    (["api.call p95 < 5ms"], ExitStatus.GATE_FAILED, "FAILED api.call p95 < 5 ms"),
    (["login.submit error_rate < 1% at offered <= 100/s"], ExitStatus.GATE_FAILED,
     "FAILED login.submit error_rate < 1% at offered <= 100/s"),
    (["api.call p95 < 800ms", "* error_rate < 100%"], ExitStatus.SUCCESS, "SLOs: 2 of 2 met"),
    (["nosuch.step p95 < 5ms"], ExitStatus.SUCCESS, None),  # not judged is not a breach
])
def test_analyze_exit_status_follows_the_slos(slos: list[str], expected: ExitStatus, shown: str | None,
                                             tmp_path: Path, tmp_path_factory: pytest.TempPathFactory,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    run = copy_run("base", tmp_path_factory, tmp_path / "run", slos=slos)
    assert main(["analyze", str(run), "--no-plots"]) == expected
    captured = capsys.readouterr()
    out = captured.out
    if shown:
        assert shown in out
    else:
        assert "SLO not judged: nosuch.step p95 < 5 ms (no step matches" in captured.err
    doc = json.loads((run / "analysis.json").read_text())
    assert [s["passed"] is False for s in doc["slos"]].count(True) == (expected == ExitStatus.GATE_FAILED)
