"""`authsurge run --web [HOST:PORT] --metrics HOST:PORT`: the live view's options."""

from __future__ import annotations

import argparse

WEB_DEFAULT = "127.0.0.1:8089"  # Locust's own web UI port, on loopback


def hostport(value: str) -> tuple[str, int]:
    """HOST:PORT (an IPv6 host in brackets: [::1]:8089), for argparse (exit 2 otherwise)."""
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, e.g. {WEB_DEFAULT}, got {value!r}")
    return host.strip("[]"), int(port)


def add_live_arguments(p: argparse.ArgumentParser) -> None:
    live = p.add_argument_group("watching the run (README: Live)")
    live.add_argument(
        "--web",
        nargs="?",
        const=hostport(WEB_DEFAULT),
        type=hostport,
        metavar="HOST:PORT",
        help=f"serve Locust's web UI for the run (Stop ends it) and the live per-step page at "
        f"/authsurge (default {WEB_DEFAULT}: loopback)",
    )
    live.add_argument(
        "--metrics",
        type=hostport,
        metavar="HOST:PORT",
        help="serve the live per-step counters and latency histograms for Prometheus at "
        "/metrics, until run.drain_s after the run",
    )
