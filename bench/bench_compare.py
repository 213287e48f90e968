"""How often `authsurge compare` cries wolf, and what it catches, on real runs (~25 min).

`authsurge compare` labels a step's knee, capacity, goodput and latency percentiles
"worse", "better" or "no detectable change". This benchmark measures both error rates
of that judgement on real step-ramp runs against the embedded target (Django +
django-oauth-toolkit under gunicorn on 127.0.0.1), with a form login -> API -> logout
journey, open model, Poisson arrivals:

1. A/A (false alarms). `--aa-runs` runs (default 8) of one unchanged CPU-bound target
   (PBKDF2 at the default work factor, no planted capacity), every pair i<j compared
   (28 pairs for 8). A *false alarm* is a "worse" or "better" label on any judged
   quantity of a step; reported per label and per step (a pair counts once for a step),
   with the exact one-sided 95% upper bound (Clopper-Pearson). Target: <= 5% per step.
2. A/B (power). A target with a planted login capacity C (`--login-capacity`: a sleeping
   limiter, cheap hashing), against B variants: capacity C*0.9, C*0.8, C*0.6, and C with
   added latency `delay_ms` = 20% of the A runs' login.submit p50 at the lowest (healthy)
   level. Every A run is compared with every B run of a variant: the share of pairs in
   which a regression is found, what found it, and the smallest change caught in >= 80%
   of pairs. The pairs among these A runs are a second A/A data point.

Why it is built this way:

- No pseudo-replication. A comparison is only as good as the replicate it is given: two
  runs against one long-lived target share its database, caches and warm state, and
  their agreement says nothing about a rerun next week. Every run here gets a *fresh*
  target (started and stopped per run) on a *fresh* data dir, a copy of one seeded data
  dir made with SQLite's backup API (migrations are paid once). A and B runs are
  interleaved (A1 B1 A2 B2 ..., the order of the B variants rotating every round), so a
  drift of the machine over the half hour falls on both sides alike.
- Pairs are not independent: with 8 runs, the 28 pairs share runs (a run that happened
  to be odd takes part in 7 pairs). The binomial bounds treat them as independent, so
  they are optimistic; the runs count is the honest sample size.
- No answer depends on the machine's speed. Each target configuration's login capacity
  is measured first (authsurge.calibrate.find_capacity, seeded by the target CPU a
  journey costs in a light probe), and the step ramp is set to span 0.4x..2.4x of it in
  `--levels` levels (default 5 x 8 s in 40 s), so every run crosses the knee. C is a
  share (`--capacity-share`, 0.3) of what the harness and the uncapped cheap-hashing
  target sustain together, so even 2.4 C is well within the harness.
- Every run (and each calibration) has its own harness process (this script, --child),
  as two `authsurge run` invocations would: nothing of one run's harness (its memory,
  its gevent hub, the interpreter's warm caches) is carried into the next.
- Where there are 2+ cores, the target is pinned to CPU 1 and the harness (this process,
  all its threads) to CPU 0 (sched_setaffinity, what taskset does).
- Every run uses the same scenario (same name, same ramp, same arrival seed), as a user
  comparing two releases with one scenario file would.

Budget: a time estimate up front, a progress line per run, the total wall time at the
end; defaults fit 30 minutes on a 2-core machine. `--quick` is a ~3-minute smoke test
of the plumbing (2 A/A runs and one A/B pair of 18 s, short calibration): its numbers
mean nothing.

    python bench/bench_compare.py [--run-s 40] [--aa-runs 8] [--ab-runs 3] [--levels 5]
        [--variants cap-10,cap-20,cap-40,delay20] [--login-capacity C] [--quick]
        [--keep] [--json OUT]

All traffic goes to 127.0.0.1; every target is stopped by its process handle in a
`finally`; every run is bounded by its duration.
"""

from __future__ import annotations

import locust  # noqa: F401 - gevent must patch ssl/socket before anything imports them

import argparse
import json
import logging
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import pyarrow.parquet as pq
from machine import copy_data_dir, cpu_seconds  # bench/machine.py (bench/ is sys.path[0] when run)
from scipy import stats

from authsurge.analysis import RunAnalysis, analyze_run
from authsurge.analysis.compare import BETTER, NOT_JUDGED, WORSE, compare_runs
from authsurge.cpu_affinity import can_pin, pin_process
from authsurge.scenario import Scenario, parse_scenario
from authsurge.target import (
    CLIENT_SECRET_ENV,
    DEFAULT_HASHER_ITERATIONS,
    PASSWORD_ENV,
    TargetOptions,
    TargetProcess,
    start_target,
)

SCENARIO_NAME = "bench_compare"
USERS = 500  # accounts: more than journeys ever in flight (max_concurrency)
MAX_CONCURRENCY = 400
DRAIN_S = 3.0
START_DELAY_S = 0.5
CHEAP_ITERATIONS = 1_000  # capacity mode: the limiter, not PBKDF2, must set the capacity
RAMP_LOW, RAMP_HIGH = 0.4, 2.4  # the ramp spans these multiples of the reference capacity
CPU_CEILING_SHARE = 1.0  # the reference capacity is at least the CPU ceiling the light probe saw
DETECTION_SHARE = 0.8  # "caught" = a regression found in at least this share of pairs
AA_TARGET = 0.05  # false-alarm rate per step
HARNESS_CPU, TARGET_CPU = 0, 1
# first guesses for the up-front estimate; replaced by measurements as the run goes
GUESS_RUN_OVERHEAD_S = 6.0  # target start + harness process start + stop + analysis
GUESS_COMPARE_S = 0.5
STEPS_ORDER = ("login.form", "login.submit", "api.call", "logout")


# --- configuration ---------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    """A B side: the A target with its planted capacity scaled and/or latency added."""

    key: str
    label: str
    capacity_factor: float = 1.0
    delay_share: float = 0.0  # added latency, as a share of the A runs' login.submit p50

    @property
    def is_drop(self) -> bool:
        return self.capacity_factor < 1.0 and self.delay_share == 0.0


VARIANTS = {
    v.key: v
    for v in (
        Variant("cap-10", "login capacity -10%", capacity_factor=0.9),
        Variant("cap-20", "login capacity -20%", capacity_factor=0.8),
        Variant("cap-40", "login capacity -40%", capacity_factor=0.6),
        Variant("delay20", "+20% of login.submit p50 (delay on every request)", delay_share=0.2),
    )
}


@dataclass(frozen=True)
class Setup:
    """One target configuration (what TargetOptions vary here)."""

    name: str
    hasher_iterations: int
    login_capacity: float | None = None
    delay_ms: float = 0.0
    workers: int = 1
    threads: int = 4

    def text(self) -> str:
        parts = [
            f"PBKDF2 {self.hasher_iterations:,}",
            f"{self.workers} worker(s) x {self.threads} threads",
        ]
        if self.login_capacity is not None:
            parts.append(f"login capacity {self.login_capacity:g}/s")
        if self.delay_ms:
            parts.append(f"delay {self.delay_ms:g} ms")
        return ", ".join(parts)


@dataclass(frozen=True)
class Ramp:
    """A step ramp from RAMP_LOW to RAMP_HIGH x capacity in `steps` levels over `run_s`."""

    capacity: float
    steps: int
    run_s: float

    @property
    def start_rate(self) -> float:
        return round(RAMP_LOW * self.capacity, 3)

    @property
    def step_rate(self) -> float:
        return round((RAMP_HIGH - RAMP_LOW) * self.capacity / max(1, self.steps - 1), 3)

    @property
    def step_s(self) -> float:
        return self.run_s / self.steps

    def rates(self) -> list[float]:
        return [round(self.start_rate + i * self.step_rate, 3) for i in range(self.steps)]

    def text(self) -> str:
        return (
            f"{self.steps} levels x {self.step_s:g} s: "
            + ", ".join(f"{r:g}" for r in self.rates())
            + f" journeys/s ({RAMP_LOW:g}-{RAMP_HIGH:g} x {self.capacity:.3g})"
        )


@dataclass
class Plan:
    run_s: float
    levels: int
    aa_runs: int
    ab_runs: int
    variants: list[Variant]
    probe_s: float
    max_probes: int
    light_probe_s: float
    capacity_share: float
    login_capacity: float | None
    cpu_workers: int
    quick: bool

    def ab_run_count(self) -> int:
        return self.ab_runs * (1 + len(self.variants)) if self.variants else 0

    def runs(self) -> int:
        return self.aa_runs + self.ab_run_count()

    def pairs(self) -> int:
        return (
            math.comb(self.aa_runs, 2)
            + math.comb(self.ab_runs, 2) * bool(self.variants)
            + len(self.variants) * self.ab_runs**2
        )

    def calibrations(self) -> int:
        return 1 + (self.login_capacity is None and bool(self.variants))


# --- results ---------------------------------------------------------------------------


@dataclass
class RunRecord:
    tag: str  # "aa-3", "ab-A2", "ab-cap-20-1"
    kind: str  # "aa" | "A" | "B"
    variant: str | None
    setup: Setup
    run_dir: Path | None = None
    analysis: RunAnalysis | None = None
    status: str = ""
    error: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "tag": self.tag,
            "kind": self.kind,
            "variant": self.variant,
            "target": self.setup.text(),
            "run_dir": str(self.run_dir) if self.run_dir else None,
            "status": self.status,
            "error": self.error,
            "timings_s": {k: round(v, 2) for k, v in self.timings.items()},
        }
        if self.analysis is not None:
            knee = self.analysis.knees.get("login.submit")
            out["login_submit_knee"] = knee.to_json() if knee is not None else None
            out["generator_bound_s"] = self.analysis.generator.get("bound_s")
            journeys = self.analysis.journeys
            out["journeys"] = {
                n: {"requests": j["requests"], "ok": j["ok"]} for n, j in journeys.items()
            }
        return out


@dataclass
class PairResult:
    base: str
    candidate: str
    group: str  # "aa-cpu" | "aa-capacity" | variant key
    labelled: dict[str, dict[str, list[str]]] = field(
        default_factory=dict
    )  # step -> label -> quantities
    judged: dict[str, int] = field(default_factory=dict)  # step -> quantities with a verdict
    regressions: list[str] = field(default_factory=list)
    # log(candidate / base) of each judged latency percentile at a matched level
    latency_log_ratios: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0
    error: str = ""

    def has(self, step: str | None, label: str) -> bool:
        """A quantity of `step` (any step when None) carries `label` ('either': worse or better)."""
        steps = [step] if step is not None else list(self.labelled)
        want = (WORSE, BETTER) if label == "either" else (label,)
        return any(self.labelled.get(s, {}).get(w) for s in steps for w in want)

    def to_json(self) -> dict[str, Any]:
        return {
            "base": self.base,
            "candidate": self.candidate,
            "group": self.group,
            "labelled": {s: v for s, v in self.labelled.items() if any(v.values())},
            "judged": self.judged,
            "regressions": self.regressions,
            "latency_log_ratios": {k: [round(x, 4) for x in v] for k, v in self.latency_log_ratios.items()},
            "seconds": round(self.seconds, 2),
            "error": self.error,
        }


# --- machine: pinning, seeding, targets --------------------------------------------------


class Bench:
    """Work dir, seed, pinning, counters and the clock of one benchmark run."""

    def __init__(self, plan: Plan, work: Path, pin: bool) -> None:
        self.plan = plan
        self.work = work
        self.pin = pin
        self.seed = work / "seed"
        self.started = time.monotonic()
        self.run_seconds: list[float] = []
        self.compare_seconds: list[float] = []
        self.runs_done = 0
        self.pairs_done = 0
        self.targets_started = 0

    def make_seed(self) -> None:
        """One fresh target pays for the migrations and users; every run copies its data dir."""
        opts = TargetOptions(
            port=0,
            users=USERS,
            workers=1,
            threads=2,
            data_dir=self.seed,
            hasher_iterations=DEFAULT_HASHER_ITERATIONS,
            startup_timeout_s=60,
        )
        target = start_target(opts, log=lambda line: None)
        target.stop()

    def start(self, setup: Setup, tag: str) -> TargetProcess:
        """A target of `setup` on a fresh copy of the seed, pinned to TARGET_CPU."""
        self.targets_started += 1
        data_dir = self.work / "targets" / f"{self.targets_started:03d}-{tag}"
        copy_data_dir(self.seed, data_dir)
        opts = TargetOptions(
            port=0,
            users=USERS,
            workers=setup.workers,
            threads=setup.threads,
            hasher_iterations=setup.hasher_iterations,
            login_capacity=setup.login_capacity,
            delay_ms=setup.delay_ms,
            data_dir=data_dir,
            startup_timeout_s=60,
        )
        target = start_target(opts, log=lambda line: None)
        if self.pin:
            for pid in target.pids():
                pin_process(pid, {TARGET_CPU})
        return target

    def stop(self, target: TargetProcess) -> None:
        target.stop()
        shutil.rmtree(target.data_dir, ignore_errors=True)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def eta_s(self) -> float:
        per_run = _mean(
            self.run_seconds, self.plan.run_s + DRAIN_S + START_DELAY_S + GUESS_RUN_OVERHEAD_S
        )
        per_pair = _mean(self.compare_seconds, GUESS_COMPARE_S)
        return (self.plan.runs() - self.runs_done) * per_run + (
            self.plan.pairs() - self.pairs_done
        ) * per_pair


def _mean(values: list[float], default: float) -> float:
    return sum(values) / len(values) if values else default


# --- scenario, calibration --------------------------------------------------------------


def scenario_for(base_url: str, shape_yaml: str, run_s: float, work: Path) -> Scenario:
    text = textwrap.dedent(f"""
        name: {SCENARIO_NAME}
        description: bench_compare - form login, API call, logout on a calibrated step ramp
        target: {{base_url: "{base_url}"}}
        credentials: {{pattern: "user{{n:04d}}", first: 1, count: {USERS}, password_env: {PASSWORD_ENV}}}
        journeys:
          web_login: {{steps: [form_login, api, form_logout]}}
        traffic:
          model: open
          shape: {shape_yaml}
          arrivals: poisson
          seed: 1
          max_concurrency: {MAX_CONCURRENCY}
        analysis: {{window_s: 1, settle_s: 2, goodput_share: 0.9, knee_p95_ms: 1000}}
        run: {{duration_s: {run_s:g}, drain_s: {DRAIN_S:g}, workers: 1, max_journeys: 100000}}
    """)
    return parse_scenario(text, work / f"{SCENARIO_NAME}.yaml")


def ramp_yaml(ramp: Ramp) -> str:
    return (
        f"{{kind: step_ramp, start_rate: {ramp.start_rate:g}, step_rate: {ramp.step_rate:g}, "
        f"step_s: {ramp.step_s:g}, steps: {ramp.steps}}}"
    )


def ok_journeys(run_dir: Path) -> int:
    count = 0
    for path in sorted((run_dir / "requests").glob("*.parquet")):
        table = pq.read_table(path, columns=["kind", "outcome"]).to_pydict()
        count += sum(
            k == "journey" and o == "ok"
            for k, o in zip(table["kind"], table["outcome"], strict=True)
        )
    return count


def calibrate(bench: Bench, setup: Setup) -> float:
    """Login journeys/s the target sustains with this harness (in a child process: a light
    probe measures the target CPU a journey costs, its reciprocal seeds find_capacity)."""
    plan = bench.plan
    target = bench.start(setup, f"calibrate-{setup.name}")
    try:
        cores = len(os.sched_getaffinity(target.pid)) if hasattr(os, "sched_getaffinity") else 1
        spec = {
            "mode": "calibrate",
            "base_url": target.base_url,
            "target_pids": target.pids(),
            "cores": cores,
            "light_probe_s": plan.light_probe_s,
            "probe_s": plan.probe_s,
            "max_probes": plan.max_probes,
            "work": str(bench.work / "calibration"),
        }
        bound = 60 + plan.light_probe_s + plan.max_probes * (plan.probe_s + 30)
        result = in_child(bench, spec, f"calibrate-{setup.name}", bound)
    finally:
        bench.stop(target)
    # Short probes under-read a CPU-bound target (seen: 5.6/s found where the target's CPU
    # allows 15/s and the ramp never reached a knee), so the CPU ceiling the light probe
    # measured is a floor for the reference: the ramp must cross the knee in every run.
    found, ceiling = float(result["capacity"]), float(result["estimate"])
    reference = max(found, CPU_CEILING_SHARE * ceiling)
    print(
        f"  reference capacity {reference:.2f}/s: the larger of the probes' {found:.2f}/s and "
        f"{CPU_CEILING_SHARE:g} x the CPU ceiling {ceiling:.2f}/s",
        flush=True,
    )
    return reference


def in_child(bench: Bench, spec: dict[str, Any], tag: str, timeout_s: float) -> dict[str, Any]:
    """Run `spec` in a fresh Python process (this script, --child); its JSON answer.

    Every load run gets its own harness process, as two `authsurge run` invocations would:
    nothing of one run's harness (its Locust event listeners, greenlets, buffers) is left
    in the next. The child inherits this process's CPU affinity (the harness core)."""
    folder = bench.work / "child"
    folder.mkdir(parents=True, exist_ok=True)
    spec_path, out_path = folder / f"{tag}.json", folder / f"{tag}.out.json"
    spec_path.write_text(json.dumps({**spec, "out": str(out_path)}))
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", str(spec_path)],
        timeout=timeout_s,
        check=False,
    )
    if proc.returncode != 0 or not out_path.exists():
        raise RuntimeError(f"the child process for {tag} failed (exit {proc.returncode})")
    answer: dict[str, Any] = json.loads(out_path.read_text())
    return answer


def child_main(spec_path: Path) -> int:
    """--child: one load run or one calibration, in this fresh process."""
    logging.basicConfig(level=logging.WARNING, format="    %(levelname)s %(name)s: %(message)s")
    spec = json.loads(spec_path.read_text())
    answer = child_calibrate(spec) if spec["mode"] == "calibrate" else child_run(spec)
    Path(spec["out"]).write_text(json.dumps(answer))
    return 0


def child_run(spec: dict[str, Any]) -> dict[str, Any]:
    from authsurge import run as runner

    work = Path(spec["work"])
    scenario = scenario_for(spec["base_url"], spec["shape"], spec["run_s"], work)
    result = runner.run(
        runner.RunOptions(
            scenario=scenario,
            out_root=work,
            progress=False,
            target_pids=spec["target_pids"],
            command=f"bench_compare {spec['tag']}",
        )
    )
    return {"run_dir": str(result.run_dir), "status": result.status}


def child_calibrate(spec: dict[str, Any]) -> dict[str, Any]:
    from authsurge.calibrate import find_capacity

    rate, pids = 3.0, spec["target_pids"]
    before = cpu_seconds(pids)
    light = child_run(
        {
            **spec,
            "shape": f"{{kind: steady, rate: {rate:g}}}",
            "run_s": spec["light_probe_s"],
            "tag": "light probe",
        }
    )
    cpu = cpu_seconds(pids) - before
    ok = ok_journeys(Path(light["run_dir"]))
    estimate = min(500.0, max(1.0, spec["cores"] * ok / cpu)) if cpu > 0 and ok else 2 * rate
    print(
        f"  light probe: {ok} journeys ok at {rate:g}/s, target CPU {1000 * cpu / max(ok, 1):.1f} ms "
        f"a journey on {spec['cores']} core(s): at most ~{estimate:.1f} journeys/s; searching "
        f"from {0.5 * estimate:.1f}/s",
        flush=True,
    )
    scenario = scenario_for(spec["base_url"], "{kind: steady, rate: 1}", 1.0, Path(spec["work"]))
    capacity = find_capacity(
        scenario,
        start_rate=round(0.5 * estimate, 2),
        probe_s=spec["probe_s"],
        max_probes=spec["max_probes"],
        progress=True,
    )
    return {"capacity": capacity, "light_ok": ok, "light_cpu_s": cpu, "estimate": estimate}


# --- one run ----------------------------------------------------------------------------


def one_run(bench: Bench, record: RunRecord, ramp: Ramp, title: str) -> RunRecord:
    """A fresh target, one ramp run, the target stopped, the run analysed."""
    number = bench.runs_done + 1
    print(f"[{number}/{bench.plan.runs()}] {title} ({record.setup.text()}) ...", flush=True)
    t0 = time.monotonic()
    target = bench.start(record.setup, record.tag)
    t_started = time.monotonic()
    try:
        spec = {
            "mode": "run",
            "base_url": target.base_url,
            "target_pids": target.pids(),
            "shape": ramp_yaml(ramp),
            "run_s": ramp.run_s,
            "tag": record.tag,
            "work": str(bench.work / "runs" / record.tag),
        }
        result = in_child(bench, spec, record.tag, ramp.run_s + DRAIN_S + 120)
        record.run_dir, record.status = Path(result["run_dir"]), result["status"]
    finally:
        t_ran = time.monotonic()
        bench.stop(target)
    t_stopped = time.monotonic()
    try:
        record.analysis = analyze_run(record.run_dir)
    except Exception as exc:  # a run that cannot be analysed is reported and left out
        record.error = f"analysis failed: {type(exc).__name__}: {exc}"
    t_done = time.monotonic()
    record.timings = {
        "start": t_started - t0,
        "run": t_ran - t_started,
        "stop": t_stopped - t_ran,
        "analysis": t_done - t_stopped,
        "total": t_done - t0,
    }
    bench.runs_done += 1
    bench.run_seconds.append(t_done - t0)
    print(f"    {run_line(record)}; ETA {bench.eta_s() / 60:.1f} min", flush=True)
    return record


def run_line(record: RunRecord) -> str:
    t = record.timings
    timing = (
        f"{t['total']:.0f} s (start {t['start']:.1f}, run {t['run']:.1f}, stop {t['stop']:.1f}, "
        f"analysis {t['analysis']:.1f})"
    )
    if record.analysis is None:
        return f"status {record.status}, {record.error}; {timing}"
    knee = record.analysis.knees.get("login.submit")
    if knee is None:
        where = "no login.submit step"
    elif knee.reached:
        where = (
            f"login.submit knee at {knee.offered:.1f} req/s, capacity {knee.capacity or 0:.1f}/s"
        )
    else:
        where = f"login.submit: no knee (healthy up to {knee.max_offered:.1f} req/s)"
    bound = record.analysis.generator.get("bound_s")
    harness = f", harness saturated {bound:.0f} s" if bound else ""
    return f"{record.status}: {where}{harness}; {timing}"


def healthy_p50(analysis: RunAnalysis, step: str = "login.submit") -> tuple[float, float]:
    """(p50 at the lowest ramp level, whole-run p50) of a step, in ms."""
    entry = analysis.steps[step]
    curve = entry.get("curve") or []
    low = curve[0].get("p50") if curve else None
    return float(low if low is not None else entry["p50"]), float(entry["p50"])


# --- comparing --------------------------------------------------------------------------


def compare_pair(bench: Bench, base: RunRecord, cand: RunRecord, group: str) -> PairResult:
    pair = PairResult(base.tag, cand.tag, group)
    if base.analysis is None or cand.analysis is None:
        pair.error = "a run has no analysis"
        bench.pairs_done += 1
        return pair
    started = time.monotonic()
    try:
        comparison = compare_runs(base.analysis, cand.analysis)
    except Exception as exc:  # reported, never worked around: the comparison is what is measured
        pair.error = f"{type(exc).__name__}: {exc}"
        print(
            f"    compare {base.tag} vs {cand.tag} FAILED: {pair.error}\n"
            + textwrap.indent(traceback.format_exc(limit=6), "      "),
            flush=True,
        )
    else:
        for name, step in comparison.steps.items():
            labels: dict[str, list[str]] = {WORSE: [], BETTER: []}
            judged = 0
            for what, metric in step.metrics():
                if metric.label in labels:
                    labels[metric.label].append(what)
                if (
                    metric.label != NOT_JUDGED
                    and metric.ci_low is not None
                    and metric.ci_high is not None
                ):
                    judged += 1
            pair.labelled[name] = labels
            pair.judged[name] = judged
            for level in step.levels:
                for key, metric in level.metrics.items():
                    if key != "goodput" and metric.label != NOT_JUDGED and metric.change is not None:
                        pair.latency_log_ratios.setdefault(key, []).append(math.log1p(metric.change))
        pair.regressions = list(comparison.regressions)
    pair.seconds = time.monotonic() - started
    bench.pairs_done += 1
    bench.compare_seconds.append(pair.seconds)
    return pair


def run_to_run_spread(pairs: list[PairResult]) -> dict[str, dict[str, float]]:
    """How far a latency percentile moves between two runs of one release: the RMS of its
    log ratios over every judged level of every A/A pair (it includes the sampling noise
    of a level, so it overstates the run-to-run part a little: the safe side)."""
    out = {}
    for key in ("p50", "p95", "p99"):
        values = [x for p in pairs for x in p.latency_log_ratios.get(key, [])]
        if values:
            out[key] = {"rms": math.sqrt(sum(x * x for x in values) / len(values)), "n": len(values)}
    return out


def quantity_kind(what: str) -> str:
    return what.split(" at ")[0]


# --- the experiments --------------------------------------------------------------------


def run_aa(bench: Bench, ramp: Ramp, setup: Setup) -> tuple[list[RunRecord], list[PairResult]]:
    runs: list[RunRecord] = []
    pairs: list[PairResult] = []
    for i in range(bench.plan.aa_runs):
        record = one_run(
            bench, RunRecord(f"aa-{i + 1}", "aa", None, setup), ramp, f"A/A run {i + 1}"
        )
        for earlier in runs:
            pairs.append(compare_pair(bench, earlier, record, "aa-cpu"))
        runs.append(record)
        if len(runs) > 1:
            print(
                f"    compared with {len(runs) - 1} earlier run(s): {aa_tally(pairs)}", flush=True
            )
    return runs, pairs


def aa_tally(pairs: list[PairResult]) -> str:
    ok = [p for p in pairs if not p.error]
    worse = sum(p.has(None, WORSE) for p in ok)
    better = sum(p.has(None, BETTER) for p in ok)
    errors = len(pairs) - len(ok)
    return f"{worse} worse, {better} better of {len(ok)} pairs so far" + (
        f", {errors} FAILED" if errors else ""
    )


def run_ab(
    bench: Bench, ramp: Ramp, a_setup: Setup
) -> tuple[list[RunRecord], list[PairResult], dict[str, Any]]:
    """Rounds of A, then each B variant (order rotating per round); pairs as runs arrive."""
    plan = bench.plan
    runs: list[RunRecord] = []
    pairs: list[PairResult] = []
    a_runs: list[RunRecord] = []
    b_runs: dict[str, list[RunRecord]] = {v.key: [] for v in plan.variants}
    delay_info: dict[str, Any] = {}
    for r in range(plan.ab_runs):
        a = one_run(
            bench, RunRecord(f"ab-A{r + 1}", "A", None, a_setup), ramp, f"A/B round {r + 1}: A run"
        )
        runs.append(a)
        for earlier in a_runs:
            pairs.append(compare_pair(bench, earlier, a, "aa-capacity"))
        for key, bs in b_runs.items():
            pairs += [compare_pair(bench, a, b, key) for b in bs]
        a_runs.append(a)
        if not delay_info and a.analysis is not None and "login.submit" in a.analysis.steps:
            low, whole = healthy_p50(a.analysis)
            delay_info = {"from_run": a.tag, "p50_lowest_level_ms": low, "p50_whole_run_ms": whole}
            print(
                f"    login.submit p50 {low:.1f} ms at the lowest level ({whole:.1f} ms over the "
                "whole run): latency variants add a share of the lowest-level p50",
                flush=True,
            )
        order = plan.variants[r % len(plan.variants) :] + plan.variants[: r % len(plan.variants)]
        for v in order:
            setup = variant_setup(a_setup, v, delay_info)
            b = one_run(
                bench,
                RunRecord(f"ab-{v.key}-{r + 1}", "B", v.key, setup),
                ramp,
                f"A/B round {r + 1}: B run, {v.label}",
            )
            runs.append(b)
            pairs += [compare_pair(bench, ar, b, v.key) for ar in a_runs]
            b_runs[v.key].append(b)
            caught = [p for p in pairs if p.group == v.key and p.regressions]
            total = [p for p in pairs if p.group == v.key and not p.error]
            print(
                f"    {v.key}: regression found in {len(caught)}/{len(total)} pairs so far",
                flush=True,
            )
    return runs, pairs, delay_info


def variant_setup(a: Setup, v: Variant, delay_info: dict[str, Any]) -> Setup:
    capacity = round((a.login_capacity or 0) * v.capacity_factor, 3) or None
    delay = 0.0
    if v.delay_share:
        if not delay_info:
            raise RuntimeError("the latency variant needs an analysed A run (none so far)")
        delay = round(v.delay_share * delay_info["p50_lowest_level_ms"], 1)
    return Setup(f"B-{v.key}", a.hasher_iterations, capacity, delay, a.workers, a.threads)


# --- statistics and tables --------------------------------------------------------------


def upper_bound(k: int, n: int, level: float = 0.95) -> float:
    """Exact one-sided upper confidence bound of a binomial rate (Clopper-Pearson)."""
    if n == 0:
        return 1.0
    return 1.0 if k >= n else float(stats.beta.ppf(level, k + 1, n - k))


def lower_bound(k: int, n: int, level: float = 0.95) -> float:
    if n == 0 or k == 0:
        return 0.0
    return float(stats.beta.ppf(1 - level, k, n - k + 1))


def fraction(k: int, n: int) -> str:
    return f"{k}/{n} ({100 * k / n:.1f}%)" if n else "0/0"


def steps_of(pairs: list[PairResult]) -> list[str]:
    seen = {s for p in pairs for s in p.labelled}
    return [s for s in STEPS_ORDER if s in seen] + sorted(seen - set(STEPS_ORDER))


def false_alarms(pairs: list[PairResult]) -> dict[str, Any]:
    """Per step and over all steps: pairs with a worse / better / either label, with bounds."""
    ok = [p for p in pairs if not p.error]
    n = len(ok)
    out: dict[str, Any] = {"pairs": n, "failed_pairs": len(pairs) - n, "steps": {}}
    for step in [*steps_of(ok), None]:
        row: dict[str, Any] = {}
        for label in (WORSE, BETTER, "either"):
            k = sum(p.has(step, label) for p in ok)
            row[label] = {
                "k": k,
                "n": n,
                "rate": k / n if n else None,
                "upper95": upper_bound(k, n),
            }
        kinds: Counter[str] = Counter()
        for p in ok:
            for s in [step] if step else list(p.labelled):
                for label in (WORSE, BETTER):
                    kinds.update(
                        f"{quantity_kind(w)} {label}" for w in p.labelled.get(s, {}).get(label, [])
                    )
        row["quantities"] = dict(kinds.most_common())
        row["judged_per_pair"] = (
            sum(p.judged.get(step, 0) if step else sum(p.judged.values()) for p in ok) / n
            if n
            else None
        )
        out["steps"][step or "any step"] = row
    per_step = [
        r["either"]["rate"]
        for s, r in out["steps"].items()
        if s != "any step" and r["either"]["rate"] is not None
    ]
    out["worst_step_rate"] = max(per_step) if per_step else None
    return out


def aa_table(fa: dict[str, Any], title: str) -> str:
    lines = [
        f"**{title}** ({fa['pairs']} pairs"
        + (f", {fa['failed_pairs']} failed" if fa["failed_pairs"] else "")
        + ")",
        "",
        "| step | worse | better | false alarms (either) | 95% upper bound | quantities judged per pair | labelled |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for step, row in fa["steps"].items():
        w, b, e = row[WORSE], row[BETTER], row["either"]
        judged = f"{row['judged_per_pair']:.1f}" if row["judged_per_pair"] is not None else ""
        labelled = ", ".join(f"{k} x{v}" for k, v in row["quantities"].items())
        lines.append(
            f"| {step} | {fraction(w['k'], w['n'])} (<= {100 * w['upper95']:.1f}%) | "
            f"{fraction(b['k'], b['n'])} (<= {100 * b['upper95']:.1f}%) | {fraction(e['k'], e['n'])} | "
            f"{100 * e['upper95']:.1f}% | {judged} | {labelled} |"
        )
    return "\n".join(lines)


def detection(pairs: list[PairResult], variants: list[Variant]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for v in variants:
        ok = [p for p in pairs if p.group == v.key and not p.error]
        n, k = len(ok), sum(bool(p.regressions) for p in ok)
        found: Counter[str] = Counter()
        for p in ok:  # once per pair and step/quantity
            found.update(
                {f"{r.split(': ')[0]}: {quantity_kind(r.split(': ', 1)[1])}" for r in p.regressions}
            )
        out[v.key] = {
            "label": v.label,
            "pairs": n,
            "failed_pairs": len([p for p in pairs if p.group == v.key]) - n,
            "caught": k,
            "share": k / n if n else None,
            "lower95": lower_bound(k, n),
            "caught_by": dict(found.most_common()),
            "better_labels": sum(p.has(None, BETTER) for p in ok),
        }
    drops = sorted((v for v in variants if v.is_drop), key=lambda v: 1 - v.capacity_factor)
    smallest = next((v for v in drops if (out[v.key]["share"] or 0) >= DETECTION_SHARE), None)
    out["smallest_drop_caught"] = round(100 * (1 - smallest.capacity_factor)) if smallest else None
    return out


def ab_table(det: dict[str, Any], variants: list[Variant], planted: dict[str, str]) -> str:
    lines = [
        "| B variant | planted | pairs | regression found | 95% lower bound | found by (pairs) | pairs with a 'better' label |",
        "|---|---|---:|---:|---:|---|---:|",
    ]
    for v in variants:
        d = det[v.key]
        found = ", ".join(f"{k} ({n})" for k, n in list(d["caught_by"].items())[:4]) or "-"
        lines.append(
            f"| {v.label} | {planted[v.key]} | {d['pairs']} | {fraction(d['caught'], d['pairs'])} | "
            f"{100 * d['lower95']:.0f}% | {found} | {d['better_labels']} |"
        )
    smallest = det.get("smallest_drop_caught")
    lines += [
        "",
        f"Smallest capacity drop caught in >= {DETECTION_SHARE:.0%} of pairs: "
        + (f"{smallest}%" if smallest is not None else "none of those tried"),
    ]
    return "\n".join(lines)


# --- output -----------------------------------------------------------------------------


def row(metric: str, value: Any, unit: str, limit: float | None = None) -> dict[str, Any]:
    """One row in bench/run_all.py's format; `limit`: the value must not exceed it."""
    return {
        "metric": metric,
        "value": value,
        "unit": unit,
        "target": f"<= {limit:g}" if limit is not None else "",
        "meets_target": value <= limit if limit is not None and value is not None else None,
    }


def percent(share: float | None) -> float | None:
    return round(100 * share, 1) if share is not None else None


def json_rows(
    aa: dict[str, Any],
    aa_cap: dict[str, Any] | None,
    det: dict[str, Any] | None,
    variants: list[Variant],
    wall_s: float,
) -> list[dict[str, Any]]:
    target = 100 * AA_TARGET
    rows = [
        row(
            f"A/A false-alarm rate per step, worst step (CPU-bound target, {aa['pairs']} pairs)",
            percent(aa["worst_step_rate"]),
            "%",
            target,
        )
    ]
    for label in (WORSE, BETTER):
        cell = aa["steps"]["any step"][label]
        rows.append(
            row(
                f"A/A pairs with a '{label}' label on any step "
                f"(95% upper bound {100 * cell['upper95']:.1f}%)",
                percent(cell["rate"]),
                "%",
            )
        )
    if aa_cap is not None and aa_cap["pairs"]:
        rows.append(
            row(
                "A/A false-alarm rate per step, worst step "
                f"(capacity-mode A runs, {aa_cap['pairs']} pairs)",
                percent(aa_cap["worst_step_rate"]),
                "%",
                target,
            )
        )
    if det is not None:
        for v in variants:
            d = det[v.key]
            rows.append(
                row(
                    f"A/B regression found: {v.label} ({d['pairs']} pairs)",
                    percent(d["share"]),
                    "%",
                )
            )
        if any(v.is_drop for v in variants):
            rows.append(
                row(
                    f"smallest capacity drop caught in >= {DETECTION_SHARE:.0%} of pairs",
                    det["smallest_drop_caught"],
                    "%",
                )
            )
    rows.append(row("wall time", round(wall_s), "s", 1800))
    return rows


def estimate_text(plan: Plan) -> tuple[float, str]:
    per_run = plan.run_s + DRAIN_S + START_DELAY_S + GUESS_RUN_OVERHEAD_S
    per_probe = plan.probe_s + 2.0 + START_DELAY_S + 1.5
    calib = plan.calibrations() * (6.0 + plan.light_probe_s + 3.0 + plan.max_probes * per_probe)
    total = 5.0 + calib + plan.runs() * per_run + plan.pairs() * GUESS_COMPARE_S
    text = (
        f"estimate: ~{total / 60:.0f} min = seed target ~5 s + {plan.calibrations()} calibration(s) "
        f"~{calib:.0f} s + {plan.runs()} runs x ~{per_run:.0f} s + {plan.pairs()} comparisons x "
        f"~{GUESS_COMPARE_S:g} s"
    )
    return total, text


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, Plan]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--run-s", type=float, default=None, help="length of every run (default 40; --quick 18)"
    )
    parser.add_argument(
        "--levels", type=int, default=None, help="ramp levels per run (default 5; --quick 3)"
    )
    parser.add_argument("--aa-runs", type=int, default=None, help="A/A runs (default 8; --quick 2)")
    parser.add_argument(
        "--ab-runs",
        type=int,
        default=None,
        help="A runs, and B runs per variant (default 3; --quick 1)",
    )
    parser.add_argument(
        "--variants",
        default=None,
        help=f"B variants, comma-separated of {','.join(VARIANTS)} (default all; --quick delay20; "
        "'none' skips the A/B part)",
    )
    parser.add_argument(
        "--login-capacity",
        type=float,
        default=None,
        help="planted capacity C of the A runs (default: --capacity-share x the measured capacity "
        "of the uncapped cheap-hashing target)",
    )
    parser.add_argument("--capacity-share", type=float, default=0.3)
    parser.add_argument(
        "--cpu-workers", type=int, default=1, help="gunicorn workers of the CPU-bound target"
    )
    parser.add_argument(
        "--no-pin", action="store_true", help="do not pin the target and the harness to cores"
    )
    parser.add_argument("--quick", action="store_true", help="~3-minute smoke test of the plumbing")
    parser.add_argument(
        "--keep", action="store_true", help="keep the run directories (printed at the end)"
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    q = args.quick
    keys = args.variants or ("delay20" if q else ",".join(VARIANTS))
    unknown = [k for k in keys.split(",") if k and k != "none" and k not in VARIANTS]
    if unknown:
        parser.error(f"--variants: unknown {', '.join(unknown)} (known: {', '.join(VARIANTS)})")
    plan = Plan(
        run_s=args.run_s or (18.0 if q else 40.0),
        levels=args.levels or (3 if q else 5),
        aa_runs=args.aa_runs if args.aa_runs is not None else (2 if q else 8),
        ab_runs=args.ab_runs if args.ab_runs is not None else (1 if q else 3),
        variants=[VARIANTS[k] for k in keys.split(",") if k in VARIANTS],
        probe_s=3.0 if q else 6.0,
        max_probes=3 if q else 5,
        light_probe_s=3.0 if q else 5.0,
        capacity_share=args.capacity_share,
        login_capacity=args.login_capacity,
        cpu_workers=args.cpu_workers,
        quick=q,
    )
    if plan.aa_runs < 2:
        parser.error("--aa-runs must be at least 2 (pairs)")
    if plan.levels < 2 or plan.run_s / plan.levels < 6:
        parser.error(
            "every level needs >= 6 s (settle 2 s + 3 steady windows of 1 s + 1): lower --levels"
        )
    return args, plan


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"] and len(argv) == 2:
        return child_main(Path(argv[1]))
    args, plan = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="    %(levelname)s %(name)s: %(message)s")
    # bench values, never a real secret from the caller's environment
    os.environ[PASSWORD_ENV] = "bench-compare-password"
    os.environ[CLIENT_SECRET_ENV] = "bench-compare-client-secret"
    pin = can_pin() and not args.no_pin
    if pin:
        pin_process(os.getpid(), {HARNESS_CPU})
    work = Path(tempfile.mkdtemp(prefix="authsurge-bench-compare-"))
    bench = Bench(plan, work, pin)
    load_before = os.getloadavg()
    total, text = estimate_text(plan)
    print(
        f"bench_compare{' --quick (smoke test: the numbers mean nothing)' if plan.quick else ''}: "
        f"{plan.aa_runs} A/A runs + {plan.ab_run_count()} A/B runs of {plan.run_s:g} s, "
        f"{plan.pairs()} comparisons",
        flush=True,
    )
    print(text + ("  (over 30 min: lower --aa-runs/--ab-runs)" if total > 1800 else ""), flush=True)
    print(
        (
            "pinning: target on CPU 1, harness (this process) on CPU 0 (sched_setaffinity, as taskset does)"
            if pin
            else "pinning: off (fewer than 2 cores, or --no-pin)"
        )
        + f"; load average {load_before[0]:.2f}; work dir {work}",
        flush=True,
    )
    failed = False
    try:
        out = measure(bench, plan)
    except BaseException:
        failed = True
        print(
            f"bench_compare failed after {bench.elapsed():.0f} s; runs kept in {work}", flush=True
        )
        raise
    finally:
        if not failed and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    wall = bench.elapsed()
    load_after = os.getloadavg()
    out["rows"] = json_rows(
        out["aa"], out.get("aa_capacity"), out.get("detection"), plan.variants, wall
    )
    out["wall_s"] = round(wall, 1)
    out["load_average_1min"] = {
        "before": round(load_before[0], 2),
        "after": round(load_after[0], 2),
    }
    out["machine"] = {
        "cpus": psutil.cpu_count(),
        "python": platform.python_version(),
        "pinned": pin,
    }
    print(
        f"\ntotal wall time {wall / 60:.1f} min ({wall:.0f} s); load average {load_before[0]:.2f} before, "
        f"{load_after[0]:.2f} after" + (f"; runs kept in {work}" if args.keep else ""),
        flush=True,
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2, default=str) + "\n")
    errors = [p for p in out["pairs"] if p["error"]] + [r for r in out["runs"] if r["error"]]
    return 1 if errors else 0


def measure(bench: Bench, plan: Plan) -> dict[str, Any]:
    print("seeding a data dir (migrations and users, once) ...", flush=True)
    bench.make_seed()
    cpu_setup = Setup("cpu", DEFAULT_HASHER_ITERATIONS, workers=plan.cpu_workers)
    print(f"calibrating the CPU-bound target ({cpu_setup.text()}) ...", flush=True)
    cpu_capacity = calibrate(bench, cpu_setup)
    cpu_ramp = Ramp(cpu_capacity, plan.levels, plan.run_s)
    print(f"  capacity {cpu_capacity:.2f} journeys/s -> ramp {cpu_ramp.text()}", flush=True)
    aa_runs, aa_pairs = run_aa(bench, cpu_ramp, cpu_setup)
    aa = false_alarms(aa_pairs)
    spread = run_to_run_spread(aa_pairs)
    out: dict[str, Any] = {
        "benchmark": "compare",
        "aa": aa,
        "config": {
            "run_s": plan.run_s,
            "levels": plan.levels,
            "aa_runs": plan.aa_runs,
            "ab_runs": plan.ab_runs,
            "variants": [v.key for v in plan.variants],
            "quick": plan.quick,
            "cpu_target": cpu_setup.text(),
            "cpu_capacity": cpu_capacity,
            "cpu_ramp": cpu_ramp.rates(),
        },
        "run_to_run": spread,
    }
    runs, pairs = list(aa_runs), list(aa_pairs)
    tables = [aa_table(aa, f"A/A, CPU-bound target ({cpu_setup.text()}), {len(aa_runs)} runs")]
    if plan.variants:
        capacity = plan.login_capacity
        if capacity is None:
            cheap = Setup("cheap", CHEAP_ITERATIONS)
            print(f"calibrating the uncapped cheap-hashing target ({cheap.text()}) ...", flush=True)
            natural = calibrate(bench, cheap)
            capacity = round(plan.capacity_share * natural, 1)
            print(
                f"  harness + target sustain {natural:.2f} journeys/s; C = {plan.capacity_share:g} x that "
                f"= {capacity:g}/s ({RAMP_HIGH:g} C = {RAMP_HIGH * capacity / natural:.0%} of it)",
                flush=True,
            )
            out["config"]["cheap_natural_capacity"] = natural
        a_setup = Setup("A", CHEAP_ITERATIONS, login_capacity=capacity)
        ramp = Ramp(capacity, plan.levels, plan.run_s)
        print(f"  A/B ramp (every A and B run): {ramp.text()}", flush=True)
        ab_runs, ab_pairs, delay_info = run_ab(bench, ramp, a_setup)
        runs += ab_runs
        pairs += ab_pairs
        aa_cap = false_alarms([p for p in ab_pairs if p.group == "aa-capacity"])
        det = detection(ab_pairs, plan.variants)
        planted = {v.key: planted_text(a_setup, v, delay_info) for v in plan.variants}
        out.update({"aa_capacity": aa_cap, "detection": det, "delay": delay_info})
        out["config"].update(
            {
                "login_capacity": capacity,
                "ab_ramp": ramp.rates(),
                "a_target": a_setup.text(),
                "planted": planted,
            }
        )
        tables.append(
            "**A/B detection** (capacity-mode target, A: "
            + a_setup.text()
            + f"; {plan.ab_runs} A runs, {plan.ab_runs} B runs per variant, every A x B pair)\n\n"
            + ab_table(det, plan.variants, planted)
        )
        if aa_cap["pairs"]:
            tables.append(
                aa_table(aa_cap, f"A/A among the capacity-mode A runs ({plan.ab_runs} runs)")
            )
    out["runs"] = [r.summary() for r in runs]
    out["pairs"] = [p.to_json() for p in pairs]
    out["timing"] = {
        "run_s_mean": round(_mean(bench.run_seconds, 0), 1),
        "compare_s_mean": round(_mean(bench.compare_seconds, 0), 2),
    }
    tables.append(
        "**Run-to-run latency spread** (A/A pairs of the CPU-bound target; RMS of "
        "log(candidate / base) over judged levels: what `compare --run-to-run` takes)\n\n"
        + " | ".join(f"{k} {v['rms']:.3f} ({v['n']} levels)" for k, v in spread.items())
    )
    print("\n" + "\n\n".join(tables), flush=True)
    print(
        "\nA false alarm is a 'worse' or 'better' label on any judged quantity of a step (knee, capacity, "
        "goodput and p50/p95/p99 at matched levels); a pair counts once per step. Bounds: exact one-sided "
        "95% (Clopper-Pearson). Pairs share runs, so they are not independent and the bounds are optimistic.",
        flush=True,
    )
    print(
        f"per run {out['timing']['run_s_mean']:.0f} s on average (target start + run + stop + analysis), "
        f"per comparison {out['timing']['compare_s_mean']:.1f} s",
        flush=True,
    )
    return out


def planted_text(a: Setup, v: Variant, delay_info: dict[str, Any]) -> str:
    b = variant_setup(a, v, delay_info) if (delay_info or not v.delay_share) else None
    if b is None:
        return "(no A run analysed)"
    parts = []
    if v.capacity_factor != 1.0:
        parts.append(f"C {a.login_capacity:g} -> {b.login_capacity:g}/s")
    if b.delay_ms:
        parts.append(
            f"+{b.delay_ms:g} ms a request ({v.delay_share:.0%} of {delay_info['p50_lowest_level_ms']:.1f} ms)"
        )
    return ", ".join(parts)


if __name__ == "__main__":
    sys.exit(main())
