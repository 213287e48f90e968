"""`--rate-scale auto`: the trace is scaled to a measured capacity (the capacity search
against a real target: tests/integration/test_calibrate.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import authsurge.calibrate as calibrate
from authsurge.scenario import parse_scenario
from authsurge.traffic import curves_for


def test_auto_scale_puts_the_trace_login_peak_at_the_chosen_multiple(monkeypatch):
    """The measurement is tested in tests/integration/test_calibrate.py; here only the scaling
    arithmetic, with capacity fixed at 10/s."""
    root = Path(__file__).resolve().parents[2]
    scenario = parse_scenario((root / "scenarios" / "appstore_surge.yaml").read_text(),
                              root / "scenarios" / "appstore_surge.yaml")
    monkeypatch.setattr(calibrate, "find_capacity",
                        lambda s, progress=True: calibrate.Calibration(10.0, [], False))
    scale, info = calibrate.calibrate_rate_scale(scenario, progress=False)
    assert info.capacity_rps == 10.0 and info.peak_multiple == 2.0
    curves = curves_for(scenario, rate_scale=scale)
    grid = np.linspace(0, 360, 20_001)
    peak = float(np.max(curves["web_login"].rate(grid) + curves["app_login"].rate(grid)))
    assert peak == pytest.approx(2.0 * 10.0, rel=0.01)
