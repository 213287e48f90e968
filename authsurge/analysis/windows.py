"""Per step and per time window: offered load, goodput, errors, latency percentiles, concurrency.

Each record belongs to one *series*: a request step (``login.submit``) for kind="request"
rows, or a journey (by name) for kind="journey" and kind="dropped" rows. A journey whose
name is also a step name is called ``journey:<name>``.

Which window a record counts in (``window_s`` from meta.analysis, default 1 s):

- offered load: the window where it *arrived*: t_start for requests, t_intended for
  journeys and dropped arrivals (the open model's planned arrival time).
- goodput, errors and latency: the window where it *completed*: t_start + latency for
  requests, t_intended + latency for journeys (their latency counts from t_intended).
  Completion time is what makes goodput a throughput: when the target queues, completions
  per second stay at its capacity while arrivals keep rising.
- latency percentiles (linear interpolation, as numpy) are over every record with a
  latency, failures included (as Locust reports them); dropped arrivals have none.
  Latencies are resolved to 0.1 us (LATENCY_QUANTUM_MS) for the sort.
- concurrency: the time-average number of records in flight (t_start to completion) in the
  window, from the exact overlap of the intervals with the window.

Everything is vectorised: a record's window is an integer; counts are bincounts over
(series, window) keys; percentiles come from one sort of integer (group, latency) keys
per grouping.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from authsurge.rundir import records as record

QUANTILES = (0.50, 0.90, 0.95, 0.99)
# Percentiles sort integer keys: latency in 0.1 us steps in the low 40 bits (up to 30 hours),
# the group in the high 23 bits. Sorting values is ~10x faster than argsort on 10M records.
LATENCY_QUANTUM_MS = 1e-4
_LAT_BITS = 40
_LAT_MASK = (1 << _LAT_BITS) - 1
PERCENTILE_COLUMNS = ("p50", "p90", "p95", "p99", "max")
SCOPE_REQUEST = "request"
SCOPE_JOURNEY = "journey"


@dataclass
class RecordIndex:
    """Per-record integer arrays shared by the window, curve, SLO and verdict stages."""

    t0: float  # epoch s of window 0's start
    window_s: float
    n_windows: int
    series_names: list[str]
    series_scopes: list[str]  # SCOPE_REQUEST or SCOPE_JOURNEY
    series: np.ndarray  # int16 series index per record; -1: not analysed
    arrive_w: np.ndarray  # int32 window of arrival
    end_w: np.ndarray  # int32 window of completion
    ok: np.ndarray  # bool
    outcome: np.ndarray  # int16 code into outcome_names
    outcome_names: list[str]
    journey: np.ndarray  # int16 code into journey_names; -1 when empty
    journey_names: list[str]
    is_journey: np.ndarray  # bool: kind journey (an attempt that started)
    is_dropped: np.ndarray  # bool: kind dropped
    first_attempt: np.ndarray  # bool: attempt == 1
    lat_q: np.ndarray  # int64 latency in LATENCY_QUANTUM_MS units; -1: none (or not analysed)
    start_rel: np.ndarray  # float64 s since t0 the record started (in flight from here)
    end_rel: np.ndarray  # float64 s since t0 it completed

    @property
    def n_series(self) -> int:
        return len(self.series_names)

    def window_start(self, w: np.ndarray | int) -> np.ndarray:
        return self.t0 + np.asarray(w, dtype=np.float64) * self.window_s

    def series_of(self, name: str) -> int:
        return self.series_names.index(name)

    def journey_series(self, journey: str) -> str:
        """The series name of a journey's rows: its name, or ``journey:<name>`` when a
        request step has the same name."""
        prefixed = f"journey:{journey}"
        return prefixed if prefixed in self.series_names else journey


def series_rows(windows: pd.DataFrame, index: RecordIndex, series: str) -> pd.DataFrame:
    """One series' rows of the windows table (series-major: one row per window)."""
    s = index.series_of(series)
    return windows.iloc[s * index.n_windows : (s + 1) * index.n_windows]


# Records this far outside the run are clock garbage; kept, they would make millions of windows.
MAX_EARLY_S = 600.0  # arrived before started_at
MAX_LATE_S = 3600.0  # arrived after ended_at
MAX_LATENCY_S = 3600.0
MAX_RUN_S = 24 * 3600.0  # run.duration_s is bounded at 24 h: the bound when ended_at is unknown


def build_index(
    requests: pd.DataFrame,
    started_at: float,
    window_s: float,
    ended_at: float | None = None,
    warnings: list[str] | None = None,
) -> RecordIndex:
    """Map every record to its series, arrival window and completion window."""
    kind = requests["kind"].astype("category")
    step = requests["step"].astype("category")
    kinds = list(kind.cat.categories)
    kind_codes = kind.cat.codes.to_numpy()
    req_code = kinds.index(record.KIND_REQUEST) if record.KIND_REQUEST in kinds else -2
    jr_code = kinds.index(record.KIND_JOURNEY) if record.KIND_JOURNEY in kinds else -2
    drop_code = kinds.index(record.KIND_DROPPED) if record.KIND_DROPPED in kinds else -2
    is_req = kind_codes == req_code
    is_journey = kind_codes == jr_code
    is_dropped = kind_codes == drop_code
    is_jr = is_journey | is_dropped

    t_start = requests["t_start"].to_numpy(dtype=np.float64)
    t_int = requests["t_intended"].to_numpy(dtype=np.float64)
    lat = requests["latency_ms"].to_numpy(dtype=np.float64)
    # journeys arrive (and their latency counts) from t_intended; without it (closed model)
    # from t_start
    arrive = np.where(is_jr & np.isfinite(t_int), t_int, t_start)
    end = arrive + lat / 1000.0
    end = np.where(np.isfinite(end), end, arrive)
    # in flight from the actual start; a record that ends before it starts is clamped
    start = np.where(np.isfinite(t_start), t_start, arrive)
    start = np.minimum(start, end)

    # series: request steps by their name, journeys (and their drops) by journey name
    step_codes = step.cat.codes.to_numpy()
    step_names = [str(s) for s in step.cat.categories]
    valid = np.isfinite(arrive) & (step_codes >= 0) & (is_req | is_jr)
    plausible = (end - arrive <= MAX_LATENCY_S) & (
        end >= arrive
    )  # a negative latency is garbage too
    if np.isfinite(started_at):
        plausible &= arrive >= started_at - MAX_EARLY_S
    if ended_at is not None and np.isfinite(ended_at):
        plausible &= arrive <= ended_at + MAX_LATE_S
    elif np.isfinite(started_at):
        plausible &= arrive <= started_at + MAX_RUN_S + MAX_LATE_S
    implausible = int((valid & ~plausible).sum())
    if implausible and warnings is not None:
        warnings.append(
            f"{implausible:,} records with timestamps or latencies far outside the run "
            "(clock or recording errors) were left out"
        )
    valid &= plausible

    # one (scope, step) code per record; the few distinct codes become series
    n_steps = max(len(step_names), 1)
    combo = np.where(valid, is_jr * n_steps + np.maximum(step_codes, 0), -1)
    combo_valid = combo[valid]
    present = np.bincount(combo_valid, minlength=2 * n_steps) > 0
    first_seen = np.full(2 * n_steps, np.inf)
    np.minimum.at(first_seen, combo_valid, arrive[valid])  # ufunc.at: fast in numpy >= 1.25
    names: list[str] = []
    scopes: list[str] = []
    codes: list[int] = []
    request_names = {step_names[c] for c in np.flatnonzero(present[:n_steps])}
    # series in order of first arrival, so plots and tables follow the journey's order
    for c in sorted(np.flatnonzero(present), key=lambda c: (first_seen[c], c)):
        name = step_names[c % n_steps]
        if c < n_steps:
            names.append(name)
            scopes.append(SCOPE_REQUEST)
        else:
            names.append(f"journey:{name}" if name in request_names else name)
            scopes.append(SCOPE_JOURNEY)
        codes.append(int(c))
    lookup = np.full(2 * n_steps + 1, -1, dtype=np.int16)  # the last slot maps combo -1
    lookup[codes] = np.arange(len(codes), dtype=np.int16)
    series = lookup[combo]

    # window 0 starts at the run start, moved back by whole windows if records precede it
    first = float(first_seen[present].min()) if present.any() else started_at
    t0 = started_at if np.isfinite(started_at) else first
    if first < t0:
        t0 -= np.ceil((t0 - first) / window_s) * window_s
    arrive_rel = arrive - t0
    end_rel = end - t0
    arrive_w = np.where(valid, np.floor(arrive_rel / window_s), 0).astype(np.int32)
    end_w = np.where(valid, np.floor(end_rel / window_s), 0).astype(np.int32)
    n_windows = int(max(arrive_w.max(initial=0), end_w.max(initial=0))) + 1

    outcome = requests["outcome"].astype("category")
    outcome_names = [str(o) for o in outcome.cat.categories]
    outcome_codes = outcome.cat.codes.to_numpy().astype(np.int16)
    ok_code = outcome_names.index(record.OK) if record.OK in outcome_names else -2
    ok = outcome_codes == ok_code

    journey = requests["journey"].astype("category") if "journey" in requests else None
    if journey is not None:
        journey_names = [str(j) for j in journey.cat.categories]
        journey_codes = journey.cat.codes.to_numpy().astype(np.int16)
        if "" in journey_names:
            empty = journey_names.index("")
            journey_codes = np.where(journey_codes == empty, -1, journey_codes).astype(np.int16)
    else:
        journey_names, journey_codes = [], np.full(len(requests), -1, dtype=np.int16)
    attempt = requests["attempt"].to_numpy() if "attempt" in requests else np.ones(len(requests))
    first_attempt = attempt <= 1

    has_lat = np.isfinite(lat) & (series >= 0)
    lat_q = np.where(
        has_lat, np.clip(np.rint(np.nan_to_num(lat) / LATENCY_QUANTUM_MS), 0, _LAT_MASK), -1
    ).astype(np.int64)
    return RecordIndex(
        t0=float(t0),
        window_s=float(window_s),
        n_windows=n_windows,
        series_names=names,
        series_scopes=scopes,
        series=series,
        arrive_w=arrive_w,
        end_w=end_w,
        ok=ok,
        outcome=outcome_codes,
        outcome_names=outcome_names,
        journey=journey_codes,
        journey_names=journey_names,
        is_journey=is_journey,
        is_dropped=is_dropped,
        first_attempt=first_attempt,
        lat_q=lat_q,
        start_rel=start - t0,
        end_rel=end_rel,
    )


def grouped_quantiles(
    index: RecordIndex, group: np.ndarray, n_groups: int, quantiles: Sequence[float] = QUANTILES
) -> tuple[np.ndarray, np.ndarray]:
    """Latency quantiles (and max) per group; group is per record, -1 leaves a record out.

    Returns (counts[n_groups], values[n_groups, len(quantiles) + 1]) with NaN for empty groups.
    """
    if n_groups >= 1 << (63 - _LAT_BITS):
        raise ValueError(f"too many groups for one pass ({n_groups:,})")
    keep = (group >= 0) & (index.lat_q >= 0)
    g = group[keep].astype(np.int64)
    # one int64 key per record, group in the high bits and latency in the low ones: a plain
    # (SIMD) sort of the keys orders records by group, then latency, without an argsort
    key = (g << _LAT_BITS) | index.lat_q[keep]
    key.sort()
    values = (key & _LAT_MASK) * LATENCY_QUANTUM_MS
    counts = np.bincount(g, minlength=n_groups)[:n_groups]
    starts = np.cumsum(counts) - counts
    out = np.full((n_groups, len(quantiles) + 1), np.nan)
    has = counts > 0
    if not has.any():
        return counts, out
    s, c = starts[has], counts[has]
    for j, q in enumerate(quantiles):
        pos = s + q * (c - 1)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, s + c - 1)
        frac = pos - lo
        out[has, j] = values[lo] + frac * (values[hi] - values[lo])
    out[has, -1] = values[s + c - 1]
    return counts, out


def concurrency(index: RecordIndex) -> np.ndarray:
    """Time-average records in flight per (series, window): exact interval overlap.

    With S(x) = number of starts <= x, the integral of S over [0, b] is
    sum over starts s_i <= b of (b - s_i) = b * count - prefix_sum; the same for ends.
    The busy time inside [a, b] is the difference of the two, so no record is visited
    per window.
    """
    n_w, w = index.n_windows, index.window_s
    edges = np.arange(n_w + 1, dtype=np.float64) * w
    out = np.zeros((index.n_series, n_w))
    order = np.argsort(index.series, kind="stable")
    bounds = np.searchsorted(index.series[order], np.arange(index.n_series + 1))
    for s in range(index.n_series):  # one vectorised pass per series (a handful), not per row
        rows = order[bounds[s] : bounds[s + 1]]
        integral = _integral(np.sort(index.start_rel[rows]), edges)
        integral -= _integral(np.sort(index.end_rel[rows]), edges)
        out[s] = np.diff(integral) / w
    return out


def _integral(sorted_times: np.ndarray, edges: np.ndarray) -> np.ndarray:
    prefix = np.concatenate(([0.0], np.cumsum(sorted_times)))
    n = np.searchsorted(sorted_times, edges, side="right")
    return edges * n - prefix[n]


def window_table(index: RecordIndex) -> pd.DataFrame:
    """One row per (series, window), the full grid; empty windows have zero counts, NaN latency."""
    n_s, n_w = index.n_series, index.n_windows
    size = n_s * n_w
    ok_rows = index.series >= 0
    s = index.series.astype(np.int64)
    key_a = np.where(ok_rows, s * n_w + index.arrive_w, -1)
    key_e = np.where(ok_rows, s * n_w + index.end_w, -1)
    offered = np.bincount(key_a[ok_rows], minlength=size)
    completed = np.bincount(key_e[ok_rows], minlength=size)
    good = np.bincount(key_e[ok_rows], weights=index.ok[ok_rows], minlength=size)
    # errors by outcome class: one bincount over (key, outcome)
    n_o = len(index.outcome_names)
    by_class = np.bincount(
        key_e[ok_rows] * n_o + index.outcome[ok_rows], minlength=size * n_o
    ).reshape(size, n_o)
    _, pct = grouped_quantiles(index, key_e, size)
    arrivals = journey_arrivals(index)

    frame = pd.DataFrame(
        {
            "series": pd.Categorical.from_codes(
                np.repeat(np.arange(n_s), n_w), categories=index.series_names
            ),
            "scope": pd.Categorical.from_codes(
                np.repeat([0 if sc == SCOPE_REQUEST else 1 for sc in index.series_scopes], n_w),
                categories=[SCOPE_REQUEST, SCOPE_JOURNEY],
            ),
            "window": np.tile(np.arange(n_w, dtype=np.int32), n_s),
        }
    )
    w = index.window_s
    frame["t"] = index.t0 + frame["window"].to_numpy() * w
    frame["offered"] = offered
    frame["offered_rps"] = offered / w
    frame["arrivals_rps"] = np.tile(arrivals, n_s) / w
    frame["completed"] = completed
    frame["ok"] = good.astype(np.int64)
    frame["errors"] = completed - frame["ok"].to_numpy()
    frame["goodput_rps"] = frame["ok"].to_numpy() / w
    with np.errstate(invalid="ignore", divide="ignore"):
        frame["error_rate"] = np.where(completed > 0, frame["errors"] / completed, np.nan)
    for j, name in enumerate(index.outcome_names):
        if name != record.OK:
            frame[f"err_{name}"] = by_class[:, j]
    for j, name in enumerate(PERCENTILE_COLUMNS):
        frame[name] = pct[:, j]
    frame["concurrency"] = concurrency(index).reshape(-1)
    return frame


def journey_arrivals(index: RecordIndex) -> np.ndarray:
    """Journey arrivals (attempts started or dropped) per window, all journeys together; NaN without journeys."""
    rows = (index.is_journey | index.is_dropped) & (index.series >= 0)
    if not rows.any():  # no journey rows (e.g. a plain locustfile): the surge is unknown
        return np.full(index.n_windows, np.nan)
    return np.bincount(index.arrive_w[rows], minlength=index.n_windows)[: index.n_windows]


def error_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.startswith("err_")]
