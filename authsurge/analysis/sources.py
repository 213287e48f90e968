"""Where the requests came from: a warning when 429s look like a per-client-IP limit.

Limits at a target are often per client address, and a test from one address then
measures the limiter, not the capacity. From the requests' `source` column (format 2;
target.source_addresses binds each person's connections to one address):
- 429s while every request came from one address (or from the system's choice): the
  run cannot tell a per-IP limit from a global one, so it says so and how to see past it;
- 429s spread over several addresses, but far more often from some than from others
  (the most limited address's 429 share is at least MIN_SHARE and four times the least
  limited one's): a per-IP limit, which sees those addresses' load apart;
- 429s at about the same share from every address: no warning. A global limit does that,
  but so does a per-IP one when every address carries the same load (round-robin people
  do): the rule cannot tell these apart, and does not guess.
Addresses with fewer than MIN_REQUESTS requests are not compared. Only asked when some
step had 4xx or rejected answers (a 429 with an OAuth error body is `rejected`), and only
of records that say their source (format 2).
"""

from __future__ import annotations

from typing import Any, Protocol

TOO_MANY_REQUESTS = 429
MIN_SHARE = 0.05  # of an address's requests answered 429
MIN_REQUESTS = 50  # an address with fewer is not compared
UNEVEN = 4.0  # the most limited address's share over the least limited one's


class SourceIndex(Protocol):
    def status_by_source(self, status: int) -> list[tuple[str, int, int]] | None: ...


def per_ip_warnings(index: SourceIndex, steps: dict[str, dict[str, Any]]) -> list[str]:
    """The warnings of the module docstring (none, or one)."""
    classes = [s.get("errors_by_class") or {} for s in steps.values()]
    if not any(c.get("http_4xx") or c.get("rejected") for c in classes):
        return []
    rows = index.status_by_source(TOO_MANY_REQUESTS)
    if rows is None:
        return []
    limited = sum(k for _, _, k in rows)
    if not limited:
        return []
    addresses = [(s, n, k) for s, n, k in rows if s and n]
    if len(addresses) <= 1:
        where = f"one source address ({addresses[0][0]})" if addresses else "one source address"
        return [
            f"{limited:,} requests were answered 429 (too many requests) while every request "
            f"came from {where}: if the target limits each client address, this run "
            "measured that limiter, not the capacity; spread the people over more addresses "
            "(target.source_addresses) to tell"
        ]
    shares = sorted(((k / n, s) for s, n, k in addresses if n >= MIN_REQUESTS), reverse=True)
    if len(shares) < 2:
        return []
    (high, most), (low, least) = shares[0], shares[-1]
    if high < MIN_SHARE or high < UNEVEN * low:
        return []
    return [
        f"{limited:,} requests were answered 429 (too many requests), far more often from "
        f"some source addresses than from others ({high:.0%} of {most}'s requests, "
        f"{low:.0%} of {least}'s): a per-client-address limit at the target, which this "
        "run's load measured for the most loaded addresses, not the capacity"
    ]
