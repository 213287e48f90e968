"""Did the API of signed-in people stay up while sign-in failed (analysis.contrast)? Planted
runs, judged at the surge's peak, and the words each register gives the answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from authsurge.analysis import analyze_run
from authsurge.analysis.contrast import DEFAULT_P95_LIMIT_MS, peak_contrast
from authsurge.analysis.step_groups import sign_in_load
from authsurge.analysis.wording import headline, sentences, tiles
from tests.support.records import index_of
from tests.unit.analysis.surge_runs import (
    T0,
    Second,
    schedule,
    seconds,
    surge_rows,
    write_surge_run,
)

# sign-in fails for a third of the surge's people (planted by second: 2 of 6 peak seconds)
PLAN = seconds((10, Second(10)), (4, Second(40)), (2, Second(40, ok=False, latency_ms=5.0)),
               (10, Second(10)))
PEAK = range(10, 16)


def contrast_of(tmp_path: Path, api: Any, knee_p95_ms: float | None = None) -> dict[str, Any]:
    index = index_of(surge_rows(PLAN, api_per_s=5, api=api), tmp_path, T0, 1.0, T0 + len(PLAN))
    try:
        load = sign_in_load(index.windows, index, T0, schedule(PLAN))
        found = peak_contrast(index.windows, index, T0, load, knee_p95_ms)
    finally:
        index.close()
    assert found is not None
    return found


def test_sign_in_failing_at_the_peak_while_the_api_stays_up(tmp_path: Path) -> None:
    c = contrast_of(tmp_path, lambda i: (True, 40.0))
    assert (c["over"], c["from_s"], c["to_s"]) == ("peak", 10.0, 16.0)
    assert c["sign_in"]["requests"] == 240 and c["sign_in"]["error_rate"] == 80 / 240
    assert c["api"] == {"steps": ["population:api.call"], "requests": 30, "errors": 0,
                        "error_rate": 0.0, "p95": 40.0}
    assert c["sign_in_held"] is False and c["api_stayed_up"] is True
    assert c["p95_limit_ms"] == DEFAULT_P95_LIMIT_MS


def test_an_api_that_fails_or_slows_past_the_limit_at_the_peak_did_not_stay_up(tmp_path: Path) -> None:
    failing = contrast_of(tmp_path / "a", lambda i: (i != 12, 40.0))  # 5 of 30 at the peak
    assert failing["api"]["error_rate"] == 5 / 30 and failing["api_stayed_up"] is False
    slow = contrast_of(tmp_path / "b", lambda i: (True, 400.0 if i in PEAK else 40.0), 300.0)
    assert slow["api"]["p95"] == 400.0 and slow["api_stayed_up"] is False
    assert slow["p95_limit_ms"] == 300.0  # the scenario's knee_p95_ms


def test_a_run_without_a_peak_is_judged_over_the_run_and_one_without_api_is_not_judged(
    tmp_path: Path,
) -> None:
    index = index_of(surge_rows(PLAN, api_per_s=5), tmp_path, T0, 1.0, T0 + len(PLAN))
    try:
        over_run = peak_contrast(index.windows, index, T0, None, None)
    finally:
        index.close()
    assert over_run is not None and over_run["over"] == "run"
    assert (over_run["from_s"], over_run["to_s"]) == (0.0, float(index.n_windows))
    index = index_of(surge_rows(PLAN), tmp_path / "no_api", T0, 1.0, T0 + len(PLAN))
    try:
        assert peak_contrast(index.windows, index, T0, None, None) is None
    finally:
        index.close()


def test_the_population_finding_says_the_api_stayed_up_while_sign_in_failed(tmp_path: Path) -> None:
    run = write_surge_run(tmp_path / "run", PLAN, population=True, api_per_s=5)
    with analyze_run(run) as analysis:
        doc = analysis.to_json()
    contrast = doc["population"]["contrast"]
    assert contrast["sign_in_held"] is False and contrast["api_stayed_up"] is True
    findings = doc["findings"]
    (population,) = [f for f in findings if f["kind"] == "population"]
    assert population["contrast"]["api_stayed_up"] is True
    assert (
        "sign-in failed at the peak (33.3% errors, p95 18 ms) while the API of signed-in "
        "people stayed up (0.0% errors, p95 10 ms)" in headline(findings)
    )
    assert (
        "Sign-in failed at the surge's peak (33.3% of sign-in requests failed, 95% within 18 ms) "
        "while the API of the people already signed in stayed up (0.0% of its requests failed, "
        "95% within 10 ms); staying up means fewer than 1.0% of requests failing and 95% "
        "answered within 1,000 ms." in sentences(findings)
    )
    assert {"k": "signed-in API", "v": "stayed up",
            "n": "at the peak: 0.0% errors, p95 10 ms; sign-in failed (33.3% errors)"} in tiles(findings)
