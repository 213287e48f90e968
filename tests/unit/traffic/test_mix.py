"""A scenario's mix at its busiest second (what `authsurge plan --scenario` predicts for)."""

from __future__ import annotations

from pathlib import Path

import pytest

from authsurge.errors import BadInput
from authsurge.scenario import load_scenario
from authsurge.traffic.mix import peak_mix

DEMO = Path(__file__).resolve().parents[3] / "scenarios" / "demo_surge.yaml"


def test_a_calibrated_trace_needs_a_stated_peak_or_scale() -> None:
    scenario = load_scenario(DEMO, [])
    with pytest.raises(BadInput, match="rate_scale is auto"):
        peak_mix(scenario)
    mix = peak_mix(scenario, scaled=True)
    assert mix.rates and all(r > 0 for r in mix.rates.values())
    assert all(mix.steps[j] for j in mix.rates)


def test_journeys_are_cut_at_abandon_after(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: m\ntarget: {base_url: 'http://127.0.0.1:9'}\n"
        "journeys:\n  browse: {steps: [form_login], abandon_after: login.form}\n"
        "  sign_in: {steps: [form_login]}\n"
        "traffic: {model: open, shape: {kind: steady, rate: 10}, mix: {browse: 0.8, sign_in: 0.2}}\n"
        "run: {duration_s: 10}\n"
    )
    mix = peak_mix(load_scenario(path, []))
    assert mix.rates == pytest.approx({"browse": 8.0, "sign_in": 2.0})
    assert mix.steps == {"browse": ["login.form"], "sign_in": ["login.form", "login.submit"]}
