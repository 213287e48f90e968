"""The live page on Locust's web UI: /authsurge (charts), /authsurge/live.json (the data).

Built on Locust's extension points: routes on its Flask app, and an "authsurge" tab in
its own UI (`extended_tabs`/`extended_tables`, filled through /stats/requests as Locust's
docs show). Locust draws tables, not charts, so the chart page ships its own small
script (static/live.js), served from here: no CDN. The page's Content-Security-Policy
keeps the report's rule that nothing is fetched from anywhere else: the report allows no
script at all; this page allows its own script and its own JSON ('self') and nothing
more.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from flask import Flask, Response, request

from authsurge.live.state import LiveState

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
PAGE = "/authsurge"
DATA = "/authsurge/live.json"
TAB = "authsurge"
TABLE_COLUMNS = (
    ("step", "Step"),
    ("offered_per_s", "Offered req/s (last 10 s)"),
    ("goodput_per_s", "Goodput req/s"),
    ("error_percent", "Errors %"),
    ("p95_ms", "p95 ms"),
    ("knee", "Knee so far"),
)
_TYPES = {"live.html": "text/html", "live.js": "text/javascript", "live.css": "text/css"}


def _static(name: str) -> str:
    return resources.files("authsurge.live").joinpath("static", name).read_text(encoding="utf-8")


def _served(body: str, content_type: str) -> Response:
    response = Response(body, content_type=f"{content_type}; charset=utf-8")
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


class LivePage:
    """The live page's routes; `state` is swapped for each run (a new test in Locust's UI)."""

    def __init__(self, state: LiveState | None = None) -> None:
        self.state = state

    def snapshot(self) -> dict[str, Any]:
        if self.state is None:
            return {"status": "waiting", "steps": [], "knees": [], "planned": [], "arrivals": []}
        return self.state.snapshot()

    def add_to(self, app: Flask, web_ui: Any | None = None) -> None:
        """Register the routes on `app`, and the tab on Locust's own UI (`web_ui`)."""

        def page() -> Response:
            return _served(_static("live.html"), _TYPES["live.html"])

        def asset(name: str) -> Response:
            if name not in ("live.js", "live.css"):
                return Response("not found", status=404)
            return _served(_static(name), _TYPES[name])

        def data() -> Response:
            return _served(
                json.dumps(self.snapshot(), allow_nan=False, default=str), "application/json"
            )

        # behind Locust's --web-login when it is on, as Locust's own pages are
        guard = web_ui.auth_required_if_enabled if web_ui is not None else (lambda view: view)
        app.add_url_rule(PAGE, "authsurge_live_page", guard(page))
        app.add_url_rule(f"{PAGE}/<name>", "authsurge_live_asset", guard(asset))
        app.add_url_rule(DATA, "authsurge_live_data", guard(data))
        if web_ui is not None:
            self._extend_locust_ui(app, web_ui)

    def _extend_locust_ui(self, app: Flask, web_ui: Any) -> None:
        web_ui.template_args["extended_tabs"] = [{"title": "authsurge (live)", "key": TAB}]
        web_ui.template_args["extended_tables"] = [
            {"key": TAB, "structure": [{"key": k, "title": t} for k, t in TABLE_COLUMNS]}
        ]

        @app.after_request
        def extend_stats(response: Response) -> Response:
            # under --web-base-path too
            if not request.path.endswith("/stats/requests") or not response.is_json:
                return response
            body = response.get_json() or {}
            body["extended_stats"] = [{"key": TAB, "data": self.table_rows()}]
            response.set_data(json.dumps(body, allow_nan=False, default=str))
            return response

    def table_rows(self) -> list[dict[str, Any]]:
        """One row per step for Locust's tab: the last ten seconds, and the knee so far."""
        rows = []
        for step in self.snapshot()["steps"]:
            last, knee = step["last10s"], step["knee"]
            rows.append(
                {
                    "step": step["step"],
                    "offered_per_s": last["offered_per_s"],
                    "goodput_per_s": last["goodput_per_s"],
                    "error_percent": round(100 * last["error_rate"], 1),
                    "p95_ms": last["p95_ms"] if last["p95_ms"] is not None else "",
                    "knee": (
                        f"{knee['offered']:g} req/s offered at {knee['at_s']} s ({knee['reason']})"
                        if knee
                        else ""
                    ),
                }
            )
        return rows
