"""LiveState: per-second, per-step counts of a run in progress, from its record batches.

One writer (the run feeding it the batches it has just written, in its own greenlet) and
two readers (the live page's JSON, the Prometheus collector), all in one gevent loop: no
locks. Request rows are counted at the second they started (t_start - t0); the seconds
of the last few are still filling, as slow answers arrive.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from authsurge.analysis.knee import CurvePoints, criteria_for, find_knee, knee_rule
from authsurge.rundir import records as record
from authsurge.scenario import Scenario

# the latency histogram's upper bounds (s): Prometheus's usual ladder, up to a minute
LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
KNEE_WINDOW_S = 5  # the live knee judges five-second windows, in time order
MAX_OPEN_S = 10.0  # a second stays open this long at most (its requests' timeout, capped)
FLUSH_S = 2  # a row reaches the live state within this (flushed and shipped each 0.5 s)
SNAPSHOT_S = 1.0  # a snapshot serves every reader for this long
# the request-table's string columns LiveState groups by
_STRINGS = ("kind", "step", "journey", "outcome", "cohort")


@dataclass
class _Second:
    """One step's requests that started in one second."""

    requests: int = 0
    ok: int = 0
    latencies: list[np.ndarray] = field(default_factory=list)
    p95: float | None = None  # cached once the second is closed
    closed: bool = False  # its latencies are gone, its p95 is final

    def add(self, n: int, ok: int, latencies: np.ndarray) -> None:
        self.requests += n
        self.ok += ok
        if self.closed:
            return  # a row later than the request timeout: counted, its p95 kept
        self.latencies.append(latencies)
        self.p95 = None

    def close(self) -> None:
        """Its rows are all in: keep the p95, let the latencies go (a long run at a high
        rate would otherwise hold every latency it recorded)."""
        lat = self.all_latencies()
        self.p95 = float(np.percentile(lat, 95)) if len(lat) else math.nan
        self.latencies = []
        self.closed = True

    def all_latencies(self) -> np.ndarray:
        if len(self.latencies) > 1:
            self.latencies = [np.concatenate(self.latencies)]
        return self.latencies[0] if self.latencies else np.empty(0)


class LiveState:
    """What the live page and /metrics show; fed the run's record batches."""

    def __init__(self, scenario: Scenario, planned: np.ndarray | None = None) -> None:
        self.scenario = scenario
        # planned journey arrivals/s in each second from t0 (the open model's schedule)
        self.planned = planned if planned is not None else np.empty(0)
        self.t0: float | None = None
        self.ended_at: float | None = None
        self.status = "starting"
        self.steps: dict[str, dict[int, _Second]] = defaultdict(dict)
        self.step_order: list[str] = []
        # cumulative, for Prometheus: (step, cohort, outcome) -> requests
        self.request_totals: dict[tuple[str, ...], int] = defaultdict(int)
        # (step, cohort) -> [bucket counts (not cumulative) + overflow], latency sum (s)
        self.histograms: dict[tuple[str, ...], list[Any]] = {}
        self.journey_totals: dict[tuple[str, ...], int] = defaultdict(int)
        self.dropped_totals: dict[str, int] = defaultdict(int)
        self.retries = 0  # journey attempts after the first
        self.arrivals: dict[int, int] = defaultdict(int)  # journeys started, by intended second
        self.dropped: dict[int, int] = defaultdict(int)
        self.events: dict[str, int] = defaultdict(int)  # the population's, by kind
        self.generators: dict[str, dict[str, float | None]] = {}  # harness:<worker> -> last sample
        self.target_cpu: float | None = None
        self.run_id = ""  # the run directory's name: the page starts afresh on a new one
        self._bounds = np.array(LATENCY_BUCKETS_S)
        self._snapshot: tuple[float, dict[str, Any]] | None = None
        self._open_from = 0  # the first second not yet closed (its latencies still held)

    # --- the writer ----------------------------------------------------------------------

    def start(self, t0: float, run_id: str = "") -> None:
        """The run's clock started (rows before it are the population's warm-up)."""
        self.t0, self.run_id = t0, run_id
        self.status = "running"

    def finish(self, status: str) -> None:
        self.status = status
        self.ended_at = time.time()
        self._snapshot = None

    def observe(self, batch: pa.RecordBatch) -> None:
        """Count one batch of request-table rows (requests, journeys, drops, events).

        This runs on the run's own event loop with every batch written (on a master, every
        worker's), so it never makes a Python object a row: strings are dictionary-encoded
        by Arrow and grouped as integer codes with numpy (unique, bincount), and only
        each group's key becomes a string. bench/bench_ingest.py --live measures it."""
        if batch.num_rows == 0:
            return
        rows = _Codes(batch)
        kind = rows.codes["kind"]
        for name, part in (
            (record.KIND_REQUEST, self._requests),
            (record.KIND_JOURNEY, self._journeys),
            (record.KIND_DROPPED, self._drops),
        ):
            mask = kind == rows.code("kind", name)
            if mask.any():
                part(rows, mask)
        events = kind == rows.code("kind", record.KIND_EVENT)
        if events.any():
            keys, counts = rows.count(events, "step")
            for (what,), n in zip(keys, counts, strict=True):
                self.events[what] += int(n)
        self._close_seconds()

    def _close_seconds(self) -> None:
        """Close the seconds whose rows are all in by the requests' own timeout (not the
        page's cap): only a row later than that (a master falling behind, a host's clock)
        can reach a closed second, and it is counted without its latency."""
        timeout = math.ceil(self.scenario.target.timeout_s + FLUSH_S)
        closed_to = int(self.elapsed_s()) - timeout
        if self.t0 is None or self.ended_at is not None or closed_to < self._open_from:
            return
        for cells in self.steps.values():
            for second in range(self._open_from, closed_to + 1):
                if second in cells:
                    cells[second].close()
        self._open_from = closed_to + 1

    def observe_resources(self, batch: pa.RecordBatch) -> None:
        """The latest sample of each generator (CPU, loop lag) and of the target's CPU."""
        rows = batch.to_pylist()
        for row in rows:
            source = row["source"] or ""
            if source.startswith("harness:"):
                self.generators[source.split(":", 1)[1]] = {
                    "cpu_percent": _finite(row["cpu_percent"]),
                    "loop_lag_ms": _finite(row["loop_lag_ms"]),
                    "rss_mb": (row["rss_bytes"] or 0) / 1e6,
                }
            elif source == "target":
                self.target_cpu = _finite(row["cpu_percent"])

    def _second(self, t: np.ndarray) -> np.ndarray:
        return np.floor(t - (self.t0 if self.t0 is not None else 0.0)).astype(np.int64)

    def _requests(self, rows: _Codes, mask: np.ndarray) -> None:
        keys, counts = rows.count(mask, "step", "cohort", "outcome")
        for key, n in zip(keys, counts, strict=True):
            self.request_totals[key] += int(n)
        latency_ms = rows.number("latency_ms")
        timed = mask & np.isfinite(latency_ms)
        latency_s = latency_ms[timed] / 1000.0
        width = len(self._bounds) + 1
        keys, inverse = rows.group(timed, "step", "cohort")
        buckets = np.searchsorted(self._bounds, latency_s, side="left")
        counts = np.bincount(inverse * width + buckets, minlength=len(keys) * width)
        sums = np.bincount(inverse, weights=latency_s, minlength=len(keys))
        for i, key in enumerate(keys):
            hist = self.histograms.setdefault(key, [np.zeros(width, int), 0.0])
            hist[0] += counts[i * width : (i + 1) * width]
            hist[1] += float(sums[i])
        # the live curves: the surge's requests by step; the signed-in population's under
        # "step (population)" (its API calls are not the surge's); the warm-up, before t0, not
        live = mask & (rows.codes["cohort"] != rows.code("cohort", record.WARMUP))
        if not live.any():
            return
        pairs, pair_of = rows.group(live, "step", "cohort")
        seconds = self._second(rows.number("t_start")[live])
        low, span = int(seconds.min()), int(seconds.max()) - int(seconds.min()) + 1
        groups, inverse = np.unique(pair_of * span + (seconds - low), return_inverse=True)
        counts = np.bincount(inverse)
        ok = rows.codes["outcome"][live] == rows.code("outcome", record.OK)
        oks = np.bincount(inverse, weights=ok)
        order = np.argsort(inverse, kind="stable")
        lat = latency_ms[live][order]
        for g, (group, chunk) in enumerate(
            zip(groups.tolist(), np.split(lat, np.cumsum(counts)[:-1]), strict=True)
        ):
            step, cohort = pairs[group // span]
            name = step if cohort == record.SURGE else f"{step} ({cohort})"
            if name not in self.steps:
                self.step_order.append(name)
            self.steps[name].setdefault(group % span + low, _Second()).add(
                int(counts[g]), int(oks[g]), chunk[np.isfinite(chunk)]
            )

    def _journeys(self, rows: _Codes, mask: np.ndarray) -> None:
        keys, counts = rows.count(mask, "journey", "cohort", "outcome")
        for key, n in zip(keys, counts, strict=True):
            self.journey_totals[key] += int(n)
        attempt = rows.number("attempt")
        self.retries += int(np.count_nonzero(mask & (attempt > 1)))
        first = mask & (rows.codes["cohort"] == rows.code("cohort", record.SURGE)) & (attempt <= 1)
        seconds = self._second(rows.number("t_intended")[first])
        for second, n in zip(*np.unique(seconds, return_counts=True), strict=True):
            self.arrivals[int(second)] += int(n)

    def _drops(self, rows: _Codes, mask: np.ndarray) -> None:
        keys, counts = rows.count(mask, "journey")
        for (journey,), n in zip(keys, counts, strict=True):
            self.dropped_totals[journey] += int(n)
        for second in self._second(rows.number("t_intended")[mask]).tolist():
            self.dropped[int(second)] += 1

    # --- the readers ---------------------------------------------------------------------

    def elapsed_s(self) -> float:
        if self.t0 is None:
            return 0.0
        return max(0.0, (self.ended_at or time.time()) - self.t0)

    def closed_to(self) -> float:
        """The last second whose rows are all in: a request started then has answered or
        timed out, and been flushed or shipped (two seconds); all of them once ended."""
        last = int(self.elapsed_s())
        if self.ended_at is not None:
            return last
        return last - math.ceil(min(self.scenario.target.timeout_s, MAX_OPEN_S) + FLUSH_S)

    def step_series(self, step: str) -> dict[str, list[Any]]:
        """Per second: requests/s offered, goodput/s, error rate and p95 (ms)."""
        cells = self.steps.get(step, {})
        last = int(self.elapsed_s())
        closed_to = self.closed_to()
        # not the two newest seconds while running: their rows are still being flushed
        # and shipped, and drawn they would look like a collapse
        shown_to = last if self.ended_at is not None else last - FLUSH_S
        seconds = sorted(s for s in cells if s <= shown_to)
        out: dict[str, list[Any]] = {
            "t": [],
            "offered": [],
            "goodput": [],
            "error_rate": [],
            "p95_ms": [],
        }
        for s in seconds:
            cell = cells[s]
            if cell.p95 is None or s > closed_to:
                lat = cell.all_latencies()
                cell.p95 = float(np.percentile(lat, 95)) if len(lat) else math.nan
            out["t"].append(s)
            out["offered"].append(cell.requests)
            out["goodput"].append(cell.ok)
            out["error_rate"].append(1.0 - cell.ok / cell.requests if cell.requests else 0.0)
            out["p95_ms"].append(None if math.isnan(cell.p95) else round(cell.p95, 1))
        return out

    def knee(self, step: str, series: dict[str, list[Any]]) -> dict[str, Any] | None:
        """The analysis's knee rule over the closed five-second windows so far (None: none
        yet). Arrivals are the planned ones: the live view has no journey attribution."""
        closed_to = self.closed_to()
        closed = [i for i, s in enumerate(series["t"]) if s <= closed_to]
        if len(closed) < 2 * KNEE_WINDOW_S:
            return None
        t = np.array(series["t"])[closed] // KNEE_WINDOW_S
        offered = np.array(series["offered"], float)[closed]
        goodput = np.array(series["goodput"], float)[closed]
        p95 = np.array([np.nan if v is None else v for v in series["p95_ms"]], float)[closed]
        windows = np.unique(t)
        n = np.array([offered[t == w].sum() for w in windows])
        points = CurvePoints(
            offered_rps=n / KNEE_WINDOW_S,
            arrivals_rps=np.array([self._planned_mean(int(w)) for w in windows]),
            goodput_rps=np.array([goodput[t == w].sum() for w in windows]) / KNEE_WINDOW_S,
            metrics={
                "error_rate": 1.0
                - np.array([goodput[t == w].sum() for w in windows]) / np.maximum(n, 1),
                "p95": np.array(
                    [
                        np.nanmax(p95[t == w]) if np.isfinite(p95[t == w]).any() else np.nan
                        for w in windows
                    ]
                ),
                **{
                    m: np.full(len(windows), np.nan)
                    for m in ("p50", "p90", "p99", "max", "concurrency")
                },
            },
            completed=n,
            seconds=np.full(len(windows), float(KNEE_WINDOW_S)),
        )
        config, slos = self.scenario.analysis, self.scenario.slos
        found = find_knee(points, criteria_for(step, config, slos), knee_rule(config, slos))
        if not found.reached or found.first_fail_point is None:
            return None
        return {
            "step": step,
            "offered": _round(found.offered),
            "capacity": _round(found.capacity),
            "reason": found.reason,
            "at_s": int(windows[found.first_fail_point]) * KNEE_WINDOW_S,
        }

    def _planned_mean(self, window: int) -> float:
        part = self.planned[window * KNEE_WINDOW_S : (window + 1) * KNEE_WINDOW_S]
        return float(part.mean()) if len(part) else math.nan

    def snapshot(self) -> dict[str, Any]:
        """The live page's JSON: the run so far, per step and in total (made at most once a
        second: the page, Locust's tab and every open browser share it)."""
        now = time.monotonic()
        if self._snapshot is not None and now - self._snapshot[0] < SNAPSHOT_S:
            return self._snapshot[1]
        doc = self._make_snapshot()
        self._snapshot = (now, doc)
        return doc

    def _make_snapshot(self) -> dict[str, Any]:
        last = int(self.elapsed_s())
        steps, knees = [], []
        # the last ten seconds whose rows are all in (the newest still fill)
        closed_to = self.closed_to()
        span = float(max(1, min(10, closed_to + 1)))
        for name in self.step_order:
            series = self.step_series(name)
            recent = [i for i, s in enumerate(series["t"]) if closed_to - 10 < s <= closed_to]
            requests = sum(series["offered"][i] for i in recent)
            ok = sum(series["goodput"][i] for i in recent)
            p95s = [series["p95_ms"][i] for i in recent if series["p95_ms"][i] is not None]
            knee = self.knee(name, series)
            if knee is not None:
                knees.append(knee)
            steps.append(
                {
                    "step": name,
                    "series": series,
                    "last10s": {
                        "offered_per_s": round(requests / span, 2),
                        "goodput_per_s": round(ok / span, 2),
                        "error_rate": round(1.0 - ok / requests, 4) if requests else 0.0,
                        "p95_ms": max(p95s) if p95s else None,
                    },
                    "knee": knee,
                }
            )
        run = self.scenario.run  # seconds to show: the plan's, and what ran past it
        last = min(last, int(run.duration_s + run.drain_s) + 60)
        horizon = max(last + 1, len(self.planned))
        return {
            "run": self.run_id,
            "scenario": self.scenario.name,
            "status": self.status,
            "elapsed_s": round(self.elapsed_s(), 1),
            "duration_s": self.scenario.run.duration_s,
            "planned": [round(float(r), 3) for r in self.planned[:horizon]],
            "arrivals": [self.arrivals.get(s, 0) for s in range(min(last + 1, horizon))],
            "steps": steps,
            "knees": sorted(knees, key=lambda k: k["at_s"]),
            "journeys": {
                "started": sum(self.journey_totals.values()),
                "ok": sum(n for (_, _, o), n in self.journey_totals.items() if o == record.OK),
                "retries": self.retries,
                "dropped": sum(self.dropped_totals.values()),
            },
            "population": dict(self.events) if self.scenario.population is not None else None,
            "generators": self.generators,
            "target_cpu_percent": self.target_cpu,
        }


class _Codes:
    """A batch's string columns as Arrow dictionary codes (numpy ints) and their few
    distinct values; its numeric columns as numpy arrays."""

    def __init__(self, batch: pa.RecordBatch) -> None:
        self.batch = batch
        self.codes: dict[str, np.ndarray] = {}
        self.values: dict[str, list[str]] = {}
        for name in _STRINGS:
            encoded = pc.dictionary_encode(pc.fill_null(batch.column(name), ""))
            self.codes[name] = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
            self.values[name] = encoded.dictionary.to_pylist()

    def code(self, column: str, value: str) -> int:
        """The value's code in this batch, -1 when absent (no row equals it)."""
        values = self.values[column]
        return values.index(value) if value in values else -1

    def number(self, column: str) -> np.ndarray:
        return self.batch.column(column).to_numpy(zero_copy_only=False).astype(float)

    def group(self, mask: np.ndarray, *columns: str) -> tuple[list[tuple[str, ...]], np.ndarray]:
        """The distinct (column values...) of the masked rows, and each such row's group."""
        combined = np.zeros(int(np.count_nonzero(mask)), dtype=np.int64)
        for column in columns:
            combined = combined * len(self.values[column]) + self.codes[column][mask]
        groups, inverse = np.unique(combined, return_inverse=True)
        keys = []
        for g in groups.tolist():
            parts = []
            for column in reversed(columns):
                g, i = divmod(g, len(self.values[column]))
                parts.append(self.values[column][i])
            keys.append(tuple(reversed(parts)))
        return keys, inverse

    def count(self, mask: np.ndarray, *columns: str) -> tuple[list[tuple[str, ...]], np.ndarray]:
        keys, inverse = self.group(mask, *columns)
        return keys, np.bincount(inverse, minlength=len(keys))


def _finite(x: Any) -> float | None:
    return None if x is None or not math.isfinite(float(x)) else round(float(x), 2)


def _round(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else round(x, 2)
