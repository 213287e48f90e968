"""Per-window metrics against brute-force pandas/numpy, and exact concurrency on known
intervals: records written as a shard and indexed by the engine, as analyze_run reads them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from authsurge.analysis.record_index import RecordIndex
from tests.support.records import frame, index_of, read_records
from tests.support.synth import T0


def table_of(df: pd.DataFrame, folder: Path, window_s: float = 1.0) -> pd.DataFrame:
    index = index_of(df, folder, T0, window_s)
    try:
        return index.windows
    finally:
        index.close()


def test_concurrency_is_the_exact_interval_overlap(tmp_path: Path) -> None:
    # one request in flight from 0.5 s to 2.5 s, another from 1.0 s to 1.25 s
    df = frame([{"step": "a", "t_start": T0 + 0.5, "latency_ms": 2000.0},
                {"step": "a", "t_start": T0 + 1.0, "latency_ms": 250.0}])
    table = table_of(df, tmp_path)
    assert table["concurrency"].tolist() == pytest.approx([0.5, 1.25, 0.5])
    # offered counts where it arrived, completions where it ended
    assert table["offered"].tolist() == [1, 1, 0]
    assert table["completed"].tolist() == [0, 1, 1]


def test_journey_rows_count_from_their_intended_start(tmp_path: Path) -> None:
    df = frame([
        {"kind": "journey", "step": "j", "t_intended": T0 + 0.9, "t_start": T0 + 1.2,
         "latency_ms": 1600.0},
        {"kind": "dropped", "step": "j", "t_intended": T0 + 0.2, "t_start": T0 + 0.2,
         "latency_ms": np.nan, "outcome": "dropped"},
        {"step": "login.submit", "t_start": T0 + 1.3, "latency_ms": 100.0},
    ])
    index = index_of(df, tmp_path, T0, 1.0)
    table = index.windows.set_index(["series", "window"])
    assert index.series_names == ["j", "login.submit"]  # in order of first arrival
    index.close()
    assert table.loc[("j", 0), "offered"] == 2  # intended at 0.9 and the drop at 0.2
    assert table.loc[("j", 2), "completed"] == 1  # 0.9 + 1.6 = 2.5
    assert table.loc[("j", 0), "arrivals_rps"] == 2.0
    assert table.loc[("j", 0), "err_dropped"] == 1
    # in flight from the actual start (1.2) to the end (2.5); a drop is never in flight
    assert table.loc[("j", 1), "concurrency"] == pytest.approx(0.8)
    assert table.loc[("j", 0), "concurrency"] == pytest.approx(0.0)


def test_a_journey_named_like_a_step_gets_its_own_series(tmp_path: Path) -> None:
    df = frame([{"step": "api.call", "t_start": T0, "latency_ms": 10.0},
                {"kind": "journey", "step": "api.call", "t_intended": T0, "t_start": T0,
                 "latency_ms": 10.0}])
    index = index_of(df, tmp_path, T0, 1.0)
    assert index.series_names == ["api.call", "journey:api.call"]
    index.close()


def test_window_table_matches_brute_force(ramp_run) -> None:
    from authsurge.analysis import load_run

    df = read_records(ramp_run.path)
    index = RecordIndex(load_run(ramp_run.path).records.files, T0, 1.0)
    table = index.windows.set_index(["series", "window"])
    index.close()
    req = df[df["kind"] == "request"]
    arrive_w = np.floor(req["t_start"] - T0).astype(int)
    end_w = np.floor(req["t_start"] + req["latency_ms"] / 1000 - T0).astype(int)
    offered = req.groupby([req["step"].astype(str), arrive_w]).size()
    ok = (req["outcome"] == "ok").groupby([req["step"].astype(str), end_w]).sum()
    for (step, w), n in offered.sample(200, random_state=1).items():
        assert table.loc[(step, w), "offered"] == n
    for (step, w), n in ok.sample(200, random_state=2).items():
        assert table.loc[(step, w), "ok"] == n
    groups = req.groupby([req["step"].astype(str), end_w])["latency_ms"]
    for (step, w), lat in list(groups)[::37]:
        values = lat.to_numpy()
        expected = np.percentile(values, [50, 90, 95, 99]).tolist() + [values.max()]
        got = table.loc[(step, w), ["p50", "p90", "p95", "p99", "max"]].to_numpy(dtype=float)
        assert got == pytest.approx(expected, abs=1e-4)  # latencies are resolved to 0.1 us


def test_latency_quantiles_leave_out_group_minus_one(tmp_path: Path) -> None:
    # four latencies end in window 0, a fifth (100 ms) in window 1, which is in no group
    df = frame([{"step": "a", "t_start": T0, "latency_ms": float(v)} for v in (1, 2, 3, 4)]
               + [{"step": "a", "t_start": T0 + 1.0, "latency_ms": 100.0}])
    index = index_of(df, tmp_path, T0, 1.0)
    counts, values = index.latency_quantiles(np.array([[0, -1]]), 2)
    index.close()
    assert counts.tolist() == [4, 0]
    assert values[0].tolist() == pytest.approx([2.5, 3.7, 3.85, 3.97, 4.0])
    assert np.isnan(values[1]).all()


def test_records_far_outside_the_run_are_left_out_with_a_warning(tmp_path: Path) -> None:
    df = frame([{"step": "a", "t_start": T0 + 0.5, "latency_ms": 10.0},
                {"step": "a", "t_start": 0.0, "latency_ms": 10.0},  # a clock at the epoch
                {"step": "a", "t_start": T0 + 1.0, "latency_ms": 1e12}])  # a garbage latency
    warnings: list[str] = []
    index = index_of(df, tmp_path, T0, 1.0, T0 + 10.0, warnings)
    assert index.n_windows == 1 and index.t0 == T0
    assert index.windows["offered"].sum() == 1  # only the first record is analysed
    index.close()
    assert warnings == ["2 records with timestamps or latencies far outside the run "
                        "(clock or recording errors) were left out"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 20), st.floats(0, 5000), st.sampled_from(["a", "b"]),
                          st.booleans()), min_size=1, max_size=60),
       st.sampled_from([0.5, 1.0, 2.5]))
def test_window_totals_conserve_records_and_busy_time(tmp_path_factory, records, window_s) -> None:  # noqa: ANN001
    df = frame([{"step": s, "t_start": T0 + t, "latency_ms": lat, "outcome": "ok" if ok else "http_5xx"}
                for t, lat, s, ok in records])
    table = table_of(df, tmp_path_factory.mktemp("records"), window_s)
    assert table["offered"].sum() == table["completed"].sum() == len(records)
    assert table["ok"].sum() == sum(ok for *_, ok in records)
    busy = sum(lat for _, lat, _, _ in records) / 1000.0
    assert table["concurrency"].sum() * window_s == pytest.approx(busy, rel=1e-9, abs=1e-6)
