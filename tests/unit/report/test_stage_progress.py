"""The progress line of long analyses: one redrawn line on a terminal, nothing otherwise."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from authsurge.cli import main
from authsurge.errors import ExitStatus
from authsurge.report.stage_progress import StageProgress
from tests.support.planted import planted_run


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_redraws_one_line_on_a_terminal_and_clears_it() -> None:
    stream = Terminal()
    with StageProgress("analyze runs/x", stream) as progress:
        progress("load")
        progress("curves")
    text = stream.getvalue()
    assert text.count("\r\x1b[2K") == 3  # two stages and the final clear
    assert "[analyze runs/x] load ... " in text and "[analyze runs/x] curves ... " in text
    assert "\n" not in text
    assert text.endswith("\r\x1b[2K")


def test_silent_when_not_a_terminal() -> None:
    stream = io.StringIO()
    with StageProgress("analyze", stream) as progress:
        progress("load")
    assert stream.getvalue() == ""


def test_analyze_passes_every_stage_to_the_progress_line(
        tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    run = tmp_path / "run"
    shutil.copytree(planted_run("base", tmp_path_factory).path, run)
    stream = Terminal()
    monkeypatch.setattr("sys.stderr", stream)
    assert main(["analyze", str(run), "--no-plots"]) == ExitStatus.SUCCESS
    shown = stream.getvalue()
    for stage in ("load", "windows", "curves", "knees", "verdict"):
        assert f"] {stage} ... " in shown
    assert "saturates first" in capsys.readouterr().out  # the summary still prints on stdout
