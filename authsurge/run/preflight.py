"""Checks made before any load: the target answers, its TLS is trusted, its PIDs are known."""

from __future__ import annotations

import ssl
import urllib.error
import urllib.request
from collections.abc import Iterable

import psutil

from authsurge.errors import BadInput, TargetUnreachable
from authsurge.journeys.client import HttpSettings
from authsurge.resources import target_pids
from authsurge.scenario import Scenario


def check_reachable(base_url: str, timeout: float = 5.0, tls: ssl.SSLContext | None = None) -> None:
    """Any HTTP answer will do; a refused or silent connection stops the run before it starts.

    `tls` is the journeys' own context (`tls_context`): a certificate the load would
    reject fails here, before any load, with what to set.
    """
    try:
        urllib.request.urlopen(base_url + "/", timeout=timeout, context=tls)  # noqa: S310 - the scenario's own target
    except urllib.error.HTTPError:
        return
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        hint = ""
        if isinstance(reason, ssl.SSLCertVerificationError):
            hint = (
                "; the target's certificate is not trusted: set target.ca_bundle to the PEM of the CA "
                "that signed it (or target.insecure: true to skip certificate checks, not for real credentials)"
            )
        raise TargetUnreachable(
            f"target {base_url} is not reachable ({reason}){hint}; nothing was run"
        ) from None


def tls_context(s: Scenario) -> ssl.SSLContext | None:
    """The TLS context the journeys use for an https target (verify_tls, ca_bundle, insecure)."""
    if not s.target.base_url.startswith("https:"):
        return None
    settings = HttpSettings.from_target(s.target, s.source.parent if s.source else None)
    try:
        return settings.ssl_context()
    except (OSError, ssl.SSLError) as exc:
        raise BadInput(
            f"target.ca_bundle {settings.ca_bundle}: cannot load it as PEM certificates "
            f"({getattr(exc, 'strerror', None) or exc})"
        ) from None


def check_target(s: Scenario) -> None:
    """The scenario's target answers within 5 s (with the journeys' own TLS settings).

    Not within the requests' timeout: a target slower than that still answers, and its
    timeouts are what a run against it measures (or stops on, with run.abort_on)."""
    check_reachable(s.target.base_url, timeout=5.0, tls=tls_context(s))


def scenario_target_pids(s: Scenario, pids: Iterable[int] = ()) -> list[int]:
    """The target's PIDs: `pids`, else the scenario's PID file, else its loopback port."""
    pid_file = s.resolve_path(s.target.pid_file) if s.target.pid_file else None
    return target_pids(s.target.base_url, pids, pid_file, s.target.port)


def worker_count(requested: int) -> int:
    return requested if requested > 0 else (psutil.cpu_count() or 1)
