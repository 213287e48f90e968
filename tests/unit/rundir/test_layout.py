"""What a run's derived files (analysis.json, plots/, digest/) are computed from."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from authsurge.rundir import newest_raw_input


@pytest.mark.parametrize("name", ["meta.json", "resources.parquet", "metrics.parquet", "requests/w.parquet"])
def test_a_raw_input_written_later_makes_the_derived_files_stale(tmp_path: Path, name: str) -> None:
    (tmp_path / "requests").mkdir()
    (tmp_path / "meta.json").write_text("{}")
    os.utime(tmp_path / "meta.json", (1000, 1000))
    before = newest_raw_input(tmp_path)
    (tmp_path / name).write_bytes(b"x")
    os.utime(tmp_path / name, (5000, 5000))
    assert newest_raw_input(tmp_path) == 5000 > before


def test_a_derived_file_is_not_a_raw_input(tmp_path: Path) -> None:
    (tmp_path / "meta.json").write_text("{}")
    os.utime(tmp_path / "meta.json", (1000, 1000))
    (tmp_path / "analysis.json").write_text("{}")
    assert newest_raw_input(tmp_path) == 1000
