"""How the mail sink imitates a real mail provider: late, lost and refused mail.

A sign-in by code or magic link depends on the mail provider as much as on the target;
real providers deliver seconds late, lose a share of mail and throttle with 4xx answers
under a surge. `SinkBehaviour` states that imitation as data so a run can record it
(`dataclasses.asdict`) and replay it: every random choice comes from one RNG seeded with
`seed`.

What each mail's fate is: one uniform draw u in [0, 1) per mail (one SMTP transaction,
whatever its number of recipients) decides it, so `reject_share` and `drop_share` are
both shares of all mails and must add up to at most 1:

- u < reject_share: the SMTP server answers the end of DATA with `reject_code` (421 or
  451). Most targets send mail inside the sign-up/sign-in POST (Django's `send_mail`,
  allauth), so smtplib raises there and the failure shows at that step as a 5xx of the
  target, as it would with a throttling provider;
- u < reject_share + drop_share: accepted (250) and never delivered to the mailbox, the
  mail a provider silently loses;
- otherwise delivered, visible in the mailbox `delay_s` plus a uniform share of
  `jitter_s` after it was received.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

REJECT_CODES = (421, 451)
"""The answers a throttling provider gives: 421 (service not available, closing the
channel) and 451 (local error, try again later)."""


class Fate(Enum):
    """What the sink does with one mail."""

    DELIVER = "deliver"
    DROP = "drop"
    REJECT = "reject"


@dataclass(frozen=True)
class SinkBehaviour:
    """The provider the sink imitates; the default is a perfect one (instant, lossless)."""

    delay_s: float = 0.0
    """Fixed delay between receiving a mail and its becoming visible in the mailbox."""
    jitter_s: float = 0.0
    """Extra delay drawn uniformly from [0, jitter_s) for each mail, on top of delay_s."""
    drop_share: float = 0.0
    """Share of mails accepted with 250 but never delivered."""
    reject_share: float = 0.0
    """Share of mails refused with reject_code at the end of DATA."""
    reject_code: int = 451
    """421 or 451 (REJECT_CODES)."""
    seed: int = 0
    """Seed of the sink's RNG, so the same mails are dropped and delayed in a replay."""

    def __post_init__(self) -> None:
        for name in ("delay_s", "jitter_s"):
            value = getattr(self, name)
            if not _is_number(value) or not math.isfinite(value) or value < 0:
                raise ValueError(f"mail sink {name} must be a finite number >= 0, not {value!r}")
        for name in ("drop_share", "reject_share"):
            value = getattr(self, name)
            if not _is_number(value) or not 0.0 <= value <= 1.0:
                raise ValueError(f"mail sink {name} must be a share between 0 and 1, not {value!r}")
        if (
            self.drop_share + self.reject_share > 1.0 + 1e-9
        ):  # shares summed in floats may round above 1
            raise ValueError(
                "mail sink drop_share + reject_share must be at most 1 (both are shares of "
                f"all mails), not {self.drop_share} + {self.reject_share}"
            )
        if isinstance(self.reject_code, bool) or self.reject_code not in REJECT_CODES:
            raise ValueError(
                f"mail sink reject_code must be 421 or 451 (a provider's temporary "
                f"refusal), not {self.reject_code!r}"
            )
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ValueError(f"mail sink seed must be an integer, not {self.seed!r}")

    def fate(self, u: float) -> Fate:
        """The fate of a mail for the uniform draw u in [0, 1) (a pure function, so it is
        tested without a server or a clock)."""
        if u < self.reject_share:
            return Fate.REJECT
        if u < self.reject_share + self.drop_share:
            return Fate.DROP
        return Fate.DELIVER

    def delay(self, u: float) -> float:
        """Seconds from receiving a delivered mail to its being visible, for the uniform
        draw u in [0, 1)."""
        return self.delay_s + self.jitter_s * u


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
