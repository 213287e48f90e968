"""`--rate-scale auto`: measure the target's login capacity, then scale a trace to a multiple of it.

Capacity search in the spirit of keycloak-benchmark's `--increment`: run short steady
probes of the login journeys, step the rate up while a probe passes, halve the step
after a failure, and keep the last rate that passed. A probe passes when at least
`min_success` of its journeys succeed and goodput keeps up with `min_goodput` of the
offered rate, judged after a short warm-up, and no SLO of the scenario is breached: the
capacity that counts is the one that keeps the promises (a queue that grows slowly
passes the first two tests and breaks a latency SLO).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from authsurge.errors import BadInput
from authsurge.scenario import Scenario, SteadyShape, TraceShape

log = logging.getLogger(__name__)

LOGIN_GROUPS = {"form_login", "oidc_login"}


@dataclass
class Probe:
    rate: float
    goodput: float
    success: float
    passed: bool
    breached: tuple[str, ...] = ()  # the SLOs the probe broke (then it did not pass)


def breached_slos(run_dir: Path) -> tuple[str, ...]:
    """The SLOs (in meta.json) that a run breached, judged by the analysis library."""
    from authsurge.analysis import analyze_run

    with analyze_run(run_dir) as analysis:
        return tuple(s["slo"] for s in analysis.slos if s["passed"] is False)


def login_journeys(scenario: Scenario) -> list[str]:
    """The surge's journeys that sign in (the population's own sign-in journey only when
    the traffic also sends arrivals to it)."""
    shape = scenario.traffic.shape
    if isinstance(shape, TraceShape) and shape.columns:
        surge = set(shape.columns.values())
    else:
        mix = scenario.traffic.mix
        surge = {n for n, share in mix.items() if share > 0} if mix else set(scenario.journeys)
    return [
        name
        for name, j in scenario.journeys.items()
        if LOGIN_GROUPS.intersection(j.steps) and name in surge
    ]


def probe_result(
    run_dir: Path, rate: float, warmup_s: float, min_success: float, min_goodput: float
) -> Probe:
    """Judge one probe run from its records (journey rows after the warm-up)."""
    tables = [
        pq.read_table(p, columns=["kind", "t_intended", "outcome"])
        for p in sorted((run_dir / "requests").glob("*.parquet"))
    ]
    if not tables:
        return Probe(rate, 0.0, 0.0, False)
    kind = np.concatenate([t.column("kind").to_numpy(zero_copy_only=False) for t in tables])
    t = np.concatenate([t.column("t_intended").to_numpy() for t in tables])
    ok = (
        np.concatenate([t.column("outcome").to_numpy(zero_copy_only=False) for t in tables]) == "ok"
    )
    arrivals = kind != "request"  # journeys and drops
    t, ok, kind = t[arrivals], ok[arrivals], kind[arrivals]
    if len(t) == 0:
        return Probe(rate, 0.0, 0.0, False)
    start, end = np.nanmin(t) + warmup_s, np.nanmax(t)
    window = (t >= start) & (t <= end)
    seconds = max(end - start, 1e-9)
    success = float(ok[window].mean()) if window.any() else 0.0
    goodput = float(ok[window].sum() / seconds)
    return Probe(rate, goodput, success, success >= min_success and goodput >= min_goodput * rate)


def find_capacity(
    scenario: Scenario,
    *,
    start_rate: float = 2.0,
    probe_s: float = 8.0,
    max_probes: int = 8,
    min_success: float = 0.95,
    min_goodput: float = 0.9,
    progress: bool = True,
) -> float:
    """Login journeys per second the target sustains (the last probe that passed)."""
    from authsurge import run as runner

    names = login_journeys(scenario)
    if not names:
        raise BadInput("--rate-scale auto needs a journey with form_login or oidc_login steps")
    workdir = Path(tempfile.mkdtemp(prefix="authsurge-calibrate-"))
    passed, rate, step = 0.0, start_rate, start_rate
    last: Probe | None = None
    try:
        for i in range(max_probes):
            probe_scenario = scenario.model_copy(deep=True)
            probe_scenario.journeys = {n: scenario.journeys[n] for n in names}
            probe_scenario.traffic.shape = SteadyShape(kind="steady", rate=rate)
            probe_scenario.traffic.mix = {n: 1.0 for n in names}
            probe_scenario.behaviour.retry.share = 0.0
            probe_scenario.behaviour.retry.impatient.share = 0.0
            probe_scenario.population = None  # the surge's sign-ins alone
            probe_scenario.run.duration_s = probe_s
            probe_scenario.run.drain_s = 2.0
            probe_scenario.run.workers = 1
            result = runner.run(
                runner.RunOptions(
                    scenario=probe_scenario,
                    out_root=workdir,
                    command="calibration probe",
                    progress=False,
                )
            )
            probe = probe_result(
                result.run_dir, rate, warmup_s=2.0, min_success=min_success, min_goodput=min_goodput
            )
            if probe.passed and scenario.slos:
                probe.breached = breached_slos(result.run_dir)
                probe.passed = not probe.breached
            if progress:
                verdict = "pass" if probe.passed else "FAIL"
                why = f" (SLO breached: {'; '.join(probe.breached)})" if probe.breached else ""
                print(
                    f"calibrate: probe {i + 1}/{max_probes} at {rate:.1f} logins/s -> goodput "
                    f"{probe.goodput:.1f}/s, {probe.success:.0%} ok: {verdict}{why}",
                    flush=True,
                )
            last = probe
            if probe.passed:
                passed = rate
                rate += step
            else:
                step /= 2
                rate = passed + step
            if passed and step < 0.1 * passed:
                break
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if passed <= 0:
        slo = (
            f" within the scenario's SLOs ({'; '.join(last.breached)} breached)"
            if last is not None and last.breached
            else ""
        )
        raise BadInput(
            f"calibration: the target did not sustain even {start_rate:.1f} logins/s{slo}; "
            "check the target and the scenario's login settings"
        )
    return passed


def calibrate_rate_scale(scenario: Scenario, *, progress: bool = True) -> float:
    """The trace rate_scale that makes the surge's login peak `auto_peak_multiple` x capacity."""
    from authsurge.traffic.shapes import curves_for

    shape = scenario.traffic.shape
    if not isinstance(shape, TraceShape):
        raise BadInput("--rate-scale applies to trace shapes (traffic.shape.kind: trace)")
    capacity = find_capacity(scenario, progress=progress)
    curves = curves_for(scenario, rate_scale=1.0)
    names = [n for n in login_journeys(scenario) if n in curves]
    grid = np.linspace(0, max(c.duration for c in curves.values()), 20_001)
    peak = float(np.max(sum(curves[n].rate(grid) for n in names))) if names else 0.0
    if peak <= 0:
        raise BadInput("the trace has no login arrivals to scale")
    scale = shape.auto_peak_multiple * capacity / peak
    if progress:
        print(
            f"calibrate: login capacity {capacity:.1f}/s; surge peak {peak:.1f}/s at scale 1; "
            f"rate_scale {scale:.4g} puts the peak at {shape.auto_peak_multiple:g}x capacity",
            flush=True,
        )
    return scale
