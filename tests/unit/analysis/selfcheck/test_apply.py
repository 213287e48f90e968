"""Generator-bound seconds in analysis.json, on synthetic runs with planted capacities.

The ramp (10..100 journeys/s, 15 s levels) plants login.submit's knee at 50/s. Harness
samples are then rewritten: saturated from a chosen level on. A knee inside those seconds
must be marked and must not be presented as the target's capacity.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from authsurge.analysis import analyze_run, schema
from tests.support.synth import T0, Step, write_run

LEVEL_S = 15
LEVELS = (10, 20, 30, 40, 50, 60, 70, 80, 90, 100)


def saturate(
    run: Path, from_s: float, to_s: float = 1e9, cpu: float = 99.0, lag: float = 2.0
) -> None:
    frame = pq.read_table(run / "resources.parquet").to_pandas()
    rows = (
        (frame["source"] == "harness:worker-0")
        & (frame["t"] >= T0 + from_s)
        & (frame["t"] < T0 + to_s)
    )
    frame.loc[rows, "cpu_percent"] = cpu
    frame.loc[rows, "loop_lag_ms"] = lag
    frame.to_parquet(run / "resources.parquet")


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_run(tmp_path_factory.mktemp("gen") / "clean", levels=LEVELS, level_s=LEVEL_S).path


def copy(run: Path, dest: Path) -> Path:
    import shutil

    shutil.copytree(run, dest)
    return dest


def test_a_calm_harness_flags_nothing(clean_run: Path) -> None:
    doc = analyze_run(clean_run).to_json()
    gen = doc["generator"]
    assert tuple(doc) == schema.TOP_LEVEL_KEYS
    assert gen["sampled"] is True and gen["bound_seconds"] == [] and gen["bound_s"] == 0
    assert gen["share_of_run"] == 0 and "loop lag > 50 ms" in gen["rule"]
    assert gen["per_worker"]["worker-0"]["bound_s"] == 0
    assert not any(s["knee"]["generator_bound"] for s in doc["steps"].values())
    assert doc["verdict"]["generator_bound"] is False
    assert not any("load generator" in w for w in doc["warnings"])


def test_a_knee_during_generator_saturation_is_the_clients(clean_run: Path, tmp_path: Path) -> None:
    run = copy(clean_run, tmp_path / "run")
    saturate(run, from_s=4 * LEVEL_S)  # from the 50/s level on: login.submit's knee is in it
    analysis = analyze_run(run)
    doc = analysis.to_json()
    gen = doc["generator"]
    assert gen["bound_s"] == pytest.approx(6 * LEVEL_S + 1, abs=2)
    assert gen["share_of_run"] == pytest.approx(gen["bound_s"] / doc["run"]["duration_s"])
    [[start, end]] = gen["bound_seconds"]
    assert start == pytest.approx(T0 + 4 * LEVEL_S - 0.5, abs=1)

    submit = doc["steps"]["login.submit"]["knee"]
    assert submit["reached"] and submit["generator_bound"]
    assert submit["offered"] == pytest.approx(
        50, rel=0.15
    )  # the knee is kept where it was measured
    assert submit["capacity_is_lower_bound"] is True
    assert submit["reason"].startswith("the client saturated first; add workers")
    warning = doc["steps"]["login.submit"]["bottleneck"]["harness_warning"]
    assert "CPU 99%" in warning and "not the target's capacity" in warning

    first = doc["first_to_fail"][0]
    assert first["step"] == "login.submit" and first["generator_bound"] is True
    assert first["reason"].startswith("the client saturated first")
    verdict = doc["verdict"]
    assert verdict["generator_bound"] is True and verdict["status"] == "unknown"
    assert verdict["text"].startswith("the client saturated first; add workers")

    text = analysis.summary_text()
    headline = text.splitlines()[0]
    assert headline.startswith("the client saturated first; add workers: login.submit's knee at")
    assert "not the target's capacity" in headline
    assert "saturates first, at about" not in text  # never quoted as the target's capacity
    assert any(w.startswith("the load generator was saturated for") for w in doc["warnings"])


def test_saturation_after_the_knees_leaves_them_alone(clean_run: Path, tmp_path: Path) -> None:
    run = copy(clean_run, tmp_path / "run")
    saturate(run, from_s=9 * LEVEL_S, cpu=40.0, lag=120.0)  # loop lag only, top level only
    doc = analyze_run(run).to_json()
    assert doc["generator"]["bound_s"] > 10
    submit = doc["steps"]["login.submit"]["knee"]
    assert submit["reached"] and not submit["generator_bound"]
    assert not submit["capacity_is_lower_bound"]
    assert doc["steps"]["login.submit"]["bottleneck"]["harness_warning"] is None
    # CPU-bound with one journey type: the cause, and so the verdict, is the journey
    assert doc["verdict"]["status"] == "fails"
    assert doc["verdict"]["limiting_step"] == "journey login_api"
    assert doc["verdict"]["generator_bound"] is False


def test_a_healthy_step_whose_peak_load_was_generator_bound_says_so(tmp_path: Path) -> None:
    run = write_run(
        tmp_path / "healthy",
        levels=(10, 20, 30, 40),
        level_s=10,
        steps=(Step("api.call", 1000.0, 15.0, 1, "GET"),),
        drop_share_above=(1e9, 0.0),
    ).path
    saturate(run, from_s=30)  # the top level
    doc = analyze_run(run).to_json()
    api = doc["steps"]["api.call"]
    assert not api["knee"]["reached"] and api["knee"]["generator_bound"]
    assert "the measured range ends at the client's limit" in api["bottleneck"]["harness_warning"]
    assert doc["first_to_fail"][0]["generator_bound"] is True
    verdict = doc["verdict"]
    assert verdict["generator_bound"] is True
    if (
        verdict["status"] != "survives"
    ):  # the peak beyond a lower bound: add workers, not "a higher ramp"
        assert verdict["status"] == "unknown"
        assert verdict["text"].startswith("the client saturated first; add workers")


def test_short_blips_are_not_flagged(clean_run: Path, tmp_path: Path) -> None:
    run = copy(clean_run, tmp_path / "run")
    for level in range(10):  # 2 s of 99% CPU in every level
        saturate(run, from_s=level * LEVEL_S + 5, to_s=level * LEVEL_S + 7)
    doc = analyze_run(run).to_json()
    assert doc["generator"]["bound_seconds"] == []
    assert doc["generator"]["per_worker"]["worker-0"]["saturated_samples"] == 20
    assert doc["generator"]["bound_s"] == 0
