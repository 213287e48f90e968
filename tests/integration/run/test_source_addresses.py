"""target.source_addresses: the target sees each person's connections come from the
configured loopback addresses (its access log names the client address)."""

from __future__ import annotations

from authsurge import run as runner
from authsurge.scenario import parse_scenario

SPREAD = """
target: {{base_url: "{base_url}", source_addresses: ["127.0.0.2-127.0.0.4"]}}
flows:
  api: {{endpoints: [{{path: /api/me, expect_status: [401]}}]}}
journeys:
  probe: {{steps: [api]}}
traffic:
  shape: {{kind: steady, rate: 10}}
  arrivals: uniform
run: {{duration_s: 3, drain_s: 2}}
"""


def test_the_target_sees_connections_from_each_configured_address(tmp_path, target_factory) -> None:
    log = tmp_path / "access.log"
    target = target_factory(access_log=log)
    path = tmp_path / "s.yaml"  # the whole target section here (scenario_text writes its own)
    path.write_text("name: spread\n" + SPREAD.format(base_url=target.base_url))
    scenario = parse_scenario(path.read_text(), path)
    result = runner.run(runner.RunOptions(scenario=scenario, out_root=tmp_path / "runs", progress=False))
    assert result.status == "complete"
    lines = [line for line in log.read_text().splitlines() if "/api/me" in line]
    clients = [line.split()[0] for line in lines]
    assert len(clients) >= 25
    assert set(clients) == {"127.0.0.2", "127.0.0.3", "127.0.0.4"}
    # round-robin: each address carries about a third
    assert min(clients.count(a) for a in set(clients)) >= len(clients) // 3 - 2
