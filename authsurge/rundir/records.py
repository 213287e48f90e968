"""Per-request records and resource samples, streamed to the run directory.

Why an Arrow IPC stream first and Parquet second: a Parquet file is readable only once
its footer is written at close, so a harness killed with SIGKILL would leave nothing.
Each writer appends one record batch to an Arrow IPC *stream* (``*.arrows``) at least
once a second; a stream is readable up to its last complete batch, so a SIGKILL loses at
most the unflushed second. A clean close (also SIGINT) compacts the stream into a
Parquet shard and removes it. Readers (``authsurge.analysis.rundir_reader``) take both.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

log = logging.getLogger("authsurge.records")

# Outcome vocabulary: "ok" or the class of error, used by journeys and analysis alike.
OK = "ok"
HTTP_4XX = "http_4xx"
HTTP_5XX = "http_5xx"
TIMEOUT = "timeout"
CONNECTION = "connection"
UNEXPECTED_PAGE = (
    "unexpected_page"  # a page that is not what the step expects (no form, bad redirect)
)
INVALID_RESPONSE = "invalid_response"  # garbage where JSON or a token was expected
REJECTED = "rejected"  # the server said no in its own words (wrong password, invalid_grant)
DROPPED = "dropped"  # an arrival that could not start: concurrency cap reached
ABANDONED = "abandoned"  # a person who gave up after the last failed attempt
OUTCOMES = (
    OK,
    HTTP_4XX,
    HTTP_5XX,
    TIMEOUT,
    CONNECTION,
    UNEXPECTED_PAGE,
    INVALID_RESPONSE,
    REJECTED,
    DROPPED,
    ABANDONED,
)

# Row kinds in the requests table.
KIND_REQUEST = "request"  # one HTTP request, named by its step
KIND_JOURNEY = "journey"  # one attempt at a whole journey, latency from its intended start
KIND_DROPPED = "dropped"  # an arrival that never started
# (format 2) something that happened to a signed-in person, named in `step` (EVENTS)
KIND_EVENT = "event"

# Cohorts (format 2's `cohort` column; format 1 rows are all surge).
SURGE = "surge"  # arrivals of the traffic schedule: new sign-in journeys
POPULATION = "population"  # people signed in before the surge (authsurge.population)
WARMUP = "warmup"  # the population's sign-ins before the run's clock starts
COHORTS = (SURGE, POPULATION, WARMUP)

# Population events (kind event): a person signed in (warm-up or again), started signing
# in again (`reason` says why: expired, 401, refresh failed), refreshed a token, left while
# signed in (on_401: give_up), or stopped trying to sign in (retries used up).
SIGNED_IN = "signed_in"
RELOGIN = "relogin"
REFRESHED = "refreshed"
GAVE_UP = "gave_up"
SIGN_IN_FAILED = "sign_in_failed"
EVENTS = (SIGNED_IN, RELOGIN, REFRESHED, GAVE_UP, SIGN_IN_FAILED)

REQUEST_SCHEMA = pa.schema(
    [
        pa.field("kind", pa.string()),
        pa.field(
            "t_intended", pa.float64()
        ),  # epoch s the schedule meant the journey to start (NaN: closed model)
        pa.field("t_start", pa.float64()),  # epoch s the request (or journey) actually started
        pa.field("step", pa.string()),  # "login.submit"; for journey rows the journey name
        pa.field("journey", pa.string()),
        pa.field("journey_id", pa.string()),  # one attempt of one person, unique in the run
        pa.field("person_id", pa.string()),  # the same across a person's retries
        pa.field("attempt", pa.int16()),  # 1 = first try
        pa.field("method", pa.string()),
        pa.field("status", pa.int32()),  # HTTP status, 0 when there was no response
        pa.field("outcome", pa.string()),  # "ok" or an error class above
        pa.field("reason", pa.string()),  # short and secret-free: "403 on POST /accounts/login/"
        pa.field("latency_ms", pa.float64()),  # request: service time; journey: end - t_intended
        pa.field("bytes", pa.int64()),
        pa.field("worker", pa.string()),
        pa.field("cohort", pa.string()),  # format 2: SURGE, POPULATION or WARMUP
        # format 2: the local address the request's connection was bound to
        # (target.source_addresses); "" when the system chose it
        pa.field("source", pa.string()),
    ]
)
OPTIONAL_REQUEST_COLUMNS = ("cohort", "source")  # absent in format 1: surge, unknown source

RESOURCE_SCHEMA = pa.schema(
    [
        pa.field("t", pa.float64()),  # epoch s
        pa.field("source", pa.string()),  # "target" or "harness:<worker>"
        pa.field("cpu_percent", pa.float64()),  # summed over processes, 100 = one core busy
        pa.field("rss_bytes", pa.int64()),
        pa.field("processes", pa.int32()),
        pa.field("loop_lag_ms", pa.float64()),  # gevent loop lag (harness only, NaN otherwise)
        pa.field("cpu_count", pa.int32()),  # cores the source may use
        # the busiest single process, 100 = one core: a worker pool saturated process by
        # process shows here while the sum stays below the cores (absent in older runs)
        pa.field("busiest_cpu_percent", pa.float64()),
    ]
)
OPTIONAL_RESOURCE_COLUMNS = ("busiest_cpu_percent",)  # readers fill them with NaN when absent

METRIC_SCHEMA = pa.schema(
    [
        pa.field("t", pa.float64()),  # epoch s of the scrape
        pa.field("metric", pa.string()),  # Prometheus metric name (samples of all labels summed)
        pa.field("value", pa.float64()),
    ]
)

_DEFAULTS: dict[str, Any] = {
    "metric": "",
    "value": float("nan"),
    "kind": KIND_REQUEST,
    "t_intended": float("nan"),
    "t_start": float("nan"),
    "step": "",
    "journey": "",
    "journey_id": "",
    "person_id": "",
    "attempt": 1,
    "method": "",
    "status": 0,
    "outcome": OK,
    "reason": "",
    "latency_ms": float("nan"),
    "bytes": 0,
    "worker": "",
    "cohort": SURGE,
    "t": float("nan"),
    "source": "",
    "cpu_percent": float("nan"),
    "rss_bytes": 0,
    "processes": 0,
    "loop_lag_ms": float("nan"),
    "cpu_count": 0,
    "busiest_cpu_percent": float("nan"),
}


def _warm_conversion() -> None:
    """Pay pyarrow's one-time cost of its first Python-to-Arrow conversion now.

    The first `pa.array` of a process imports pandas (pyarrow checks for pandas objects),
    ~0.3-0.5 s of CPU. Left to the first flush, that lands in the gevent loop just after the
    load starts: a half-second stall of every request in flight. A table is made before the
    run starts, so it is paid here instead.
    """
    pa.array((), type=pa.float64())


class TableClosed(RuntimeError):
    """A row was given to a table after its close."""


class _RowBuffer:
    """Rows buffered as tuples in schema order; a flush turns them into one record batch.

    `append` is on the harness's hot path (one call per request), so it is one deque
    append and nothing else: no lock (deque.append and popleft are atomic, and in a
    gevent-patched process a lock is a Python-level object costing a microsecond per
    row) and no per-column work. A flush takes the rows that were there when it started
    and transposes them into columns in C (`zip`).
    """

    schema: pa.Schema

    def _init_buffer(self) -> None:
        _warm_conversion()
        self._order = [(name, _DEFAULTS[name]) for name in self.schema.names]
        self._rows: deque[tuple[Any, ...]] = deque()
        self._take_lock = threading.Lock()  # one flush at a time (the flusher, then close)
        self.append_values = self._rows.append  # the recorder's fast path: a bound C method

    def refuse_rows(self) -> None:
        """From now on every append raises TableClosed (a closed table must not buffer rows
        nobody will write: a listener left attached after its run would grow it forever)."""

        def refused(_row: Any) -> None:
            raise TableClosed(f"{type(self).__name__} {self.schema.names[:3]}... is closed")

        self.append_values = refused

    def append(self, row: Mapping[str, Any]) -> None:
        """One row from a mapping; missing or None values take the column's default."""
        get = row.get
        self.append_values(tuple([d if (v := get(n)) is None else v for n, d in self._order]))

    def extend(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            self.append(row)

    def _take(self) -> pa.RecordBatch | None:
        """The buffered rows as a record batch (None when empty); later appends stay buffered."""
        with self._take_lock:
            buf = self._rows
            n = len(buf)
            if n == 0:
                return None
            popleft = buf.popleft
            columns = list(zip(*[popleft() for _ in range(n)], strict=True))
        return pa.record_batch(
            [pa.array(columns[i], type=f.type) for i, f in enumerate(self.schema)],
            schema=self.schema,
        )


class StreamTable(_RowBuffer):
    """Buffers rows and appends them to an Arrow IPC stream; `close` compacts to Parquet.

    Thread- and greenlet-safe for `append`; call `flush` at least once a second (the
    runner does) and `close` once at the end.
    """

    def __init__(self, parquet_path: Path, schema: pa.Schema) -> None:
        self.parquet_path = Path(parquet_path)
        self.stream_path = self.parquet_path.with_suffix(".arrows")
        self.schema = schema
        self._init_buffer()
        self._write_lock = threading.Lock()
        self.rows_written = 0
        self.parquet_path.parent.mkdir(parents=True, exist_ok=True)
        self._sink = open(self.stream_path, "wb")  # noqa: SIM115 - closed in close()
        self._writer = ipc.new_stream(self._sink, schema)
        self._closed = False
        # each batch once written (the live view): readers of the run as it happens
        self.observers: list[Callable[[pa.RecordBatch], None]] = []

    def flush(self) -> int:
        """Write what is buffered as one record batch and fsync-free flush it; return rows."""
        with self._write_lock:
            if self._closed:
                return 0
            batch = self._take()
            if batch is None:
                return 0
            self._writer.write_batch(batch)
            self._sink.flush()
            self.rows_written += batch.num_rows
        self._tell(batch)
        return batch.num_rows

    def write_batch(self, batch: pa.RecordBatch) -> None:
        """Append a batch made elsewhere (a worker's shipment) straight to the stream."""
        with self._write_lock:
            if self._closed:
                raise TableClosed(f"{self.parquet_path.name} is closed")
            self._writer.write_batch(
                batch.cast(self.schema) if batch.schema != self.schema else batch
            )
            self._sink.flush()
            self.rows_written += batch.num_rows
        self._tell(batch)

    def _tell(self, batch: pa.RecordBatch) -> None:
        for observe in self.observers:
            try:
                observe(batch)
            except Exception:  # a live view's fault must never lose or stop the record
                log.exception("a live observer of %s failed", self.parquet_path.name)

    def close(self) -> None:
        """Flush, then compact the stream into a Parquet shard and remove the stream."""
        self.refuse_rows()
        self.flush()
        with self._write_lock:
            if self._closed:
                return
            self._closed = True
            self._writer.close()
            self._sink.close()
        tmp = self.parquet_path.with_suffix(".parquet.tmp")
        compact(self.stream_path, tmp, self.schema)
        os.replace(tmp, self.parquet_path)
        self.stream_path.unlink(missing_ok=True)


class ShippingTable(_RowBuffer):
    """The StreamTable API on a worker: each flush serialises one batch and hands it to `send`
    (Locust's worker-to-master message), so every worker's rows reach the master's run directory."""

    def __init__(self, schema: pa.Schema, send: Callable[[bytes], None]) -> None:
        self.schema = schema
        self.send = send
        self._init_buffer()
        self.rows_written = 0

    def flush(self) -> int:
        batch = self._take()
        if batch is None:
            return 0
        self.send(batch_to_bytes(batch))
        self.rows_written += batch.num_rows
        return batch.num_rows

    def close(self) -> None:
        self.refuse_rows()
        self.flush()


# Rows per Parquet row group when a stream is compacted: big enough for fast scans, small
# enough that compaction holds one group at a time (a master's shard of a long distributed
# run holds millions of rows).
ROW_GROUP_ROWS = 256 * 1024


def compact(stream_path: Path, parquet_path: Path, schema: pa.Schema) -> int:
    """Copy an Arrow IPC stream written with `schema` into a zstd Parquet file, one row
    group at a time (memory stays bounded whatever the stream's size); return its rows.
    A torn tail (a killed writer) ends the copy at the last complete batch."""
    rows, pending_rows = 0, 0
    pending: list[pa.RecordBatch] = []
    with pq.ParquetWriter(parquet_path, schema, compression="zstd") as writer:
        for batch in _complete_batches(stream_path):
            pending.append(batch)
            rows += batch.num_rows
            pending_rows += batch.num_rows
            if pending_rows >= ROW_GROUP_ROWS:
                writer.write_table(pa.Table.from_batches(pending, schema))
                pending, pending_rows = [], 0
        if pending:
            writer.write_table(pa.Table.from_batches(pending, schema))
    return rows


def _complete_batches(path: Path) -> Iterable[pa.RecordBatch]:
    try:
        with open(path, "rb") as f:
            reader = ipc.open_stream(f)
            while True:
                try:
                    yield reader.read_next_batch()
                except StopIteration:
                    return
    except (pa.ArrowInvalid, OSError, EOFError):
        return  # torn tail or an empty file: keep what was complete


def batch_to_bytes(batch: pa.RecordBatch) -> bytes:
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    return sink.getvalue().to_pybytes()


def bytes_to_batches(data: bytes) -> list[pa.RecordBatch]:
    return list(ipc.open_stream(pa.py_buffer(data)))


def read_stream(path: Path, schema: pa.Schema) -> pa.Table:
    """Read an Arrow IPC stream up to its last complete batch (a killed writer leaves a torn tail)."""
    batches = list(_complete_batches(path))
    if not batches:
        return schema.empty_table()
    table = pa.Table.from_batches(batches)
    if table.schema.names != schema.names:  # an older format: its optional columns are null
        table = pa.table(
            {
                f.name: table[f.name]
                if f.name in table.schema.names
                else pa.nulls(len(table), f.type)
                for f in schema
            }
        )
    return table.cast(schema)


class Flusher:
    """Flushes a set of tables every `interval` seconds from a background thread.

    In a process that gevent has patched (every Locust process) the thread is a greenlet;
    the runner stops it before closing the tables.
    """

    def __init__(self, tables: Iterable[StreamTable], interval: float = 0.5) -> None:
        self.tables = list(tables)
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="authsurge-flusher", daemon=True)

    def start(self) -> Flusher:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for table in self.tables:
                table.flush()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)


def now() -> float:
    return time.time()
