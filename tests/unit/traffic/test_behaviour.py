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


def test_people_who_fail_are_impatient_patient_or_gone_in_their_shares() -> None:
    from collections import Counter

    p = policy(share=0.5, impatient={"share": 0.2, "min_s": 1, "max_s": 3})
    kinds = Counter(p.decide() for _ in range(20_000))
    assert abs(kinds["impatient"] / 20_000 - 0.2) < 0.015
    assert abs(kinds["patient"] / 20_000 - 0.5) < 0.015
    assert abs(kinds[None] / 20_000 - 0.3) < 0.015
    waits = [p.impatient_s() for _ in range(1000)]
    assert 1 <= min(waits) < 1.1 and 2.9 < max(waits) <= 3


def test_shares_of_more_than_everyone_are_refused() -> None:
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="add up to more than 1"):
        policy(share=0.9, impatient={"share": 0.2})
    with pytest.raises(ValidationError, match="max_s must be at least min_s"):
        policy(impatient={"share": 0.2, "min_s": 3, "max_s": 1})
