"""Records survive the harness being killed: SIGKILL loses at most ~1 s, SIGINT nothing."""

from __future__ import annotations

import math
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyarrow.parquet as pq

from authsurge.rundir.records import REQUEST_SCHEMA, read_stream

WRITER = textwrap.dedent("""
    import signal, sys, time
    from pathlib import Path
    from authsurge.rundir import records as record
    table = record.StreamTable(Path(sys.argv[1]), record.REQUEST_SCHEMA)
    flusher = record.Flusher([table], interval=0.5).start()
    def stop(*_):
        flusher.stop(); table.close(); print("closed", n, flush=True); sys.exit(0)
    signal.signal(signal.SIGINT, stop)
    n = 0
    rate = 1000  # rows per second
    t0 = time.time()
    while time.time() - t0 < 30:  # bounded: the test kills it long before
        table.append({"step": "login.submit", "t_start": time.time(), "journey_id": str(n)})
        n += 1
        if n % 100 == 0:
            print(n, flush=True)
        time.sleep(1 / rate)
""")


def start_writer(path: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True)


def wait_for_rows(proc: subprocess.Popen, rows: int, timeout_s: float = 30.0) -> int:
    """Read the writer's counts until it has appended `rows` (start-up time varies)."""
    deadline, count = time.time() + timeout_s, 0
    while count < rows and time.time() < deadline:
        line = proc.stdout.readline()
        if line.strip().isdigit():
            count = int(line)
    assert count >= rows, f"the writer did not get going ({count} rows in {timeout_s:.0f} s)"
    return count


def test_sigkill_loses_at_most_about_one_second_of_records(tmp_path):
    shard = tmp_path / "worker-0.parquet"
    proc = start_writer(shard)
    try:
        wait_for_rows(proc, 1500)
        killed_at = time.time()
        proc.kill()
    finally:
        proc.kill()
        proc.wait(timeout=10)
    table = read_stream(shard.with_suffix(".arrows"), REQUEST_SCHEMA)
    # rows are numbered in order: the stream holds a gap-free prefix of what was appended
    ids = [int(x) for x in table.column("journey_id").to_pylist()]
    assert len(ids) >= 1000 and ids == list(range(len(ids)))
    # what is lost is what was appended since the last flush: 0.5 s apart, ~1 s with slack
    t_last = table.column("t_start").to_pylist()[-1]
    assert not math.isnan(t_last)
    assert killed_at - t_last <= 1.2, f"the last {killed_at - t_last:.2f} s of rows were lost"


def test_sigint_loses_nothing_and_compacts_to_parquet(tmp_path):
    shard = tmp_path / "worker-0.parquet"
    proc = start_writer(shard)
    try:
        wait_for_rows(proc, 500)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    closed = [line for line in out.splitlines() if line.startswith("closed")]
    assert closed, out
    written = int(closed[0].split()[1])
    table = pq.read_table(shard)
    assert table.num_rows == written
    assert not shard.with_suffix(".arrows").exists()
