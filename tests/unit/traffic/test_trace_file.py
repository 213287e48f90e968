"""Trace files: the shipped App-Store trace, replay with compression and scale, clear rejections."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from authsurge.errors import ScenarioError
from authsurge.scenario import TraceShape, load_scenario
from authsurge.traffic.shapes import curves_for, from_trace
from authsurge.traffic.trace_file import load_trace

ROOT = Path(__file__).resolve().parents[3]
TRACE = ROOT / "scenarios" / "traces" / "appstore_surge.csv"


def test_shipped_trace_has_a_surge_many_times_the_baseline_and_api_stays_lower():
    trace = load_trace(TRACE)
    logins = trace.columns["web_login"]
    api = trace.columns["api_session"]
    assert trace.t_s[-1] == 6 * 3600
    assert logins.max() / logins[0] >= 25  # "many times the baseline"
    assert api.max() / api[0] < logins.max() / logins[0] / 2  # the API surge is far milder
    assert np.allclose(trace.columns["app_login"], 0.6 * logins, rtol=1e-3)


def test_trace_file_regenerates_identically():
    import runpy

    mod = runpy.run_path(str(TRACE.parent / "make_appstore_surge.py"))
    cols = mod["make"]()
    assert np.allclose(cols["web_login"], load_trace(TRACE).columns["web_login"], atol=1e-4)


def test_replay_compression_keeps_the_number_of_arrivals_and_scale_multiplies_it(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("t_s,login\n0,1\n600,1\n1200,3\n")
    trace = load_trace(path)
    plain = from_trace(trace, "login", TraceShape(kind="trace", file=path, time_compression=1), 1.0)
    fast = from_trace(trace, "login", TraceShape(kind="trace", file=path, time_compression=60), 0.5)
    assert plain.duration == 1200 and fast.duration == 20
    assert fast.total() == pytest.approx(plain.total() * 0.5)
    assert fast.peak() == pytest.approx(3 * 60 * 0.5)


def test_appstore_scenario_replays_six_hours_in_six_minutes():
    scenario = load_scenario(ROOT / "scenarios" / "appstore_surge.yaml")
    curves = curves_for(scenario)
    assert set(curves) == {"web_login", "app_login", "api_session", "web_signup"}
    assert all(c.duration == pytest.approx(360) for c in curves.values())


@pytest.mark.parametrize("text,words", [
    ("", ["header"]),
    ("time,login\n0,1\n1,2\n", ["t_s"]),
    ("t_s,login\n0,1\n1,x\n", [":3:", "not a number"]),
    ("t_s,login\n0,1\n1,-2\n", [":3:", ">= 0"]),
    ("t_s,login\n0,1\n0,2\n", ["increase"]),
    ("t_s,login\n0,1\n1,2,3\n", [":3:", "expected 2 values"]),
    ("t_s,login,login\n0,1,1\n1,2,2\n", ["distinct"]),
])
def test_malformed_traces_are_rejected_with_file_and_line(tmp_path, text, words):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ScenarioError) as err:
        load_trace(path)
    assert str(path) in str(err.value)
    for word in words:
        assert word in str(err.value)


def test_missing_trace_file(tmp_path):
    with pytest.raises(ScenarioError, match="trace file not found"):
        load_trace(tmp_path / "none.csv")


def test_the_surge_is_mostly_new_people_at_its_peak_and_returning_ones_before():
    trace = load_trace(TRACE)
    logins, signups = trace.columns["web_login"], trace.columns["web_signup"]
    peak = int(np.argmax(logins))
    assert signups[peak] > logins[peak] and signups[0] < 0.5 * logins[0]
