"""Fuzzed run directories: `authsurge analyze` never raises on a damaged run directory.

A small synthetic run is written once with the real record writer (tests/support/synth.py);
each example damages a copy of it (torn or garbage Parquet shards, cut Arrow streams,
meta.json garbage, missing or wrong-typed keys, missing or garbage schedule/resources, an
empty requests folder) and runs `authsurge analyze` through `authsurge.cli.main`. The
answer is exit 0 (what is there is analysed, damage named in a warning) or exit 2 with one
clear line on stderr; never a traceback, never another exit status.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authsurge.cli import main
from tests.support.synth import write_run

# AUTHSURGE_FUZZ_EXAMPLES=500 hunts with fresh random examples; the default is fixed and quick
EXAMPLES = int(os.environ.get("AUTHSURGE_FUZZ_EXAMPLES", "0"))
SETTINGS = settings(max_examples=EXAMPLES or 40, deadline=None, derandomize=not EXAMPLES,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
META_KEYS = ["format_version", "run_id", "scenario", "status", "started_at", "ended_at", "duration_s",
             "target", "harness", "traffic", "levels", "analysis", "slos", "command"]
NESTED = {"analysis": ["window_s", "settle_s", "goodput_share", "knee_p95_ms"],
          "traffic": ["dropped_journeys", "planned_journeys", "shortfall"],
          "levels": ["start", "end", "rate"], "slos": ["step", "metric", "max"],
          "target": ["base_url"], "harness": ["cpu_count"]}


@pytest.fixture(scope="module")
def base_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fuzz-base") / "run"
    write_run(path, levels=(5, 10, 20), level_s=4, shards=2)
    return path


def analyze(run_dir: Path, plots: bool = False) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["analyze", str(run_dir)] + ([] if plots else ["--no-plots"]))
    return code, out.getvalue(), err.getvalue()


def assert_clean_answer(code: int, out: str, err: str) -> None:
    assert "Traceback" not in out + err
    assert code in (0, 2), (code, out, err)
    if code == 2:
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("authsurge: error: "), err
    else:
        assert "analysis: " in out


@contextlib.contextmanager
def damaged_copy(base: Path):
    with tempfile.TemporaryDirectory(prefix="fuzz-run-") as tmp:
        run_dir = Path(tmp) / "run"
        shutil.copytree(base, run_dir)
        yield run_dir


# --- damage ---------------------------------------------------------------------------------

def shards(run_dir: Path) -> list[Path]:
    return sorted((run_dir / "requests").glob("*.parquet"))


def to_stream(path: Path, cut: float | None) -> Path:
    """Rewrite a Parquet shard as the Arrow stream of a writer that never closed (batches of
    50 rows, as a flushing runner writes), optionally torn at `cut` of its length."""
    stream = path.with_suffix(".arrows")
    if not path.is_file():
        return stream
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError):
        path.rename(stream)  # already damaged: its bytes become a garbage stream
        return stream
    with pa.OSFile(str(stream), "wb") as sink:
        writer = ipc.new_stream(sink, table.schema)
        for batch in table.to_batches(max_chunksize=50):
            writer.write_batch(batch)  # no close: no end-of-stream marker, as after a SIGKILL
    path.unlink()
    if cut is not None:
        data = stream.read_bytes()
        stream.write_bytes(data[: int(len(data) * cut)])
    return stream


def apply(run_dir: Path, op: tuple) -> None:
    kind, *args = op
    files = shards(run_dir) if (run_dir / "requests").is_dir() else []
    if kind == "truncate" and files:
        path = files[args[0] % len(files)]
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * args[1])])
    elif kind == "garbage" and files:
        files[args[0] % len(files)].write_bytes(args[1])
    elif kind == "flip" and files:
        path = files[args[0] % len(files)]
        data = bytearray(path.read_bytes())
        for pos, byte in args[1] if data else ():
            data[pos % len(data)] = byte
        path.write_bytes(bytes(data))
    elif kind == "stream" and files:
        to_stream(files[args[0] % len(files)], args[1])
    elif kind == "empty_requests" and (run_dir / "requests").is_dir():
        for path in (run_dir / "requests").iterdir():
            path.unlink()
    elif kind == "remove":
        path = run_dir / args[0]
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    elif kind == "garbage_file":
        (run_dir / args[0]).write_bytes(args[1])
    elif kind == "resources_stream":
        to_stream(run_dir / "resources.parquet", args[0])
    elif kind == "meta_bytes":
        (run_dir / "meta.json").write_bytes(args[0])
    elif kind in ("meta_set", "meta_delete", "meta_nested"):
        path = run_dir / "meta.json"
        try:
            meta = json.loads(path.read_text())
        except (OSError, ValueError):
            return
        if not isinstance(meta, dict):
            return
        if kind == "meta_set":
            meta[args[0]] = args[1]
        elif kind == "meta_delete":
            meta.pop(args[0], None)
        else:
            key, sub, value = args
            node = meta.get(key)
            if isinstance(node, dict):
                node[sub] = value
            elif isinstance(node, list):
                node.append({sub: value}) if not node or not isinstance(node[0], dict) else node[0].update({sub: value})
            else:
                meta[key] = {sub: value}
        path.write_text(json.dumps(meta))


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.sampled_from([10**400, -1, 0, 1]),
              st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
              st.sampled_from([1e-12, 1e-3, 1e12, 1_700_000_000.0, -1e308])),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6)
garbage = st.binary(max_size=300) | st.sampled_from([b"", b"PAR1", b"PAR1" + b"\x00" * 64 + b"PAR1",
                                                     b"ARROW1\x00\x00", b"\xff\xff\xff\xff\x00\x00\x00\x00"])
fraction = st.floats(0.0, 1.0)
shard_ops = st.one_of(
    st.tuples(st.just("truncate"), st.integers(0, 3), fraction),
    st.tuples(st.just("garbage"), st.integers(0, 3), garbage),
    st.tuples(st.just("flip"), st.integers(0, 3),
              st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=8)),
    st.tuples(st.just("stream"), st.integers(0, 3), st.none() | fraction),
    st.just(("empty_requests",)),
)
meta_ops = st.one_of(
    st.tuples(st.just("meta_set"), st.sampled_from(META_KEYS), json_values),
    st.tuples(st.just("meta_delete"), st.sampled_from(META_KEYS)),
    st.sampled_from(sorted(NESTED)).flatmap(
        lambda key: st.tuples(st.just("meta_nested"), st.just(key), st.sampled_from(NESTED[key]), json_values)),
    st.tuples(st.just("meta_bytes"), garbage | st.sampled_from([b"{}", b"[]", b"null", b'{"format_version": 1}',
                                                               b'{"format_version": 1, "started_at": NaN}'])),
)
file_ops = st.one_of(
    st.tuples(st.just("remove"), st.sampled_from(["schedule.parquet", "resources.parquet", "meta.json",
                                                  "requests", "locust"])),
    st.tuples(st.just("garbage_file"), st.sampled_from(["schedule.parquet", "resources.parquet"]), garbage),
    st.tuples(st.just("resources_stream"), st.none() | fraction),
)


@SETTINGS
@given(st.lists(shard_ops, min_size=1, max_size=3))
def test_damaged_request_shards_and_streams(base_run, ops):
    with damaged_copy(base_run) as run_dir:
        for op in ops:
            apply(run_dir, op)
        code, out, err = analyze(run_dir)
    assert_clean_answer(code, out, err)
    if code == 0 and any(op[0] == "stream" for op in ops):
        assert ".arrows: " in out  # what was (or was not) read from a torn stream is said


@SETTINGS
@given(st.lists(meta_ops, min_size=1, max_size=4))
def test_damaged_meta_json(base_run, ops):
    with damaged_copy(base_run) as run_dir:
        for op in ops:
            apply(run_dir, op)
        code, out, err = analyze(run_dir)
    assert_clean_answer(code, out, err)


@SETTINGS
@given(st.lists(file_ops | shard_ops | meta_ops, min_size=1, max_size=4))
def test_missing_and_garbage_files_in_any_combination(base_run, ops):
    with damaged_copy(base_run) as run_dir:
        for op in ops:
            apply(run_dir, op)
        code, out, err = analyze(run_dir)
    assert_clean_answer(code, out, err)


# --- known damage, with plots (the default `authsurge analyze`) -----------------------------

KNOWN = {
    "one shard torn": ([("truncate", 0, 0.5)], 0, "unreadable Parquet shard"),
    "every shard torn": ([("truncate", 0, 0.5), ("truncate", 1, 0.3)], 2, "no request records"),
    "streams cut mid-batch": ([("stream", 0, 0.6), ("stream", 1, 0.9)], 0, "did not close cleanly"),
    "empty requests folder": ([("empty_requests",)], 2, "requests/ has no shards"),
    "no schedule, no resources": ([("remove", "schedule.parquet"), ("remove", "resources.parquet")], 0,
                                  "no resources.parquet"),
    "garbage schedule": ([("garbage_file", "schedule.parquet", b"PAR1 not really PAR1")], 0,
                         "schedule.parquet: unreadable"),
    "levels not a list": ([("meta_set", "levels", 3)], 0, "levels is 3, not a list"),
    "started_at far away": ([("meta_set", "started_at", 1.5)], 0, "started_at"),
    "traffic a string": ([("meta_set", "traffic", "x")], 0, "traffic is \"x\", not an object"),
    "slos a number": ([("meta_set", "slos", 2)], 0, "slos is 2, not a list"),
    "a window of a nanosecond": ([("meta_nested", "analysis", "window_s", 1e-9)], 0, "window_s"),
    "meta.json garbage": ([("meta_bytes", b"\xff{")], 2, "meta.json: unreadable"),
    "meta.json missing": ([("remove", "meta.json")], 2, "no meta.json"),
    "unknown format_version": ([("meta_set", "format_version", 99)], 2, "format_version 99"),
}


@pytest.mark.parametrize("name", sorted(KNOWN))
def test_known_damage_is_named(base_run, name):
    ops, expected_code, says = KNOWN[name]
    with damaged_copy(base_run) as run_dir:
        for op in ops:
            apply(run_dir, op)
        code, out, err = analyze(run_dir, plots=expected_code == 0)
        if code == 0:
            assert (run_dir / "analysis.json").exists() and list((run_dir / "plots").glob("*.png"))
    assert_clean_answer(code, out, err)
    assert code == expected_code, (out, err)
    assert says in (out if code == 0 else err), (out, err)
    if code == 0:
        assert "Warning: " in out
