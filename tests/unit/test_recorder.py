"""The recorder's fast path (tuples in schema order) writes the same rows as the mapping path."""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq

from authsurge.recorder import Recorder
from authsurge.rundir import records as record


def test_request_rows_match_the_mapping_path_with_defaults(tmp_path: Path) -> None:
    fast = record.StreamTable(tmp_path / "fast.parquet", record.REQUEST_SCHEMA)
    Recorder(fast, "worker-3").on_request(
        request_type="POST", name="login.submit", response_time=12.5, response_length=321,
        context={"journey": "web", "journey_id": "j1", "person_id": "p1", "attempt": 2,
                 "t_intended": 10.0, "status": 403, "outcome": "http_4xx", "reason": "403 on POST /x"},
        exception=RuntimeError("403 on POST /x"), start_time=11.0, url="http://127.0.0.1/x")
    # a user's own locustfile: no context, no start time, an exception to classify
    Recorder(fast, "worker-3").on_request(request_type="GET", name="home", response_time=None,
                                          response_length=None, exception=TimeoutError("timed out"))
    fast.close()
    rows = pq.read_table(fast.parquet_path).to_pylist()
    assert rows[0] == {"kind": "request", "t_intended": 10.0, "t_start": 11.0, "step": "login.submit",
                       "journey": "web", "journey_id": "j1", "person_id": "p1", "attempt": 2,
                       "method": "POST", "status": 403, "outcome": "http_4xx",
                       "reason": "403 on POST /x", "latency_ms": 12.5, "bytes": 321, "worker": "worker-3",
                       "cohort": "surge", "source": ""}
    bare = rows[1]
    assert math.isnan(bare.pop("t_intended")) and math.isnan(bare.pop("t_start"))
    assert math.isnan(bare.pop("latency_ms"))
    assert bare == {"kind": "request", "step": "home", "journey": "", "journey_id": "", "person_id": "",
                    "attempt": 1, "method": "GET", "status": 0, "outcome": "timeout",
                    "reason": "timed out", "bytes": 0, "worker": "worker-3", "cohort": "surge",
                    "source": ""}


def test_appends_during_flushes_are_neither_lost_nor_doubled(tmp_path: Path) -> None:
    table = record.StreamTable(tmp_path / "w.parquet", record.REQUEST_SCHEMA)
    recorder = Recorder(table, "w")
    stop = threading.Event()

    def flush() -> None:
        while not stop.is_set():  # bounded by the appends below
            table.flush()
            time.sleep(0)  # yield: once gevent has patched this process the "thread" is a greenlet

    flusher = threading.Thread(target=flush)
    flusher.start()
    try:
        for i in range(20_000):
            recorder.on_request(request_type="GET", name="s", response_time=1.0,
                                context={"journey_id": str(i)}, start_time=float(i))
    finally:
        stop.set()
        flusher.join(timeout=10)
    table.close()
    ids = pq.read_table(table.parquet_path, columns=["journey_id"]).column(0).to_pylist()
    assert sorted(ids, key=int) == [str(i) for i in range(20_000)]
