"""Compare two runs of one scenario: is the candidate better, worse, or not detectably different?

    from authsurge.analysis.compare import compare_dirs
    comparison = compare_dirs("runs/base", "runs/candidate")
    comparison.regressions          # [] when nothing got detectably worse
    comparison.to_json()            # schema below

What is compared, per request step:

- knee: the offered load (the step's own req/s) where the step stops coping
  (authsurge.analysis.knee), and the capacity it sustains there. Both come from the
  analysis itself; their uncertainty from a stratified bootstrap: the windows of each
  curve point are resampled (with replacement, within the point), the curve points are
  rebuilt from the resampled windows and ``find_knee`` is run again, in both runs. When a
  run has no knee, its healthy-up-to load stands in (a lower bound, said in the note).
- at matched load: for each load level present in both runs (step-ramp levels with the
  same planned rate; for continuous shapes, common bins of the step's offered load), the
  step's goodput (as a share of the load offered to it in the same windows, so arrival
  noise is not a change) and its latency p50 / p95 / p99. A level is a *matched load*
  for a step only when the step's offered load agrees within the match tolerance [10%] (retries or
  a failing upstream step change the load a step sees at the same surge; that level is
  then shown, not judged), and it is not judged when the step is past its knee in both
  runs (both saturated: the knee and capacity say it better). Latency is judged only where
  the step is before its knee in both runs: past a knee latency is queueing, which swings
  by tens of percent with a few percent of load, so there goodput carries the comparison.
  For continuous shapes latency is shown but never judged: a bin of offered load pools
  one-second windows from different phases of the run (rising, falling, queue building),
  and that mix differs between runs; compare step-ramp runs to judge latency.

The rule (CompareRule; defaults in brackets), for each metric:

    change = candidate / base - 1
    CI     = percentile bootstrap interval of the change (scipy.stats.bootstrap) at the
             confidence level [0.95]; windows are the resampling unit (records inside a
             window are not independent: they share the target's queue). For the
             matched-load metrics the level is Bonferroni-adjusted over the step's matched
             levels (1 - (1 - confidence) / m), so a 10-level ramp does not give ten
             chances of a false alarm.
    a change is *better* or *worse* when the CI excludes 0, |change| >= min_effect [0.10]
    (so a trivial shift is never flagged, however many records there are), and, for
    latency, the Mann-Whitney U rank test (scipy.stats.mannwhitneyu, two-sided) on the
    level's records has p < 1 - (adjusted) confidence. Otherwise: *no detectable change*.

The knee has one more condition: its bootstrap cannot move the load levels, and a knee is
only known to lie between the offered loads of its last passing and first failing levels
(its bracket). A knee change is only called better or worse when the two runs' brackets do
not overlap.

Direction: more capacity, a later knee and more goodput are better; more latency is worse.
A step is worse when any of its metrics is worse, better when some are better and none
worse. The comparison finds a regression when any step is worse (`authsurge compare`
exits 1 then, with --fail-on regression).

Run-to-run variation: the bootstrap sees the variation inside each run, not between runs
(a warmer cache, a noisy neighbour). For latency, that variation shows as the scatter of
the step's level changes, and a random-effects model widens every level's interval by it
(_widen_for_run_to_run); latency where the step queues (p50 over QUEUEING_FACTOR x its
lowest, near a knee not yet reached) is shown, not judged. For the knee, capacity and
goodput, min_effect is the guard. `make bench-compare` measures the false-alarm rate of
this rule on real A/A runs.

Input: each run's digest (authsurge.analysis.digest, written by analyze), not its raw
records; a run without a fresh digest is analysed first.

Limits: the rank test gates the percentiles, so a change confined to the far tail
without any shift in the bulk of the distribution is reported as no detectable change.
Records per level are subsampled to max_records (drawn at random, so every window keeps
about the same share) for the percentile bootstrap; the point estimates use every
latency the digest holds.
"""

from __future__ import annotations

import inspect
import math
import warnings as _warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from authsurge.analysis import RunAnalysis, analyze_run
from authsurge.analysis.digest import RunDigest, read_digest, run_digest
from authsurge.analysis.knee import (
    MIN_POINT_REQUESTS,
    Criterion,
    criteria_for,
    find_knee,
    knee_rule,
)
from authsurge.analysis.resample import LATENCY_COLUMNS, WindowCounts, resampled_curves
from authsurge.analysis.rundir_reader import analysis_config, parse_slos
from authsurge.errors import BadInput

COMPARE_FORMAT_VERSION = 1
BETTER, WORSE, SAME = "better", "worse", "no detectable change"
NOT_JUDGED = "not judged"
LATENCY_METRICS = ("p50", "p95", "p99")
_QUANTILES = {"p50": 0.50, "p90": 0.90, "p95": 0.95, "p99": 0.99}
LEVEL_MATCH = 0.01  # planned level rates within 1% are the same level
MIN_WINDOWS = 3  # a level (or bin) needs this many steady windows in each run
MAX_BINS = 10
# latency over this multiple of a step's lowest p50 is mostly waiting in a queue (an M/M/1
# queue doubles its latency at 50% utilisation): shown, but not judged
QUEUEING_FACTOR = 2.0
# How far each compared quantity moves between two runs of one unchanged release: the RMS
# of log(run B / run A) over 28 A/A pairs of 8 fresh-target runs of the embedded target
# (PBKDF2, one core), measured by bench/bench_compare.py on 2026-11-29 (README: compare).
# One run per side cannot see this variation, so it is added to every interval.
RUN_TO_RUN = {
    "knee": 0.19,
    "capacity": 0.22,
    "goodput": 0.04,
    "p50": 0.34,
    "p95": 0.53,
    "p99": 0.39,
}

Progress = Callable[[str], None]


@dataclass(frozen=True)
class CompareRule:
    """How sure, and how big, a difference must be before it is called better or worse."""

    confidence: float = 0.95
    """Confidence level of each bootstrap interval (before the Bonferroni adjustment)."""
    min_effect: float = 0.10
    """Smallest relative change worth reporting (0.10 = 10%)."""
    match_tolerance: float = 0.10
    """A level is a matched load for a step when its offered loads agree within this share."""
    run_to_run: dict[str, float] = field(default_factory=lambda: dict(RUN_TO_RUN))
    """How much each quantity (knee, capacity, goodput, p50, p95, p99) moves between two
    runs of one unchanged release (the RMS of the log ratio): part of every interval. One
    run per side cannot measure it, so it is measured on replicated runs (`make
    bench-compare` prints it for your machine) and given here; 0 trusts a single run."""
    n_resamples: int = 2000
    """Bootstrap resamples for the matched-load metrics."""
    n_resamples_knee: int = 1000
    """Bootstrap resamples for the knee and capacity (each rebuilds both curves)."""
    max_records: int = 4000
    """Records per run and level used by the percentile bootstrap (subsampled evenly)."""
    seed: int = 20240601
    """The bootstrap's random seed: the same runs give the same comparison."""

    def __post_init__(self) -> None:
        if not 0.5 <= self.confidence < 1:
            raise BadInput(f"--confidence must be in [0.5, 1), got {self.confidence}")
        if not 0 <= self.min_effect < 1:
            raise BadInput(f"--min-effect must be in [0, 1), got {self.min_effect}")
        unknown = set(self.run_to_run) - set(RUN_TO_RUN)
        if unknown:
            raise BadInput(
                f"--run-to-run: unknown quantity {', '.join(sorted(unknown))} "
                f"(known: {', '.join(RUN_TO_RUN)})"
            )
        if not all(0 <= v < 5 for v in self.run_to_run.values()):
            raise BadInput(f"--run-to-run values must be in [0, 5), got {self.run_to_run}")
        if not 0 < self.match_tolerance < 1:
            raise BadInput(f"match tolerance must be in (0, 1), got {self.match_tolerance}")

    def spread(self, quantity: str) -> float:
        """The run-to-run spread of a quantity (0 when not given)."""
        return float(self.run_to_run.get(quantity, 0.0))

    def text(self) -> str:
        return (
            f"better/worse when the {self.confidence:.0%} bootstrap interval of the relative "
            f"change excludes 0 (Bonferroni-adjusted over matched levels), the change is at "
            f"least {self.min_effect:.0%}, and for latency the Mann-Whitney U test agrees; "
            f"every interval includes the run-to-run spread ("
            + ", ".join(f"{k} {v:.0%}" for k, v in self.run_to_run.items())
            + f"); matched load: the same level, offered load within {self.match_tolerance:.0%}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "confidence": self.confidence,
            "min_effect": self.min_effect,
            "match_tolerance": self.match_tolerance,
            "n_resamples": self.n_resamples,
            "n_resamples_knee": self.n_resamples_knee,
            "max_records": self.max_records,
            "seed": self.seed,
            "run_to_run": dict(self.run_to_run),
            "text": self.text(),
        }


@dataclass
class Metric:
    """One compared number: both values, the relative change with its interval, the label."""

    name: str
    unit: str
    base: float | None
    candidate: float | None
    change: float | None = None  # candidate / base - 1
    ci_low: float | None = None
    ci_high: float | None = None
    confidence: float | None = None  # the (adjusted) level of this interval
    p_value: float | None = None  # Mann-Whitney U, latency only
    label: str = SAME
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "unit": self.unit,
            "base": self.base,
            "candidate": self.candidate,
            "change": self.change,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "confidence": self.confidence,
            "p_value": self.p_value,
            "label": self.label,
            "note": self.note,
        }


@dataclass
class Level:
    """One load level (or offered-load bin) of one step in both runs."""

    label: str  # "20/s" (planned level) or "40-50 req/s" (bin)
    rate: float | None  # planned level rate (journey arrivals/s), None for bins
    base_offered: float
    candidate_offered: float
    matched: bool
    judged: bool
    note: str = ""
    metrics: dict[str, Metric] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "rate": self.rate,
            "base_offered": self.base_offered,
            "candidate_offered": self.candidate_offered,
            "matched": self.matched,
            "judged": self.judged,
            "note": self.note,
            "metrics": {k: m.to_json() for k, m in self.metrics.items()},
        }


@dataclass
class StepComparison:
    name: str
    knee: Metric
    capacity: Metric
    levels: list[Level]
    label: str = SAME
    note: str = ""
    knee_reached: tuple[bool, bool] = (True, True)  # (base, candidate)
    knee_brackets: tuple[tuple[float, float], tuple[float, float]] = ((0, 0), (0, 0))

    def metrics(self) -> list[tuple[str, Metric]]:
        out = [("knee", self.knee), ("capacity", self.capacity)]
        for level in self.levels:
            out += [(f"{m.name} at {level.label}", m) for m in level.metrics.values()]
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "note": self.note,
            "knee": self.knee.to_json(),
            "capacity": self.capacity.to_json(),
            "knee_reached": {"base": self.knee_reached[0], "candidate": self.knee_reached[1]},
            "knee_bracket": {
                "base": list(self.knee_brackets[0]),
                "candidate": list(self.knee_brackets[1]),
            },
            "levels_judged": sum(1 for lv in self.levels if lv.judged),
            "levels": [lv.to_json() for lv in self.levels],
        }


@dataclass
class Comparison:
    base: RunDigest
    candidate: RunDigest
    rule: CompareRule
    matching: str  # "levels" or "offered_bins"
    steps: dict[str, StepComparison]
    forced: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def regressions(self) -> list[str]:
        """'step: metric' for every metric labelled worse."""
        return [
            f"{name}: {what}"
            for name, step in self.steps.items()
            for what, m in step.metrics()
            if m.label == WORSE
        ]

    @property
    def improvements(self) -> list[str]:
        return [
            f"{name}: {what}"
            for name, step in self.steps.items()
            for what, m in step.metrics()
            if m.label == BETTER
        ]

    @property
    def verdict(self) -> str:
        if self.regressions:
            return "regression"
        return "improvement" if self.improvements else SAME

    def to_json(self) -> dict[str, Any]:
        from authsurge.analysis import _clean

        return _clean(
            {
                "format_version": COMPARE_FORMAT_VERSION,
                "base": _run_info(self.base),
                "candidate": _run_info(self.candidate),
                "rule": self.rule.to_json(),
                "matching": self.matching,
                "forced": self.forced,
                "verdict": self.verdict,
                "regressions": self.regressions,
                "improvements": self.improvements,
                "steps": {n: s.to_json() for n, s in self.steps.items()},
                "warnings": list(self.warnings),
            }
        )


def _run_info(a: RunDigest) -> dict[str, Any]:
    target = a.meta.get("target") or {}
    target = target if isinstance(target, dict) else {}
    return {
        "id": a.meta.get("run_id") or a.run_dir.name,
        "path": str(a.run_dir),
        "scenario": a.meta.get("scenario"),
        "target": target.get("base_url"),
        "version": target.get("version"),
        "git_commit": target.get("git_commit"),
        "started_at": a.meta.get("started_at"),
    }


# --- entry points ----------------------------------------------------------------------


def compare_dirs(
    base_dir: str | Path,
    candidate_dir: str | Path,
    rule: CompareRule | None = None,
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> Comparison:
    """Compare two run directories (BadInput for different scenarios).

    An analysed run is read from its digest (authsurge.analysis.digest, written by
    `analyze`); a run without a fresh one is analysed here and its digest written.
    """
    from authsurge.analysis.rundir_reader import (
        read_meta,  # meta.json as a dict, through rundir's reader
    )

    base_meta, cand_meta = read_meta(Path(base_dir)), read_meta(Path(candidate_dir))
    check_comparable(base_meta, cand_meta, force)  # before minutes of analysis, not after

    def tagged(tag: str) -> Progress | None:
        return (lambda stage: progress(f"{tag} {stage}")) if progress else None

    base = load_digest(base_dir, progress=tagged("base:"))
    candidate = load_digest(candidate_dir, progress=tagged("candidate:"))
    return compare_runs(base, candidate, rule, force=force, progress=progress)


def load_digest(run_dir: str | Path, *, progress: Progress | None = None) -> RunDigest:
    """The run's digest; the run is analysed (and the digest written) when it has none."""
    digest = read_digest(run_dir)
    if digest is None:
        analysis = analyze_run(run_dir, progress=progress)
        analysis.write_json()  # writes the digest too: the next compare reads it
        digest = read_digest(run_dir) or run_digest(analysis)
    elif progress:
        progress("digest")
    return digest


def check_comparable(
    base_meta: dict[str, Any], cand_meta: dict[str, Any], force: bool
) -> list[str]:
    """BadInput when the scenarios differ (unless forced); warnings for lesser differences."""
    a, b = base_meta.get("scenario"), cand_meta.get("scenario")
    if a != b and not force:
        raise BadInput(
            f"the runs are of different scenarios ({a!r} vs {b!r}): their loads differ, "
            "so a difference would not mean the release changed; pass --force to "
            "compare anyway"
        )
    out = []
    if a != b:
        out.append(f"different scenarios ({a!r} vs {b!r}), compared because of --force")
    if (base_meta.get("analysis") or {}) != (cand_meta.get("analysis") or {}):
        out.append(
            "the runs use different analysis settings (window_s, settle_s, knee rule): "
            "knees are judged by each run's own settings"
        )
    if (base_meta.get("slos") or []) != (cand_meta.get("slos") or []):
        out.append(
            "the runs have different SLOs: an SLO on a step is part of its knee rule, so "
            "a knee set by an SLO in one run only is not a like-for-like comparison"
        )
    return out


def compare_runs(
    base: RunDigest | RunAnalysis,
    candidate: RunDigest | RunAnalysis,
    rule: CompareRule | None = None,
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> Comparison:
    """Compare two analysed runs step by step (see the module docstring for the rule)."""
    base = base if isinstance(base, RunDigest) else run_digest(base)
    candidate = candidate if isinstance(candidate, RunDigest) else run_digest(candidate)
    rule = rule or CompareRule()
    notes = check_comparable(base.meta, candidate.meta, force)
    rng = np.random.default_rng(rule.seed)
    matching = (
        "levels"
        if base.doc["curves"]["mode"] == candidate.doc["curves"]["mode"] == "steady_levels"
        else "offered_bins"
    )
    steps: dict[str, StepComparison] = {}
    for name in base.steps:
        if name not in candidate.steps:
            notes.append(f"{name} is only in the base run; not compared")
            continue
        if progress:
            progress(f"bootstrap {name}")
        steps[name] = _compare_step(
            name, _StepData(base, name), _StepData(candidate, name), matching, rule, rng
        )
    notes += [
        f"{n} is only in the candidate run; not compared"
        for n in candidate.steps
        if n not in base.steps
    ]
    return Comparison(
        base,
        candidate,
        rule,
        matching,
        steps,
        force and base.meta.get("scenario") != candidate.meta.get("scenario"),
        notes,
    )


# --- one step's data ---------------------------------------------------------------------


class _StepData:
    """A step's per-window counts and its records' latencies, grouped by completion window."""

    def __init__(self, digest: RunDigest, name: str) -> None:
        step = digest.steps[name]
        config, slos = analysis_config(digest.meta), parse_slos(digest.meta)
        self.name = name
        self.window_s = digest.window_s
        self.offered = step.counts["offered"]
        self.ok = step.counts["ok"]
        self.completed = step.counts["completed"]
        self.arrivals_rps = step.counts["arrivals_rps"]
        self.counts = WindowCounts(
            self.offered,
            self.ok,
            self.completed,
            self.arrivals_rps,
            step.counts["concurrency"],
            self.window_s,
        )
        self.points = step.points
        self.membership = step.membership  # row of self.points pooling each window, or -1
        self.knee = step.knee
        self.criteria: list[Criterion] = criteria_for(name, config, slos)
        self.rule = knee_rule(config, slos)
        self.rec_window = step.rec_window
        self.rec_latency = step.rec_latency
        self.bounds = np.searchsorted(self.rec_window, np.arange(digest.n_windows + 1))

    def point_windows(self, row: int) -> np.ndarray:
        return np.flatnonzero(self.membership == row)

    def used_windows(self) -> np.ndarray:
        return np.flatnonzero(self.membership >= 0)

    def records(self, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Latencies of the records completing in `windows`, and each one's position in it."""
        parts = [self.rec_latency[self.bounds[w] : self.bounds[w + 1]] for w in windows]
        pos = np.repeat(np.arange(len(windows)), [len(p) for p in parts])
        return (np.concatenate(parts) if parts else np.empty(0)), pos

    def past_knee(self, windows: np.ndarray) -> bool:
        """Do these windows belong to a curve point at or after the knee?"""
        k = self.knee
        if not k.reached or k.first_fail_point is None:
            return False
        rows = set(self.membership[windows].tolist()) - {-1}
        return bool(rows) and min(rows) >= k.first_fail_point

    def queueing(self, windows: np.ndarray) -> bool:
        """Is the step queueing in these windows: its p50 over QUEUEING_FACTOR x its lowest
        p50 of the run (the service time, near enough)? Near a knee not yet reached, latency
        is mostly waiting, and it differs several-fold between two runs of one release."""
        rows = sorted(set(self.membership[windows].tolist()) - {-1})
        p50 = self.points["p50"].to_numpy(dtype=float)
        judged = self.points["completed"].to_numpy(dtype=float) >= MIN_POINT_REQUESTS
        if not rows or not np.isfinite(p50[judged]).any():
            return False
        return bool(np.nanmax(p50[rows]) > QUEUEING_FACTOR * np.nanmin(p50[judged]))

    def before_knee(self, windows: np.ndarray) -> bool:
        """Do all these windows belong to curve points before the knee (healthy ones)?"""
        k = self.knee
        if not k.reached or k.first_fail_point is None:
            return True
        rows = set(self.membership[windows].tolist()) - {-1}
        return bool(rows) and max(rows) < k.first_fail_point


# --- per step -------------------------------------------------------------------------


def _compare_step(
    name: str,
    base: _StepData,
    cand: _StepData,
    matching: str,
    rule: CompareRule,
    rng: np.random.Generator,
) -> StepComparison:
    knee, capacity = _compare_knees(base, cand, rule, rng)
    cells = (
        _matched_levels(base, cand, rule)
        if matching == "levels"
        else _offered_bins(base, cand, rule)
    )
    judged = [c for c in cells if c.judged]
    adjusted = 1.0 - (1.0 - rule.confidence) / max(1, len(judged))
    levels = []
    for cell in cells:
        level = cell.level
        if cell.judged:
            healthy = base.before_knee(cell.base_windows) and cand.before_knee(cell.cand_windows)
            queueing = base.queueing(cell.base_windows) or cand.queueing(cell.cand_windows)
            why = ""
            if not healthy:
                why = "past the knee in one run: latency there is queueing; not judged"
            elif queueing:
                why = (
                    f"p50 over {QUEUEING_FACTOR:g}x the step's lowest in a run: latency there "
                    "is queueing, which swings between runs; not judged"
                )
            if matching == "offered_bins":
                why = (
                    "continuous load: a bin pools windows from different phases of the run, "
                    "so its latency is shown, not judged (compare step ramps for that)"
                )
            level.metrics = _compare_level(
                base,
                cand,
                cell.base_windows,
                cell.cand_windows,
                adjusted,
                rule,
                rng,
                latency_not_judged=why,
            )
        levels.append(level)
    for metric in LATENCY_METRICS:
        _widen_for_run_to_run([lv.metrics[metric] for lv in levels if lv.judged], rule)
    out = StepComparison(
        name,
        knee,
        capacity,
        levels,
        knee_reached=(base.knee.reached, cand.knee.reached),
        knee_brackets=(knee_bracket(base), knee_bracket(cand)),
    )
    labels = [m.label for _, m in out.metrics()]
    out.label = WORSE if WORSE in labels else BETTER if BETTER in labels else SAME
    if not judged:
        out.note = "no matched load level to judge; knee and capacity only"
    return out


@dataclass
class _Cell:
    level: Level
    base_windows: np.ndarray
    cand_windows: np.ndarray

    @property
    def judged(self) -> bool:
        return self.level.judged


def _cell(
    label: str,
    rate: float | None,
    base: _StepData,
    cand: _StepData,
    wb: np.ndarray,
    wc: np.ndarray,
    rule: CompareRule,
) -> _Cell:
    ob = base.offered[wb].sum() / (len(wb) * base.window_s) if len(wb) else math.nan
    oc = cand.offered[wc].sum() / (len(wc) * cand.window_s) if len(wc) else math.nan
    level = Level(label, rate, float(ob), float(oc), matched=False, judged=False)
    if len(wb) < MIN_WINDOWS or len(wc) < MIN_WINDOWS:
        level.note = f"fewer than {MIN_WINDOWS} steady windows in a run"
    elif not (ob > 0 and oc > 0):
        level.note = "no load offered to this step in a run"
    elif abs(oc / ob - 1) > rule.match_tolerance:
        level.note = f"offered load differs by {oc / ob - 1:+.0%}: not a matched load"
    elif base.past_knee(wb) and cand.past_knee(wc):
        level.matched = True
        level.note = "past the knee in both runs: judged by the knee and capacity"
    else:
        level.matched = level.judged = True
    return _Cell(level, wb, wc)


def _matched_levels(base: _StepData, cand: _StepData, rule: CompareRule) -> list[_Cell]:
    """Step-ramp levels with the same planned rate in both runs, in the base run's order."""
    out = []
    cand_rates = cand.points["level_rate"].to_numpy(dtype=float)
    used: set[int] = set()
    for row, rate in enumerate(base.points["level_rate"].to_numpy(dtype=float)):
        if not math.isfinite(rate):
            continue
        near = np.flatnonzero(np.abs(cand_rates - rate) <= LEVEL_MATCH * max(abs(rate), 1e-9))
        close = [int(c) for c in near if int(c) not in used]
        if not close:
            continue
        used.add(close[0])
        out.append(
            _cell(
                f"{rate:g}/s",
                float(rate),
                base,
                cand,
                base.point_windows(row),
                cand.point_windows(close[0]),
                rule,
            )
        )
    return out


def _offered_bins(base: _StepData, cand: _StepData, rule: CompareRule) -> list[_Cell]:
    """Continuous shapes: the windows each analysis used, re-binned on common offered-load edges."""
    wb, wc = base.used_windows(), cand.used_windows()
    if not len(wb) or not len(wc):
        return []
    ob, oc = base.offered[wb] / base.window_s, cand.offered[wc] / cand.window_s
    lo, hi = max(ob.min(), oc.min()), min(ob.max(), oc.max())
    if not hi > lo:
        return []
    edges = np.linspace(lo, hi, MAX_BINS + 1)
    # bin i holds [edge i, edge i+1); the last bin also its upper edge
    bin_b = np.minimum(np.searchsorted(edges, ob, side="right") - 1, MAX_BINS - 1)
    bin_c = np.minimum(np.searchsorted(edges, oc, side="right") - 1, MAX_BINS - 1)
    out = []
    for i in range(MAX_BINS):
        in_b = wb[(bin_b == i) & (ob <= hi)]
        in_c = wc[(bin_c == i) & (oc <= hi)]
        if len(in_b) >= MIN_WINDOWS and len(in_c) >= MIN_WINDOWS:
            out.append(
                _cell(
                    f"{edges[i]:.4g}-{edges[i + 1]:.4g} req/s", None, base, cand, in_b, in_c, rule
                )
            )
    return out


# --- matched-load metrics -------------------------------------------------------------


def _compare_level(
    base: _StepData,
    cand: _StepData,
    wb: np.ndarray,
    wc: np.ndarray,
    confidence: float,
    rule: CompareRule,
    rng: np.random.Generator,
    *,
    latency_not_judged: str = "",
) -> dict[str, Metric]:
    """Goodput and latency percentiles of one matched level; latency_not_judged: why not."""
    lat_b, pos_b = base.records(wb)
    lat_c, pos_c = cand.records(wc)
    sub_b = _subsample(lat_b, pos_b, rule.max_records, rng)
    sub_c = _subsample(lat_c, pos_c, rule.max_records, rng)
    ok_b, off_b, ok_c, off_c = base.ok[wb], base.offered[wb], cand.ok[wc], cand.offered[wc]

    def statistic(ib: np.ndarray, ic: np.ndarray, axis: int = -1) -> np.ndarray:
        ib, ic = np.asarray(ib, dtype=np.int64), np.asarray(ic, dtype=np.int64)
        share_b = ok_b[ib].sum(axis=-1) / off_b[ib].sum(axis=-1)
        share_c = ok_c[ic].sum(axis=-1) / off_c[ic].sum(axis=-1)
        rows = [share_c / share_b - 1]
        qs = [_QUANTILES[m] for m in LATENCY_METRICS]
        qb = _resampled_quantiles(sub_b, ib, len(wb), qs)
        qc = _resampled_quantiles(sub_c, ic, len(wc), qs)
        rows += [qc[j] / qb[j] - 1 for j in range(len(qs))]
        return np.stack(rows)

    low, high = _bootstrap(
        statistic,
        (np.arange(len(wb)), np.arange(len(wc))),
        confidence,
        rule.n_resamples,
        rng,
        vectorized=True,
    )
    w_b, w_c = len(wb) * base.window_s, len(wc) * cand.window_s
    share_b, share_c = ok_b.sum() / off_b.sum(), ok_c.sum() / off_c.sum()
    out = {
        "goodput": Metric(
            "goodput",
            "req/s",
            float(ok_b.sum() / w_b),
            float(ok_c.sum() / w_c),
            _ratio(share_c, share_b),
            low[0],
            high[0],
            confidence,
            note="compared as goodput / offered load of the same windows",
        )
    }
    _add_run_to_run(out["goodput"], rule.spread("goodput"))
    out["goodput"].label = _label(out["goodput"], rule, higher_is_better=True)
    p_value = None
    if lat_b.size and lat_c.size:
        p_value = float(
            stats.mannwhitneyu(lat_c, lat_b, alternative="two-sided", method="asymptotic").pvalue
        )
    for j, metric in enumerate(LATENCY_METRICS, start=1):
        q = _QUANTILES[metric]
        vb = float(np.quantile(lat_b, q)) if lat_b.size else None
        vc = float(np.quantile(lat_c, q)) if lat_c.size else None
        m = Metric(metric, "ms", vb, vc, _ratio(vc, vb), low[j], high[j], confidence, p_value)
        m.label = _latency_label(m, rule)
        if latency_not_judged:
            # e.g. past the knee latency is queueing: it swings with a few % of load, so it
            # is shown, and the change is judged by the knee, capacity and goodput instead
            m.label = NOT_JUDGED
            m.note = latency_not_judged
        out[metric] = m
    return out


def _log_interval(m: Metric) -> tuple[float, float, float, float] | None:
    """(z, log change, log low, log high) of a metric's interval; None when it has none."""
    if (
        m.change is None
        or m.ci_low is None
        or m.ci_high is None
        or m.confidence is None
        or min(m.change, m.ci_low) <= -1  # log ratios need a ratio above 0
    ):
        return None
    z = float(stats.norm.ppf(0.5 + m.confidence / 2))
    return z, math.log1p(m.change), math.log1p(m.ci_low), math.log1p(m.ci_high)


def _widen(m: Metric, extra_variance: float, why: str) -> None:
    """Widen a metric's interval (on the log scale) by an extra variance, in place."""
    interval = _log_interval(m)
    if interval is None or extra_variance <= 0:
        return
    z, _, low, high = interval
    se = max((high - low) / (2 * z), 1e-6)  # a zero-width interval: a change with no noise
    grow = z * (math.sqrt(se**2 + extra_variance) - se)
    m.ci_low, m.ci_high = math.expm1(low - grow), math.expm1(high + grow)
    m.note = _join(m.note, f"interval widened by {why}")


def _add_run_to_run(m: Metric, spread: float) -> None:
    """Widen one interval by the run-to-run spread of its quantity."""
    _widen(m, spread**2, f"the run-to-run spread {spread:.0%}")


def _latency_label(m: Metric, rule: CompareRule) -> str:
    """better/worse/same for a latency percentile: its interval and the rank test agree."""
    gate = m.p_value is not None and m.confidence is not None and m.p_value < 1 - m.confidence
    return _label(m, rule, higher_is_better=False, gate=gate)


def _widen_for_run_to_run(cells: list[Metric], rule: CompareRule) -> None:
    """Widen a step's latency intervals by what differs between runs; relabel.

    A level's bootstrap resamples windows inside each run, so its interval knows nothing of
    what differs from one run to the next (the machine, the database's state, the caches).
    Two parts of that variation are modelled, on log ratios:

    - the shift of a whole run (one run 15% slower at every level): one run per side cannot
      see it, so its size is given (CompareRule.run_to_run, measured on replicated runs by
      `make bench-compare`) and added to every latency interval;
    - the scatter across a step's levels: with no real change, the levels' changes scatter
      by more than their intervals allow. A random-effects model (DerSimonian-Laird)
      estimates that extra variance (tau^2) from the spread and adds it too. A real change
      that moves every level alike leaves tau^2 near 0.

    Goodput is left alone: its change is zero before a knee and grows past it, so its
    levels differ by design, not by noise.
    """
    judged = [(m, iv) for m in cells if m.label != NOT_JUDGED and (iv := _log_interval(m))]
    if not judged:
        return
    z, d, lo, hi = (np.array([iv[k] for _, iv in judged]) for k in range(4))
    run = np.array([rule.spread(m.name) for m, _ in judged]) ** 2
    w = 1 / (np.maximum((hi - lo) / (2 * z), 1e-6) ** 2 + run)
    tau2 = 0.0
    if len(judged) >= 2:
        q = float(np.sum(w * (d - np.sum(w * d) / np.sum(w)) ** 2))
        scale = float(np.sum(w) - np.sum(w**2) / np.sum(w))
        tau2 = max(0.0, (q - (len(judged) - 1)) / scale) if scale > 0 else 0.0
    for (m, _), run_var in zip(judged, run, strict=True):
        parts = [f"the run-to-run spread {np.sqrt(run_var):.0%}"] if run_var > 0 else []
        if tau2 > 0:
            parts.append(f"the scatter across levels {np.sqrt(tau2):.0%}")
        if parts:
            _widen(m, float(run_var) + tau2, " and ".join(parts))
            m.label = _latency_label(m, rule)


def _subsample(
    lat: np.ndarray, pos: np.ndarray, limit: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """At most `limit` records, the same share from every window; sorted by latency."""
    if lat.size > limit:
        keep = np.sort(rng.choice(lat.size, size=limit, replace=False))
        lat, pos = lat[keep], pos[keep]
    order = np.argsort(lat, kind="stable")
    return lat[order], pos[order]


def _resampled_quantiles(
    sample: tuple[np.ndarray, np.ndarray], draws: np.ndarray, n_windows: int, qs: list[float]
) -> list[np.ndarray]:
    """Quantiles of the records of the drawn windows (a window drawn twice counts twice).

    Linear interpolation on the pooled sample, as numpy's default (and the analysis) does:
    with every window drawn once this is np.quantile of the records.
    """
    values, pos = sample
    draws = np.atleast_2d(draws)
    batch = draws.shape[0]
    if values.size == 0:
        return [np.full(batch, np.nan) for _ in qs]
    rows = np.repeat(np.arange(batch) * n_windows, draws.shape[1])
    counts = np.bincount(rows + draws.ravel(), minlength=batch * n_windows).reshape(
        batch, n_windows
    )
    weights = counts[:, pos]  # [batch, records]: how often each record is in the resample
    cum = np.cumsum(weights, axis=1)
    total = cum[:, -1]
    # one searchsorted for all rows: shift row b by b * (max total + 1), keeping rows apart
    shift = (np.arange(batch) * (total.max() + 1))[:, None]
    flat = (cum + shift).ravel()
    n = values.size
    out = []
    for q in qs:
        h = q * np.maximum(total - 1, 0)
        k = np.floor(h)
        frac = h - k
        lo = np.searchsorted(flat, k + shift[:, 0], side="right") - np.arange(batch) * n
        hi = (
            np.searchsorted(
                flat, np.minimum(k + 1, np.maximum(total - 1, 0)) + shift[:, 0], side="right"
            )
            - np.arange(batch) * n
        )
        lo, hi = np.clip(lo, 0, n - 1), np.clip(hi, 0, n - 1)
        value = values[lo] + frac * (values[hi] - values[lo])
        out.append(np.where(total > 0, value, np.nan))
    return out


# --- knee and capacity ------------------------------------------------------------------


def _knee_value(knee: Any) -> float | None:
    """The knee's offered load, or the load it was healthy up to (a lower bound)."""
    if knee.reached:
        return knee.offered
    return knee.max_offered if math.isfinite(knee.max_offered) else None


def _compare_knees(
    base: _StepData, cand: _StepData, rule: CompareRule, rng: np.random.Generator
) -> tuple[Metric, Metric]:
    kb, kc = base.knee, cand.knee
    knee = Metric("knee", "req/s offered", _knee_value(kb), _knee_value(kc))
    capacity = Metric("capacity", "req/s", kb.capacity, kc.capacity)
    knee.change = _ratio(knee.candidate, knee.base)
    capacity.change = _ratio(capacity.candidate, capacity.base)
    if not kb.reached and not kc.reached:
        # both values are how far each ramp reached, not capacities: no change to state
        knee.change = capacity.change = None
        knee.note = capacity.note = (
            "no knee in either run: healthy up to the highest load "
            "measured in each (the ramp's reach, not a capacity)"
        )
        return knee, capacity
    strata_b = [base.point_windows(r) for r in range(len(base.points))]
    strata_c = [cand.point_windows(r) for r in range(len(cand.points))]
    if min(map(len, strata_b + strata_c), default=0) < 2:
        knee.note = capacity.note = "a curve point has fewer than 2 windows: no interval"
        return knee, capacity
    nb = len(strata_b)
    need_latency = any(
        c.metric in _QUANTILES or c.metric == "max" for c in base.criteria + cand.criteria
    )
    samples_b = (
        [_subsample(*base.records(w), rule.max_records, rng) for w in strata_b]
        if need_latency
        else None
    )
    samples_c = (
        [_subsample(*cand.records(w), rule.max_records, rng) for w in strata_c]
        if need_latency
        else None
    )

    def statistic(*draws: np.ndarray, axis: int = -1) -> np.ndarray:
        db = [np.asarray(d, dtype=np.int64) for d in draws[:nb]]
        dc = [np.asarray(d, dtype=np.int64) for d in draws[nb:]]
        knees_b = _resampled_knees(base, strata_b, db, samples_b)
        knees_c = _resampled_knees(cand, strata_c, dc, samples_c)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.stack([knees_c[0] / knees_b[0] - 1, knees_c[1] / knees_b[1] - 1])

    data = tuple(np.arange(len(w)) for w in strata_b + strata_c)
    low, high = _bootstrap(
        statistic, data, rule.confidence, rule.n_resamples_knee, rng, vectorized=True
    )
    for j, m in enumerate((knee, capacity)):
        m.ci_low, m.ci_high, m.confidence = low[j], high[j], rule.confidence
        _add_run_to_run(m, rule.spread(m.name))
    bounds = []
    if not kb.reached:
        bounds.append("base has no knee: its healthy-up-to load stands in (a lower bound)")
    if not kc.reached:
        bounds.append("candidate has no knee: its healthy-up-to load stands in (a lower bound)")
    for m in (knee, capacity):
        m.note = _join(m.note, *bounds)
    # a lower bound can only show that a run is at least this good: never call it worse
    knee.label = _label(knee, rule, higher_is_better=True)
    capacity.label = _label(capacity, rule, higher_is_better=True)
    for m in (knee, capacity):
        if (m.label == WORSE and not kc.reached) or (m.label == BETTER and not kb.reached):
            m.label = SAME
            m.note = _join(m.note, "the bound cannot show this direction")
    # a knee the load generator made says nothing about the target (analysis.generator)
    for run, k in (("base", kb), ("candidate", kc)):
        if getattr(k, "generator_bound", False):
            for m in (knee, capacity):
                m.label = SAME
                m.note = _join(
                    m.note,
                    f"the {run} knee was judged while the load generator was "
                    "saturated: not a target capacity",
                )
    bb, bc = knee_bracket(base), knee_bracket(cand)
    if knee.label != SAME and bb[0] <= bc[1] and bc[0] <= bb[1]:
        # resampling windows cannot move the load levels: a knee is only known to lie between
        # its last passing and first failing level, and these brackets overlap
        knee.label = SAME
        knee.note = _join(
            knee.note,
            f"the knees' level brackets overlap (base {_span(bb)}, "
            f"candidate {_span(bc)} req/s): the load levels are too "
            "coarse to tell them apart",
        )
    return knee, capacity


def knee_bracket(data: _StepData) -> tuple[float, float]:
    """Offered loads of the last passing and first failing curve points around the knee.

    Without a knee: [highest load measured, infinity). A knee at the lowest point: [0, it].
    """
    k = data.knee
    offered = data.points["offered_rps"].to_numpy(dtype=float)
    if not k.reached or k.first_fail_point is None:
        return (float(k.max_offered), math.inf)
    high = float(offered[k.first_fail_point])
    low = float(offered[k.last_pass_point]) if k.last_pass_point is not None else 0.0
    return (min(low, high), max(low, high))


def _span(bracket: tuple[float, float]) -> str:
    low, high = bracket
    return f"{low:.4g}+" if math.isinf(high) else f"{low:.4g}-{high:.4g}"


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def _resampled_knees(
    data: _StepData,
    strata: list[np.ndarray],
    draws: list[np.ndarray],
    samples: list[tuple[np.ndarray, np.ndarray]] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Knee offered load and capacity of each resampled curve: [batch] arrays."""
    batch = np.atleast_2d(draws[0]).shape[0]
    lat = {m: np.full((batch, len(strata)), np.nan) for m in LATENCY_COLUMNS}
    if samples is not None:
        qs = [_QUANTILES[m] for m in ("p50", "p90", "p95", "p99")] + [1.0]
        for p, (windows, d) in enumerate(zip(strata, draws, strict=True)):
            values = _resampled_quantiles(samples[p], np.atleast_2d(d), len(windows), qs)
            for m, v in zip(LATENCY_COLUMNS, values, strict=True):
                lat[m][:, p] = v
    knee_out = np.full(batch, np.nan)
    cap_out = np.full(batch, np.nan)
    for b, curve in enumerate(resampled_curves(data.counts, strata, draws, lat)):
        k = find_knee(curve, data.criteria, data.rule)  # the analysis's own rule, not a copy
        value = _knee_value(k)
        knee_out[b] = value if value is not None else np.nan
        cap_out[b] = k.capacity if k.capacity is not None else np.nan
    return knee_out, cap_out


# --- shared ---------------------------------------------------------------------------


def _bootstrap(
    statistic: Callable[..., np.ndarray],
    data: tuple[np.ndarray, ...],
    confidence: float,
    n_resamples: int,
    rng: np.random.Generator,
    *,
    vectorized: bool,
) -> tuple[list[float | None], list[float | None]]:
    """Percentile bootstrap interval of each output of `statistic` (None where undefined)."""
    with _warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        _warnings.simplefilter("ignore")  # degenerate samples give NaN, handled below
        res = stats.bootstrap(
            data,
            statistic,
            n_resamples=n_resamples,
            confidence_level=confidence,
            method="percentile",
            vectorized=vectorized,
            batch=250,
            **_rng_arg(rng),
        )
        dist = np.atleast_2d(res.bootstrap_distribution)
    lows: list[float | None] = []
    highs: list[float | None] = []
    alpha = (1 - confidence) / 2
    for row in dist:
        finite = row[np.isfinite(row)]
        if finite.size < 0.9 * row.size:  # too many undefined resamples to trust an interval
            lows.append(None)
            highs.append(None)
            continue
        lows.append(float(np.quantile(finite, alpha)))
        highs.append(float(np.quantile(finite, 1 - alpha)))
    return lows, highs


def _rng_arg(rng: np.random.Generator) -> dict[str, Any]:
    # scipy >= 1.15 calls it rng; older versions random_state
    name = "rng" if "rng" in inspect.signature(stats.bootstrap).parameters else "random_state"
    return {name: rng}


def _ratio(candidate: float | None, base: float | None) -> float | None:
    if (
        candidate is None
        or base is None
        or not base
        or not math.isfinite(base)
        or not math.isfinite(candidate)
    ):
        return None
    return float(candidate / base - 1)


def _label(m: Metric, rule: CompareRule, *, higher_is_better: bool, gate: bool = True) -> str:
    """better / worse / no detectable change by the rule in the module docstring."""
    if m.change is None or m.ci_low is None or m.ci_high is None or not gate:
        return SAME
    if m.ci_low > 0 and m.change >= rule.min_effect:
        return BETTER if higher_is_better else WORSE
    if m.ci_high < 0 and m.change <= -rule.min_effect:
        return WORSE if higher_is_better else BETTER
    return SAME
