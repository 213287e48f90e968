"""The per-IP warning from 429s per source address (hand-made counts; the real runs are
tests/integration/run/test_source_addresses.py)."""

from __future__ import annotations

from authsurge.analysis.sources import per_ip_warnings

FOURS = {"api.call": {"errors_by_class": {"http_4xx": 10}}}


class Index:
    def __init__(self, rows: list[tuple[str, int, int]]) -> None:
        self.rows = rows
        self.asked = 0

    def status_by_source(self, status: int) -> list[tuple[str, int, int]]:
        assert status == 429
        self.asked += 1
        return self.rows


def test_429s_from_one_address_cannot_be_told_from_a_per_ip_limit_and_say_so() -> None:
    (warning,) = per_ip_warnings(Index([("", 1000, 300)]), FOURS)
    assert "300 requests were answered 429" in warning and "target.source_addresses" in warning


def test_429s_far_more_often_from_some_addresses_are_a_per_ip_limit() -> None:
    rows = [("127.0.0.2", 500, 250), ("127.0.0.3", 500, 240), ("127.0.0.4", 200, 2)]
    (warning,) = per_ip_warnings(Index(rows), FOURS)
    assert "50% of 127.0.0.2's requests, 1% of 127.0.0.4's" in warning


def test_429s_alike_from_every_address_or_none_at_all_are_no_warning() -> None:
    alike = [("127.0.0.2", 500, 100), ("127.0.0.3", 500, 90), ("127.0.0.4", 500, 110)]
    assert per_ip_warnings(Index(alike), FOURS) == []
    assert per_ip_warnings(Index([("", 1000, 0)]), FOURS) == []


def test_without_any_4xx_the_records_are_not_asked() -> None:
    index = Index([("", 1000, 300)])
    assert per_ip_warnings(index, {"api.call": {"errors_by_class": {"http_5xx": 3}}}) == []
    assert index.asked == 0


def test_records_that_do_not_say_their_source_and_thin_addresses_are_no_warning() -> None:
    class Format1(Index):
        def status_by_source(self, status: int):  # noqa: ANN201
            return None

    assert per_ip_warnings(Format1([]), FOURS) == []
    thin = [("127.0.0.2", 500, 250), ("127.0.0.3", 20, 0)]  # 127.0.0.3: too few to compare
    assert per_ip_warnings(Index(thin), FOURS) == []


def test_a_429_with_an_oauth_error_body_counts_too() -> None:
    rejected = {"token.refresh": {"errors_by_class": {"rejected": 4}}}
    assert per_ip_warnings(Index([("", 100, 40)]), rejected) != []
