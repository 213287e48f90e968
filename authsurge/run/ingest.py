"""The master's end of record shipping.

Workers ship their request rows and resource samples as Arrow IPC bytes in Locust
messages (MSG_RECORDS, MSG_RESOURCES, about twice a second each). The master writes each
worker's rows, untouched, to that worker's own shard of the run directory
(`requests/<worker>.parquet`) and every sample to `resources.parquet`. How fast one master
does this is measured by bench/bench_ingest.py (the README's scaling section).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa

from authsurge.rundir import records as record

log = logging.getLogger("authsurge.run")

# A worker's name becomes a file name: from another host it must not name a path.
WORKER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class RecordIngest:
    """Each worker's request rows into its own shard, resource samples into one table.

    `observers` see every request batch once written (a progress count, the live view).
    """

    def __init__(
        self,
        run_dir: Path,
        resources: record.StreamTable,
        observers: Iterable[Callable[[pa.RecordBatch], None]] = (),
    ) -> None:
        self.run_dir = run_dir
        self.resources = resources
        self.observers = list(observers)
        self.shards: dict[str, record.StreamTable] = {}
        self.refused: set[str] = set()  # names that are no file name: their rows dropped

    def records(self, data: Mapping[str, Any]) -> int:
        """Write one MSG_RECORDS message's rows to its worker's shard; return the rows."""
        shard = self.shard(str(data.get("worker", "")))
        if shard is None:
            return 0
        rows = 0
        for batch in record.bytes_to_batches(data["data"]):
            shard.write_batch(batch)
            rows += batch.num_rows
        return rows

    def resource_samples(self, data: Mapping[str, Any]) -> None:
        """Write one MSG_RESOURCES message's samples."""
        for batch in record.bytes_to_batches(data["data"]):
            self.resources.write_batch(batch)

    def shard(self, worker: str) -> record.StreamTable | None:
        if worker not in self.shards:
            if not WORKER_NAME.fullmatch(worker):
                if worker not in self.refused:
                    log.error("rows from a worker named %r dropped: not a worker name", worker[:80])
                    self.refused.add(worker)
                return None
            self.shards[worker] = record.StreamTable(
                self.run_dir / "requests" / f"{worker}.parquet", record.REQUEST_SCHEMA
            )
            self.shards[worker].observers.extend(self.observers)
        return self.shards[worker]

    def close(self) -> None:
        """Compact every worker's shard (the resources table is its owner's to close)."""
        for shard in self.shards.values():
            shard.close()
