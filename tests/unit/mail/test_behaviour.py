"""SinkBehaviour: its validation, and each mail's fate and delay as pure functions of the
draw (no server, no clock)."""

from __future__ import annotations

import dataclasses
import math
import re

import pytest

from authsurge.mail import Fate, SinkBehaviour


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"delay_s": -1.0}, "delay_s must be a finite number >= 0"),
        ({"delay_s": math.inf}, "delay_s must be a finite number >= 0"),
        ({"jitter_s": math.nan}, "jitter_s must be a finite number >= 0"),
        ({"jitter_s": "2"}, "jitter_s must be a finite number >= 0"),
        ({"drop_share": 1.5}, "drop_share must be a share between 0 and 1"),
        ({"drop_share": -0.1}, "drop_share must be a share between 0 and 1"),
        ({"reject_share": math.nan}, "reject_share must be a share between 0 and 1"),
        ({"drop_share": 0.6, "reject_share": 0.5}, "drop_share + reject_share must be at most 1"),
        ({"reject_code": 550}, "reject_code must be 421 or 451"),
        ({"reject_code": True}, "reject_code must be 421 or 451"),
        ({"seed": 1.5}, "seed must be an integer"),
    ],
)
def test_a_bad_behaviour_value_raises_value_error_naming_it(values, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        SinkBehaviour(**values)


def test_the_default_behaviour_is_a_perfect_provider():
    perfect = SinkBehaviour()
    assert all(perfect.fate(u / 100) is Fate.DELIVER for u in range(100))
    assert perfect.delay(0.99) == 0.0


def test_the_edges_of_the_valid_ranges_are_accepted():
    SinkBehaviour(delay_s=0, jitter_s=0, drop_share=0.0, reject_share=1.0, reject_code=421)
    SinkBehaviour(drop_share=0.5, reject_share=0.5)
    SinkBehaviour(drop_share=0.7, reject_share=0.3)


def test_fates_split_the_draws_by_share_reject_first_then_drop():
    behaviour = SinkBehaviour(reject_share=0.125, drop_share=0.25)  # exact in binary
    fates = [behaviour.fate(i / 1000) for i in range(1000)]
    assert fates.count(Fate.REJECT) == 125
    assert fates.count(Fate.DROP) == 250
    assert fates.count(Fate.DELIVER) == 625


def test_the_delay_is_the_fixed_delay_plus_the_drawn_share_of_the_jitter():
    behaviour = SinkBehaviour(delay_s=2.0, jitter_s=1.0)
    assert behaviour.delay(0.0) == 2.0
    assert behaviour.delay(0.5) == 2.5


def test_the_behaviour_is_frozen_and_recordable_as_a_dict():
    behaviour = SinkBehaviour(delay_s=1.0, seed=7)
    with pytest.raises(dataclasses.FrozenInstanceError):
        behaviour.delay_s = 2.0  # type: ignore[misc]
    assert dataclasses.asdict(behaviour)["seed"] == 7

