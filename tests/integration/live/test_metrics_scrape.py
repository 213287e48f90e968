"""`--metrics`: scraped after the run's last records arrived (it stays up for drain_s),
its counters are the run directory's records."""

from __future__ import annotations

import json
import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from authsurge.errors import ExitStatus
from tests.integration.live.conftest import start_live_run, wait_for
from tests.support.runner import records

BODY = """
credentials: {count: 50}
journeys:
  web_login: {steps: [form_login, api, form_logout]}
traffic: {model: open, shape: {kind: steady, rate: 5}}
run: {duration_s: 8, drain_s: 8}
"""


@pytest.mark.parametrize("workers", [1, 2], ids=["one process", "master and two workers"])
def test_metrics_after_the_last_records_match_the_records(
    target, target_env, tmp_path, workers: int  # noqa: ANN001
) -> None:
    """With two workers the endpoint is the master's, fed the rows the workers ship."""
    with start_live_run(tmp_path, target.base_url, BODY, web=False,
                        extra=["--workers", str(workers)]) as live:
        wait_for(live.metrics + "/metrics", proc=live.proc)
        during = requests.get(live.metrics + "/metrics", timeout=5).text
        run_dir = live.run_dir()
        deadline = time.time() + 60
        while json.loads((run_dir / "meta.json").read_text())["status"] == "running":
            assert time.time() < deadline and live.proc.poll() is None
            time.sleep(0.1)
        text = requests.get(live.metrics + "/metrics", timeout=5).text  # within drain_s
        assert live.proc.wait(timeout=60) == ExitStatus.SUCCESS
    assert "authsurge_requests_total" in during
    families = {f.name: f for f in text_string_to_metric_families(text)}
    scraped = {(s.labels["step"], s.labels["cohort"], s.labels["outcome"]): int(s.value)
               for s in families["authsurge_requests"].samples}
    rows = records(run_dir)
    requests_ = rows[rows["kind"] == "request"]
    expected = requests_.groupby(["step", "cohort", "outcome"]).size().to_dict()
    assert scraped == {k: int(v) for k, v in expected.items()}
    assert {"login.form", "login.submit", "api.call", "logout"} <= {k[0] for k in scraped}
    counts = {(s.labels["step"], s.labels.get("le")): s.value
              for s in families["authsurge_request_latency_seconds"].samples
              if s.name.endswith("_count")}
    assert counts[("login.submit", None)] == (requests_["step"] == "login.submit").sum()
    journeys = sum(int(s.value) for s in families["authsurge_journeys"].samples)
    assert journeys == int((rows["kind"] == "journey").sum()) > 0
    assert len(set(rows["worker"])) == workers
