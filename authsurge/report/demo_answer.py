"""`make demo`'s answer: a few plain sentences from a run's analysis.json and meta.json.

What the seed incident asks: which sign-in step fails first (or what fails together, and
why), at what surge, whether sign-out degrades too, how the API of the people already
signed in fared, and how long sign-in took to recover. The sentences are the leadership
summary's (authsurge.analysis.wording.plain) plus the two only the demo knows to ask:
the calibration it was sized by, and sign-out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from authsurge.analysis.findings import of_kind
from authsurge.analysis.wording.figures import ms, percent
from authsurge.analysis.wording.plain import sentences
from authsurge.report.inputs import load_inputs

# the demo has no answer when the load generator was saturated (analysis.generator's rule)
# for this share of the run, or when the knee was measured while it was
GENERATOR_BOUND_SHARE = 0.1


def demo_answer(run_dir: Path) -> tuple[list[str], bool]:
    """The sentences, and whether the load generator set the pace (then the demo has no
    answer: the client saturated before the target did)."""
    inputs = load_inputs(Path(run_dir))
    doc, meta = inputs.doc, inputs.meta
    findings = doc["findings"]
    out: list[str] = []
    if sized := _calibration_sentence(meta):
        out.append(sized)
    out += sentences(findings)
    if sign_out := _sign_out_sentence(doc):
        out.append(sign_out)
    generator = doc.get("generator") or {}
    bound = of_kind(findings, "client_first") is not None or (
        (generator.get("share_of_run") or 0.0) >= GENERATOR_BOUND_SHARE
    )
    if bound:
        out.append(
            "The load generator could not keep to the schedule, so this is not the target's "
            "answer: give it more workers (run.workers) or a lighter sign-in (--hasher-iterations)."
        )
    return out, bound


def _calibration_sentence(meta: dict[str, Any]) -> str | None:
    c = meta.get("calibration")
    if not isinstance(c, dict) or not c.get("capacity_rps"):
        return None
    probes = c.get("probes") or []
    multiple = c.get("peak_multiple")
    peak = f", and the surge was sized to peak at {multiple:g}x that" if multiple else ""
    if c.get("given"):
        return (
            f"Not measured this time: given a capacity of {c['capacity_rps']:.1f} sign-ins a "
            f"second (--capacity){peak}."
        )
    return (
        f"Measured first on this machine: the target signs in about {c['capacity_rps']:.1f} "
        f"people a second ({len(probes)} probes"
        + (", with the signed-in people using the API" if c.get("with_population") else "")
        + f"){peak}."
    )


def _sign_out_sentence(doc: dict[str, Any]) -> str | None:
    """Whether sign-out degraded too, at the surge's peak, by the rule the API of the
    signed-in people is judged by (analysis.contrast: population.contrast.sign_out)."""
    contrast = (doc.get("population") or {}).get("contrast") or {}
    held, figures = contrast.get("sign_out_held"), contrast.get("sign_out") or {}
    if held is None:
        return None
    said = f"{percent(figures['error_rate'])} of sign-outs failed" + (
        f", p95 {ms(figures['p95'])}" if figures.get("p95") is not None else ""
    )
    at = "at the surge's peak" if contrast.get("over") == "peak" else "over the test"
    return f"Sign-out {'held up' if held else 'degraded too'} {at}: {said}."
