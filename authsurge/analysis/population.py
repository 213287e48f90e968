"""The signed-in population's health, apart from the surge (analysis.json `population`).

A run with a scenario `population:` (meta.json population; authsurge.population) has
three cohorts in its records. Warm-up rows never reach the analysis (record_views leaves
them out). The population's requests are their own series, named "population:<step>", so
their curves and error rates are measured apart from the same steps inside the surge's
sign-in journeys, and they are left out of the first-to-fail ranking (their load does
not follow the surge). This module adds, per window and over the run:
- the signed-in people: signed_in events minus relogin and gave_up events (a
  sign_in_failed person was not signed in), counted from the run's start (warm-up
  sign-ins count in window 0);
- their API requests and errors (every "population:" series but their sign-in steps),
  refreshes, re-logins (and why) and people who gave up;
- the contrast the outage shows: the population's API error rate against that of the
  surge's sign-in step that failed most, over the run; and at the surge's peak, whether
  their API stayed up while sign-in failed (`contrast`, decided by analysis.contrast).
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Protocol

import numpy as np
import pandas as pd

from authsurge.rundir import records as record
from authsurge.scenario import STEP_REQUESTS
from authsurge.scenario.population import SIGN_IN_GROUPS

PREFIX = record.POPULATION + ":"
# the population's own sign-in and refresh requests: not its API use
NOT_API = ("login.", "oidc.", "token.", "mfa.", "device.", "logout")
# the surge's sign-in steps, for the contrast
SIGN_IN = tuple(n for g in SIGN_IN_GROUPS for n in STEP_REQUESTS[g])


def is_population(series: str) -> bool:
    return series.startswith(PREFIX)


def api_series(series_names: list[str]) -> list[str]:
    """The population's API series: every "population:" series but its sign-in, refresh and
    sign-out steps."""
    return [
        s for s in series_names if is_population(s) and not s[len(PREFIX) :].startswith(NOT_API)
    ]


class PopulationIndex(Protocol):
    """What the section needs of the run's index (record_index.RecordIndex)."""

    @property
    def n_windows(self) -> int: ...

    @property
    def series_names(self) -> list[str]: ...

    def population_events(self) -> list[tuple[str, int, str, int]]: ...


def population_section(
    configured: dict[str, Any] | None,
    index: PopulationIndex,
    windows: pd.DataFrame,
    steps: dict[str, dict[str, Any]],
    contrast: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """analysis.json's population (module docstring); None for a run without one.
    `contrast`: analysis.contrast.peak_contrast's, kept as it is."""
    if not isinstance(configured, dict):
        return None
    n = index.n_windows
    per: dict[str, np.ndarray] = {e: np.zeros(n, dtype=np.int64) for e in record.EVENTS}
    reasons: Counter[str] = Counter()
    for event, w, reason, count in index.population_events():
        if event in per:
            per[event][min(max(w, 0), n - 1)] += count
            if event in (record.RELOGIN, record.GAVE_UP, record.SIGN_IN_FAILED) and reason:
                reasons[f"{event}: {reason}"] += count
    # sign_in_failed: someone who was not signed in (a relogin event already took them off)
    signed_in = np.cumsum(per[record.SIGNED_IN] - per[record.RELOGIN] - per[record.GAVE_UP])
    api = api_series(index.series_names)
    completed = windows["completed"].to_numpy(dtype=float).reshape(len(index.series_names), n)
    good = windows["ok"].to_numpy(dtype=float).reshape(len(index.series_names), n)
    rows = [index.series_names.index(s) for s in api]
    api_done = completed[rows].sum(axis=0) if rows else np.zeros(n)
    api_errors = api_done - (good[rows].sum(axis=0) if rows else np.zeros(n))
    t = windows["t"].to_numpy(dtype=float)[:n]
    return {
        "size": configured.get("size"),
        "signed_in_at_start": configured.get("signed_in_at_start"),
        "warmup_failures": configured.get("warmup_failures"),
        "joined": configured.get("joined"),
        "api": _rate(api, steps),
        "surge_sign_in": _worst_sign_in(steps),
        "refreshes": int(per[record.REFRESHED].sum()),
        "relogins": int(per[record.RELOGIN].sum()),
        "gave_up": int(per[record.GAVE_UP].sum() + per[record.SIGN_IN_FAILED].sum()),
        "why": dict(reasons.most_common()),
        "contrast": contrast,
        "windows": [
            {
                "t": float(t[w]),
                "signed_in": int(signed_in[w]),
                "api_requests": int(api_done[w]),
                "api_errors": int(api_errors[w]),
                "refreshes": int(per[record.REFRESHED][w]),
                "relogins": int(per[record.RELOGIN][w]),
            }
            for w in range(n)
        ],
        "rule": (
            "signed_in: people signed in at each window's end (signed_in events minus "
            "relogin and gave_up events since the warm-up); gave_up: people who left, signed "
            "in (on_401: give_up) or not (sign-in retries used up); api: the population's requests "
            "other than its sign-ins and refreshes, errors by completion window; "
            "surge_sign_in: the surge's form_login or oidc_login step with the most errors "
            "per request (then the highest p95); p95: the highest of the steps' run p95"
        ),
    }


def _worst_sign_in(steps: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The surge's sign-in step that failed most (its requests, errors and error rate)."""
    rates = [(_rate([s], steps), s) for s in steps if s in SIGN_IN and steps[s]["requests"]]
    if not rates:
        return None
    worst, name = max(rates, key=lambda r: (r[0]["error_rate"], r[0]["p95"] or 0.0))
    return {"step": name, **{k: v for k, v in worst.items() if k != "steps"}}


def _rate(names: list[str], steps: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Requests, errors and error rate over these steps' entries, and their highest p95."""
    requests = sum(int(steps[s]["requests"]) for s in names if s in steps)
    errors = sum(int(steps[s]["errors"]) for s in names if s in steps)
    p95s = [steps[s]["p95"] for s in names if s in steps and steps[s].get("p95") is not None]
    return group_health(names, requests, errors, p95s)


def group_health(steps: list[str], requests: int, errors: int, p95s: list[float]) -> dict[str, Any]:
    """A group of steps' requests, errors, error rate and highest p95 (the contrast's too)."""
    return {
        "steps": steps,
        "requests": requests,
        "errors": errors,
        "error_rate": errors / requests if requests else None,
        "p95": max(p95s) if p95s else None,
    }


FINDING_FIELDS = (
    "size",
    "signed_in_at_start",
    "joined",
    "lowest_signed_in",
    "highest_signed_in",
    "api_steps",
    "api_requests",
    "api_error_rate",
    "api_p95",
    "sign_in_step",
    "sign_in_error_rate",
    "sign_in_p95",
    "refreshes",
    "relogins",
    "gave_up",
    "contrast",
)


def finding_fields(p: dict[str, Any] | None) -> dict[str, Any] | None:
    """The population finding's fields (authsurge.analysis.findings), from the section."""
    if not p:
        return None
    return {
        "size": p["size"],
        "signed_in_at_start": p["signed_in_at_start"],
        "joined": p["joined"],
        "lowest_signed_in": min((w["signed_in"] for w in p["windows"]), default=None),
        "highest_signed_in": max((w["signed_in"] for w in p["windows"]), default=None),
        "api_steps": p["api"]["steps"],
        "api_requests": p["api"]["requests"],
        "api_error_rate": p["api"]["error_rate"],
        "api_p95": p["api"]["p95"],
        "sign_in_step": (p["surge_sign_in"] or {}).get("step"),
        "sign_in_error_rate": (p["surge_sign_in"] or {}).get("error_rate"),
        "sign_in_p95": (p["surge_sign_in"] or {}).get("p95"),
        "refreshes": p["refreshes"],
        "relogins": p["relogins"],
        "gave_up": p["gave_up"],
        "contrast": _contrast_fields(p.get("contrast")),
    }


def _contrast_fields(c: dict[str, Any] | None) -> dict[str, Any] | None:
    """The finding's contrast: sign-in against the API over the peak, and the verdicts."""
    if not c:
        return None
    return {
        "over": c["over"],
        "from_s": c["from_s"],
        "to_s": c["to_s"],
        "sign_in_error_rate": c["sign_in"]["error_rate"],
        "sign_in_p95": c["sign_in"]["p95"],
        "api_error_rate": c["api"]["error_rate"],
        "api_p95": c["api"]["p95"],
        "error_limit": c["error_limit"],
        "p95_limit_ms": c["p95_limit_ms"],
        "sign_in_held": c["sign_in_held"],
        "api_stayed_up": c["api_stayed_up"],
    }


def population_warnings(p: dict[str, Any] | None, status: str | None) -> list[str]:
    """A warm-up that did not sign everyone in before the clock started: the surge began on
    a target still busy with it (and on fewer signed-in people than planned). Only for a
    complete run: a worker that never reported counts none."""
    if not p or p["size"] is None or p["signed_in_at_start"] is None or status != "complete":
        return []
    short = p["size"] - p["signed_in_at_start"]
    if short <= 0:
        return []
    return [
        f"the warm-up signed in {p['signed_in_at_start']:,} of the population's {p['size']:,} "
        f"people before the clock started ({p['warmup_failures'] or 0:,} failed attempts): the "
        "rest signed in later, on top of the run's load, or not at all; lower population.warmup.rate "
        "(and raise warmup.seconds) until the target keeps up"
    ]
