"""Synthetic run directories with PLANTED capacities, written with the real record writer.

A journey ``login_api`` runs steps in order; each step has a planted capacity in req/s.
When the load offered to a step exceeds its capacity, a share of its requests fails fast
with a 503 so that goodput = min(offered, capacity) (plus Poisson noise), and latency of
the requests it serves rises past the knee. Failed journeys retry once (a share of
people), and at the top of the ramp a share of arrivals is dropped. The target's CPU
follows the login.submit load and reaches ~196% of 2 cores at its capacity.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from authsurge.rundir import records as record
from authsurge.rundir.records import REQUEST_SCHEMA, RESOURCE_SCHEMA, StreamTable

T0 = 1_700_000_000.0
JOURNEY = "login_api"


@dataclass(frozen=True)
class Step:
    name: str
    capacity: float  # req/s; above it the excess fails fast with 503
    base_ms: float
    calls: int = 1
    method: str = "POST"


DEFAULT_STEPS = (
    Step("login.form", 80.0, 20.0, 1, "GET"),
    Step("login.submit", 50.0, 80.0, 1, "POST"),
    Step("api.call", 1000.0, 15.0, 2, "GET"),
)


@dataclass
class SynthRun:
    path: Path
    meta: dict[str, Any]
    steps: tuple[Step, ...]
    rates: np.ndarray  # planned journey arrivals/s for each second of the run
    rows: int
    extra: dict[str, Any] = field(default_factory=dict)


def step_ramp_rates(levels: Sequence[float], level_s: int) -> np.ndarray:
    return np.repeat(np.asarray(levels, dtype=float), level_s)


def write_run(path: Path, *, levels: Sequence[float] = (10, 20, 30, 40, 50, 60, 70, 80, 90, 100),
              level_s: int = 15, ramp: tuple[float, float, int] | None = None,
              steps: Sequence[Step] = DEFAULT_STEPS, journey_rows: bool = True,
              retry_share: float = 0.5, drop_share_above: tuple[float, float] = (95.0, 0.05),
              resources: bool = True, schedule: bool = True, shards: int = 2,
              analysis: dict[str, Any] | None = None, slos: Sequence[Any] = (),
              cpu_at_capacity: float = 196.0, rss_growth_per_s: float = 1e5,
              seed: int = 7) -> SynthRun:
    """Write a run directory; `ramp=(from, to, seconds)` makes a continuous linear ramp instead."""
    rng = np.random.default_rng(seed)
    steps = tuple(steps)
    if ramp is not None:
        lo, hi, seconds = ramp
        rates = np.linspace(lo, hi, seconds)
        level_list: list[dict[str, float]] = []
    else:
        rates = step_ramp_rates(levels, level_s)
        level_list = [{"start": T0 + i * level_s, "end": T0 + (i + 1) * level_s, "rate": float(r)}
                      for i, r in enumerate(levels)]
    duration = float(rates.size)
    p_ok, offered = _expected(rates, steps, retry_share)

    # first attempts: Poisson arrivals second by second
    counts = rng.poisson(rates)
    sec = np.repeat(np.arange(rates.size), counts)
    t_first = T0 + sec + rng.random(sec.size)
    order = np.argsort(t_first)
    t_first, sec = t_first[order], sec[order]
    persons = np.array([f"p{i}" for i in range(t_first.size)], dtype=object)
    drop_rate, drop_share = drop_share_above
    dropped = (rates[sec] >= drop_rate) & (rng.random(sec.size) < drop_share)

    frames = []
    rho = {s.name: offered[s.name] / s.capacity for s in steps}
    first = _attempts(rng, t_first[~dropped], persons[~dropped], 1, steps, p_ok, rho, journey_rows)
    frames.append(first.rows)
    retry = first.failed & (rng.random(first.failed.size) < retry_share)
    t_retry = first.t[retry] + 1.0 + 0.5 * rng.random(int(retry.sum()))
    keep = t_retry < T0 + duration
    second = _attempts(rng, t_retry[keep], first.persons[retry][keep], 2, steps, p_ok, rho,
                       journey_rows)
    frames.append(second.rows)
    if journey_rows and dropped.any():
        frames.append(pd.DataFrame({
            "kind": record.KIND_DROPPED, "t_intended": t_first[dropped], "t_start": t_first[dropped],
            "step": JOURNEY, "journey": JOURNEY, "person_id": persons[dropped], "attempt": 1,
            "outcome": record.DROPPED, "reason": "concurrency cap reached",
        }))
    rows = pd.concat(frames, ignore_index=True)
    rows["worker"] = [f"worker-{i}" for i in rng.integers(0, shards, len(rows))]

    path.mkdir(parents=True, exist_ok=True)
    for w in range(shards):
        write_table(path / "requests" / f"worker-{w}.parquet", REQUEST_SCHEMA,
                     rows[rows["worker"] == f"worker-{w}"])
    if schedule:
        import pyarrow as pa
        import pyarrow.parquet as pq
        pq.write_table(pa.table({"t": T0 + np.arange(rates.size, dtype=float),
                                 "journey": [JOURNEY] * rates.size, "planned_rate": rates}),
                       path / "schedule.parquet")
    if resources:
        _write_resources(path, rng, offered, steps, cpu_at_capacity, rss_growth_per_s)
    meta = {
        "format_version": 1, "run_id": path.name, "scenario": "synthetic",
        "status": "complete", "started_at": T0, "ended_at": T0 + duration + 2.0,
        "duration_s": duration + 2.0,
        "target": {"base_url": "http://127.0.0.1:8000", "version": None, "pids": [1]},
        "harness": {"cpu_count": 2, "workers": shards},
        "traffic": {"model": "open", "shape": "linear_ramp" if ramp else "step_ramp",
                    "dropped_journeys": int(dropped.sum()) if journey_rows else 0},
        "levels": level_list,
        "analysis": analysis or {"window_s": 1.0, "settle_s": 2.0, "goodput_share": 0.9,
                                 "knee_p95_ms": None},
        "slos": list(slos),
        "command": "synthetic",
    }
    (path / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return SynthRun(path, meta, steps, rates, len(rows), {"offered": offered, "p_ok": p_ok})


def _expected(rates: np.ndarray, steps: tuple[Step, ...], retry_share: float
              ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Per second: each step's success probability and offered load, retries included."""
    attempts = rates.copy()
    for _ in range(20):  # fixed point: failures -> retries -> more load
        load = attempts.copy()
        p_ok, offered, passing = {}, {}, np.ones_like(rates)
        for step in steps:
            o = load * step.calls
            p = np.minimum(1.0, step.capacity / np.maximum(o, 1e-9))
            p_ok[step.name], offered[step.name] = p, o
            load = load * p
            passing = passing * p ** step.calls
        attempts = rates * (1 + retry_share * (1 - passing))
    return p_ok, offered


@dataclass
class _Attempts:
    rows: pd.DataFrame
    failed: np.ndarray
    t: np.ndarray
    persons: np.ndarray


def _attempts(rng: np.random.Generator, t_int: np.ndarray, persons: np.ndarray, attempt: int,
              steps: tuple[Step, ...], p_ok: dict[str, np.ndarray], rho: dict[str, np.ndarray],
              journey_rows: bool) -> _Attempts:
    n = t_int.size
    sec = np.clip((t_int - T0).astype(int), 0, next(iter(p_ok.values())).size - 1)
    ids = np.array([f"{p}-a{attempt}" for p in persons], dtype=object)
    alive = np.ones(n, dtype=bool)
    now = t_int + 0.001
    frames = []
    for step in steps:
        p = p_ok[step.name][sec]
        load = rho[step.name][sec]  # offered / capacity
        for _ in range(step.calls):
            idx = np.flatnonzero(alive)
            ok = rng.random(idx.size) < p[idx]
            # service time creeps up towards capacity, then queueing makes it climb steeply
            r = load[idx]
            factor = np.where(r > 1.0, 2.5 + 12.0 * (r - 1.0), 1.0 + 1.5 * r ** 2)
            lat = step.base_ms * rng.lognormal(0.0, 0.25, idx.size) * factor
            lat = np.where(ok, lat, 5.0)  # the excess is rejected fast
            frames.append(pd.DataFrame({
                "kind": record.KIND_REQUEST, "t_intended": t_int[idx], "t_start": now[idx],
                "step": step.name, "journey": JOURNEY, "journey_id": ids[idx],
                "person_id": persons[idx], "attempt": attempt, "method": step.method,
                "status": np.where(ok, 200, 503), "outcome": np.where(ok, record.OK, record.HTTP_5XX),
                "reason": np.where(ok, "", f"503 on {step.method} /{step.name}"),
                "latency_ms": lat, "bytes": 1000,
            }))
            now[idx] = now[idx] + lat / 1000.0 + 0.002
            alive[idx[~ok]] = False
    if journey_rows:
        frames.append(pd.DataFrame({
            "kind": record.KIND_JOURNEY, "t_intended": t_int, "t_start": t_int + 0.001,
            "step": JOURNEY, "journey": JOURNEY, "journey_id": ids, "person_id": persons,
            "attempt": attempt, "outcome": np.where(alive, record.OK, record.HTTP_5XX),
            "reason": np.where(alive, "", "login: 503"), "latency_ms": (now - t_int) * 1000.0,
        }))
    return _Attempts(pd.concat(frames, ignore_index=True), ~alive, t_int, persons)


def write_table(path: Path, schema: Any, frame: pd.DataFrame, close: bool = True) -> StreamTable:
    """Write rows through the real StreamTable (a batch per 2,000 rows, like a flushing runner)."""
    table = StreamTable(path, schema)
    records = frame.drop(columns=[c for c in frame.columns if c not in schema.names])
    records = records.astype(object).where(records.notna(), None).to_dict("records")
    for start in range(0, len(records), 2000):
        table.extend(records[start:start + 2000])
        table.flush()
    if close:
        table.close()
    return table


def _write_resources(path: Path, rng: np.random.Generator, offered: dict[str, np.ndarray],
                     steps: tuple[Step, ...], cpu_at_capacity: float, rss_growth_per_s: float) -> None:
    submit = next(s for s in steps if s.name == "login.submit") if any(
        s.name == "login.submit" for s in steps) else steps[0]
    load = offered[submit.name] / submit.capacity
    seconds = np.arange(load.size)
    cpu = np.minimum(1.0, load) * cpu_at_capacity + rng.normal(0, 1.5, load.size)
    target = pd.DataFrame({"t": T0 + seconds + 0.5, "source": "target", "cpu_percent": cpu,
                           "rss_bytes": (150e6 + rss_growth_per_s * seconds).astype(np.int64),
                           "processes": 3,
                           "loop_lag_ms": np.nan, "cpu_count": 2})
    harness = pd.DataFrame({"t": T0 + seconds + 0.5, "source": "harness:worker-0",
                            "cpu_percent": 30.0 + 10 * np.minimum(1.0, load), "rss_bytes": 90_000_000,
                            "processes": 1, "loop_lag_ms": 2.0, "cpu_count": 2})
    write_table(path / "resources.parquet", RESOURCE_SCHEMA, pd.concat([target, harness]))


def tear_stream(path: Path, keep_bytes_short: int = 37) -> None:
    """Cut the tail of a file mid-batch, as a SIGKILL during a write would."""
    data = path.read_bytes()
    path.write_bytes(data[: max(0, len(data) - keep_bytes_short)])
