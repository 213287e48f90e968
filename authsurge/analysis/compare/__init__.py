"""Compare two runs of one scenario: is the candidate better, worse, or not detectably different?

    from authsurge.analysis.compare import compare_dirs
    comparison = compare_dirs("runs/base", "runs/candidate")
    comparison.regressions          # [] when nothing got detectably worse
    comparison.to_json()            # schema: Comparison.to_json (model.py)

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
(stats.widen_for_run_to_run); latency where the step queues (p50 over
QUEUEING_FACTOR x its lowest, near a knee not yet reached) is shown, not judged. For the
knee, capacity and goodput, min_effect is the guard. `make bench-compare` measures the
false-alarm rate of this rule on real A/A runs.

Input: each run's digest (authsurge.analysis.digest, written by analyze), not its raw
records; a run without a fresh digest is analysed first.

Limits: the rank test gates the percentiles, so a change confined to the far tail
without any shift in the bulk of the distribution is reported as no detectable change.
Records per level are subsampled to max_records (drawn at random, so every window keeps
about the same share) for the percentile bootstrap; the point estimates use every
latency the digest holds.

The package, one concept a module:

    model.py       the rule (CompareRule), the results (Metric, Level, StepComparison,
                   Comparison) and the labels
    step_data.py   one step of one run as read from its digest (StepData)
    matching.py    matched levels and offered-load bins; the comparison at one level
    knees.py       knee and capacity, their bootstrap and level brackets
    stats.py       bootstrap, rank test, labels, run-to-run widening, resampled quantiles
    __init__.py    the entry points (compare_dirs, compare_runs, load_digest,
                   check_comparable) and the comparison of one step
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from authsurge.analysis import RunAnalysis, analyze_run
from authsurge.analysis.compare.knees import compare_knees, knee_bracket, resampled_knees
from authsurge.analysis.compare.matching import (
    LEVEL_MATCH,
    MAX_BINS,
    MIN_WINDOWS,
    compare_level,
    matched_levels,
    offered_bins,
)
from authsurge.analysis.compare.model import (
    BETTER,
    COMPARE_FORMAT_VERSION,
    LATENCY_METRICS,
    NOT_JUDGED,
    RUN_TO_RUN,
    SAME,
    WORSE,
    CompareRule,
    Comparison,
    Level,
    Metric,
    StepComparison,
)
from authsurge.analysis.compare.stats import (
    label,
    resampled_quantiles,
    widen_for_run_to_run,
)
from authsurge.analysis.compare.step_data import QUEUEING_FACTOR, StepData
from authsurge.analysis.digest import RunDigest, read_digest, run_digest
from authsurge.errors import BadInput

# the package's API: what the CLI, the reports, bench/ and tests import from here
__all__ = [
    "BETTER",
    "COMPARE_FORMAT_VERSION",
    "LATENCY_METRICS",
    "LEVEL_MATCH",
    "MAX_BINS",
    "MIN_WINDOWS",
    "NOT_JUDGED",
    "QUEUEING_FACTOR",
    "RUN_TO_RUN",
    "SAME",
    "WORSE",
    "CompareRule",
    "Comparison",
    "Level",
    "Metric",
    "Progress",
    "StepComparison",
    "StepData",
    "check_comparable",
    "compare_dirs",
    "compare_runs",
    "knee_bracket",
    "label",
    "load_digest",
    "resampled_knees",
    "resampled_quantiles",
]

Progress = Callable[[str], None]


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
        with analyze_run(run_dir, progress=progress) as analysis:
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
            name, StepData(base, name), StepData(candidate, name), matching, rule, rng
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


# --- per step -------------------------------------------------------------------------


def _compare_step(
    name: str,
    base: StepData,
    cand: StepData,
    matching: str,
    rule: CompareRule,
    rng: np.random.Generator,
) -> StepComparison:
    """One step in both runs: its knee and capacity, then each level (the rule above)."""
    knee, capacity = compare_knees(base, cand, rule, rng)
    cells = (
        matched_levels(base, cand, rule) if matching == "levels" else offered_bins(base, cand, rule)
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
            level.metrics = compare_level(
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
        widen_for_run_to_run([lv.metrics[metric] for lv in levels if lv.judged], rule)
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
