"""Record the golden analyses (tests/support/goldens.py) from today's analysis path.

    python tools/make_goldens.py [--real]

It writes the synthetic golden and re-analyses the stored real runs. With --real it first
makes two new short real runs of the embedded target (a planted login capacity crossed by
a step ramp; a one-worker, one-thread target ramped to 3x its capacity) and stores their
raw records. A golden is the analysis at full precision (`to_json(exact=True)`): rounded to
6 digits, a value a hair either side of a rounding boundary would read as a change.
Run it once, before changing how the analysis computes; a golden regenerated to make a
test pass proves nothing.
"""

from __future__ import annotations

import locust  # noqa: F401 - gevent must patch ssl/socket before anything imports them

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from authsurge.analysis import analyze_run  # noqa: E402
from authsurge.target import CLIENT_SECRET_ENV, PASSWORD_ENV, TargetOptions, start_target  # noqa: E402
from tests.support import goldens  # noqa: E402


def record(name: str, run_dir: Path) -> None:
    """Write the golden of `run_dir`: its analysis at full precision."""
    doc = goldens.as_written(analyze_run(run_dir).to_json(exact=True))
    path = goldens.GOLDENS / name / "analysis.json"
    path.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    print(f"{name}: {path}", flush=True)


def real_runs(work: Path) -> dict[str, Path]:
    from tests.support.real import ACCOUNTS, shared_pool_run
    from tests.support.real_runs import base_run
    from tests.support.target import TEST_HASHER_ITERATIONS

    seed = work / "seed"
    start_target(TargetOptions(port=0, users=ACCOUNTS, data_dir=seed, startup_timeout_s=60,
                               hasher_iterations=TEST_HASHER_ITERATIONS), log=lambda line: None).stop()
    (work / "ramp").mkdir()
    (work / "pool").mkdir()
    ramp = base_run(work / "ramp", seed)
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
        (goldens.GOLDENS / goldens.SYNTHETIC).mkdir(parents=True, exist_ok=True)
        record(goldens.SYNTHETIC, synthetic.path)
        if args.real:
            os.environ.setdefault(PASSWORD_ENV, "goldens-password")
            os.environ.setdefault(CLIENT_SECRET_ENV, "goldens-client-secret")
            for name, run_dir in real_runs(work).items():
                shutil.rmtree(goldens.GOLDENS / name, ignore_errors=True)
                goldens.store_raw(run_dir, goldens.GOLDENS / name / "run")
        for name in goldens.REAL:  # analysed from a copy: the stored run is never touched
            record(name, goldens.copy_real(name, work / "analysed" / name))
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
