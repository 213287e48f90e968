"""run.abort_on: conditions that stop a run early, like k6's abortOnFail.

A surge test against a shared identity provider must not keep hammering it once it is
down: 'error_rate > 50% for 30s' stops the run when, over the last 30 s, more than half
of the requests failed; 'login.submit p95 > 10s for 60s' when that step's p95 over the
last 60 s was above 10 s. No step: every request.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field

from authsurge.scenario.base import Strict

_ABORT_RE = re.compile(
    r"^\s*(?:(?P<step>[\w.*:-]+)\s+)?(?P<metric>p50|p90|p95|p99|error_rate)\s*>\s*"
    r"(?P<value>[\d.]+)\s*(?P<unit>ms|s|%)?\s+for\s+(?P<window>[\d.]+)\s*s\s*$"
)


class AbortCondition(Strict):
    """One condition; `text` is how it was written (said in meta.json and the summary)."""

    text: str
    step: str = "*"
    metric: Literal["p50", "p90", "p95", "p99", "error_rate"]
    above: Annotated[float, Field(ge=0)]  # ms for latencies, a fraction (0.5) for error_rate
    # the switch keeps a snapshot of Locust's histogram a second over the window: 10 min
    # of them is ~200,000 dict entries a step
    for_s: Annotated[float, Field(gt=0, le=600)]

    @classmethod
    def parse(cls, text: str) -> AbortCondition:
        m = _ABORT_RE.match(text)
        if not m:
            raise ValueError(
                f"cannot read abort condition {text!r}; expected e.g. 'error_rate > 50% for 30s' "
                "or 'login.submit p95 > 10s for 60s'"
            )
        value = float(m["value"])
        if m["metric"] == "error_rate":
            if m["unit"] not in (None, "%"):
                raise ValueError(f"abort condition {text!r}: an error rate is a % or a fraction")
            value = value / 100 if m["unit"] == "%" else value
            if value >= 1:
                raise ValueError(f"abort condition {text!r}: an error rate above 100% never holds")
        elif m["unit"] == "%":
            raise ValueError(f"abort condition {text!r}: a latency is in ms or s")
        elif m["unit"] == "s":
            value *= 1000
        return cls.model_validate(
            {
                "text": text.strip(),
                "step": m["step"] or "*",
                "metric": m["metric"],
                "above": value,
                "for_s": float(m["window"]),
            }
        )
