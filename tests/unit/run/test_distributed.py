"""The master of a distributed run counts journeys from the records its workers ship (a
real master + 2 workers: tests/integration/run/test_distributed.py)."""

from __future__ import annotations


def test_the_master_progress_line_counts_journeys_from_shipped_records_not_requests():
    import pyarrow as pa

    from authsurge.run.master import MasterCounter
    from authsurge.rundir.records import REQUEST_SCHEMA

    kinds = ["request", "request", "journey", "request", "journey", "dropped"]
    outcomes = ["ok", "ok", "ok", "timeout", "timeout", "dropped"]
    batch = pa.RecordBatch.from_pydict(
        {f.name: [None] * len(kinds) for f in REQUEST_SCHEMA} | {"kind": kinds, "outcome": outcomes},
        schema=REQUEST_SCHEMA)
    counter = MasterCounter()
    counter.add(batch)
    counter.add(batch)  # batches from two workers add up
    assert (counter.journeys, counter.journeys_ok, counter.dropped) == (4, 2, 2)
