"""Synthetic surge runs with planted answers, for the recovery, step-group and contrast tests.

No noise: each second's fresh sign-in arrivals (journey web_login, one login.submit request
each) are evenly spaced through it, and what happens to them is planted second by second
(`Second`): succeed or fail, how long they take, how many retries (attempt 2, failing
fast) arrive beside them, whether the people sign out. The schedule plans exactly the
fresh arrivals. Optionally the signed-in population calls the API (population:api.call)
at a steady rate, with its own planted errors and latency.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from tests.support.records import frame, write_shard

T0 = 1_700_000_000.0
JOURNEY = "web_login"


@dataclass(frozen=True)
class Second:
    fresh: int  # first attempts arriving (and planned) in this second
    ok: bool = True
    latency_ms: float = 20.0  # the journey's, from its planned start
    retries: int = 0  # attempt-2 arrivals, each failing after 5 ms
    logout: bool = False  # the signed-in people sign out (a logout request)


def seconds(*spans: tuple[int, Second]) -> list[Second]:
    """(count, second) spans laid end to end."""
    return [s for n, s in spans for _ in range(n)]


def surge_rows(
    plan: list[Second],
    api_per_s: int = 0,
    api: Callable[[int], tuple[bool, float]] = lambda i: (True, 10.0),
) -> pd.DataFrame:
    """The run's records: journeys, their requests and the population's API calls."""
    rows: list[dict[str, Any]] = []
    for i, sec in enumerate(plan):
        for k in range(sec.fresh):
            _journey(rows, T0 + i + (k + 0.5) / sec.fresh, f"p{i}-{k}", 1, sec.ok, sec.latency_ms,
                     sec.logout)
        for k in range(sec.retries):
            _journey(rows, T0 + i + (k + 0.25) / sec.retries, f"r{i}-{k}", 2, False, 5.0, False)
        for k in range(api_per_s):
            ok, latency = api(i)
            rows.append({"kind": "request", "t_start": T0 + i + (k + 0.5) / api_per_s,
                         "step": "population:api.call", "journey": "population:sign_in",
                         "cohort": "population", "person_id": f"m{k}",
                         "outcome": "ok" if ok else "http_5xx", "status": 200 if ok else 503,
                         "latency_ms": latency})
    return frame(rows)


def _journey(rows: list[dict[str, Any]], t: float, person: str, attempt: int, ok: bool,
             latency_ms: float, logout: bool) -> None:
    outcome, status = ("ok", 200) if ok else ("http_5xx", 503)
    common = {"journey": JOURNEY, "journey_id": f"{person}-a{attempt}", "person_id": person,
              "attempt": attempt, "t_intended": t, "outcome": outcome, "status": status}
    rows.append({**common, "kind": "journey", "step": JOURNEY, "t_start": t,
                 "latency_ms": latency_ms})
    rows.append({**common, "kind": "request", "step": "login.submit", "t_start": t + 0.001,
                 "latency_ms": max(latency_ms - 2.0, 1.0)})
    if ok and logout:
        rows.append({**common, "kind": "request", "step": "logout", "t_start": t + 0.002,
                     "latency_ms": 1.0})


def schedule(plan: list[Second]) -> pd.DataFrame:
    return pd.DataFrame({"t": [T0 + i for i in range(len(plan))], "journey": JOURNEY,
                         "planned_rate": [float(s.fresh) for s in plan]})


def write_surge_run(path: Path, plan: list[Second], *, capacity: float | None = 20.0,
                    population: bool = False, **rows: Any) -> Path:
    """A run directory (format 2) of these records, with its schedule and meta.json."""
    write_shard(surge_rows(plan, **rows), path / "requests" / "worker-0.parquet")
    pq.write_table(pa.Table.from_pandas(schedule(plan), preserve_index=False),
                   path / "schedule.parquet")
    meta: dict[str, Any] = {
        "format_version": 2, "run_id": path.name, "scenario": "surge", "status": "complete",
        "started_at": T0, "ended_at": T0 + len(plan), "duration_s": float(len(plan)),
        "analysis": {"window_s": 1.0, "settle_s": 2.0, "goodput_share": 0.9,
                     "knee_p95_ms": None},
        "command": "synthetic surge",
    }
    if capacity is not None:
        meta["calibration"] = {"capacity_rps": capacity, "probes": []}
    if population:
        meta["population"] = {"size": 5, "signed_in_at_start": 5, "warmup_failures": 0,
                              "joined": 0}
    (path / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return path
