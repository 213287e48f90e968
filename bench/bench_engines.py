"""Which engine can compute the analysis's per-window aggregates out of core: a measurement.

    python bench/bench_engines.py [RUN_DIR] [--records N] [--engines duckdb,polars] [--json OUT]

Without RUN_DIR it generates bench/bench_analysis.py's planted-knee run of N records
(default 100M, 1.3 GiB of Parquet) in a temp dir; `bench_analysis.py --records N
--keep DIR` makes one to reuse. Run it by name (`python bench/run_all.py engines`): it is
not part of `make bench`.

The core of `analyze`: for every (step, 1-s window) the requests offered (by start), the
requests completed and succeeded (by end), and the exact p50/p90/p95/p99/max latency of
those completed. Each engine runs it in a fresh child process (peak RSS its own) with two
threads, straight from the run's Parquet shards:

- DuckDB: SQL with quantile_cont, memory_limit 3 GB, spilling to a temp directory;
- polars: the lazy API with the streaming engine, linear-interpolation quantiles;
- pyarrow: hash aggregation has no exact quantile (only tdigest and approximate_median),
  so it is not a candidate for exact percentiles; it is listed, not timed.

Prints wall time, CPU time and peak RSS per engine, and whether the engines agree.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

QUANTILES = (0.5, 0.9, 0.95, 0.99)


def duckdb_aggregates(run_dir: Path, spill: Path) -> list[tuple]:
    import duckdb

    con = duckdb.connect(config={"memory_limit": "3GB", "threads": 2,
                                 "temp_directory": str(spill), "preserve_insertion_order": False})
    shards = str(run_dir / "requests" / "*.parquet")
    (t0,) = con.execute(f"SELECT min(t_start) FROM read_parquet('{shards}')").fetchall()[0]
    completed = con.execute(f"""
        SELECT step, floor(t_start + latency_ms / 1000 - {t0!r})::BIGINT AS w, count(*) AS completed,
               count(*) FILTER (WHERE outcome = 'ok') AS ok,
               quantile_cont(latency_ms, {list(QUANTILES)}) AS q, max(latency_ms) AS mx
        FROM read_parquet('{shards}') WHERE kind = 'request' GROUP BY ALL ORDER BY step, w
    """).fetchall()
    offered = con.execute(f"""
        SELECT step, floor(t_start - {t0!r})::BIGINT AS w, count(*) FROM read_parquet('{shards}')
        WHERE kind = 'request' GROUP BY ALL ORDER BY step, w
    """).fetchall()
    return [(*row[:4], *row[4], row[5]) for row in completed] + [("offered", *row) for row in offered]


def polars_aggregates(run_dir: Path, spill: Path) -> list[tuple]:
    os.environ["POLARS_TEMP_DIR"] = str(spill)  # where its streaming engine may spill
    import polars as pl

    scan = pl.scan_parquet(run_dir / "requests" / "*.parquet").filter(pl.col("kind") == "request")
    t0 = scan.select(pl.col("t_start").min()).collect(engine="streaming").item()
    end_w = ((pl.col("t_start") + pl.col("latency_ms") / 1000 - t0).floor()).cast(pl.Int64).alias("w")
    completed = (scan.group_by(pl.col("step").cast(pl.String), end_w)
                 .agg(pl.len().alias("completed"), (pl.col("outcome") == "ok").sum().alias("ok"),
                      *[pl.col("latency_ms").quantile(q, "linear").alias(f"q{q}") for q in QUANTILES],
                      pl.col("latency_ms").max().alias("mx"))
                 .sort("step", "w").collect(engine="streaming"))
    offered = (scan.group_by(pl.col("step").cast(pl.String),
                             (pl.col("t_start") - t0).floor().cast(pl.Int64).alias("w"))
               .agg(pl.len()).sort("step", "w").collect(engine="streaming"))
    return [tuple(r) for r in completed.iter_rows()] + [("offered", *r) for r in offered.iter_rows()]


ENGINES = {"duckdb": duckdb_aggregates, "polars": polars_aggregates}


def child(engine: str, run_dir: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="authsurge-spill-") as spill:
        started = time.perf_counter()
        rows = ENGINES[engine](run_dir, Path(spill))
        seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"seconds": seconds, "cpu_s": usage.ru_utime + usage.ru_stime,
                      "peak_rss_bytes": usage.ru_maxrss * 1024, "rows": rows}, default=float))


def same(a: list, b: list) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        for u, v in zip(x, y, strict=True):
            if isinstance(u, float) or isinstance(v, float):
                if abs(u - v) > 1e-9 * max(abs(u), abs(v)):
                    return False
            elif u != v:
                return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", type=Path, nargs="?", help="a run directory to read (default: generate one)")
    parser.add_argument("--records", type=int, default=100_000_000, help="records to generate (default 100M)")
    parser.add_argument("--engines", default="duckdb,polars")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.run_dir)
        return 0
    if args.run_dir is not None:
        return measure(args)
    from bench_analysis import generate  # bench/ is sys.path[0] when run

    with tempfile.TemporaryDirectory(prefix="authsurge-bench-engines-") as tmp:
        args.run_dir = Path(tmp) / "run"
        started = time.perf_counter()
        info = generate(args.run_dir, args.records)
        print(f"generated {int(info['rows']):,} records in {time.perf_counter() - started:.0f} s", flush=True)
        return measure(args)


def measure(args: argparse.Namespace) -> int:
    results = {}
    for engine in args.engines.split(","):
        proc = subprocess.run([sys.executable, __file__, str(args.run_dir), "--child", engine],
                              capture_output=True, text=True, check=False,
                              env={**os.environ, "POLARS_MAX_THREADS": "2"})
        if proc.returncode != 0:
            print(f"{engine}: failed (exit {proc.returncode}): {proc.stderr.strip()[-400:]}", flush=True)
            continue
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        results[engine] = result
        print(f"{engine}: {result['seconds']:.1f} s ({result['cpu_s']:.1f} CPU s), peak RSS "
              f"{result['peak_rss_bytes'] / 2**30:.2f} GiB, {len(result['rows']):,} rows of aggregates",
              flush=True)
    print("pyarrow: not timed (no exact quantile in hash aggregation)")
    names = list(results)
    if len(names) == 2:
        agree = same(results[names[0]]["rows"], results[names[1]]["rows"])
        print(f"{names[0]} and {names[1]} agree within 1e-9: {agree}")
    if args.json:
        args.json.write_text(json.dumps({"benchmark": "engines", "rows": [
            {"metric": f"{e} per-window aggregates", "value": round(r["seconds"], 1), "unit":
             f"s ({r['cpu_s']:.0f} CPU s, peak RSS {r['peak_rss_bytes'] / 2**30:.2f} GiB)"}
            for e, r in results.items()]}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
