"""Scenarios for the fault tests: open model, uniform arrivals, no retries, so every
planned arrival is exactly one journey row (or one dropped row)."""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from authsurge import run as runner
from authsurge.scenario import parse_scenario
from tests.support.runner import started_at

REDIRECT_URI = "http://127.0.0.1/callback"
STEPS = {  # the requests every ok journey makes (discovery is fetched once per run)
    "web": ["login.form", "login.submit", "api.call"],
    "app": ["oidc.authorize", "oidc.login_form", "oidc.login_submit", "oidc.token",
            "api.call"],
}


def run_faulty(tmp_path: Path, base_url: str, *, journeys: dict[str, list[str]], rate: float,
               duration_s: float = 10, timeout_s: float = 5, token_endpoint: str | None = None,
               api_endpoints: list[dict[str, Any]] | None = None) -> runner.RunResult:
    flows: dict[str, Any] = {"oidc": {"issuer": "/o", "client": {"client_id": "surge-public"},
                                      "redirect_uri": REDIRECT_URI}}
    if token_endpoint:
        flows["oidc"]["endpoints"] = {"token_endpoint": token_endpoint}
    if api_endpoints:
        flows["api"] = {"endpoints": api_endpoints}
    data = {
        "name": "fault",
        "target": {"base_url": base_url, "timeout_s": timeout_s},
        "credentials": {"count": 20},
        "flows": flows,
        "journeys": {name: {"steps": steps} for name, steps in journeys.items()},
        "traffic": {"shape": {"kind": "steady", "rate": rate}, "arrivals": "uniform"},
        "run": {"duration_s": duration_s, "drain_s": 3},
    }
    path = tmp_path / "scenario.yaml"
    path.write_text(json.dumps(data, indent=1))  # JSON is YAML
    scenario = parse_scenario(path.read_text(), path)
    return runner.run(runner.RunOptions(scenario=scenario, out_root=tmp_path / "runs", progress=False))


class RunWindow:
    """A fault window [a, b) seconds after the run's own start, set on the proxies once the
    run has started (its start-up time varies with the machine's load); `start` and `end`
    are epoch s, NaN until then. Arm it before the run, under the run's `runs` folder."""

    def __init__(self, runs: Path, proxies: Sequence[Any], window: tuple[float, float]) -> None:
        self.start = self.end = math.nan
        self._thread = threading.Thread(target=self._arm, args=(runs, proxies, window), daemon=True)
        self._thread.start()

    def _arm(self, runs: Path, proxies: Sequence[Any], window: tuple[float, float]) -> None:
        t0 = started_at(runs)
        self.start, self.end = t0 + window[0], t0 + window[1]
        for proxy in proxies:
            proxy.fault_between(self.start, self.end)
