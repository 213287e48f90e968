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
    # and the records say where each request came from
    from tests.support.runner import records

    rows = records(result.run_dir)
    assert set(rows.loc[rows["kind"] == "request", "source"]) == {"127.0.0.2", "127.0.0.3", "127.0.0.4"}


LIMITED = """
target: {{base_url: "{base_url}"{sources}}}
flows:
  api: {{endpoints: [{{path: /api/me, expect_status: [401]}}]}}
journeys:
  probe: {{steps: [api]}}
traffic:
  shape: {{kind: steady, rate: 24}}
  arrivals: uniform
run: {{duration_s: 4, drain_s: 2}}
"""


def test_429s_from_one_address_are_said_to_measure_a_per_ip_limit_and_many_addresses_see_past_it(
        tmp_path, target_factory) -> None:
    from authsurge.analysis import analyze_run
    from tests.support.runner import records

    # 8 requests a second from one address, 24 offered: two thirds are 429
    target = target_factory(per_ip_limit=8)
    runs = {}
    for name, sources in (("one", ""), ("many", ', source_addresses: ["127.0.0.2-127.0.0.7"]')):
        path = tmp_path / f"{name}.yaml"
        path.write_text(f"name: {name}\n" + LIMITED.format(base_url=target.base_url, sources=sources))
        scenario = parse_scenario(path.read_text(), path)
        result = runner.run(runner.RunOptions(scenario=scenario, out_root=tmp_path / name, progress=False))
        assert result.status == "complete"
        rows = records(result.run_dir)
        with analyze_run(result.run_dir) as analysis:
            runs[name] = (rows[rows["kind"] == "request"], analysis.warnings)
    one, one_warnings = runs["one"]
    assert 0.5 < (one["status"] == 429).mean() < 0.8
    assert [w for w in one_warnings if "answered 429" in w and "one source address" in w]
    # six addresses at 4 a second each: under the limit, no 429 and nothing to warn of
    many, many_warnings = runs["many"]
    assert (many["status"] == 429).mean() < 0.02 and len(set(many["source"])) == 6
    assert not [w for w in many_warnings if "429" in w]
