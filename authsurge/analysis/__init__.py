"""Run analysis: a run directory in, capacity curves, knees and a surge verdict out.

    from authsurge.analysis import analyze_run
    analysis = analyze_run("runs/20260101T000000Z-surge")
    print(analysis.summary_text())
    analysis.write_json()            # runs/<id>/analysis.json (schema: authsurge.analysis.schema)

The stages, one module each: load (run dir -> DataFrames), windows (per step and window),
curves (steady-state points per load level), knee (knee, capacity, first to fail),
bottleneck (target resources at the knee), usl (scalability fit), verdict (headroom,
retries, drops, SLOs), summary (the sentence a capacity planner acts on).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from authsurge.analysis import schema, selfcheck
from authsurge.analysis.bottleneck import (
    CPU_BUSY_SHARE,
    ONE_CORE_MAX,
    bottleneck,
    resource_windows,
)
from authsurge.analysis.cause import find_cause
from authsurge.analysis.collapse import find_collapse
from authsurge.analysis.cost import Completions, Resource, fit_costs
from authsurge.analysis.curves import Curves, capacity_curves, windows_inside_run
from authsurge.analysis.knee import (
    CurvePoints,
    Knee,
    criteria_for,
    find_knee,
    knee_rule,
)
from authsurge.analysis.ranking import (
    TIE_RULE,
    StepKnee,
    first_to_fail,
    knee_interval,
    not_judged_reason,
)
from authsurge.analysis.rejections import rejection_warnings
from authsurge.analysis.rundir_reader import ANALYSIS_COLUMNS, RunData, load_run
from authsurge.analysis.usl import usl_for_points
from authsurge.analysis.verdict import (
    dropped_journeys,
    evaluate_slos,
    headroom,
    peak_demand,
    retry_amplification,
)
from authsurge.analysis.windows import (
    PERCENTILE_COLUMNS,
    SCOPE_REQUEST,
    RecordIndex,
    build_index,
    grouped_quantiles,
    window_table,
)
from authsurge.errors import RunDirError
from authsurge.rundir.records import OK
from authsurge.scenario import AnalysisConfig

__all__ = ["RunAnalysis", "RunData", "analyze_run", "load_run"]

Progress = Callable[[str], None]
SMOOTH_WINDOWS = 5  # the cost model's span ends where arrivals, averaged this wide, reach a knee


@dataclass
class RunAnalysis:
    """The frames of one run and everything derived from them."""

    data: RunData
    config: AnalysisConfig
    index: RecordIndex
    windows: pd.DataFrame  # one row per (series, window); see authsurge.analysis.windows
    curves: Curves  # capacity curve points per series
    knees: dict[str, Knee]
    steps: dict[str, dict[str, Any]]  # request steps, JSON-ready (schema STEP)
    journeys: dict[str, dict[str, Any]]  # journeys, JSON-ready (schema STEP)
    first_to_fail: list[dict[str, Any]]
    verdict: dict[str, Any]
    slos: list[dict[str, Any]]
    retry: dict[str, Any]
    dropped: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    generator: dict[str, Any] = field(default_factory=dict)  # schema: generator section
    cost: list[dict[str, Any]] = field(default_factory=list)  # one cost model per resource
    cause: dict[str, Any] | None = None  # the cause of the first failure (analysis.cause)

    @property
    def run_dir(self) -> Path:
        return self.data.run_dir

    @property
    def meta(self) -> dict[str, Any]:
        return self.data.meta

    @property
    def points(self) -> pd.DataFrame:
        return self.curves.points

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict with the stable schema documented in authsurge.analysis.schema."""
        meta = self.meta
        target = meta.get("target")
        doc = {
            "format_version": schema.ANALYSIS_FORMAT_VERSION,
            "run": {
                "id": meta.get("run_id") or self.run_dir.name,
                "scenario": meta.get("scenario"),
                "target": target.get("base_url") if isinstance(target, dict) else target,
                "duration_s": meta.get("duration_s"),
                "status": meta.get("status"),
                "started_at": meta.get("started_at"),
                "ended_at": meta.get("ended_at"),
                "records": int(len(self.data.requests)),
                "shards": list(self.data.shards),
            },
            "config": {
                "window_s": self.config.window_s,
                "settle_s": self.config.settle_s,
                "goodput_share": self.config.goodput_share,
                "knee_p95_ms": self.config.knee_p95_ms,
            },
            "curves": {"mode": self.curves.mode, "rule": self.curves.rule},
            "steps": self.steps,
            "journeys": self.journeys,
            "first_to_fail": self.first_to_fail,
            "ties": TIE_RULE,
            "cause": self.cause,
            "cost": self.cost,
            "collapse": _first_collapse(self.steps, self.journeys),
            "verdict": self.verdict,
            "slos": self.slos,
            "retry": self.retry,
            "dropped": self.dropped,
            "generator": self.generator,
            "warnings": list(self.warnings),
        }
        return _clean(doc)

    def write_json(self, path: str | Path | None = None) -> Path:
        """Write analysis.json (beside the raw data, never over it) atomically; return its
        path. Written into the run directory, it gets the compare digest beside it
        (authsurge.analysis.digest): the two describe the same analysis."""
        from authsurge.analysis.digest import run_digest, write_digest

        path = Path(path) if path is not None else self.run_dir / "analysis.json"
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(
            json.dumps(self.to_json(), indent=2, allow_nan=False) + "\n", encoding="utf-8"
        )
        os.replace(tmp, path)
        # after analysis.json: a digest never stands beside an older or missing analysis.json
        if path.parent.resolve() == self.run_dir.resolve():
            write_digest(run_digest(self))
        return path

    def summary_text(self) -> str:
        """The sentence a capacity planner can act on, then one line per step and the caveats."""
        from authsurge.analysis.summary import summary_text

        return summary_text(self.to_json())


def analyze_run(run_dir: str | Path, *, progress: Progress | None = None) -> RunAnalysis:
    """Load a run directory and analyse it; RunDirError when there is nothing to analyse."""

    def step(name: str) -> None:
        if progress is not None:
            progress(name)

    step("load")
    data = load_run(run_dir, columns=ANALYSIS_COLUMNS)
    warnings = data.warnings
    config = data.config
    slos = data.slos
    step("windows")
    ended = data.meta.get("ended_at")
    index = build_index(
        data.requests,
        data.started_at,
        config.window_s,
        ended if isinstance(ended, int | float) else None,
        warnings,
    )
    if index.n_series == 0:
        raise RunDirError(
            f"{data.run_dir}: no analysable records (no request or journey rows "
            "with a step name and a time)"
        )
    windows = window_table(index)
    step("curves")
    curves = capacity_curves(index, windows, data.meta, config.settle_s, warnings)
    step("knees")
    rule = knee_rule(config, slos)
    knees = {
        name: find_knee(
            CurvePoints.from_frame(curves.of(name)), criteria_for(name, config, slos), rule
        )
        for name in index.series_names
    }
    resources = resource_windows(data.resources, index)
    if resources is None:
        warnings.append("no resources.parquet: target CPU and memory at the knee are unknown")
    gen = selfcheck.check(data.resources)
    bound_windows = selfcheck.window_mask(gen, index)
    for name in index.series_names:
        selfcheck.mark_knee(name, knees[name], curves, index, bound_windows)
    gen_section = selfcheck.section(
        gen, data.started_at, ended if isinstance(ended, int | float) else None
    )
    if (note := selfcheck.run_warning(gen_section)) is not None:
        warnings.append(note)
    step("steps")
    summaries = _series_summaries(data.requests, index)
    entries: dict[str, dict[str, Any]] = {}
    for name in index.series_names:
        points = curves.of(name)
        entry = summaries[name]
        entry["offered_max"] = float(points["offered_rps"].max()) if not points.empty else None
        entry["goodput_max"] = float(points["goodput_rps"].max()) if not points.empty else None
        entry["curve"] = _curve_json(points)
        entry["knee"] = knees[name].to_json()
        entry["usl"] = usl_for_points(points)
        entry["bottleneck"] = bottleneck(name, knees[name], curves, index, resources)
        entry["collapse"] = find_collapse(name, points, windows, index)
        entries[name] = {key: entry[key] for key in schema.STEP_KEYS}
    request_steps = [
        n
        for n, sc in zip(index.series_names, index.series_scopes, strict=True)
        if sc == SCOPE_REQUEST
    ]
    steps = {n: entries[n] for n in request_steps}
    journeys = {
        n.removeprefix("journey:"): entries[n] for n in index.series_names if n not in steps
    }
    warnings.extend(rejection_warnings(steps))
    step("ranking")
    per_journey = _requests_per_journey(index)
    ranked = first_to_fail(
        {
            n: _step_knee(n, knees[n], curves, windows, index, config, slos, per_journey.get(n))
            for n in request_steps
        }
    )
    step("cost")
    t_from, t_to = _before_knees(index, windows, curves, knees, request_steps, data.meta)
    done = _completions(data.requests, index, request_steps)
    fits = [fit_costs(r, done, t_from, t_to) for r in _resources(data.resources, data.metrics)]
    cost = [f.doc for f in fits]
    cpu_cost = next((f for f in fits if f.doc["resource"] == "target CPU"), None)
    cause = find_cause(
        ranked,
        {n: steps[n]["bottleneck"] for n in request_steps},
        cpu_cost,
        _rates_at_first_knee(ranked, knees, curves, windows, index, request_steps),
    )
    if cause is not None:
        cause["series"] = cause["step"] or (
            index.journey_series(cause["journey"]) if cause["journey"] else None
        )
    step("verdict")
    demand = peak_demand(index, windows, curves, data.schedule, config)
    verdict = selfcheck.adjust_verdict(headroom(demand, knees, cause), knees)
    slo_results = evaluate_slos(slos, index, windows)
    retry = retry_amplification(data.requests, index)
    dropped = dropped_journeys(index, data.meta)
    if data.meta.get("status") not in (None, "complete"):
        warnings.append(
            f"run status is {data.meta.get('status')!r}: the run did not complete; "
            "the analysis covers what was recorded"
        )
    step("done")
    return RunAnalysis(
        data,
        config,
        index,
        windows,
        curves,
        knees,
        steps,
        journeys,
        ranked,
        verdict,
        slo_results,
        retry,
        dropped,
        warnings,
        generator=gen_section,
        cost=cost,
        cause=cause,
    )


def _step_knee(
    name: str,
    knee: Knee,
    curves: Curves,
    windows: pd.DataFrame,
    index: RecordIndex,
    config: AnalysisConfig,
    slos: list[Any],
    per_journey: float | None,
) -> StepKnee:
    interval = knee_interval(
        name,
        knee,
        curves,
        windows,
        index,
        criteria_for(name, config, slos),
        knee_rule(config, slos),
    )
    return StepKnee(
        knee,
        interval[0] if interval else None,
        interval[1] if interval else None,
        not_judged_reason(knee, per_journey),
    )


def _requests_per_journey(index: RecordIndex) -> dict[str, float]:
    """Requests of each step per journey arrival over the run (none without journey rows)."""
    arrivals = int(((index.is_journey | index.is_dropped) & (index.series >= 0)).sum())
    if not arrivals:
        return {}
    req = (index.series >= 0) & ~(index.is_journey | index.is_dropped)
    counts = np.bincount(index.series[req].astype(np.int64), minlength=index.n_series)
    return {name: counts[s] / arrivals for s, name in enumerate(index.series_names)}


def _completions(
    requests: pd.DataFrame, index: RecordIndex, request_steps: list[str]
) -> Completions:
    """When each step's requests were served and each journey's people arrived (cost model).

    A request counts at its middle (start + latency / 2): the target spends its CPU while
    serving it, and a 30-ms hash counted at its end lands in the wrong sample interval
    often enough to shrink the fitted cost measurably."""
    t_start = requests["t_start"].to_numpy(dtype=float)
    latency = np.nan_to_num(requests["latency_ms"].to_numpy(dtype=float)) / 1000.0
    middle = t_start + latency / 2
    req = (index.series >= 0) & ~(index.is_journey | index.is_dropped)
    times = {n: np.sort(middle[req & (index.series == index.series_of(n))]) for n in request_steps}
    n_j = len(index.journey_names)
    journeys_of: dict[str, list[str]] = {}
    for n in request_steps:
        codes = np.unique(index.journey[req & (index.series == index.series_of(n))])
        journeys_of[n] = [index.journey_names[j] for j in codes if 0 <= j < n_j]
    arr = (index.is_journey | index.is_dropped) & (index.series >= 0)
    arrivals = {
        name: np.sort(t_start[arr & (index.journey == j)])
        for j, name in enumerate(index.journey_names)
    }
    return Completions(times, journeys_of, arrivals)


def _before_knees(
    index: RecordIndex,
    windows: pd.DataFrame,
    curves: Curves,
    knees: dict[str, Knee],
    request_steps: list[str],
    meta: dict[str, Any],
) -> tuple[float, float]:
    """The span the cost model may use: the run, up to where the surge first reaches a
    knee (a queue built there drains later, so the cut is in time, not by load).

    With journey rows, that is the first window whose journey arrivals, averaged over
    SMOOTH_WINDOWS, reach the lowest knee's arrivals/s (one window of chance load must not
    end it). Without, it is the start of the earliest first failing curve point."""
    inside = np.flatnonzero(windows_inside_run(index, meta))
    if not inside.size:
        return math.nan, math.nan
    start = float(index.window_start(int(inside[0])))
    end = float(index.window_start(int(inside[-1]) + 1))
    reached = [knees[n] for n in request_steps if knees[n].reached]
    arrivals = windows["arrivals_rps"].to_numpy(dtype=float)[: index.n_windows]
    surge = [k.arrivals for k in reached if k.arrivals is not None]
    if surge and np.isfinite(arrivals).any():
        kernel = np.ones(SMOOTH_WINDOWS) / SMOOTH_WINDOWS
        smooth = np.convolve(np.nan_to_num(arrivals), kernel, mode="same")
        at = np.flatnonzero(smooth >= min(surge))
        if at.size:
            end = min(end, float(index.window_start(int(at[0]))))
        return start, end
    for name in request_steps:
        k = knees[name]
        if k.reached and k.first_fail_point is not None:
            end = min(end, float(curves.of(name)["t_first"].iloc[k.first_fail_point]))
    return start, end


def _resources(resources: pd.DataFrame | None, metrics: pd.DataFrame | None) -> list[Resource]:
    """Target CPU and each scraped counter, over their own sample intervals."""
    out = []
    if resources is not None:
        target = resources[resources["source"].astype(str) == "target"].sort_values("t")
        t = target["t"].to_numpy(dtype=float)
        # a sample's cpu_percent covers the time since the previous one (the first primes it)
        if t.size > 1:
            percent = target["cpu_percent"].to_numpy(dtype=float)[1:]
            busiest = target["busiest_cpu_percent"].to_numpy(dtype=float)[1:]
            cores = target["cpu_count"].to_numpy(dtype=float)[1:]
            # at a CPU ceiling (all cores, or one process at one full core) the target
            # queues: what it serves there is not what arrives, so those samples are out
            ceiling = (percent >= CPU_BUSY_SHARE * 100 * np.maximum(cores, 1)) | (
                (busiest >= CPU_BUSY_SHARE * 100) & (busiest <= ONE_CORE_MAX)
            )
            cpu = np.where(ceiling, np.nan, percent * 10.0)
            out.append(Resource("target CPU", "CPU-ms", t[:-1], t[1:], cpu))
    if metrics is not None:
        for name, rows in metrics.groupby("metric", observed=True):  # metrics: a handful
            rows = rows.sort_values("t")
            t = rows["t"].to_numpy(dtype=float)
            v = rows["value"].to_numpy(dtype=float)
            if t.size < 2:
                continue
            with np.errstate(invalid="ignore", divide="ignore"):
                rate = np.diff(v) / np.diff(t)
            # a counter that went down was reset (a restart): that interval says nothing
            rate = np.where((np.diff(t) > 0) & (np.diff(v) >= 0), rate, np.nan)
            out.append(Resource(f"prometheus:{name}", str(name), t[:-1], t[1:], rate))
    return out


def _rates_at_first_knee(
    ranked: list[dict[str, Any]],
    knees: dict[str, Knee],
    curves: Curves,
    windows: pd.DataFrame,
    index: RecordIndex,
    request_steps: list[str],
) -> dict[str, float]:
    """Each step's completed req/s in the windows of the first-ranked step's first failing
    curve point."""
    if not ranked or not ranked[0]["reached"]:
        return {}
    name = ranked[0]["step"]
    row = knees[name].first_fail_point
    if row is None:
        return {}
    pid = curves.of(name)["pid"].iloc[row]
    chosen = curves.membership[index.series_of(name)] == pid
    if not chosen.any():
        return {}
    completed = windows["completed"].to_numpy(dtype=float).reshape(index.n_series, -1)
    return {
        n: float(completed[index.series_of(n)][chosen].mean() / index.window_s)
        for n in request_steps
    }


def _first_collapse(
    steps: dict[str, dict[str, Any]], journeys: dict[str, dict[str, Any]]
) -> dict[str, Any] | None:
    """The collapse seen at the lowest surge, over steps and journeys (None: no collapse)."""
    found = [
        {"series": name, "scope": scope, **entry["collapse"]}
        for scope, group in (("request", steps), ("journey", journeys))
        for name, entry in group.items()
        if entry.get("collapse", {}).get("collapsed")
    ]
    if not found:
        return None

    def surge(c: dict[str, Any]) -> float:
        at = c["at_arrivals"] if c["at_arrivals"] is not None else c["at_offered"]
        return float(at) if at is not None else math.inf

    return min(found, key=lambda c: (surge(c), c["scope"] != "journey"))


def _series_summaries(requests: pd.DataFrame, index: RecordIndex) -> dict[str, dict[str, Any]]:
    """Whole-run counts, error classes, top failure reasons and latency percentiles per series."""
    n_s = index.n_series
    valid = index.series >= 0
    series = index.series[valid].astype(np.int64)
    total = np.bincount(series, minlength=n_s)
    ok = np.bincount(series, weights=index.ok[valid], minlength=n_s).astype(np.int64)
    n_o = len(index.outcome_names)
    by_class = np.bincount(series * n_o + index.outcome[valid], minlength=n_s * n_o).reshape(
        n_s, n_o
    )
    _, pct = grouped_quantiles(
        index, np.where(index.series >= 0, index.series, -1).astype(np.int64), n_s
    )
    reasons = _top_reasons(requests, index)
    out = {}
    for s, name in enumerate(index.series_names):
        errors = int(total[s] - ok[s])
        out[name] = {
            "scope": index.series_scopes[s],
            "requests": int(total[s]),
            "ok": int(ok[s]),
            "errors": errors,
            "error_rate": errors / total[s] if total[s] else None,
            "errors_by_class": {
                o: int(by_class[s, j])
                for j, o in enumerate(index.outcome_names)
                if o != OK and by_class[s, j]
            },
            "top_errors": reasons.get(s, []),
            **{col: pct[s, j] for j, col in enumerate(PERCENTILE_COLUMNS)},
        }
    return out


def _top_reasons(
    requests: pd.DataFrame, index: RecordIndex, top: int = 3
) -> dict[int, list[dict[str, Any]]]:
    if "reason" not in requests:
        return {}
    reason = requests["reason"].astype("category")
    failed = (~index.ok) & (index.series >= 0) & (reason.cat.codes.to_numpy() >= 0)
    if not failed.any():
        return {}
    codes = reason.cat.codes.to_numpy()[failed].astype(np.int64)
    n_r = len(reason.cat.categories)
    series = index.series[failed].astype(np.int64)
    counts = np.bincount(series * n_r + codes, minlength=index.n_series * n_r)
    counts = counts.reshape(index.n_series, n_r)
    out: dict[int, list[dict[str, Any]]] = {}
    names = [str(c) for c in reason.cat.categories]
    for s in range(index.n_series):  # series: a handful
        best = np.argsort(counts[s])[::-1][:top]
        out[s] = [
            {"reason": names[r] or "(no reason given)", "count": int(counts[s, r])}
            for r in best
            if counts[s, r] > 0
        ]
    return out


def _curve_json(points: pd.DataFrame) -> list[dict[str, Any]]:
    columns = {
        "offered_rps": "offered",
        "arrivals_rps": "arrivals",
        "goodput_rps": "goodput",
        "error_rate": "error_rate",
        "p50": "p50",
        "p90": "p90",
        "p95": "p95",
        "p99": "p99",
        "max": "max",
        "concurrency": "concurrency",
        "level_rate": "level_rate",
        "windows": "windows",
        "t_first": "t_first",
        "t_last": "t_last",
    }
    frame = points[list(columns)].rename(columns=columns)
    return frame.to_dict(orient="records")


def _clean(value: Any) -> Any:
    """Plain JSON types: numpy scalars to Python, NaN/inf to None, floats rounded for reading."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        x = float(value)
        if not math.isfinite(x):
            return None
        # 6 significant digits, but never round an epoch timestamp to whole seconds
        return round(x, 3) if abs(x) >= 1e6 else float(f"{x:.6g}")
    if isinstance(value, Path):
        return str(value)
    return value
