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
