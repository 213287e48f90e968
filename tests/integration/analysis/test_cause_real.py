"""On a real shared pool (1 worker x 1 thread, every path queues behind the password hash),
ramped to 3x its capacity with a 1-s client timeout: the steps fail together, the cause is
the hash (or its journey, when the costs cannot be separated), and the target collapses."""

from __future__ import annotations

from authsurge.analysis.cause import cause_name
from authsurge.analysis.ranking import together


def test_the_cause_is_the_password_step_or_its_journey_with_the_reason(shared_pool) -> None:  # noqa: ANN001
    analysis, _ = shared_pool
    cause = analysis.cause
    assert cause is not None, analysis.summary_text()
    if cause["step"] is not None:
        assert cause["step"] == "login.submit", analysis.summary_text()
    else:
        assert cause["kind"] == "journey" and cause["journey"] == "web_login"
        assert "login.submit" in cause["steps"] and "cannot be separated" in cause["reason"]
    assert cause["resource"] == "target CPU" and cause["share"] > 0.5
    assert cause["cost_per_request"] > 0


def test_the_cheap_steps_fail_with_or_after_the_password_step(shared_pool) -> None:  # noqa: ANN001
    analysis, _ = shared_pool
    ranked = analysis.first_to_fail
    reached = {e["step"] for e in ranked if e["reached"]}
    # at least one cheap step queued behind the hash reaches its knee ("a tie or in any
    # order"): whatever ranks first, the cause names the hash
    assert reached - {"login.submit"}, analysis.summary_text()
    # the hash reaches its own knee too, or the login form timing out ahead of it in the
    # queue throttled what reached it (a CI run showed that): then the cheap steps that
    # failed are its collateral, and it is judged on its peak goodput (next test)
    cause = analysis.cause
    assert "login.submit" in reached or (
        "login.submit" in cause["steps"]
        and reached <= set(cause["collateral"]) | set(cause["steps"])
    ), analysis.summary_text()


def test_capacity_is_the_peak_sustained_goodput_not_the_collapsed_zero(shared_pool) -> None:  # noqa: ANN001
    analysis, estimate = shared_pool
    doc = analysis.to_json()
    limiting = doc["verdict"]["limiting_step"]
    capacity = doc["verdict"]["steps"][limiting]["capacity"]
    # journeys/s for a journey cause; login.submit's req/s is about half of the journeys
    assert capacity > 0.3 * estimate, analysis.summary_text()
    submit = analysis.steps["login.submit"]["knee"]
    assert not submit["reached"] or submit["capacity"] > 0.3 * estimate


def test_the_collapse_is_a_finding_with_its_failures_and_time(shared_pool) -> None:  # noqa: ANN001
    analysis, _ = shared_pool
    doc = analysis.to_json()
    collapse = doc["collapse"]
    assert collapse is not None, analysis.summary_text()
    assert collapse["lowest_goodput"] < 0.5 * collapse["peak_goodput"]
    assert collapse["seconds"] > 0 and "timeout" in collapse["failures"]
    assert "collapsed" in analysis.summary_text()


def test_headline_verdict_and_ranking_name_one_limiting_step(shared_pool) -> None:  # noqa: ANN001
    analysis, _ = shared_pool
    doc = analysis.to_json()
    cause = doc["cause"]
    name = cause_name(cause)
    if cause["kind"] == "steps":  # inseparable steps of several journeys: one of them
        name = doc["verdict"]["limiting_step"]
        assert name in cause["steps"]
    assert doc["verdict"]["limiting_step"] == name
    headline = analysis.summary_text().splitlines()[0]
    assert name in headline and f"today's {name} capacity" in headline
    # the cause reaches its knee too (or the steps behind it, failing first, throttled it:
    # the verdict then says its capacity is its peak goodput), and whatever ranks first
    # without being the cause is said to wait behind it
    reached = {e["step"] for e in doc["first_to_fail"] if e["reached"]}
    throttled = "capacity_rule" in doc["verdict"]["steps"][doc["verdict"]["limiting_step"]]
    assert set(cause["steps"]) & reached or throttled, analysis.summary_text()
    for step in cause["collateral"]:
        assert step in headline and "behind it" in headline


def test_text_html_and_summary_say_how_the_first_steps_fail(shared_pool) -> None:  # noqa: ANN001
    """The issue allows "a tie or in any order" here, and runs give both: the three cheap
    steps and the hash tie, or logout (last in its journey, behind a queue) fails first
    alone. Each outcome has its own words, and those words must be there."""
    from authsurge.analysis.wording import tiles
    from authsurge.report.html_report import ranking_rows
    from authsurge.report.summary import summary_sentences

    analysis, _ = shared_pool
    doc = analysis.to_json()
    text = analysis.summary_text()
    headline = text.splitlines()[0]
    group = together(doc["first_to_fail"])
    boxes = {t["k"]: t for t in tiles(doc["findings"])}
    sentences = " ".join(summary_sentences(doc))
    if len(group) > 1:
        assert "fail together between" in headline, text
        assert "fail together" in boxes and "between" in boxes["fail together"]["n"]
        assert "break together" in sentences
    else:
        first = group[0]["step"]
        assert headline.startswith(f"{first} saturates first"), text
        assert "fail together" not in boxes
        if first in doc["cause"]["collateral"]:
            assert f"{first} queues behind it" in headline, text
            assert f"{first} waits in line behind it" in sentences
    for entry in doc["first_to_fail"]:  # a tie anywhere in the ranking is named in every view
        for other in entry["fails_together_with"]:
            lines = text.splitlines()
            line = next(x for x in lines if x.strip().startswith(entry["step"] + ":"))
            assert "fails together with" in line and other in line
            row = next(r for r in ranking_rows(doc) if r["step"] == entry["step"])
            assert other in row["reason"]
