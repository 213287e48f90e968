"""The story of a run is decided once, as findings in analysis.json, and every rendering
(terminal text, HTML report, leadership summary) only formats them."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from authsurge.analysis.findings import KINDS, LEADS, MOSTLY_FAILED, Finding, find, journeys_failed
from authsurge.analysis.summary import summary_text
from authsurge.report.html_report import render_report
from authsurge.report.inputs import ReportInputs
from authsurge.report.summary import summary_sentences
from tests.support.planted import planted_analysis


@pytest.fixture(scope="module")
def doc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return planted_analysis("base", tmp_path_factory).to_json()


def renderings(doc: dict[str, Any], tmp: Path) -> dict[str, str]:
    html = render_report(ReportInputs(tmp, doc, {"command": "authsurge run"}, {}))
    return {
        "text": summary_text(doc),
        "html": html,
        "summary": " ".join(summary_sentences(doc)),
    }


def test_every_finding_has_exactly_the_fields_of_its_kind_and_one_leads(doc) -> None:  # noqa: ANN001
    findings = doc["findings"]
    assert findings and all(set(f) - {"kind"} == set(KINDS[f["kind"]]) for f in findings)
    assert sum(f["kind"] in LEADS for f in findings) == 1
    assert findings[0]["kind"] == "saturates_first" and findings[0]["step"] == "login.submit"
    assert json.loads(json.dumps(findings)) == findings  # JSON-ready, no NaN


def test_a_finding_with_a_missing_or_extra_field_is_refused() -> None:
    with pytest.raises(ValueError, match="fields"):
        Finding("healthy", {"step": "login.form"})


def test_changing_one_finding_changes_the_text_the_html_and_the_summary(doc, tmp_path) -> None:  # noqa: ANN001
    before = renderings(doc, tmp_path)
    changed = copy.deepcopy(doc)
    lead = changed["findings"][0]
    lead["step"] = "planted.step"  # the analysis decided nothing else: only the finding moved
    lead["arrivals"] = 123.0
    after = renderings(changed, tmp_path)
    for name, text in after.items():
        assert "planted.step" not in before[name], name
        assert "planted.step" in text, name
    assert "about 123 people" in after["summary"] and "123 journeys/s" in after["html"]
    surge = next(f for f in changed["findings"] if f["kind"] == "surge")
    surge["status"], surge["limiting_step"], surge["multiple_needed"] = "fails", "x.step", 9.9
    again = renderings(changed, tmp_path)
    assert "9.9x today's x.step capacity" in again["text"]
    assert "9.9x capacity" in again["html"] and "needs 9.9x the capacity x.step" in again["summary"]


def broken(doc: dict[str, Any]) -> dict[str, Any]:
    """The planted run as if its one journey failed at login.form at every load."""
    failing = copy.deepcopy(doc)
    journey = next(iter(failing["journeys"].values()))
    for point in journey["curve"]:
        point["error_rate"] = 1.0
    journey["errors"] = journey["requests"]
    journey["top_errors"] = [
        {"reason": "concurrency cap reached (traffic.max_concurrency)", "count": 20},
        {"reason": "login.form: no login form with a password input on GET /", "count": 9},
    ]
    return failing


def test_most_journeys_failing_at_low_load_leads_every_rendering(doc, tmp_path) -> None:  # noqa: ANN001
    failing = broken(doc)
    failing["findings"] = [f.to_json() for f in find(failing)]
    first = failing["findings"][0]
    assert first["kind"] == "journeys_failed" and first["step"] == "login.form"
    assert first["at"] == "already at the lowest load" and "JSON login step" in first["advice"]
    out = renderings(failing, tmp_path)
    assert out["text"].startswith("journey login_api failed outright")
    assert out["summary"].startswith("Sign-in did not work in this test")
    assert out["html"].index("journeys failed") < out["html"].index("fails first")


def test_journeys_failing_only_at_high_load_are_the_knee_story_not_a_broken_flow(doc) -> None:  # noqa: ANN001
    late = copy.deepcopy(doc)
    journey = next(iter(late["journeys"].values()))
    points = sorted(journey["curve"], key=lambda p: p["arrivals"])
    for point in points[len(points) // 2 :]:
        point["error_rate"] = 0.9
    points[0]["error_rate"] = MOSTLY_FAILED - 0.01
    assert journeys_failed(late) == []


def test_arrivals_the_harness_dropped_are_not_a_broken_flow(doc) -> None:  # noqa: ANN001
    dropped = broken(doc)
    journey = next(iter(dropped["journeys"].values()))
    half = journey["requests"] // 2
    journey["errors_by_class"] = {"dropped": half}
    journey["errors"] = half + 1  # the cap dropped half the arrivals; one real attempt failed
    assert journeys_failed(dropped) == []


def test_a_step_never_judged_is_not_named_healthy_or_last(doc) -> None:  # noqa: ANN001
    cached = copy.deepcopy(doc)
    cached["first_to_fail"].append(
        {**cached["first_to_fail"][-1], "step": "oidc.discovery", "judged": False,
         "reached": False, "rank": None}
    )
    cached["steps"]["oidc.discovery"] = copy.deepcopy(next(iter(cached["steps"].values())))
    last = next(f for f in find(cached) if f.kind == "last_step")
    assert last.fields["step"] != "oidc.discovery"
