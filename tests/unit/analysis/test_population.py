"""analysis.json's population section from event rows and the window table (a hand-made
index: the real runs are tests/integration/run/test_population.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from authsurge.analysis.population import is_population, population_section

SERIES = ["login.submit", "api.call", "population:api.call", "population:login.submit"]


class Index:
    n_windows = 4
    series_names = SERIES

    def population_events(self) -> list[tuple[str, int, str, int]]:
        return [
            ("signed_in", -2, "", 5),  # the warm-up, before window 0
            ("relogin", 1, "401 on the API", 2),
            ("signed_in", 2, "", 2),
            ("gave_up", 3, "401 on the API (on_401: give_up)", 1),
            ("sign_in_failed", 3, "sign-in failed 3 times", 1),  # not signed in: no change
            ("refreshed", 2, "", 4),
        ]


def windows() -> pd.DataFrame:
    completed = np.array([[10, 10, 10, 10], [5, 5, 5, 5], [3, 4, 5, 6], [0, 0, 2, 0]], float)
    ok = np.array([[2, 2, 2, 2], [5, 5, 5, 5], [3, 3, 5, 6], [0, 0, 2, 0]], float)
    return pd.DataFrame({
        "t": np.tile(np.arange(4, dtype=float), 4),
        "completed": completed.ravel(),
        "ok": ok.ravel(),
    })


STEPS = {
    "login.form": {"requests": 40, "errors": 0, "p95": 900.0},
    "login.submit": {"requests": 40, "errors": 32, "p95": 50.0},
    "api.call": {"requests": 20, "errors": 0, "p95": 5.0},
    "population:api.call": {"requests": 18, "errors": 1, "p95": 7.0},
    "population:login.submit": {"requests": 2, "errors": 0, "p95": 60.0},
}


def test_the_signed_in_count_follows_the_events_and_the_api_is_apart_from_the_surge() -> None:
    configured = {"size": 5, "signed_in_at_start": 5, "warmup_failures": 0, "joined": 0}
    p = population_section(configured, Index(), windows(), STEPS)
    assert p is not None
    assert [w["signed_in"] for w in p["windows"]] == [5, 3, 5, 4]
    assert [w["api_requests"] for w in p["windows"]] == [3, 4, 5, 6]
    assert [w["api_errors"] for w in p["windows"]] == [0, 1, 0, 0]
    assert p["api"] == {"steps": ["population:api.call"], "requests": 18, "errors": 1,
                        "error_rate": 1 / 18, "p95": 7.0}
    # the sign-in step with the most errors, not the slowest
    assert p["surge_sign_in"] == {"step": "login.submit", "requests": 40, "errors": 32,
                                  "error_rate": 0.8, "p95": 50.0}
    assert (p["refreshes"], p["relogins"], p["gave_up"]) == (4, 2, 2)
    assert p["why"] == {"relogin: 401 on the API": 2, "gave_up: 401 on the API (on_401: give_up)": 1,
                        "sign_in_failed: sign-in failed 3 times": 1}


def test_a_run_without_a_population_has_none() -> None:
    assert population_section(None, Index(), windows(), STEPS) is None
    assert is_population("population:api.call") and not is_population("api.call")


def test_a_warm_up_past_the_clock_is_a_warning_only_for_a_complete_run() -> None:
    from authsurge.analysis.population import population_warnings

    short = {"size": 200, "signed_in_at_start": 154, "warmup_failures": 3}
    (warning,) = population_warnings(short, "complete")
    assert "154 of the population's 200 people" in warning and "warmup.rate" in warning
    assert population_warnings(short, "interrupted") == []
    assert population_warnings({**short, "signed_in_at_start": 200}, "complete") == []
