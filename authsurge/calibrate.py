"""`--rate-scale auto` and `make demo`: measure the target's sign-in capacity, then size a
surge as a multiple of it.

Capacity search in the spirit of keycloak-benchmark's `--increment`, made quick and
sampling-proof. Short steady probes of the surge's sign-in journeys (and, when asked,
the signed-in population calling the API meanwhile) double their rate while they pass;
after the first failure the search bisects between the last pass and the lowest fail
until they are within `resolution`, and the capacity is the last rate that passed.

A probe is judged on the arrivals it really made, after a warm-up, never on its planned
rate: a Poisson probe of 80 planned arrivals makes 80 +/- 9, and "goodput >= 90% of the
planned rate" failed on that noise alone. It lasts long enough for `min_arrivals` (up to
`max_probe_s`), and fails on a sign of saturation:
- errors: fewer than `min_success` of its sign-ins succeed;
- throughput: sign-ins completed per second (by completion time, in the window shifted
  by the median sign-in time, so a backlog served after it does not count) below
  `min_goodput` of the arrival rate;
- queueing: the median latency of the window's last third exceeds its first third's by
  more than max(100 ms, 2 x the first passing probe's median): a queue that keeps growing;
- latency: the sign-ins' p95 above the scenario's analysis.knee_p95_ms (when set), or
  an SLO of the scenario breached.
A probe that failed on throughput, planned at least 1.25x its goodput, also bounds the
capacity from above: saturated throughout, it completed what the target could do, so
the search never probes far above its goodput again.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from authsurge.errors import BadInput
from authsurge.rundir.meta import CalibrationInfo, CalibrationProbe
from authsurge.rundir.records import SURGE
from authsurge.scenario import Scenario, SteadyShape, TraceShape

log = logging.getLogger(__name__)

LOGIN_GROUPS = {"form_login", "oidc_login"}
QUEUE_GROWTH_MIN_MS = 100.0
OVERLOADED = 1.25  # a probe this far above its goodput was saturated throughout


@dataclass
class Probe:
    rate: float  # planned sign-in journeys a second
    arrivals: int = 0  # journeys that arrived in the judged window
    goodput: float = 0.0  # sign-ins completed ok a second in the window
    success: float = 0.0  # share of the window's arrivals that signed in
    p50_ms: float | None = None
    p95_ms: float | None = None
    passed: bool = False
    why: list[str] = field(default_factory=list)  # the signs of saturation it showed
    breached: tuple[str, ...] = ()  # the SLOs the probe broke (then it did not pass)
    throughput_bound: bool = False  # it failed on errors or throughput: goodput is a ceiling

    def info(self) -> CalibrationProbe:
        return CalibrationProbe(
            rate=round(self.rate, 3),
            arrivals=self.arrivals,
            goodput=round(self.goodput, 3),
            success=round(self.success, 4),
            p95_ms=None if self.p95_ms is None else round(self.p95_ms, 1),
            passed=self.passed,
            why="; ".join(self.why) or None,
        )


@dataclass
class Calibration:
    capacity: float  # sign-in journeys a second (the last probe that passed)
    probes: list[Probe]
    with_population: bool
    given: bool = False  # told (`authsurge demo --capacity`), not measured

    def info(
        self, peak_multiple: float | None = None, rate_scale: float | None = None
    ) -> CalibrationInfo:
        return CalibrationInfo(
            capacity_rps=round(self.capacity, 3),
            probes=[p.info() for p in self.probes],
            with_population=self.with_population,
            peak_multiple=peak_multiple,
            rate_scale=rate_scale,
            given=self.given,
        )


def breached_slos(run_dir: Path) -> tuple[str, ...]:
    """The SLOs (in meta.json) that a run breached, judged by the analysis library."""
    from authsurge.analysis import analyze_run

    with analyze_run(run_dir) as analysis:
        return tuple(s["slo"] for s in analysis.slos if s["passed"] is False)


def login_journeys(scenario: Scenario) -> list[str]:
    """The surge's journeys that sign in (the population's own sign-in journey only when
    the traffic also sends arrivals to it; not those that leave before they sign in)."""
    shape = scenario.traffic.shape
    if isinstance(shape, TraceShape) and shape.columns:
        surge = set(shape.columns.values())
    else:
        mix = scenario.traffic.mix
        surge = {n for n, share in mix.items() if share > 0} if mix else set(scenario.journeys)
    return [
        name
        for name, j in scenario.journeys.items()
        # abandon_after: people who open a page and leave before they sign in
        if LOGIN_GROUPS.intersection(j.steps) and name in surge and j.abandon_after is None
    ]


def _column(tables: list, name: str) -> np.ndarray:
    return np.concatenate([t.column(name).to_numpy(zero_copy_only=False) for t in tables])


def judge_probe(
    run_dir: Path,
    rate: float,
    *,
    warmup_s: float,
    min_success: float = 0.95,
    min_goodput: float = 0.9,
    baseline_p50_ms: float | None = None,
    max_p95_ms: float | None = None,
) -> Probe:
    """Judge one probe from its records: the surge's journey rows (and dropped arrivals)
    whose planned arrival falls after the warm-up (module docstring)."""
    probe = Probe(rate)
    paths = sorted((run_dir / "requests").glob("*.parquet"))
    columns = ["kind", "t_intended", "outcome", "latency_ms", "cohort"]
    tables = [pq.read_table(p, columns=columns) for p in paths]
    tables = [t for t in tables if t.num_rows]
    if not tables:
        probe.why.append("no sign-in arrived")
        return probe
    kind, cohort = _column(tables, "kind"), _column(tables, "cohort")
    keep = ((kind == "journey") | (kind == "dropped")) & (cohort == SURGE)
    t = _column(tables, "t_intended")[keep]
    ok = _column(tables, "outcome")[keep] == "ok"
    latency = _column(tables, "latency_ms")[keep]
    if len(t) == 0:
        probe.why.append("no sign-in arrived")
        return probe
    start, end = float(np.nanmin(t)) + warmup_s, float(np.nanmax(t))
    seconds = max(end - start, 1e-9)
    window = (t >= start) & (t <= end)
    probe.arrivals = int(window.sum())
    if probe.arrivals == 0:
        probe.why.append("no sign-in arrived after the warm-up")
        return probe
    arrival_rate = probe.arrivals / seconds
    done = t + np.nan_to_num(latency, nan=np.inf) / 1000.0
    # completions in the window, shifted by the typical sign-in time: a steady target
    # completes what arrived (a backlog served after the window does not count)
    typical = latency[window & ok]
    shift = float(np.median(typical)) / 1000.0 if len(typical) else 0.0
    probe.goodput = float((ok & (done >= start + shift) & (done <= end + shift)).sum() / seconds)
    probe.success = float(ok[window].mean())
    lat = latency[window]
    lat = lat[np.isfinite(lat)]
    if len(lat):
        probe.p50_ms = float(np.percentile(lat, 50))
        probe.p95_ms = float(np.percentile(lat, 95))
    if probe.success < min_success:
        probe.why.append(f"{1 - probe.success:.0%} of sign-ins failed")
        probe.throughput_bound = True
    shortfall = (arrival_rate - probe.goodput) * seconds  # sign-ins that did not complete
    # and more of them than the edges of a small window explain (2 sigma of the count)
    if probe.goodput < min_goodput * arrival_rate and shortfall > 2 * np.sqrt(probe.arrivals):
        probe.why.append(
            f"completed {probe.goodput:.1f}/s of the {arrival_rate:.1f}/s that arrived"
        )
        probe.throughput_bound = True
    growth = _queue_growth_ms(t[window], latency[window])
    limit = max(QUEUE_GROWTH_MIN_MS, 2 * (baseline_p50_ms or 0.0))
    if growth is not None and growth > limit:
        probe.why.append(f"queueing: latency grew {growth:.0f} ms over the probe")
    if max_p95_ms is not None and probe.p95_ms is not None and probe.p95_ms > max_p95_ms:
        probe.why.append(f"p95 {probe.p95_ms:.0f} ms above {max_p95_ms:.0f} ms")
    probe.passed = not probe.why
    return probe


def _queue_growth_ms(t: np.ndarray, latency: np.ndarray) -> float | None:
    """Median latency of the last third of arrivals minus that of the first third."""
    order = np.argsort(t)
    lat = np.nan_to_num(latency[order], nan=np.inf)  # no answer is the longest wait
    third = len(lat) // 3
    if third < 5:
        return None
    return float(np.median(lat[-third:]) - np.median(lat[:third]))


def probe_scenario(
    scenario: Scenario, names: list[str], rate: float, seconds: float, with_population: bool
) -> Scenario:
    """The scenario of one probe: the surge's sign-in journeys at a steady rate, no
    retries, and the population (without joiners) only when asked."""
    probe = scenario.model_copy(deep=True)
    population = probe.population if with_population else None
    keep = set(names) | ({population.sign_in} if population else set())
    probe.journeys = {n: j for n, j in scenario.journeys.items() if n in keep}
    probe.traffic.shape = SteadyShape(kind="steady", rate=rate)
    probe.traffic.mix = {n: 1.0 for n in names}
    probe.behaviour.retry.share = 0.0
    probe.behaviour.retry.impatient.share = 0.0
    if population is not None:
        population.join_share = 0.0
    probe.population = population
    probe.run.duration_s = seconds
    probe.run.drain_s = 1.0  # the judged window ends with the arrivals
    probe.run.abort_on = []
    return probe


def find_capacity(
    scenario: Scenario,
    *,
    start_rate: float = 2.0,
    growth: float = 2.0,
    resolution: float = 0.08,
    probe_s: float = 6.0,
    max_probe_s: float = 15.0,
    min_arrivals: int = 200,
    warmup_s: float = 1.5,
    max_probes: int = 10,
    min_success: float = 0.95,
    min_goodput: float = 0.9,
    with_population: bool = False,
    workers: int = 1,
    progress: bool = True,
) -> Calibration:
    """Sign-in journeys a second the target sustains (module docstring)."""
    from authsurge import run as runner

    names = login_journeys(scenario)
    if not names:
        raise BadInput("--rate-scale auto needs a journey with form_login or oidc_login steps")
    with_population = with_population and scenario.population is not None
    max_p95 = scenario.analysis.knee_p95_ms
    workdir = Path(tempfile.mkdtemp(prefix="authsurge-calibrate-"))
    passed, failed, rate = 0.0, float("inf"), start_rate
    baseline: float | None = None
    probes: list[Probe] = []
    try:
        for i in range(max_probes):
            # while doubling, far below the capacity, a short probe tells; near it (once a
            # probe failed) enough arrivals that the rule is not judging Poisson noise
            bracketing = failed != float("inf")
            seconds = probe_s
            if bracketing:
                seconds = min(max_probe_s, max(probe_s, warmup_s + min_arrivals / rate))
            s = probe_scenario(scenario, names, rate, seconds, with_population)
            s.run.workers = workers
            result = runner.run(
                runner.RunOptions(
                    scenario=s, out_root=workdir, command="calibration probe", progress=False
                )
            )
            probe = judge_probe(
                result.run_dir,
                rate,
                warmup_s=warmup_s,
                min_success=min_success,
                min_goodput=min_goodput,
                baseline_p50_ms=baseline,
                max_p95_ms=max_p95,
            )
            if probe.passed and scenario.slos:
                probe.breached = breached_slos(result.run_dir)
                probe.why += [f"SLO breached: {b}" for b in probe.breached]
                probe.passed = not probe.breached
            shutil.rmtree(result.run_dir, ignore_errors=True)
            probes.append(probe)
            if progress:
                verdict = "pass" if probe.passed else "FAIL (" + "; ".join(probe.why) + ")"
                p95 = f", p95 {probe.p95_ms:.0f} ms" if probe.p95_ms is not None else ""
                print(
                    f"calibrate: probe {i + 1} at {rate:.1f} sign-ins/s for {seconds:.0f} s: "
                    f"{probe.arrivals} arrived, {probe.goodput:.1f}/s signed in, "
                    f"{probe.success:.0%} ok{p95}: {verdict}",
                    flush=True,
                )
            if not probes[:-1] and probe.arrivals and probe.success == 0:
                raise BadInput(
                    f"calibration: no sign-in succeeded at {rate:.1f}/s ({'; '.join(probe.why)}): "
                    "check the credentials and the scenario's sign-in settings"
                )
            if probe.passed:
                passed = max(passed, rate)
                if baseline is None and probe.p50_ms is not None:
                    baseline = probe.p50_ms
            else:
                failed = min(failed, rate)
                if probe.throughput_bound and passed < probe.goodput < rate / OVERLOADED:
                    # well past the capacity it completed what the target could do: the
                    # capacity is not far above (near it, Poisson lulls waste slots)
                    failed = min(failed, max(probe.goodput * (1 + resolution / 2), passed * 1.01))
            if failed == float("inf"):
                rate *= growth
            elif passed <= 0:
                rate = failed / growth
                if rate < 0.05:
                    break
            elif failed / passed <= 1 + resolution:
                break
            else:
                rate = (passed + failed) / 2
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if passed <= 0:
        last = probes[-1] if probes else None
        last_rate = min(p.rate for p in probes) if probes else start_rate
        why = f" ({'; '.join(last.why)})" if last is not None and last.why else ""
        if last is not None and last.breached:
            why = f" within the scenario's SLOs ({'; '.join(last.breached)} breached)"
        raise BadInput(
            f"calibration: the target did not sustain even {last_rate:.2f} sign-ins/s{why}; "
            "check the target and the scenario's login settings"
        )
    return Calibration(passed, probes, with_population)


def trace_login_peak(scenario: Scenario) -> float:
    """The trace's planned sign-in peak (journeys a second) at rate_scale 1."""
    from authsurge.traffic.shapes import curves_for

    curves = curves_for(scenario, rate_scale=1.0)
    names = [n for n in login_journeys(scenario) if n in curves]
    grid = np.linspace(0, max(c.duration for c in curves.values()), 20_001)
    return float(np.max(sum(curves[n].rate(grid) for n in names))) if names else 0.0


def calibrate_rate_scale(
    scenario: Scenario, *, progress: bool = True
) -> tuple[float, CalibrationInfo]:
    """The trace rate_scale that makes the surge's login peak `auto_peak_multiple` x
    capacity, and what calibration found (for meta.json)."""
    shape = scenario.traffic.shape
    if not isinstance(shape, TraceShape):
        raise BadInput("--rate-scale applies to trace shapes (traffic.shape.kind: trace)")
    peak = trace_login_peak(scenario)  # before minutes of probes
    if peak <= 0:
        raise BadInput("the trace has no login arrivals to scale")
    calibration = find_capacity(scenario, progress=progress)
    scale = shape.auto_peak_multiple * calibration.capacity / peak
    if progress:
        print(
            f"calibrate: sign-in capacity {calibration.capacity:.1f}/s; surge peak {peak:.1f}/s "
            f"at scale 1; rate_scale {scale:.4g} puts the peak at "
            f"{shape.auto_peak_multiple:g}x capacity",
            flush=True,
        )
    return scale, calibration.info(shape.auto_peak_multiple, round(scale, 6))
