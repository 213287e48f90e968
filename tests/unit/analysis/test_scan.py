"""WORK IN PROGRESS (issue 15): every row-level query the analysis makes, answered by
DuckDB (authsurge.analysis.scan), equals today's pandas answer on the golden runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from authsurge.analysis.cost_inputs import completions
from authsurge.analysis.rundir_reader import ANALYSIS_COLUMNS, MAX_RUN_SPAN_S, load_run
from authsurge.analysis.scan import RecordScan, start_times
from authsurge.analysis.sections import _top_reasons, series_summaries
from authsurge.analysis.verdict import dropped_journeys, retry_amplification
from authsurge.analysis.windows import PERCENTILE_COLUMNS, build_index, window_table
from tests.support.goldens import GOLDENS, REAL, SYNTHETIC, write_synthetic


def close(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return bool(((np.isnan(a) & np.isnan(b)) | np.isclose(a, b, rtol=1e-9, atol=0)).all())


def differences(run_dir: Path) -> list[str]:
    data = load_run(run_dir, columns=ANALYSIS_COLUMNS)
    ended = data.meta.get("ended_at")
    index = build_index(data.requests, data.started_at, data.config.window_s, ended, [])
    scan = RecordScan(run_dir, data.started_at, data.config.window_s, ended)
    found: list[str] = []
    try:
        if (scan.index.series_names, scan.index.n_windows, scan.index.t0) != \
                (index.series_names, index.n_windows, index.t0):
            found.append(f"index {scan.index} vs {index.series_names}, {index.n_windows}")
        expected, actual = window_table(index), scan.windows
        if list(actual.columns) != list(expected.columns):
            return [*found, f"columns {list(actual.columns)} vs {list(expected.columns)}"]
        for column in expected.columns:
            e, a = expected[column], actual[column]
            same = close(a, e) if e.dtype.kind == "f" else bool((a.astype(str) == e.astype(str)).all())
            if not same:
                found.append(f"windows.{column}")
        summaries = series_summaries(data.requests, index)
        total, ok, _ = scan.series_totals()
        quantiles = scan.series_quantiles()
        for s, name in enumerate(index.series_names):
            if (summaries[name]["requests"], summaries[name]["ok"]) != (total[s], ok[s]):
                found.append(f"totals of {name}")
            if not close([summaries[name][c] for c in PERCENTILE_COLUMNS], quantiles[s]):
                found.append(f"percentiles of {name}")
        expected_reasons = _top_reasons(data.requests, index)
        if {s: expected_reasons.get(s, []) for s in range(index.n_series)} != scan.top_reasons():
            found.append("top reasons")
        retry, arrivals = retry_amplification(data.requests, index), scan.arrivals()
        if (retry["attempts"], retry["persons"]) != (arrivals["attempts"], arrivals["persons"]):
            found.append("attempts and persons")
        if dropped_journeys(index, data.meta)["by_journey"] != arrivals["dropped_by_journey"]:
            found.append("drops by journey")
        if len(data.requests) != scan.records():
            found.append("records")
        steps = [n for n, sc in zip(index.series_names, index.series_scopes, strict=True) if sc == "request"]
        done = completions(data.requests, index, steps)
        edges = np.linspace(index.t0, index.t0 + index.n_windows * index.window_s, 97)
        by_step, by_journey = scan.counts_up_to(edges)
        for name in steps:
            if not np.array_equal(np.searchsorted(done.times[name], edges, side="right"),
                                  by_step.get(name, np.zeros(len(edges)))):
                found.append(f"cost counts of {name}")
        for name, times in done.arrivals.items():
            if not np.array_equal(np.searchsorted(times, edges, side="right"),
                                  by_journey.get(name, np.zeros(len(edges)))):
                found.append(f"arrival counts of {name}")
        if done.journeys_of != scan.journeys_of_steps():
            found.append("journeys of steps")
        t = data.requests["t_start"].to_numpy(float)
        t = t[np.isfinite(t)]
        middle = float(np.median(t))
        if start_times(run_dir, MAX_RUN_SPAN_S) != (middle, float(t[np.abs(t - middle) <= MAX_RUN_SPAN_S].min())):
            found.append("start times")
    finally:
        scan.close()
    return found


@pytest.mark.parametrize("name", REAL)
def test_every_query_equals_the_pandas_answer_on_a_stored_real_run(name: str) -> None:
    assert differences(GOLDENS / name / "run") == []


def test_every_query_equals_the_pandas_answer_on_the_million_record_run(tmp_path: Path) -> None:
    assert differences(write_synthetic(tmp_path / SYNTHETIC).path) == []
