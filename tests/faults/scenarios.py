"""Scenarios for the fault tests: open model, uniform arrivals, no retries, so every
planned arrival is exactly one journey row (or one dropped row)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from authsurge import runner
from authsurge.scenario import parse_scenario

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
