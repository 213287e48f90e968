"""target.source_addresses: the loopback addresses a run's connections come from.

Limits at a target are often per client IP, so a test from one address measures the
limiter, not the capacity. Each person's connections bind to one of these addresses,
round-robin, so a per-IP limit sees many clients. Written as addresses, ranges
("127.0.0.2-127.0.0.9") or networks ("127.0.1.0/29", its hosts); only 127.0.0.0/8, which
reaches a target on 127.0.0.1 without leaving the machine.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

MAX_ADDRESSES = 65_536
LOOPBACK = ipaddress.ip_network("127.0.0.0/8")


def reachable_from_loopback(host: str) -> bool:
    """Whether a target on `host` can be reached from 127.0.0.0/8 (localhost's IPv4)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host) in LOOPBACK
    except ValueError:
        return False


def expand(items: Iterable[str]) -> list[str]:
    """Every address the items name, in order, without repeats; ValueError saying which
    item is wrong."""
    out: dict[str, None] = {}
    for item in items:
        for address in _one(str(item).strip()):
            if address not in LOOPBACK:
                raise ValueError(
                    f"target.source_addresses: {address} is not in 127.0.0.0/8 (loopback "
                    "addresses only: a run's traffic never leaves the machine)"
                )
            out[str(address)] = None
            if len(out) > MAX_ADDRESSES:
                raise ValueError(f"target.source_addresses: more than {MAX_ADDRESSES:,} addresses")
    return list(out)


def _one(item: str) -> list[ipaddress.IPv4Address]:
    try:
        if "-" in item:
            first, last = (ipaddress.IPv4Address(part.strip()) for part in item.split("-", 1))
            if last < first:
                raise ValueError(f"{item!r}: the range ends before it starts")
            if int(last) - int(first) >= MAX_ADDRESSES:
                raise ValueError(f"{item!r}: more than {MAX_ADDRESSES:,} addresses")
            return [ipaddress.IPv4Address(n) for n in range(int(first), int(last) + 1)]
        if "/" in item:
            network = ipaddress.IPv4Network(item, strict=False)
            if network.num_addresses > MAX_ADDRESSES:
                raise ValueError(f"{item!r}: more than {MAX_ADDRESSES:,} addresses")
            hosts = list(network.hosts())
            return hosts or [network.network_address]
        return [ipaddress.IPv4Address(item)]
    except ValueError as exc:
        raise ValueError(
            f"target.source_addresses: cannot read {item!r} ({exc}); expected an IPv4 address, "
            "a range like 127.0.0.2-127.0.0.9 or a network like 127.0.1.0/29"
        ) from None
