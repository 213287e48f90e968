"""`authsurge run --web` and `--metrics`: the live view of one run, and what feeds it.

The run's record tables tell the LiveState each batch they write (StreamTable.observers;
a master tells it each batch its workers ship). `--web` serves Locust's web UI for the
run's own Environment, with the authsurge page on it; `--metrics` serves /metrics. Both
bind before the load starts (a port in use is bad input, exit 2), on loopback unless
told otherwise.
"""

from __future__ import annotations

import gevent
from locust import LoadTestShape  # noqa: I001 - locust first: gevent must patch before ssl
from locust.env import Environment

import contextlib
import logging
import socket
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
from flask import Response, request

from authsurge.errors import BadInput
from authsurge.live.metrics import MetricsServer
from authsurge.live.state import LiveState
from authsurge.live.web import PAGE, LivePage
from authsurge.scenario import Scenario
from authsurge.traffic.shapes import RateCurve

log = logging.getLogger("authsurge.run")

DEFAULT_WEB = ("127.0.0.1", 8089)  # Locust's own port, on loopback


def planned_per_second(curves: dict[str, RateCurve], duration_s: float) -> np.ndarray:
    """Planned journey arrivals/s in each second of the run (the schedule, all journeys)."""
    t = np.arange(int(np.ceil(duration_s))) + 0.5
    total = np.zeros(len(t))
    for curve in curves.values():
        total += curve.rate(t)
    return total


class RunShape(LoadTestShape):
    """Marks a run's Environment as shape-driven for Locust's UI: the user-count fields
    are hidden and Edit is disabled. Its tick is never called (the run starts its one
    driver itself)."""

    use_common_options = False

    def tick(self) -> None:
        return None


class LiveView:
    """What `--web` and `--metrics` serve while one `authsurge run` lasts."""

    def __init__(
        self,
        scenario: Scenario,
        curves: dict[str, RateCurve],
        web: tuple[str, int] | None,
        metrics: tuple[str, int] | None,
    ) -> None:
        self.state = LiveState(scenario)
        self.state.planned = planned_per_second(curves, scenario.run.duration_s)
        self.web, self.metrics_at = web, metrics
        self.metrics: MetricsServer | None = None
        self.web_ui: Any = None
        self.linger_s = scenario.run.drain_s

    def start(self, t0: float, run_id: str) -> None:
        self.state.start(t0, run_id)

    def open_metrics(self) -> None:
        if self.metrics_at is None:
            return
        check_free(*self.metrics_at, "--metrics")
        self.metrics = MetricsServer(lambda: self.state, *self.metrics_at).start()

    def open_web(self, env: Environment, on_stop: Any) -> None:
        """Locust's web UI for `env`, with the live page; Stop calls `on_stop`; starting or
        editing a test from the UI is refused (this run's plan is its load)."""
        if self.web is None:
            return
        host, port = self.web
        check_free(host, port, "--web")
        with locust_argv():
            self.web_ui = env.create_web_ui(host, port)
        render = self.web_ui.update_template_args

        def update_template_args() -> None:  # each time Locust renders its page
            with locust_argv():
                render()

        self.web_ui.update_template_args = update_template_args
        LivePage(self.state).add_to(self.web_ui.app, self.web_ui)
        app = self.web_ui.app

        @app.before_request
        def refuse_new_tests() -> Response | None:
            if request.path == "/swarm" and request.method == "POST":
                return Response(
                    '{"success": false, "message": "this run was started by authsurge run: '
                    'its arrival plan sets the load (start another with the CLI)"}',
                    status=409,
                    content_type="application/json",
                )
            if request.path == "/stop" and request.method == "POST":
                on_stop()
            return None

        print(
            f"web UI: http://{_hostport(host, port)}/  live page: "
            f"http://{_hostport(host, port)}{PAGE}",
            flush=True,
        )

    def close(self, status: str) -> None:
        """The final state stays up for run.drain_s (a last scrape, a last look), then stops."""
        self.state.finish(status)
        if self.metrics is not None:
            self.metrics.stop(linger_s=self.linger_s)
        if self.web_ui is not None:
            if self.metrics is None and self.linger_s > 0:
                gevent.sleep(self.linger_s)
            with contextlib.suppress(AttributeError):  # never served: nothing to stop
                self.web_ui.stop()


def check_free(host: str, port: int, flag: str) -> None:
    """Bad input (exit 2) when HOST:PORT cannot be bound: in use, or not this machine's."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise BadInput(
                f"{flag} {_hostport(host, port)}: cannot listen there ({exc.strerror})"
            ) from None


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@contextlib.contextmanager
def locust_argv() -> Iterator[None]:
    """Locust's web UI reads its extra options by parsing sys.argv with Locust's own
    parser, which `authsurge run`'s arguments are not: it sees none while it renders."""
    saved = sys.argv
    sys.argv = saved[:1]
    try:
        yield
    finally:
        sys.argv = saved
