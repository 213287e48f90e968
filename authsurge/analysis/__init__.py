"""Run analysis: a run directory in, capacity curves, knees and a surge verdict out.

    from authsurge.analysis import analyze_run
    analysis = analyze_run("runs/20260101T000000Z-surge")
    print(analysis.summary_text())
    analysis.write_json()            # runs/<id>/analysis.json (schema: authsurge.analysis.schema)

The stages, one module each: load (run dir -> the shards to scan and the small tables),
record_index (the engine's window table and queries over the shards),
curves (steady-state points per load level), knee (knee, capacity, first to fail),
bottleneck (target resources at the knee), usl (scalability fit), verdict (headroom,
retries, drops, SLOs), population (the signed-in people's API, with contrast: did it stay
up while sign-in failed), recovery (how long sign-in took to recover after the surge fell
below capacity, or that it did not: metastable), summary (the sentence a capacity planner
acts on). step_groups holds sign-in, sign-out and the population's API per window.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from authsurge.analysis import schema, selfcheck
from authsurge.analysis.bottleneck import (
    bottleneck,
    resource_windows,
)
from authsurge.analysis.cause import find_cause
from authsurge.analysis.collapse import find_collapse
from authsurge.analysis.contrast import peak_contrast
from authsurge.analysis.cost import fit_costs, model_at
from authsurge.analysis.cost_inputs import (
    before_knees,
    completions,
    rates_at_first_knee,
    requests_per_journey,
    resources_of,
    sample_edges,
)
from authsurge.analysis.curves import Curves, capacity_curves
from authsurge.analysis.device_polls import device_section
from authsurge.analysis.digest import LATENCY_PER_WINDOW, LATENCY_SEED
from authsurge.analysis.findings import find as find_findings
from authsurge.analysis.knee import (
    CurvePoints,
    Knee,
    criteria_for,
    find_knee,
    knee_rule,
)
from authsurge.analysis.population import (
    is_population,
    population_section,
    population_warnings,
)
from authsurge.analysis.ranking import (
    TIE_RULE,
    StepKnee,
    first_to_fail,
    knee_interval,
    not_judged_reason,
)
from authsurge.analysis.record_index import RecordIndex, open_index
from authsurge.analysis.recovery import capacity_of, recovery_section
from authsurge.analysis.rejections import rejection_warnings
from authsurge.analysis.rundir_reader import RunData, load_run
from authsurge.analysis.sections import clean, curve_json, first_collapse, series_summaries
from authsurge.analysis.service_share import unloaded_times
from authsurge.analysis.sizing import DEFAULT_HEADROOM, sizing_section
from authsurge.analysis.sources import per_ip_warnings
from authsurge.analysis.step_groups import group_windows, sign_in_load
from authsurge.analysis.usl import usl_for_points
from authsurge.analysis.verdict import (
    dropped_journeys,
    evaluate_slos,
    headroom,
    peak_demand,
    retry_amplification,
)
from authsurge.analysis.windows import SCOPE_REQUEST
from authsurge.errors import RunDirError
from authsurge.scenario import MAIL_WAIT_STEPS, AnalysisConfig

__all__ = ["RunAnalysis", "RunData", "analyze_run", "load_run"]

Progress = Callable[[str], None]


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
    harness: dict[str, Any] = field(default_factory=dict)  # how the load generator fared
    population: dict[str, Any] | None = None  # the signed-in population (analysis.population)
    recovery: dict[str, Any] | None = None  # sign-in's recovery after the surge (analysis.recovery)
    device: dict[str, Any] | None = None  # device sign-ins' polling (analysis.device_polls)
    # the sizing table's peak (journeys/s; None: the planned one) and headroom (analysis.sizing)
    sizing_peak: float | None = None
    headroom: float = DEFAULT_HEADROOM

    @property
    def run_dir(self) -> Path:
        return self.data.run_dir

    @property
    def meta(self) -> dict[str, Any]:
        return self.data.meta

    @property
    def points(self) -> pd.DataFrame:
        return self.curves.points

    def step_groups(self) -> dict[str, pd.DataFrame]:
        """Sign-in, sign-out and the population's API per window (analysis.step_groups)."""
        return group_windows(self.windows, self.index, self.data.started_at)

    def sign_in_load(self) -> pd.DataFrame | None:
        """The surge's sign-in journeys' arrivals and plan per window (analysis.step_groups)."""
        return sign_in_load(self.windows, self.index, self.data.started_at, self.data.schedule)

    def close(self) -> None:
        """Let go of the engine now: its connection, its spill directory and the converted
        streams (the garbage collector would, later). What was computed stays readable; a
        new question to the index (the digest's sample) can no longer be asked."""
        self.index.close()
        self.data.records.close()

    def __enter__(self) -> RunAnalysis:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def to_json(self, exact: bool = False) -> dict[str, Any]:
        """JSON-ready dict with the stable schema documented in authsurge.analysis.schema;
        floats rounded to 6 significant digits unless `exact` (golden comparisons: a value
        a hair either side of a rounding boundary must not read as a different answer)."""
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
                "records": self.data.records.rows,
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
            "collapse": first_collapse(self.steps, self.journeys),
            "verdict": self.verdict,
            "slos": self.slos,
            "retry": self.retry,
            "dropped": self.dropped,
            "generator": self.generator,
            "harness": self.harness,
            "population": self.population,
            "recovery": self.recovery,
            "device": self.device,
        }
        reference = meta.get("reference")
        doc["sizing"] = sizing_section(
            doc, reference if isinstance(reference, dict) else None, self.sizing_peak, self.headroom
        )
        doc["warnings"] = list(self.warnings)
        doc = clean(doc, exact)
        # the story, decided once from the sections above; it leads the document
        story = [f.to_json() for f in find_findings(doc)]
        return {"format_version": doc.pop("format_version"), "findings": story, **doc}

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
    data = load_run(run_dir)
    warnings = data.warnings
    config = data.config
    slos = data.slos
    step("windows")
    ended = data.meta.get("ended_at")
    sampled = resources_of(data.resources, data.metrics)
    index = open_index(
        data.records,
        data.started_at,
        config.window_s,
        ended if isinstance(ended, int | float) else None,
        warnings,
        cost_edges=sample_edges(sampled),
        sample=(LATENCY_PER_WINDOW, LATENCY_SEED),
    )
    if index.n_series == 0:
        raise RunDirError(
            f"{data.run_dir}: no analysable records (no request or journey rows "
            "with a step name and a time)"
        )
    windows = index.windows
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
    summaries = series_summaries(index)
    entries: dict[str, dict[str, Any]] = {}
    for name in index.series_names:
        points = curves.of(name)
        entry = summaries[name]
        entry["offered_max"] = float(points["offered_rps"].max()) if not points.empty else None
        entry["goodput_max"] = float(points["goodput_rps"].max()) if not points.empty else None
        entry["curve"] = curve_json(points)
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
    warnings.extend(per_ip_warnings(index, steps))
    step("ranking")
    per_journey = requests_per_journey(index)
    # the signed-in population's load does not follow the surge: not ranked (population.py)
    surge_knees = {n: k for n, k in knees.items() if not is_population(n)}
    ranked = first_to_fail(
        {
            n: _step_knee(n, knees[n], curves, windows, index, config, slos, per_journey.get(n))
            for n in request_steps
            if n in surge_knees
        }
    )
    step("cost")
    t_from, t_to = before_knees(index, windows, curves, knees, request_steps, data.meta)
    # a wait for a mail is measured like a request, but the target serves none of it
    served = [n for n in request_steps if n not in MAIL_WAIT_STEPS]
    done = completions(index, served, sampled)
    fits = [fit_costs(r, done, t_from, t_to) for r in sampled]
    cost = [f.doc for f in fits]
    cpu_cost = next((f for f in fits if f.doc["resource"] == "target CPU"), None)
    knee_rates = rates_at_first_knee(ranked, knees, curves, windows, index, request_steps)
    for fit in fits:  # what sizing and plan calibrate the model's costs by (analysis.sizing)
        fit.doc["at_knee"] = model_at(fit, knee_rates)
    cause = find_cause(
        ranked,
        {n: steps[n]["bottleneck"] for n in request_steps},
        cpu_cost,
        knee_rates,
        unloaded_times(curves, served, t_to),
    )
    if cause is not None:
        # the series whose knee is the cause's capacity: a step apportioned inside its
        # journey's inseparable cost has the journey's knee
        cause["series"] = (
            index.journey_series(cause["journey"])
            if cause["journey"] and (cause["apportioned"] or not cause["step"])
            else cause["step"]
        )
    step("verdict")
    demand = peak_demand(index, windows, curves, data.schedule, config)
    verdict = selfcheck.adjust_verdict(headroom(demand, surge_knees, cause), surge_knees)
    slo_results = evaluate_slos(slos, index, windows)
    retry = retry_amplification(index)
    dropped = dropped_journeys(index, data.meta)
    aborted = data.meta.get("aborted")
    if data.meta.get("status") == "aborted" and isinstance(aborted, dict):
        warnings.append(
            f"the run was stopped early by run.abort_on {aborted.get('condition')!r} "
            f"({aborted.get('measured')}): the analysis covers what was recorded before"
        )
    elif data.meta.get("status") not in (None, "complete"):
        warnings.append(
            f"run status is {data.meta.get('status')!r}: the run did not complete; "
            "the analysis covers what was recorded"
        )
    load = sign_in_load(windows, index, data.started_at, data.schedule)
    contrast = None
    if data.meta.get("population"):
        contrast = peak_contrast(windows, index, data.started_at, load, config.knee_p95_ms)
    population = population_section(data.meta.get("population"), index, windows, steps, contrast)
    warnings.extend(population_warnings(population, data.meta.get("status")))
    capacity = capacity_of(data.meta, ranked, knees, curves, index)
    recovery = recovery_section(windows, index, load, capacity, population, _run_end(data))
    device = device_section(index, steps)
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
        harness=selfcheck.harness_health(data.meta, data.resources),
        population=population,
        recovery=recovery,
        device=device,
    )


def _run_end(data: RunData) -> float | None:
    """The run's end in seconds from its start, when meta.json says."""
    ended = data.meta.get("ended_at")
    if isinstance(ended, int | float) and math.isfinite(data.started_at):
        return float(ended) - data.started_at
    return None


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
