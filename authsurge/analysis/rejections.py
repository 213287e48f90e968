"""Rejections that point at the test's own set-up rather than at the target's capacity.

A server that says "no" in its own words (the login form re-shown, ``invalid_grant``) is
answering, not overloaded; a share of such answers usually means the account pool does
not match the target: ``credentials.count`` larger than the accounts that exist, a wrong
password or username pattern. Those failures would otherwise sit in the error rate and
pull knees down, so the analysis says so next to its numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from authsurge.rundir.records import REJECTED

REJECTED_SHARE = 0.01  # at or above this share of a step's requests, the warning is raised


def rejection_warnings(steps: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """One warning per step whose rejected share reaches REJECTED_SHARE."""
    out = []
    for name, entry in steps.items():
        rejected = int(entry["errors_by_class"].get(REJECTED, 0))
        total = int(entry["requests"])
        if not total or rejected / total < REJECTED_SHARE:
            continue
        reasons = [r["reason"] for r in entry.get("top_errors", ()) if r["count"]]
        why = f" (most common failure: {reasons[0]})" if reasons else ""
        out.append(
            f"{name}: {rejected} of {total} requests ({rejected / total:.1%}) were rejected by "
            f"the server{why}; that is usually the test set-up, not load: check the scenario's "
            "credentials (count, username pattern, password) against the accounts that exist "
            "on the target"
        )
    return out
