"""Device sign-ins' polling, with known answers: polls per sign-in, the time to approve,
polls per attempt rising with the offered load, and polling's share of the token endpoint."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from authsurge.analysis.device_polls import device_section, finding_fields


class Index:
    def __init__(self, attempts: pd.DataFrame) -> None:
        self.attempts = attempts

    def device_attempts(self) -> pd.DataFrame:
        return self.attempts


def attempts(arrive: np.ndarray, polls: np.ndarray, approve_s: float = 10.0) -> pd.DataFrame:
    return pd.DataFrame({"arrive": arrive, "t_auth": arrive, "t_token": arrive + approve_s,
                         "polls": polls, "slow_downs": np.zeros(len(arrive), dtype=int),
                         "signed_in": np.ones(len(arrive), dtype=bool)})


def test_polls_per_attempt_rise_with_the_offered_load():
    # 60 s at 1 attempt/s polling twice each, then 30 s at 4/s polling four times each
    quiet = np.arange(0, 60, 1.0)
    busy = 100 + np.arange(0, 30, 0.25)
    frame = attempts(np.concatenate([quiet, busy]),
                     np.concatenate([np.full(len(quiet), 2), np.full(len(busy), 4)]))
    steps = {"device.poll": {"requests": 600}, "device.token": {"requests": 180},
             "oidc.token": {"requests": 220}}
    section = device_section(Index(frame), steps)
    assert section is not None
    assert section["attempts"] == 180 and section["sign_ins"] == 180
    assert section["polls_per_sign_in"] == pytest.approx((60 * 2 + 120 * 4) / 180)
    assert section["by_load"][0]["offered_per_s"] == pytest.approx(1.0, abs=0.15)
    assert section["by_load"][-1]["offered_per_s"] == pytest.approx(4.0, abs=0.5)
    assert section["amplification"] == pytest.approx(2.0)
    assert section["rising"] is True
    assert section["polling_share_of_token_endpoint"] == pytest.approx(600 / 1000)
    assert section["approve_s"]["p50"] == pytest.approx(10.0)
    assert finding_fields(section)["approve_p90_s"] == pytest.approx(10.0)


def test_polls_that_do_not_grow_with_load_are_not_rising():
    arrive = np.concatenate([np.arange(0, 60, 1.0), 100 + np.arange(0, 30, 0.25)])
    section = device_section(Index(attempts(arrive, np.full(len(arrive), 3))), {})
    assert section is not None and section["amplification"] == pytest.approx(1.0)
    assert section["rising"] is False and section["polling_share_of_token_endpoint"] is None


def test_a_run_without_device_sign_ins_has_no_section():
    assert device_section(Index(attempts(np.array([]), np.array([]))), {}) is None
