"""The comparison's rule and its results: CompareRule, Metric, Level, StepComparison, Comparison.

The labels (BETTER, WORSE, SAME, NOT_JUDGED) and the measured run-to-run spread
(RUN_TO_RUN) are here too; how a label is decided is in the package docstring
(authsurge.analysis.compare) and in stats.label.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from authsurge.analysis.digest import RunDigest
from authsurge.errors import BadInput

COMPARE_FORMAT_VERSION = 1
BETTER, WORSE, SAME = "better", "worse", "no detectable change"
NOT_JUDGED = "not judged"
LATENCY_METRICS = ("p50", "p95", "p99")
QUANTILES = {"p50": 0.50, "p90": 0.90, "p95": 0.95, "p99": 0.99}
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
        from authsurge.analysis.sections import clean

        return clean(
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


def join_notes(*parts: str) -> str:
    """The non-empty notes, joined with "; "."""
    return "; ".join(p for p in parts if p)
