"""Arrival-rate accuracy under a slow target (open model, coordinated-omission check).

The embedded target adds a server-side delay 10x the inter-arrival time (50 arrivals/s,
20 ms apart; every response takes >= 200 ms). An open-model generator must keep to the
schedule regardless: per 10-s window the started journeys stay within +/-5% of the
planned arrivals, and the reported journey latency (from the intended start) includes
the delay. Runs ~60 s of load against 127.0.0.1 only.

    python bench/bench_arrivals.py [--rate 50] [--delay-ms 200] [--duration 60] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--delay-ms", type=float, default=200.0)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    os.environ.setdefault("AUTHSURGE_PASSWORD", "bench-password")
    os.environ.setdefault("AUTHSURGE_CLIENT_SECRET", "bench-client-secret")
    from authsurge import run as runner
    from authsurge.scenario import parse_scenario
    from authsurge.target import TargetOptions, running_target

    work = Path(tempfile.mkdtemp(prefix="authsurge-bench-arrivals-"))
    options = TargetOptions(port=0, workers=2, threads=64, users=10, delay_ms=args.delay_ms, data_dir=work / "target")
    with running_target(options) as target:
        scenario = parse_scenario(textwrap.dedent(f"""
            name: bench_arrivals
            target: {{base_url: "{target.base_url}"}}
            flows:
              api: {{endpoints: [{{path: /api/me, expect_status: [401]}}]}}
            journeys:
              probe: {{steps: [api]}}
            traffic:
              shape: {{kind: steady, rate: {args.rate}}}
              arrivals: poisson
              max_concurrency: 5000
            run: {{duration_s: {args.duration}, drain_s: 5}}
        """), work / "bench.yaml")
        result = runner.run(runner.RunOptions(scenario=scenario, out_root=work / "runs", progress=False,
                                              target_pids=target.pids()))
    rows = pq.read_table(result.run_dir / "requests").to_pandas()
    journeys = rows[rows["kind"] != "request"]
    t0 = result.meta["started_at"]
    windows = np.arange(0, args.duration + 1e-9, 10.0)
    planned = np.histogram(journeys["t_intended"] - t0, bins=windows)[0]  # what the plan asked for
    started = np.histogram(journeys[journeys["kind"] == "journey"]["t_start"] - t0, bins=windows)[0]
    deviation = np.abs(started - planned) / np.maximum(planned, 1)
    lat = journeys[journeys["kind"] == "journey"]["latency_ms"]
    ok_share = float((journeys["outcome"] == "ok").mean())
    out = {
        "benchmark": "arrivals",
        "rows": [
            {"metric": f"worst 10-s window deviation, {args.rate:g}/s with {args.delay_ms:g} ms responses",
             "value": round(float(deviation.max()) * 100, 2), "unit": "%", "target": "<= 5",
             "meets_target": bool(deviation.max() <= 0.05)},
            {"metric": "dropped journeys", "value": int((journeys["kind"] == "dropped").sum()), "unit": "",
             "target": "0", "meets_target": bool((journeys["kind"] == "dropped").sum() == 0)},
            {"metric": "journey latency p50 (from intended start)", "value": round(float(lat.median()), 1),
             "unit": "ms", "target": f">= {args.delay_ms:g}", "meets_target": bool(lat.median() >= args.delay_ms)},
            {"metric": "journeys ok", "value": round(ok_share * 100, 2), "unit": "%", "target": "", "meets_target": None},
        ],
        "windows": {"planned": planned.tolist(), "started": started.tolist()},
    }
    for row in out["rows"]:
        print(f"arrivals: {row['metric']}: {row['value']} {row['unit']}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
