"""The load generator's self-check, in one place: was the client the limit?

- ``rule.py``: the generator-bound rule over the harness's own CPU and loop-lag samples;
- ``apply.py``: the rule applied to a run (the ``generator`` section, knees judged while
  the client was saturated, the verdict);
- ``health.py``: how the load generator fared over the whole run (the ``harness`` section
  of analysis.json that the report shows).
"""

from authsurge.analysis.selfcheck.apply import (
    CLIENT_FIRST,
    adjust_verdict,
    check,
    mark_knee,
    run_warning,
    section,
    warning_text,
    window_mask,
)
from authsurge.analysis.selfcheck.health import harness_health
from authsurge.analysis.selfcheck.rule import RULE, GeneratorCheck, check_samples

__all__ = [
    "CLIENT_FIRST",
    "RULE",
    "GeneratorCheck",
    "adjust_verdict",
    "check",
    "check_samples",
    "harness_health",
    "mark_knee",
    "run_warning",
    "section",
    "warning_text",
    "window_mask",
]
