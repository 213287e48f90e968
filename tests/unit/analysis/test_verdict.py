"""Surge verdict, retries, drops, SLOs and bottlenecks against brute force and planted values."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from authsurge.analysis import RunAnalysis, analyze_run
from authsurge.scenario import Slo
from tests.support.records import read_records
from tests.support.synth import Step, SynthRun, write_run


def test_headroom_against_the_planned_peak(ramp_analysis: RunAnalysis) -> None:
    verdict = ramp_analysis.verdict
    assert verdict["demand_basis"] == "schedule"
    assert verdict["peak_arrivals"] == 100.0
    submit = verdict["steps"]["login.submit"]
    # one login.submit per journey; two API calls per journey
    assert submit["requests_per_arrival"]["login_api"] == pytest.approx(1.0, abs=0.01)
    assert verdict["steps"]["api.call"]["requests_per_arrival"]["login_api"] == pytest.approx(2.0, abs=0.02)
    assert submit["peak_demand"] == pytest.approx(100.0, rel=0.01)
    assert submit["multiple_needed"] == pytest.approx(100.0 / 50.0, rel=0.05)
    assert submit["headroom"] == pytest.approx(1 / submit["multiple_needed"])
    assert verdict["status"] == "fails"
    # the target CPU is saturated at the knee and one journey type makes every request, so
    # the cost model cannot separate the steps: the cause is the step that dominates their
    # unloaded time, and the verdict is on the journey, whose knee the steps share
    cause = ramp_analysis.cause
    assert cause is not None and cause["step"] == "login.submit" and cause["apportioned"]
    assert cause["journey"] == "login_api" and cause["series"] == "login_api"
    assert verdict["limiting_step"] == "journey login_api"
    journey = verdict["steps"]["journey login_api"]
    assert journey["peak_demand"] == pytest.approx(100.0)
    assert journey["multiple_needed"] == pytest.approx(submit["multiple_needed"], rel=0.05)


def test_planned_peak_beyond_the_measured_range_is_unknown(tmp_path: Path) -> None:
    run = write_run(tmp_path / "calm", levels=(5, 10, 15, 20), level_s=8,
                    steps=(Step("login.submit", 500, 80),))
    schedule = pq.read_table(run.path / "schedule.parquet").to_pandas()
    schedule["planned_rate"] *= 3  # the plan peaks at 60/s; the run only went to 20/s
    schedule.to_parquet(run.path / "schedule.parquet")
    verdict = analyze_run(run.path).verdict
    assert verdict["status"] == "unknown"
    assert "beyond the measured range" in verdict["text"]


def test_retry_amplification_matches_brute_force(ramp_run: SynthRun, ramp_analysis: RunAnalysis) -> None:
    rows = read_records(ramp_run.path)
    arrivals = rows[rows["kind"].isin(["journey", "dropped"])]
    retry = ramp_analysis.retry
    assert retry["attempts"] == len(arrivals)
    assert retry["persons"] == arrivals["person_id"].nunique()
    assert retry["amplification"] == pytest.approx(len(arrivals) / arrivals["person_id"].nunique())
    assert retry["amplification"] > 1.05  # failed logins were retried
    peak = retry["peak_window"]
    in_peak = np.floor(arrivals["t_intended"] - ramp_analysis.index.t0).astype(int) == peak["window"]
    assert peak["attempts"] == in_peak.sum()
    assert peak["first_attempts"] == (in_peak & (arrivals["attempt"] == 1)).sum()


def test_retries_by_step_match_brute_force(ramp_run: SynthRun, ramp_analysis: RunAnalysis) -> None:
    rows = read_records(ramp_run.path)
    requests = rows[rows["kind"] == "request"]
    by_step = ramp_analysis.retry["by_step"]
    assert set(by_step) == set(requests["step"])
    index = ramp_analysis.index
    for step, mine in requests.groupby("step"):
        entry = by_step[step]
        first = mine["attempt"] <= 1
        assert (entry["requests"], entry["first_attempts"]) == (len(mine), first.sum())
        assert entry["retries"] == (~first).sum()
        window = np.floor((mine["t_start"] - index.t0) / index.window_s).astype(int)
        retried = np.bincount(window[~first], minlength=index.n_windows)
        peak = entry["peak_window"]
        assert peak["window"] == int(np.argmax(retried)) and retried.max() > 0
        assert peak["requests"] == (window == peak["window"]).sum()
        assert peak["first_attempts"] == ((window == peak["window"]) & first).sum()
    assert by_step["login.submit"]["retries"] > 0  # failed logins were retried


def test_dropped_journeys_are_counted(ramp_run: SynthRun, ramp_analysis: RunAnalysis) -> None:
    dropped = ramp_analysis.dropped
    assert dropped["count"] == ramp_run.meta["traffic"]["dropped_journeys"] > 0
    assert dropped["meta_dropped_journeys"] == dropped["count"]
    assert dropped["by_journey"] == {"login_api": dropped["count"]}
    assert 0 < dropped["share"] < 0.05


def test_slos_are_judged_on_the_raw_records(tmp_path: Path) -> None:
    slos = ["login.submit p95 < 800ms", "login.submit p95 < 800ms at offered <= 45/s",
            "* error_rate < 1%", "api.call p99 < 2s", "nope.step p50 < 1ms"]
    run = write_run(tmp_path / "slos", slos=[Slo.parse(s).model_dump(mode="json") for s in slos])
    analysis = analyze_run(run.path)
    results = {r["slo"]: r for r in analysis.slos}
    rows = read_records(run.path)
    submit = rows[(rows["kind"] == "request") & (rows["step"] == "login.submit")]

    whole = results["login.submit p95 < 800 ms"]
    assert whole["measured"] == pytest.approx(np.percentile(submit["latency_ms"], 95))
    assert whole["passed"] is (whole["measured"] <= 800)

    low = results["login.submit p95 < 800 ms at offered <= 45/s"]
    assert low["passed"] is True and low["measured"] < whole["measured"]

    errors = results["* error_rate < 1%"]
    assert errors["passed"] is False and errors["unit"] == "fraction"
    assert errors["worst_step"] == "login.submit"
    assert set(errors["per_step"]) == {"login.form", "login.submit", "api.call"}
    assert errors["measured"] == pytest.approx((submit["outcome"] != "ok").mean())
    assert errors["per_step"]["api.call"] == 0.0

    assert results["api.call p99 < 2000 ms"]["passed"] is True
    assert results["nope.step p50 < 1 ms"]["passed"] is None


def test_cpu_bound_knee(ramp_analysis: RunAnalysis) -> None:
    b = ramp_analysis.steps["login.submit"]["bottleneck"]
    assert b["kind"] == "cpu" and b["at"] == "knee"
    assert b["text"] == f"CPU-bound: {b['target_cpu_percent']:.0f}% of 2 cores"
    assert b["target_cpu_percent"] == pytest.approx(196, abs=3)
    assert b["cpu_percent_before_knee"] < b["target_cpu_percent"]
    cap = ramp_analysis.steps["login.submit"]["knee"]["capacity"]
    assert b["capacity_per_vcpu"] == pytest.approx(cap / 2)
    assert b["harness_warning"] is None
    api = ramp_analysis.steps["api.call"]["bottleneck"]
    assert api["at"] == "peak load" and api["text"].startswith("no knee; at this step's peak load")


def test_no_saturated_resource_and_memory_growth(tmp_path: Path) -> None:
    calm = analyze_run(write_run(tmp_path / "a", levels=(40, 60, 80), level_s=8,
                                 cpu_at_capacity=50.0).path)
    b = calm.steps["login.submit"]["bottleneck"]
    assert b["kind"] == "none" and b["text"].startswith("none visible: target CPU")
    leaky = analyze_run(write_run(tmp_path / "b", levels=(40, 60, 80), level_s=8,
                                  cpu_at_capacity=50.0, rss_growth_per_s=20e6).path)
    b = leaky.steps["login.submit"]["bottleneck"]
    assert b["kind"] == "memory" and b["rss_growth"] >= 1.5


def test_saturated_harness_is_flagged(run_copy: Path) -> None:
    frame = pq.read_table(run_copy / "resources.parquet").to_pandas()
    frame.loc[frame["source"] == "harness:worker-0", "loop_lag_ms"] = 250.0
    frame.to_parquet(run_copy / "resources.parquet")
    b = analyze_run(run_copy).steps["login.submit"]["bottleneck"]
    assert "loop lag 250 ms" in b["harness_warning"]


def test_single_step_run_without_journeys(tmp_path: Path) -> None:
    run = write_run(tmp_path / "one", levels=(20, 40, 60, 80), level_s=15, journey_rows=False,
                    schedule=False, steps=(Step("login.submit", 50, 80),))
    analysis = analyze_run(run.path)
    doc = analysis.to_json()
    assert list(doc["steps"]) == ["login.submit"] and doc["journeys"] == {}
    assert doc["first_to_fail"][0]["rank_by"] == "req/s offered to the step"
    assert doc["steps"]["login.submit"]["knee"]["arrivals"] is None
    assert doc["steps"]["login.submit"]["knee"]["capacity"] == pytest.approx(50, rel=0.05)
    assert doc["verdict"]["demand_basis"] == "observed"
    assert doc["retry"]["available"] is False
    assert doc["dropped"]["count"] == 0
    json.dumps(doc, allow_nan=False)


def test_journeys_section(ramp_analysis: RunAnalysis) -> None:
    journey = ramp_analysis.journeys["login_api"]
    assert journey["scope"] == "journey"
    assert journey["knee"]["reached"]
    assert journey["errors_by_class"]["dropped"] == ramp_analysis.dropped["count"]
    assert isinstance(ramp_analysis.windows, pd.DataFrame)


def test_one_worker_at_one_full_core_is_cpu_bound_per_process(tmp_path: Path) -> None:
    # the sum is half of 2 cores, but its busiest process is at a full core: the pool
    run = write_run(tmp_path / "pool", levels=(40, 60, 80), level_s=8, cpu_at_capacity=100.0).path
    frame = pq.read_table(run / "resources.parquet").to_pandas()
    target = frame["source"] == "target"
    frame.loc[target, "busiest_cpu_percent"] = frame.loc[target, "cpu_percent"] - 1.0
    frame.to_parquet(run / "resources.parquet")
    b = analyze_run(run).steps["login.submit"]["bottleneck"]
    assert b["kind"] == "cpu_per_process", b["text"]
    assert b["text"].startswith("CPU-bound per process: the busiest target process at")


def test_resources_recorded_before_the_busiest_process_column_still_load(tmp_path: Path) -> None:
    run = write_run(tmp_path / "old", levels=(40, 60, 80), level_s=8).path
    frame = pq.read_table(run / "resources.parquet").to_pandas()
    frame.drop(columns=["busiest_cpu_percent"]).to_parquet(run / "resources.parquet")
    analysis = analyze_run(run)
    assert not [w for w in analysis.warnings if "resources" in w]
    assert analysis.data.resources["busiest_cpu_percent"].isna().all()
    assert analysis.steps["login.submit"]["bottleneck"]["kind"] == "cpu"


def test_a_cause_that_fits_does_not_hide_a_step_that_does_not() -> None:
    from authsurge.analysis.knee import Knee
    from authsurge.analysis.verdict import headroom

    def knee(capacity: float) -> Knee:
        return Knee(True, capacity, capacity, capacity, False, "r", "rule")

    demand = {"basis": "schedule", "rule": "r", "peak_arrivals": 50.0, "journeys": {},
              "steps": {"login.submit": {"peak_demand": 20.0, "requests_per_arrival": None},
                        "api.call": {"peak_demand": 90.0, "requests_per_arrival": None}}}
    knees = {"login.submit": knee(40.0), "api.call": knee(60.0)}
    cause = {"step": "login.submit", "journey": None, "steps": ["login.submit"],
             "series": "login.submit"}
    verdict = headroom(demand, knees, cause)
    assert verdict["status"] == "fails" and verdict["limiting_step"] == "api.call"
    # when the cause does not fit either, the verdict is stated for it
    demand["steps"]["login.submit"]["peak_demand"] = 60.0
    verdict = headroom(demand, knees, cause)
    assert verdict["status"] == "fails" and verdict["limiting_step"] == "login.submit"


def test_a_cause_throttled_by_the_steps_queued_behind_it_is_judged_on_its_peak_goodput() -> None:
    """On a shared pool the login form can time out in the queue first: fewer people reach
    the hash, whose own curve then shows no knee. The verdict still names the cause."""
    from authsurge.analysis.knee import Knee
    from authsurge.analysis.verdict import THROTTLED_RULE, headroom

    form = Knee(True, 58.0, 58.0, 63.0, False, "r", "rule")
    submit = Knee(False, None, None, 26.3, True, "not reached", "rule")
    demand = {"basis": "schedule", "rule": "r", "peak_arrivals": 134.0, "journeys": {},
              "steps": {"login.form": {"peak_demand": 134.0, "requests_per_arrival": None},
                        "login.submit": {"peak_demand": 67.0, "requests_per_arrival": None}}}
    knees = {"login.form": form, "login.submit": submit}
    cause = {"step": "login.submit", "journey": None, "steps": ["login.submit"],
             "series": "login.submit", "resource": "target CPU", "collateral": ["login.form"]}
    verdict = headroom(demand, knees, cause)
    assert verdict["limiting_step"] == "login.submit" and verdict["status"] == "fails"
    entry = verdict["steps"]["login.submit"]
    assert entry["capacity"] == 26.3 and not entry["capacity_is_lower_bound"]
    assert entry["capacity_rule"] == THROTTLED_RULE
    assert verdict["multiple_needed"] == 67.0 / 26.3
    assert "queued behind it" in verdict["text"]
    # without collateral steps (nothing failed ahead of it) a knee-less cause is not judged
    verdict = headroom(demand, knees, {**cause, "collateral": []})
    assert verdict["limiting_step"] == "login.form"
