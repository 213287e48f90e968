"""What people do when a login fails: retry after a think time, up to N attempts, then give up."""

from __future__ import annotations

import random
from dataclasses import dataclass

from authsurge.scenario import RetryBehaviour

PATIENT, IMPATIENT = "patient", "impatient"


@dataclass
class RetryPolicy:
    config: RetryBehaviour
    rng: random.Random

    def decide(self) -> str | None:
        """Decided once per person, at their first failure: IMPATIENT, PATIENT, or None
        (some people never retry)."""
        draw = self.rng.random()
        if draw < self.config.impatient.share:
            return IMPATIENT
        if draw < self.config.impatient.share + self.config.share:
            return PATIENT
        return None

    def impatient_s(self) -> float:
        """An impatient person's wait: uniform over [min_s, max_s]."""
        impatient = self.config.impatient
        return self.rng.uniform(impatient.min_s, impatient.max_s)

    def can_retry(self, attempt: int) -> bool:
        return attempt < self.config.max_attempts

    def think_s(self, attempt: int, retry_after_s: float | None = None) -> float:
        """Seconds a person waits after failed attempt number `attempt` (1-based), whose
        answer asked for `retry_after_s` (Retry-After): honoured, it is the least wait."""
        think = self.config.think
        if think.kind == "immediate":
            wait = 0.0
        else:
            wait = think.base_s if think.kind == "fixed" else think.base_s * 2 ** (attempt - 1)
            wait = min(wait, think.cap_s)
            if think.jitter:
                wait *= 1 + self.rng.uniform(-think.jitter, think.jitter)
        if self.config.retry_after == "honour" and retry_after_s is not None:
            cap = self.config.retry_after_cap_s
            wait = max(wait, retry_after_s if cap is None else min(retry_after_s, cap))
        return max(wait, 0.0)
