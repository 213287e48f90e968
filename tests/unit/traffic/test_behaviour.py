"""How long a person waits before retrying: think time, and Retry-After when honoured."""

from __future__ import annotations

import random

from authsurge.scenario.traffic import RetryBehaviour
from authsurge.traffic.behaviour import RetryPolicy


def policy(**config) -> RetryPolicy:
    return RetryPolicy(RetryBehaviour.model_validate(config), random.Random(1))


def test_retry_after_is_ignored_unless_honoured() -> None:
    ignore = policy(think={"kind": "immediate"})
    assert ignore.think_s(1, retry_after_s=5.0) == 0.0
    honour = policy(think={"kind": "immediate"}, retry_after="honour")
    assert honour.think_s(1, retry_after_s=5.0) == 5.0
    assert honour.think_s(1, retry_after_s=None) == 0.0


def test_an_honoured_retry_after_is_the_least_wait_up_to_its_cap() -> None:
    capped = policy(think={"kind": "fixed", "base_s": 2.0, "jitter": 0}, retry_after="honour",
                    retry_after_cap_s=10.0)
    assert capped.think_s(1, retry_after_s=1.0) == 2.0  # the think time is longer
    assert capped.think_s(1, retry_after_s=5.0) == 5.0
    assert capped.think_s(1, retry_after_s=3600.0) == 10.0
