"""Run directory -> DataFrames: shards, crashed streams, damage, and clear errors."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from authsurge.analysis import analyze_run, load_run
from authsurge.errors import ExitStatus, RunDirError
from authsurge.rundir.records import REQUEST_SCHEMA, StreamTable
from tests.support.records import read_records
from tests.support.synth import Step, SynthRun, tear_stream, write_run


def shard_rows(run: Path) -> dict[str, int]:
    return {p.name: pq.read_metadata(p).num_rows for p in (run / "requests").glob("*.parquet")}


def test_reads_every_shard(ramp_run: SynthRun) -> None:
    data = load_run(ramp_run.path)
    assert data.records.rows == ramp_run.rows == sum(shard_rows(ramp_run.path).values())
    assert data.shards == ["requests/worker-0.parquet", "requests/worker-1.parquet"]
    assert data.warnings == []
    assert list(data.schedule.columns) == ["t", "journey", "planned_rate"]
    assert set(data.resources["source"].astype(str)) == {"target", "harness:worker-0"}


def test_missing_directory_is_a_run_dir_error(tmp_path: Path) -> None:
    with pytest.raises(RunDirError, match="no such run directory") as info:
        analyze_run(tmp_path / "absent")
    assert info.value.exit_status == ExitStatus.BAD_INPUT


def test_missing_meta_json_is_a_run_dir_error(run_copy: Path) -> None:
    (run_copy / "meta.json").unlink()
    with pytest.raises(RunDirError, match="no meta.json"):
        analyze_run(run_copy)


@pytest.mark.parametrize("text, match", [
    ("{not json", "unreadable"),
    ("[1, 2]", "expected a JSON object"),
    ('{"run_id": "x"}', "no format_version"),
    ('{"format_version": 3}', "format_version 3"),
])
def test_bad_meta_json_is_a_run_dir_error(run_copy: Path, text: str, match: str) -> None:
    (run_copy / "meta.json").write_text(text)
    with pytest.raises(RunDirError, match=match):
        analyze_run(run_copy)


def test_empty_run_is_a_run_dir_error(run_copy: Path) -> None:
    shutil.rmtree(run_copy / "requests")
    (run_copy / "requests").mkdir()
    with pytest.raises(RunDirError, match="no request records"):
        analyze_run(run_copy)


def test_run_whose_only_shard_is_corrupt_names_the_shard(run_copy: Path) -> None:
    (run_copy / "requests" / "worker-1.parquet").unlink()
    (run_copy / "requests" / "worker-0.parquet").write_bytes(b"PAR1 garbage")
    with pytest.raises(RunDirError, match="worker-0.parquet: unreadable"):
        analyze_run(run_copy)


def test_corrupt_shard_is_a_warning_and_the_rest_is_analysed(run_copy: Path) -> None:
    rows = shard_rows(run_copy)
    bad = run_copy / "requests" / "worker-1.parquet"
    bad.write_bytes(bad.read_bytes()[: bad.stat().st_size // 2])  # a partial file: no footer
    analysis = analyze_run(run_copy)
    assert analysis.data.records.rows == rows["worker-0.parquet"]
    # what the engine scanned, not only what the footers say
    assert analysis.index.windows["offered"].sum() == rows["worker-0.parquet"]
    assert any("worker-1.parquet: unreadable Parquet shard" in w for w in analysis.warnings)
    assert analysis.to_json()["warnings"] == analysis.warnings
    assert analysis.steps["login.submit"]["knee"]["reached"]


def test_truncated_stream_is_read_up_to_its_last_complete_batch(run_copy: Path) -> None:
    # a writer killed mid-write: three complete batches, then a torn fourth
    frame = read_records(run_copy).head(4000)
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    table = StreamTable(run_copy / "requests" / "worker-9.parquet", REQUEST_SCHEMA)
    for start in (0, 1000, 2000):
        table.extend(records[start:start + 1000])
        table.flush()
    complete = (run_copy / "requests" / "worker-9.arrows").stat().st_size
    table.extend(records[3000:4000])
    table.flush()
    table._sink.close()  # never closed cleanly: no end-of-stream marker, no Parquet
    stream = run_copy / "requests" / "worker-9.arrows"
    tear_stream(stream, keep_bytes_short=(stream.stat().st_size - complete) // 2)
    before = sum(shard_rows(run_copy).values())
    data = load_run(run_copy)
    assert data.records.rows == before + 3000
    assert "requests/worker-9.arrows" in data.shards
    assert any("worker-9.arrows: the writer did not close cleanly" in w and "3,000 rows" in w
               for w in data.warnings)


def test_stream_with_a_parquet_twin_is_not_counted_twice(run_copy: Path) -> None:
    # a crash after compaction but before the stream was removed leaves both
    rows = sum(shard_rows(run_copy).values())
    frame = pq.read_table(run_copy / "requests" / "worker-0.parquet").to_pandas()
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    table = StreamTable(run_copy / "requests" / "tmp-twin.parquet", REQUEST_SCHEMA)
    table.extend(records)
    table.flush()
    table._sink.close()
    (run_copy / "requests" / "tmp-twin.arrows").rename(run_copy / "requests" / "worker-0.arrows")
    data = load_run(run_copy)
    assert data.records.rows == rows
    assert "requests/worker-0.arrows" not in data.shards


def test_empty_stream_is_skipped_with_a_warning(run_copy: Path) -> None:
    (run_copy / "requests" / "worker-5.arrows").write_bytes(b"")
    data = load_run(run_copy)
    assert any("worker-5.arrows: an unclosed stream with no complete batch" in w for w in data.warnings)


def test_leftover_resources_stream_is_read(run_copy: Path) -> None:
    (run_copy / "resources.parquet").rename(run_copy / "resources-old.parquet")
    frame = pq.read_table(run_copy / "resources-old.parquet").to_pandas()
    from authsurge.rundir.records import RESOURCE_SCHEMA
    table = StreamTable(run_copy / "resources.parquet", RESOURCE_SCHEMA)
    table.extend(frame.astype(object).where(frame.notna(), None).to_dict("records"))
    table.flush()
    table._sink.close()
    data = load_run(run_copy)
    assert len(data.resources) == len(frame)
    assert any("resources.arrows" in w for w in data.warnings)


def test_schedule_and_resources_are_optional(tmp_path: Path) -> None:
    run = write_run(tmp_path / "bare", levels=(10, 20, 30), level_s=6, resources=False,
                    schedule=False, steps=(Step("login.submit", 50, 80),))
    analysis = analyze_run(run.path)
    assert analysis.data.schedule is None and analysis.data.resources is None
    assert analysis.verdict["demand_basis"] == "observed"
    assert analysis.steps["login.submit"]["bottleneck"]["kind"] == "unknown"
    assert any("no resources.parquet" in w for w in analysis.warnings)


def test_unfinished_run_status_is_a_warning(run_copy: Path) -> None:
    meta = json.loads((run_copy / "meta.json").read_text())
    meta["status"] = "interrupted"
    (run_copy / "meta.json").write_text(json.dumps(meta))
    analysis = analyze_run(run_copy)
    assert any("'interrupted'" in w for w in analysis.warnings)
    assert analysis.to_json()["run"]["status"] == "interrupted"


def plain_copy(shard: Path) -> pa.Table:
    """Rewrite a shard uncompressed, without dictionaries, so that its values and page
    headers lie in the file as plain bytes; the footer keeps its statistics."""
    table = pq.read_table(shard)
    pq.write_table(table, shard, compression="none", use_dictionary=False)
    return table


def test_a_shard_whose_pages_do_not_decode_is_left_out_and_the_rest_analysed(run_copy: Path) -> None:
    rows = shard_rows(run_copy)
    bad = run_copy / "requests" / "worker-1.parquet"
    plain_copy(bad)
    page = pq.read_metadata(bad).row_group(0).column(REQUEST_SCHEMA.names.index("step")).data_page_offset
    data = bytearray(bad.read_bytes())
    data[page : page + 16] = b"\xff" * 16  # the page header: the footer still reads
    bad.write_bytes(bytes(data))
    analysis = analyze_run(run_copy)
    assert any("worker-1.parquet: corrupt values" in w for w in analysis.warnings), analysis.warnings
    assert analysis.data.shards == ["requests/worker-0.parquet"]
    assert analysis.index.windows["offered"].sum() == rows["worker-0.parquet"]


def test_a_value_its_footer_statistics_deny_is_still_judged_implausible(run_copy: Path) -> None:
    """A flipped byte can make a latency the footer's min/max never saw; the checks for
    implausible records must look at the value, not trust the statistics."""
    bad = run_copy / "requests" / "worker-1.parquet"
    table = plain_copy(bad)
    latencies = table["latency_ms"].to_numpy(zero_copy_only=False)
    middle = float(np.sort(latencies[np.isfinite(latencies)])[len(latencies) // 2])
    data = bytes(bad.read_bytes())
    assert data.count(struct.pack("<d", middle)) >= 1
    bad.write_bytes(data.replace(struct.pack("<d", middle), struct.pack("<d", 1e200), 1))
    analysis = analyze_run(run_copy)
    assert any("far outside the run" in w for w in analysis.warnings), analysis.warnings
    assert analysis.index.n_windows < 10_000  # the garbage did not stretch the timeline
    assert analysis.index.windows["offered"].sum() == sum(shard_rows(run_copy).values()) - 1


def test_a_run_directory_with_a_quote_in_its_path_is_analysed(run_copy: Path) -> None:
    quoted = run_copy.parent / "o'brien's run"
    run_copy.rename(quoted)
    assert analyze_run(quoted).index.windows["offered"].sum() == sum(shard_rows(quoted).values())
