"""The leadership summary as a one-page PDF, printed by headless Chromium, also through
`authsurge report --summary` (its sentences: tests/unit/report/test_summary.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from authsurge.cli import main
from authsurge.errors import ExitStatus
from authsurge.report.summary import write_summary


def test_pdf_in_chromium(chromium: str, report_run: Path, tmp_path: Path) -> None:
    files = write_summary(report_run, tmp_path)
    assert files.pdf is not None, files.pdf_note
    data = files.pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page[^s]", data)) == 1  # one page


def test_report_summary_cli(report_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(report_run), "--summary", "-o", str(tmp_path)]) == ExitStatus.SUCCESS
    out = capsys.readouterr().out
    assert f"summary: {tmp_path / 'summary.md'}" in out
    assert "It breaks first at" in out
