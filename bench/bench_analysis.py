"""Benchmark: `authsurge analyze`, `report` and `compare` on N synthetic request records
(default 10 million; `make bench` runs 100 million).

    python bench/bench_analysis.py [--records N] [--json OUT] [--keep DIR]

Writes a step-ramp run directory (4 Parquet shards written with pyarrow directly, plus
meta.json, schedule.parquet, resources.parquet) with a planted knee, then measures, each
in a fresh child process so that its peak RSS is its own and not the generator's:
  1. `analyze_run` alone, for the time of each stage;
  2. `authsurge analyze RUN` (analysis.json, the compare digest and the plots): the goal;
  3. `authsurge report RUN` (reads what analyze wrote);
  4. `authsurge compare RUN RUN` (reads the two digests).
Targets on a 2-core machine, from issue 15: 100M records analysed in < 60 s (a rate of
1.67M records/s at any N) and every command under 4 GiB peak RSS. Prints the generation
time apart from the results.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from authsurge.rundir.records import REQUEST_SCHEMA, RESOURCE_SCHEMA

T0 = 1_700_000_000.0
LEVELS = 10
LEVEL_S = 60
SHARDS = 4
ROWS_PER_JOURNEY = 5  # journey row + login.form + login.submit + 2 x api.call
TARGET_RATE = 100e6 / 60.0  # records/s: issue 15's 100M records in under 60 s
TARGET_RSS_GIB = 4.0


CHUNK_JOURNEYS = 500_000  # the generator holds one chunk (about 2.5M records) at a time


def generate(run_dir: Path, records: int, seed: int = 1) -> dict[str, float]:
    """A run with a knee: login.submit is planted at 55% of the top arrival rate.

    Written chunk by chunk (a slice of each load level's seconds at a time), so 100M
    records need no more memory than 10M; each chunk is spread over the SHARDS files."""
    rng = np.random.default_rng(seed)
    journeys = max(records // ROWS_PER_JOURNEY, LEVELS)
    base = journeys / (LEVEL_S * LEVELS * (LEVELS + 1) / 2)
    rates = base * np.arange(1, LEVELS + 1)
    per_level = np.floor(rates * LEVEL_S).astype(np.int64)
    per_level[-1] += journeys - per_level.sum()
    capacity = 0.55 * rates[-1]

    (run_dir / "requests").mkdir(parents=True, exist_ok=True)
    writers = [pq.ParquetWriter(run_dir / "requests" / f"worker-{i}.parquet", REQUEST_SCHEMA,
                                compression="zstd") for i in range(SHARDS)]
    first_id = 0
    try:
        for level in range(LEVELS):
            pieces = max(1, math.ceil(per_level[level] / CHUNK_JOURNEYS))
            sizes = np.diff(np.linspace(0, per_level[level], pieces + 1).astype(np.int64))
            span = LEVEL_S / pieces
            for piece, size in enumerate(sizes):
                if size == 0:  # a tiny --records leaves the first levels empty
                    continue
                t_int = np.sort(T0 + level * LEVEL_S + piece * span + rng.random(size) * span)
                table = _chunk(rng, t_int, first_id, rates[level] / capacity)
                bounds = np.linspace(0, table.num_rows, SHARDS + 1).astype(np.int64)
                for i, writer in enumerate(writers):  # each shard gets a slice of every chunk
                    writer.write_table(table.slice(bounds[i], bounds[i + 1] - bounds[i]))
                first_id += size
    finally:
        for writer in writers:
            writer.close()

    seconds = np.arange(LEVELS * LEVEL_S)
    load = np.minimum(1.0, rates[seconds // LEVEL_S] / capacity)
    res = pa.table({
        "t": np.concatenate([T0 + seconds + 0.5] * 2), "source": ["target"] * seconds.size +
        ["harness:worker-0"] * seconds.size,
        "cpu_percent": np.concatenate([195 * load, 40 * load]),
        "rss_bytes": np.full(2 * seconds.size, 200_000_000, np.int64),
        "processes": np.full(2 * seconds.size, 3, np.int32),
        "loop_lag_ms": np.concatenate([np.full(seconds.size, np.nan), np.full(seconds.size, 3.0)]),
        "cpu_count": np.full(2 * seconds.size, 2, np.int32),
        "busiest_cpu_percent": np.concatenate([100 * load, 40 * load]),
    }).cast(RESOURCE_SCHEMA)
    pq.write_table(res, run_dir / "resources.parquet")
    pq.write_table(pa.table({"t": T0 + seconds.astype(float), "journey": ["login_api"] * seconds.size,
                             "planned_rate": rates[seconds // LEVEL_S]}), run_dir / "schedule.parquet")
    meta = {
        "format_version": 1, "run_id": run_dir.name, "scenario": "bench", "status": "complete",
        "started_at": T0, "ended_at": T0 + LEVELS * LEVEL_S + 2, "duration_s": LEVELS * LEVEL_S + 2,
        "target": {"base_url": "http://127.0.0.1:8000"}, "harness": {"cpu_count": 2},
        "traffic": {"model": "open", "shape": "step_ramp", "dropped_journeys": 0},
        "levels": [{"start": T0 + i * LEVEL_S, "end": T0 + (i + 1) * LEVEL_S, "rate": float(r)}
                   for i, r in enumerate(rates)],
        "analysis": {"window_s": 1.0, "settle_s": 2.0, "goodput_share": 0.9, "knee_p95_ms": None},
        "slos": ["login.submit p95 < 800ms", "* error_rate < 1%"],
        "bench": {"planted_capacity": capacity},  # extra keys are ignored by readers
    }
    (run_dir / "meta.json").write_text(json.dumps(meta))
    return {"rows": float(ROWS_PER_JOURNEY * first_id), "planted_capacity": float(capacity)}


def _chunk(rng: np.random.Generator, t_int: np.ndarray, first_id: int, rho: float) -> pa.Table:
    """The records of the journeys arriving at `t_int`, offered `rho` x login.submit's capacity."""
    journeys = t_int.size
    p_ok = min(1.0, 1.0 / rho)
    ids = pc.cast(pa.array(np.arange(first_id, first_id + journeys)), pa.string())
    person = pc.binary_join_element_wise("p", ids, "")
    journey_id = pc.binary_join_element_wise("j", ids, "-1", "")
    submit_ok = rng.random(journeys) < p_ok
    now = t_int + 0.001
    columns: dict[str, list[np.ndarray]] = {k: [] for k in ("kind", "step", "t_start", "lat", "ok")}

    def add(kind: int, step: int, start: np.ndarray, lat: np.ndarray, ok: np.ndarray) -> None:
        columns["kind"].append(np.full(journeys, kind, np.int8))
        columns["step"].append(np.full(journeys, step, np.int8))
        columns["t_start"].append(start)
        columns["lat"].append(lat)
        columns["ok"].append(ok)

    factor = 2.5 + 12 * (rho - 1) if rho > 1 else 1 + 1.5 * rho ** 2
    for step, base_ms in ((0, 20.0), (1, 80.0), (2, 15.0), (2, 15.0)):
        lat = base_ms * rng.lognormal(0, 0.25, journeys) * (factor if step == 1 else 1.0)
        ok = submit_ok if step == 1 else np.ones(journeys, bool)
        lat = np.where(ok, lat, 5.0)
        add(0, step, now.copy(), lat, ok)
        now += lat / 1000 + 0.002
    add(1, 3, t_int + 0.001, (now - t_int) * 1000, submit_ok)

    kind = np.concatenate(columns["kind"])
    step = np.concatenate(columns["step"])
    ok = np.concatenate(columns["ok"])
    n = kind.size
    reps = n // journeys
    take = np.tile(np.arange(journeys), reps)
    kinds = pa.DictionaryArray.from_arrays(pa.array(kind), pa.array(["request", "journey"]))
    steps = pa.DictionaryArray.from_arrays(pa.array(step),
                                           pa.array(["login.form", "login.submit", "api.call", "login_api"]))
    outcome = pa.DictionaryArray.from_arrays(pa.array((~ok).astype(np.int8)), pa.array(["ok", "http_5xx"]))
    reason = pa.DictionaryArray.from_arrays(pa.array((~ok).astype(np.int8)), pa.array(["", "503 on POST"]))
    method = pa.DictionaryArray.from_arrays(pa.array(np.where(step == 1, 1, 0).astype(np.int8)),
                                            pa.array(["GET", "POST"]))
    return pa.table({
        "kind": kinds, "t_intended": np.tile(t_int, reps), "t_start": np.concatenate(columns["t_start"]),
        "step": steps, "journey": pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int8)),
                                                                 pa.array(["login_api"])),
        "journey_id": pc.take(journey_id, take), "person_id": pc.take(person, take),
        "attempt": np.ones(n, np.int16), "method": method,
        "status": np.where(ok, 200, 503).astype(np.int32), "outcome": outcome, "reason": reason,
        "latency_ms": np.concatenate(columns["lat"]), "bytes": np.full(n, 1000, np.int64),
        "worker": pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int8)), pa.array(["w"])),
        "cohort": pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int8)), pa.array(["surge"])),
        "source": pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int8)), pa.array([""])),
    }).cast(REQUEST_SCHEMA)


def analyse_in_this_process(run_dir: Path) -> None:
    """Child mode: time analyze_run's stages and print them as JSON (nothing is written)."""
    from authsurge.analysis import analyze_run

    marks: list[tuple[str, float]] = []
    started = time.perf_counter()
    analysis = analyze_run(run_dir, progress=lambda stage: marks.append((stage, time.perf_counter())))
    seconds = time.perf_counter() - started
    marks.append(("end", started + seconds))
    stages = {name: round(marks[i + 1][1] - t, 2) for i, (name, t) in enumerate(marks[:-1])}
    doc = analysis.to_json()
    knee = doc["steps"]["login.submit"]["knee"]
    print(json.dumps({"seconds": seconds, "stages": stages, "records": doc["run"]["records"],
                      "planted": analysis.meta.get("bench", {}).get("planted_capacity"),
                      "capacity": knee["capacity"], "reason": knee["reason"],
                      "first_to_fail": doc["first_to_fail"][0]["step"]}))


@dataclass(frozen=True)
class Measured:
    seconds: float
    cpu_s: float
    peak_gib: float


def measure(command: list[str], ok_codes: tuple[int, ...] = (0,)) -> tuple[Measured, str]:
    """Run a command as a child; its wall time, CPU time and peak RSS (its own, from
    wait4), and its stdout. Exits the benchmark, with the child's stderr, when its exit
    status is not in `ok_codes`."""
    started = time.perf_counter()
    # files, not pipes: a child blocked on a full pipe would never exit to be waited for
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(command, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        text, errors = out.read(), err.read()
    if os.waitstatus_to_exitcode(status) not in ok_codes:
        raise SystemExit(f"{' '.join(command)} failed:\n{errors}")
    return Measured(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 2**20), text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", "--rows", type=int, default=10_000_000,
                        help="request records to generate (default 10M; make bench runs 100M)")
    parser.add_argument("--json", type=Path, help="write the result here (bench/run_all.py format)")
    parser.add_argument("--keep", type=Path, help="generate into (or reuse) this run directory")
    parser.add_argument("--analyse-only", type=Path, help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.analyse_only:
        analyse_in_this_process(args.analyse_only)
        return 0

    tmp = None
    generate_s = None
    if args.keep is not None:
        run_dir = args.keep
    else:
        tmp = Path(tempfile.mkdtemp(prefix="authsurge-bench-"))
        run_dir = tmp / "run"
    cli = [sys.executable, "-m", "authsurge"]
    try:
        if not (run_dir / "meta.json").exists():
            started = time.perf_counter()
            # in a child: a command started later from a parent that grew by generating
            # would report the parent's RSS as its own peak (Linux keeps the high-water
            # mark of the memory it replaced at exec)
            with multiprocessing.get_context("spawn").Pool(1) as pool:
                info = pool.apply(generate, (run_dir, args.records))
            generate_s = time.perf_counter() - started
            size = sum(f.stat().st_size for f in (run_dir / "requests").iterdir())
            print(f"generated {int(info['rows']):,} records in {generate_s:.1f} s "
                  f"({size / 2**30:.2f} GiB of Parquet in {run_dir})", flush=True)
        # a kept run is analysed afresh: report would otherwise read what analyze wrote before
        (run_dir / "analysis.json").unlink(missing_ok=True)
        for folder in ("digest", "plots"):
            shutil.rmtree(run_dir / folder, ignore_errors=True)
        _, text = measure([sys.executable, __file__, "--analyse-only", str(run_dir)])
        result = json.loads(text.strip().splitlines()[-1])
        gate = (0, 1)  # 1: an SLO or the comparison's gate failed; the command still ran
        analyze, _ = measure([*cli, "analyze", str(run_dir)], gate)
        report, _ = measure([*cli, "report", str(run_dir)], gate)
        compare, _ = measure([*cli, "compare", str(run_dir), str(run_dir)], gate)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)

    records = result["records"]
    rate = records / analyze.seconds
    ok_time = rate >= TARGET_RATE
    ok_rss = max(analyze.peak_gib, report.peak_gib, compare.peak_gib) < TARGET_RSS_GIB
    stages = ", ".join(f"{k} {v:.1f} s" for k, v in result["stages"].items())
    print(f"analyze_run: {records:,} records in {result['seconds']:.1f} s [{stages}]; "
          f"{result['first_to_fail']} capacity {result['capacity']:,.0f} req/s (planted "
          f"{result['planted'] or float('nan'):,.0f}; knee: {result['reason']})")
    print(f"authsurge analyze (analysis.json, digest, plots): {analyze.seconds:.1f} s "
          f"({analyze.cpu_s:.1f} CPU s), peak RSS {analyze.peak_gib:.2f} GiB; target "
          f">= {TARGET_RATE / 1e6:.2f}M records/s (100M in 60 s): {rate / 1e6:.2f}M/s, "
          f"{'met' if ok_time else 'MISSED'}")
    print(f"authsurge report: {report.seconds:.1f} s, peak RSS {report.peak_gib:.2f} GiB; "
          f"authsurge compare (the run against itself): {compare.seconds:.1f} s, peak RSS "
          f"{compare.peak_gib:.2f} GiB; all < {TARGET_RSS_GIB:.0f} GiB: {'met' if ok_rss else 'MISSED'}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        rss_target = f"< {TARGET_RSS_GIB:.0f}"
        args.json.write_text(json.dumps({"benchmark": "analysis", "rows": [
            {"metric": "records", "value": records, "unit": "rows"},
            {"metric": "generating the synthetic run (not analysis)",
             "value": round(generate_s, 1) if generate_s is not None else "reused", "unit": "s"},
            {"metric": "analyze_run (library) time", "value": round(result["seconds"], 2), "unit": "s"},
            {"metric": "authsurge analyze time", "value": round(analyze.seconds, 2), "unit": "s",
             "target": f"< {records / TARGET_RATE:.1f} (100M in 60 s)", "meets_target": ok_time},
            {"metric": "authsurge analyze CPU time", "value": round(analyze.cpu_s, 2), "unit": "s"},
            {"metric": "authsurge analyze peak RSS", "value": round(analyze.peak_gib, 3), "unit": "GiB",
             "target": rss_target, "meets_target": analyze.peak_gib < TARGET_RSS_GIB},
            {"metric": "authsurge report time", "value": round(report.seconds, 2), "unit": "s"},
            {"metric": "authsurge report peak RSS", "value": round(report.peak_gib, 3), "unit": "GiB",
             "target": rss_target, "meets_target": report.peak_gib < TARGET_RSS_GIB},
            {"metric": "authsurge compare time", "value": round(compare.seconds, 2), "unit": "s"},
            {"metric": "authsurge compare peak RSS", "value": round(compare.peak_gib, 3), "unit": "GiB",
             "target": rss_target, "meets_target": compare.peak_gib < TARGET_RSS_GIB},
        ], "stages_s": result["stages"]}, indent=2))
    return 0 if ok_time and ok_rss else 1


if __name__ == "__main__":
    sys.exit(main())
