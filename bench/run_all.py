"""`make bench`: run every bench/bench_*.py, print one table, write bench/results/*.json.

Each benchmark is a script taking `--json OUT` and writing
{"benchmark": name, "rows": [{"metric", "value", "unit", "target", "meets_target"}...]}.
Benchmarks are never part of `make test`: they measure speed, tests check behaviour.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
# Run only when named (`run_all.py compare`) or on their own: bench_compare.py takes ~25
# minutes of real runs against fresh targets (`make bench-compare`); bench_engines.py
# measures candidate engines for the out-of-core analysis on 100M generated records.
SEPARATE = {"bench_compare", "bench_engines"}
# Arguments a script gets in `make bench` (its own default is a quicker size for a look)
ARGS = {"bench_analysis": ["--records", "100000000"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("only", nargs="*", help="run only these (e.g. analysis journeys)")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    scripts = sorted(HERE.glob("bench_*.py"))
    if args.only:
        scripts = [s for s in scripts if any(o in s.stem for o in args.only)]
    else:
        scripts = [s for s in scripts if s.stem not in SEPARATE]
    results, failed = [], []
    for script in scripts:
        out = RESULTS / f"{script.stem.removeprefix('bench_')}.json"
        print(f"== {script.name}", flush=True)
        started = time.time()
        command = [sys.executable, str(script), *ARGS.get(script.stem, []), "--json", str(out)]
        out.unlink(missing_ok=True)  # a result left from an earlier run must not stand in
        proc = subprocess.run(command, cwd=HERE.parent)
        # exit 1 with a result: a target was missed, which the table shows as NO; no result
        # (or another exit status): the benchmark itself failed
        if proc.returncode not in (0, 1) or not out.exists():
            failed.append(script.name)
            print(f"   {script.name} failed (exit {proc.returncode})", flush=True)
            continue
        data = json.loads(out.read_text())
        data["seconds"] = round(time.time() - started, 1)
        results.append(data)
    machine = {"date": time.strftime("%Y-%m-%d"), "python": platform.python_version(),
               "cpus": psutil.cpu_count(), "memory_gib": round(psutil.virtual_memory().total / 2**30),
               "machine": platform.machine()}
    (RESULTS / "summary.json").write_text(json.dumps({"machine": machine, "results": results}, indent=2))
    print()
    print(f"| benchmark | metric | value | unit | target | meets |   ({machine['date']}, "
          f"{machine['cpus']} cores, {machine['memory_gib']} GiB, Python {machine['python']})")
    print("|---|---|---|---|---|---|")
    for data in results:
        for row in data["rows"]:
            meets = {True: "yes", False: "NO", None: ""}[row.get("meets_target")]
            value = row["value"]
            shown = f"{value:,.3g}" if isinstance(value, float) else f"{value:,}" if isinstance(value, int) else value
            print(f"| {data['benchmark']} | {row['metric']} | {shown} | {row.get('unit', '')} | "
                  f"{row.get('target', '')} | {meets} |")
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
