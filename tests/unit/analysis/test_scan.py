"""WORK IN PROGRESS (issue 15): DuckDB's window table equals windows.window_table on the
golden runs (every column: counts exact, floats within 1e-9 relative)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from authsurge.analysis.rundir_reader import ANALYSIS_COLUMNS, load_run
from authsurge.analysis.scan import scan_windows
from authsurge.analysis.windows import build_index, window_table
from tests.support.goldens import GOLDENS, REAL, SYNTHETIC, write_synthetic


def same_tables(run_dir: Path) -> list[str]:
    data = load_run(run_dir, columns=ANALYSIS_COLUMNS)
    ended = data.meta.get("ended_at")
    index = build_index(data.requests, data.started_at, data.config.window_s, ended, [])
    expected = window_table(index)
    scanned, actual = scan_windows(run_dir, data.started_at, data.config.window_s, ended)
    problems = []
    if scanned.series_names != index.series_names or scanned.n_windows != index.n_windows:
        problems.append(f"series {scanned.series_names} vs {index.series_names}")
    if list(actual.columns) != list(expected.columns):
        return [*problems, f"columns {list(actual.columns)} vs {list(expected.columns)}"]
    for column in expected.columns:
        a, e = actual[column], expected[column]
        if e.dtype.kind == "f":
            av, ev = a.to_numpy(float), e.to_numpy(float)
            bad = ~((np.isnan(av) & np.isnan(ev)) | np.isclose(av, ev, rtol=1e-9, atol=0))
        else:
            bad = a.astype(str).to_numpy() != e.astype(str).to_numpy()
        if bad.any():
            problems.append(f"{column}: {int(bad.sum())} rows differ")
    return problems


@pytest.mark.parametrize("name", REAL)
def test_duckdb_window_table_equals_the_pandas_one_on_a_stored_real_run(name: str) -> None:
    assert same_tables(GOLDENS / name / "run") == []


def test_duckdb_window_table_equals_the_pandas_one_on_the_million_record_run(tmp_path: Path) -> None:
    assert same_tables(write_synthetic(tmp_path / SYNTHETIC).path) == []
