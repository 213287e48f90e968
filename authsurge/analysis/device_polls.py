"""Device sign-ins (the OAuth device authorization grant, RFC 8628): a CLI polls the token
endpoint until the person approves, so a surge of CLI sign-ins is a surge of polls, and
how the provider answers (authorization_pending, slow_down, a timeout) decides whether
that load grows or shrinks.

From the surge's device_login attempts that got a device code and ended (signed in, or a
device step failed), not those the run's end cut off:
- polls per attempt, and per sign-in (the sign-ins' own polls; the final, successful poll
  counted: it is a poll too);
- the time to approve: from the device authorization to the token, for the sign-ins;
- poll amplification under load: attempts grouped by the offered device sign-ins around
  their arrival (a 10-s window), polls per attempt in each group; rising with load means
  the waits grew (slow approvals, slow_down, a slow token endpoint);
- how much of the token endpoint's requests were polling (device.poll: the polls that
  brought no token) and slow_down answers.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import pandas as pd

POLL, TOKEN = "device.poll", "device.token"
# every step that posts to the token endpoint
TOKEN_ENDPOINT_STEPS = (
    POLL,
    TOKEN,
    "oidc.token",
    "token.refresh",
    "token.client_credentials",
    "token.password",
)
AROUND_S = 10.0  # the window around an arrival that its offered load is counted in
LEVELS = 4  # load groups, each of at least MIN_GROUP attempts
MIN_GROUP = 10
RISING = 1.2  # polls per attempt up by 20% or more from the lowest to the highest load
FINDING_FIELDS = (
    "attempts",
    "sign_ins",
    "polls_per_sign_in",
    "approve_p50_s",
    "approve_p90_s",
    "amplification",
    "rising",
    "polling_share_of_token_endpoint",
    "slow_downs",
)


class DeviceIndex(Protocol):
    """What the section needs of the run's index (record_index.RecordIndex)."""

    def device_attempts(self) -> pd.DataFrame: ...


def device_section(index: DeviceIndex, steps: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """analysis.json's `device`: None when the run made no device sign-in."""
    attempts = index.device_attempts()
    if attempts.empty:
        return None
    signed = attempts[attempts["signed_in"]]
    approve = (signed["t_token"] - signed["t_auth"]).to_numpy(dtype=float)
    polls = int(attempts["polls"].sum())
    token_requests = sum(int(steps[s]["requests"]) for s in TOKEN_ENDPOINT_STEPS if s in steps)
    polling = int(steps[POLL]["requests"]) if POLL in steps else 0
    by_load = load_groups(attempts)
    amplification = (
        by_load[-1]["polls_per_attempt"] / by_load[0]["polls_per_attempt"]
        if len(by_load) >= 2 and by_load[0]["polls_per_attempt"] > 0
        else None
    )
    return {
        "attempts": len(attempts),
        "sign_ins": len(signed),
        "polls": polls,
        "polls_per_attempt": polls / len(attempts),
        "polls_per_sign_in": float(signed["polls"].mean()) if len(signed) else None,
        "slow_downs": int(attempts["slow_downs"].sum()),
        "approve_s": quantiles(approve),
        "by_load": by_load,
        "amplification": amplification,
        "rising": amplification is not None and amplification >= RISING,
        "token_endpoint_requests": token_requests,
        "polling_share_of_token_endpoint": polling / token_requests if token_requests else None,
        "rule": (
            f"attempts grouped by the device sign-ins offered within {AROUND_S:g} s of their "
            f"arrival (up to {LEVELS} groups of at least {MIN_GROUP}); amplification: polls "
            "per attempt in the highest group over the lowest, rising at "
            f">= {RISING:g}x; polling: device.poll requests (no token yet) over every "
            "request to the token endpoint"
        ),
    }


def quantiles(values: np.ndarray) -> dict[str, float | None]:
    values = values[np.isfinite(values)]
    if not len(values):
        return {"p50": None, "p90": None, "max": None}
    p50, p90 = np.percentile(values, [50, 90])
    return {"p50": float(p50), "p90": float(p90), "max": float(values.max())}


def load_groups(attempts: pd.DataFrame) -> list[dict[str, float]]:
    """Polls per attempt at rising offered load: attempts by the device sign-ins offered
    around their arrival, in up to LEVELS groups of equal size."""
    arrive = np.sort(attempts["arrive"].to_numpy(dtype=float))
    order = np.argsort(attempts["arrive"].to_numpy(dtype=float), kind="stable")
    polls = attempts["polls"].to_numpy(dtype=float)[order]
    half = AROUND_S / 2
    around = np.searchsorted(arrive, arrive + half, "right") - np.searchsorted(
        arrive, arrive - half, "left"
    )
    offered = around / AROUND_S
    levels = min(LEVELS, len(arrive) // MIN_GROUP)
    if levels < 1:
        return []
    by_offered = np.argsort(offered, kind="stable")
    return [
        {
            "offered_per_s": float(offered[group].mean()),
            "attempts": len(group),
            "polls_per_attempt": float(polls[group].mean()),
        }
        for group in np.array_split(by_offered, levels)
    ]


def finding_fields(section: dict[str, Any] | None) -> dict[str, Any] | None:
    """The `device` finding: None without device sign-ins."""
    if section is None:
        return None
    return {
        "attempts": section["attempts"],
        "sign_ins": section["sign_ins"],
        "polls_per_sign_in": section["polls_per_sign_in"],
        "approve_p50_s": section["approve_s"]["p50"],
        "approve_p90_s": section["approve_s"]["p90"],
        "amplification": section["amplification"],
        "rising": section["rising"],
        "polling_share_of_token_endpoint": section["polling_share_of_token_endpoint"],
        "slow_downs": section["slow_downs"],
    }
