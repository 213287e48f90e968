"""The cost model against planted per-step costs: a synthetic run directory whose target CPU
is idle + the planted CPU-ms of every request + noise, with a mix that varies on its own."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from authsurge.analysis import analyze_run
from authsurge.analysis.cost import Completions, Resource, fit_costs
from authsurge.rundir import records as record
from authsurge.rundir.records import REQUEST_SCHEMA, RESOURCE_SCHEMA
from tests.support.synth import T0, write_table

# planted CPU-ms per request; api.call and logout are only ever made by the same people
PLANTED = {"login.form": 2.0, "login.submit": 30.0, "api.call": 5.0, "logout": 3.0}
JOURNEYS = {
    "browse": ["login.form"],  # open the login page and leave
    "signin": ["login.form", "login.submit"],
    "full": ["login.form", "login.submit", "api.call", "logout"],
}
IDLE = 40.0  # CPU-ms per second
NOISE = 15.0  # CPU-ms per second, one sd


def write_cost_run(path: Path, seconds: int = 120, seed: int = 3) -> Path:
    """Journeys arriving at rates that rise and fall on their own (three periods)."""
    rng = np.random.default_rng(seed)
    t = np.arange(seconds)
    mean = {
        "browse": 6 + 5 * np.sin(2 * np.pi * t / 23),
        "signin": 4 + 3 * np.sin(2 * np.pi * t / 37 + 1),
        "full": 4 + 3 * np.sin(2 * np.pi * t / 16 + 2),
    }
    rows = []
    usage = np.full(seconds, IDLE)
    for journey, steps in JOURNEYS.items():
        counts = rng.poisson(mean[journey])
        for sec, n in enumerate(counts):
            for i in range(n):
                start = T0 + sec + rng.random() * 0.9
                jid = f"{journey}-{sec}-{i}"
                for k, step in enumerate(steps):
                    rows.append({"kind": record.KIND_REQUEST, "t_intended": start,
                                 "t_start": start + 0.01 * k, "step": step, "journey": journey,
                                 "journey_id": jid, "person_id": jid, "attempt": 1,
                                 "method": "GET", "status": 200, "outcome": record.OK,
                                 "reason": "", "latency_ms": 5.0, "bytes": 100})
                    usage[sec] += PLANTED[step]
                rows.append({"kind": record.KIND_JOURNEY, "t_intended": start, "t_start": start,
                             "step": journey, "journey": journey, "journey_id": jid,
                             "person_id": jid, "attempt": 1, "outcome": record.OK, "reason": "",
                             "latency_ms": 10.0 * len(steps)})
    usage += rng.normal(0, NOISE, seconds)
    # a scraped counter: one hash validation per login.submit, cumulative, once a second
    submits = np.zeros(seconds)
    for row in rows:
        if row["step"] == "login.submit":
            submits[int(row["t_start"] - T0)] += 1
    metrics = pd.DataFrame({"t": T0 + t + 1.0, "metric": "hash_validations_total",
                            "value": np.cumsum(submits)})
    path.mkdir(parents=True, exist_ok=True)
    metrics.to_parquet(path / "metrics.parquet")
    frame = pd.DataFrame(rows)
    frame["worker"] = "worker-0"
    write_table(path / "requests" / "worker-0.parquet", REQUEST_SCHEMA, frame)
    # a sample at the end of each second reports the CPU used during it, as psutil does
    resources = pd.DataFrame({"t": T0 + t + 1.0, "source": "target", "cpu_percent": usage / 10.0,
                              "rss_bytes": 100_000_000, "processes": 2, "loop_lag_ms": np.nan,
                              "cpu_count": 2})
    write_table(path / "resources.parquet", RESOURCE_SCHEMA, resources)
    meta = {"format_version": 1, "run_id": path.name, "scenario": "planted-cost",
            "status": "complete", "started_at": T0, "ended_at": T0 + seconds,
            "duration_s": float(seconds), "target": {"base_url": "http://127.0.0.1:8000"},
            "traffic": {"model": "open", "shape": "trace"}, "levels": [],
            "analysis": {"window_s": 1.0, "settle_s": 0.0, "goodput_share": 0.9}}
    (path / "meta.json").write_text(json.dumps(meta))
    return path


@pytest.fixture(scope="module")
def planted_cost(tmp_path_factory: pytest.TempPathFactory) -> dict:
    run = write_cost_run(tmp_path_factory.mktemp("cost") / "run")
    doc = analyze_run(run).to_json()
    return next(c for c in doc["cost"] if c["resource"] == "target CPU")


def test_a_scraped_counter_is_attributed_to_the_step_that_moves_it(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    run = write_cost_run(tmp_path_factory.mktemp("counter") / "run")
    doc = analyze_run(run).to_json()
    counter = next(c for c in doc["cost"] if c["resource"] == "prometheus:hash_validations_total")
    assert counter["fitted"] and counter["unit"] == "hash_validations_total"
    submit = next(u for u in counter["units"] if u["steps"] == ["login.submit"])
    assert submit["cost_per_request"] == pytest.approx(1.0, abs=0.05)
    others = [u for u in counter["units"] if u["steps"] != ["login.submit"]]
    assert all(u["cost_per_request"] < 0.1 for u in others)


def unit_of(cost: dict, step: str) -> dict:
    return next(u for u in cost["units"] if step in u["steps"])


@pytest.mark.parametrize("step", ["login.form", "login.submit"])
def test_the_fit_recovers_each_planted_step_cost_within_its_interval(planted_cost: dict,
                                                                     step: str) -> None:
    unit = unit_of(planted_cost, step)
    assert unit["separable"] and unit["steps"] == [step]
    lo, hi = unit["interval"]
    assert lo <= PLANTED[step] <= hi
    assert unit["cost_per_request"] == pytest.approx(PLANTED[step], rel=0.15)
    assert planted_cost["r2"] > 0.9


def test_steps_that_always_come_together_are_reported_inseparable_with_the_journey_cost(
        planted_cost: dict) -> None:
    unit = unit_of(planted_cost, "api.call")
    assert sorted(unit["steps"]) == ["api.call", "logout"] and not unit["separable"]
    assert "cannot be separated" in unit["reason"] and "abandon_after" in unit["reason"]
    per_journey = unit["per_journey"]
    assert per_journey["journey"] == "full"
    planted = PLANTED["api.call"] + PLANTED["logout"]
    assert per_journey["interval"][0] <= planted <= per_journey["interval"][1]


def test_the_idle_term_is_recovered(planted_cost: dict) -> None:
    lo, hi = planted_cost["idle_interval"]
    assert lo <= IDLE <= hi


def one_journey(seconds: int = 60, cost: float = 25.0) -> tuple[Resource, Completions]:
    """Sample intervals of 1 s; every person makes login.form then login.submit."""
    rng = np.random.default_rng(1)
    counts = rng.poisson(5 + 4 * np.sin(np.arange(seconds) / 5))
    arrivals = np.sort(np.concatenate([s + rng.random(n) * 0.9 for s, n in enumerate(counts)]))
    edges = np.arange(seconds + 1, dtype=float)
    usage = 30 + cost * counts + rng.normal(0, 5, seconds)
    done = Completions.from_times(edges, {"login.form": arrivals + 0.01, "login.submit": arrivals + 0.02},
                                  {"login.form": ["web"], "login.submit": ["web"]}, {"web": arrivals})
    return Resource("target CPU", "CPU-ms", edges[:-1], edges[1:], usage), done


def test_a_single_journey_type_is_one_unit_costed_per_journey() -> None:
    resource, done = one_journey()
    cost = fit_costs(resource, done, 0.0, 60.0).doc
    assert len(cost["units"]) == 1
    unit = cost["units"][0]
    assert not unit["separable"] and unit["journeys"] == ["web"]
    assert unit["per_journey"]["cost"] == pytest.approx(25.0, rel=0.1)


def test_too_few_samples_give_no_fit_and_say_why() -> None:
    resource, done = one_journey()
    cost = fit_costs(resource, done, 0.0, 5.0).doc
    assert not cost["fitted"] and "too few resource samples" in cost["note"]
