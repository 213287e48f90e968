"""Rejections that come from the account pool, not from load, are called out by the analysis."""

from __future__ import annotations

from authsurge.analysis.rejections import REJECTED_SHARE, rejection_warnings


def _entry(requests: int, rejected: int) -> dict:
    return {"requests": requests, "errors_by_class": {"rejected": rejected} if rejected else {},
            "top_errors": [{"reason": "form re-shown: wrong credentials?", "count": rejected}]}


def test_a_step_with_rejections_above_the_share_is_named_with_its_count():
    notes = rejection_warnings({"login.submit": _entry(1000, 10), "api.call": _entry(1000, 9)})
    assert REJECTED_SHARE == 0.01
    assert len(notes) == 1
    assert notes[0].startswith("login.submit: 10 of 1000 requests (1.0%) were rejected")
    assert "wrong credentials?" in notes[0] and "credentials (count" in notes[0]
