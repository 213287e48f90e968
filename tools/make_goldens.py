"""Record the golden analyses (tests/support/goldens.py) from today's analysis path.

    python tools/make_goldens.py [--real]

Without --real it writes the synthetic golden only. With --real it also makes two short
real runs of the embedded target (a planted login capacity crossed by a step ramp; a
one-worker, one-thread target ramped to 3x its capacity) and stores their raw records.
Run it once, before changing how the analysis computes; a golden regenerated to make a
test pass proves nothing.
"""

from __future__ import annotations

import locust  # noqa: F401 - gevent must patch ssl/socket before anything imports them

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from authsurge.analysis import analyze_run  # noqa: E402
from authsurge.target import CLIENT_SECRET_ENV, PASSWORD_ENV, TargetOptions, start_target  # noqa: E402
from tests.support import goldens  # noqa: E402


def record(name: str, run_dir: Path, keep_raw: bool) -> None:
    folder = goldens.GOLDENS / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    if keep_raw:
        goldens.store_raw(run_dir, folder / "run")
        run_dir = goldens.copy_real(name, Path(tempfile.mkdtemp()) / name)
    analyze_run(run_dir).write_json(folder / "analysis.json")
    print(f"{name}: {folder / 'analysis.json'}", flush=True)


def real_runs(work: Path) -> dict[str, Path]:
    from tests.support.real import shared_pool_run
    from tests.support.real_runs import make_real_runs

    seed = work / "seed"
    start_target(TargetOptions(port=0, users=400, data_dir=seed, startup_timeout_s=60,
                               hasher_iterations=1000), log=lambda line: None).stop()
    (work / "ramp").mkdir()
    (work / "pool").mkdir()
    ramp = make_real_runs(work / "ramp", seed).base
    pool, _ = shared_pool_run(seed, work / "pool")
    return {"real_ramp": ramp, "real_shared_pool": pool}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--real", action="store_true", help="also make and store the two real runs")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="authsurge-goldens-"))
    try:
        synthetic = goldens.write_synthetic(work / goldens.SYNTHETIC)
        print(f"{goldens.SYNTHETIC}: {synthetic.rows} records", flush=True)
        record(goldens.SYNTHETIC, synthetic.path, keep_raw=False)
        if args.real:
            os.environ.setdefault(PASSWORD_ENV, "goldens-password")
            os.environ.setdefault(CLIENT_SECRET_ENV, "goldens-client-secret")
            for name, run_dir in real_runs(work).items():
                record(name, run_dir, keep_raw=True)
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
