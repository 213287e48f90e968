"""find_cause on hand-made rankings and cost models: who is the cause, and which failing
steps are said to queue behind it."""

from __future__ import annotations

from typing import Any

import numpy as np

from authsurge.analysis.cause import find_cause
from authsurge.analysis.cost import CostFit

TIE = [
    {"step": "login.submit", "rank": 1, "reached": True},
    {"step": "login.form", "rank": 1, "reached": True},
    {"step": "api.call", "rank": 1, "reached": True},
]
CPU = {s["step"]: {"kind": "cpu", "text": "target CPU at 100%"} for s in TIE}
RATES = {"login.submit": 25.0, "login.form": 100.0, "api.call": 10.0}


def unit(step: str, cost: float) -> dict[str, Any]:
    return {"steps": [step], "separable": True, "cost_per_request": cost,
            "interval": [cost * 0.9, cost * 1.1], "journeys": ["web_login"],
            "per_journey": None, "reason": None}


def fit(costs: dict[str, float], draws: np.ndarray) -> CostFit:
    doc = {"resource": "target CPU", "unit": "CPU-ms", "fitted": True,
           "units": [unit(s, c) for s, c in costs.items()]}
    return CostFit(doc, draws)


def test_a_decisive_cost_model_names_the_costliest_step_and_the_others_queue_behind_it() -> None:
    costs = {"login.submit": 25.0, "login.form": 3.0, "api.call": 3.0}
    draws = np.tile(list(costs.values()), (200, 1))
    cause = find_cause(TIE, CPU, fit(costs, draws), RATES)
    assert cause is not None
    assert cause["step"] == "login.submit" and cause["resource"] == "target CPU"
    assert cause["share"] == 625 / (625 + 300 + 30)
    assert cause["collateral"] == ["login.form", "api.call"]


def test_without_a_cost_model_the_first_ranked_step_is_named_and_no_step_is_said_to_queue() -> None:
    cause = find_cause(TIE, CPU, None, RATES)
    assert cause is not None
    assert cause["step"] == "login.submit" and cause["resource"] is None
    assert cause["collateral"] == [] and cause["fail_together"]
    assert "together with login.form, api.call" in cause["evidence"]


def test_an_undecided_cost_model_names_the_first_ranked_step_and_no_collateral() -> None:
    costs = {"login.submit": 4.0, "login.form": 1.0, "api.call": 1.0}
    # login.form uses the most in half the fits, login.submit in the other half
    draws = np.array([[4.0, 1.0, 1.0], [3.0, 1.2, 1.0]] * 100)
    cause = find_cause(TIE, CPU, fit(costs, draws), RATES)
    assert cause is not None
    assert cause["step"] == "login.submit" and cause["resource"] is None
    assert cause["collateral"] == []
    assert "cannot tell" in cause["evidence"] and "50%" in cause["evidence"]


def journey_fit() -> CostFit:
    """One inseparable unit: the three steps of web_login, 10 CPU-ms per request."""
    doc = {"resource": "target CPU", "unit": "CPU-ms", "fitted": True,
           "units": [{"steps": ["login.form", "login.submit", "api.call"], "separable": False,
                      "cost_per_request": 10.0, "interval": [9.0, 11.0],
                      "journeys": ["web_login"], "per_journey": None,
                      "reason": "they always come in fixed ratio"}]}
    return CostFit(doc, np.full((200, 1), 10.0))


def unloaded(submit_ms: float) -> dict[str, dict[str, float]]:
    return {"login.form": {"p50_ms": 3.0, "requests": 100.0},
            "login.submit": {"p50_ms": submit_ms, "requests": 100.0},
            "api.call": {"p50_ms": 2.0, "requests": 100.0}}


def test_an_inseparable_journey_whose_password_step_dominates_its_unloaded_time_names_that_step() -> None:
    cause = find_cause(TIE, CPU, journey_fit(), RATES, unloaded(45.0))
    assert cause is not None
    assert cause["kind"] == "step" and cause["step"] == "login.submit"
    assert cause["journey"] == "web_login" and cause["reason"] is None
    assert cause["collateral"] == ["login.form", "api.call"]
    # the unit's 3 x 10 CPU-ms per journey, 45/50 of it the password step's
    assert cause["cost_per_request"] == 10.0 * 3 * 45 / 50
    assert cause["share"] == 45 / 50
    assert "login.submit took 90%" in cause["evidence"]


def test_an_inseparable_journey_without_a_dominant_step_stays_the_cause() -> None:
    cause = find_cause(TIE, CPU, journey_fit(), RATES, unloaded(5.0))
    assert cause is not None
    assert cause["kind"] == "journey" and cause["step"] is None and cause["apportioned"] is None
    assert cause["journey"] == "web_login" and "fixed ratio" in cause["reason"]
