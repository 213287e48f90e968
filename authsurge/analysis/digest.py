"""The compare digest: what `compare` needs of an analysed run, written by `analyze`.

    digest = run_digest(analysis)        # from a RunAnalysis, in memory
    write_digest(digest)                 # RUN_DIR/digest/ (beside analysis.json)
    digest = read_digest(run_dir)        # None when missing, stale or of another format

Comparing two runs needs each request step's steady windows (their counts, the curve
point each belongs to), its curve points and knee, and the latencies that complete in
those windows. Re-reading every record for that costs as much as the analysis itself;
the digest keeps just that, so `compare` and `report --baseline` on analysed runs read a
few small files. One writer (write_digest) and one reader (read_digest):

- digest/digest.json: format_version, window_s, n_windows, the run's meta.json, the
  analysis document (analysis.json), and each step's knee position;
- digest/windows.parquet: step, window, point (row in the step's curve), offered, ok,
  completed, arrivals_rps; only windows a curve point pooled;
- digest/points.parquet: step and the curve columns the knee rule reads;
- digest/latency.parquet: step, window, latency_ms of the records completing in those
  windows, at most LATENCY_PER_WINDOW a window (those with the smallest seeded hash of their
  place in the shards when there are more: the same every time).

The digest is stale, and compare analyses the run again, when any raw input of the run
is newer than it (rundir.newest_raw_input) or its format differs.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from authsurge.analysis.knee import METRIC_COLUMNS, Knee
from authsurge.analysis.windows import SCOPE_REQUEST, series_rows
from authsurge.rundir import newest_raw_input

if TYPE_CHECKING:
    from authsurge.analysis import RunAnalysis

DIGEST_FORMAT_VERSION = 2  # 2: point durations and concurrency (the knee's noise test)
FOLDER = "digest"
LATENCY_PER_WINDOW = 2000  # latencies kept per step and window (a 1-s window: 2,000 req/s)
POINT_COLUMNS = (
    "offered_rps",
    "arrivals_rps",
    "goodput_rps",
    "completed",
    "level_rate",
    "seconds",
)
# per window, from the windows table
COUNT_COLUMNS = ("offered", "ok", "completed", "arrivals_rps", "concurrency")
LATENCY_SEED = 20240601  # which latencies are kept when a window has more: the same every time


@dataclass
class StepDigest:
    """One request step: dense per-window arrays (0 where no point pooled the window)."""

    name: str
    counts: dict[str, np.ndarray]  # COUNT_COLUMNS, one value per window
    membership: np.ndarray  # int: row of the step's curve point pooling the window; -1: none
    points: pd.DataFrame  # POINT_COLUMNS + METRIC_COLUMNS, curve order
    knee: Knee
    rec_window: np.ndarray  # int64, sorted
    rec_latency: np.ndarray  # ms, in rec_window order


@dataclass
class RunDigest:
    run_dir: Path
    meta: dict[str, Any]
    doc: dict[str, Any]  # analysis.json
    window_s: float
    n_windows: int
    steps: dict[str, StepDigest]

    def to_json(self) -> dict[str, Any]:
        """The run's analysis document (analysis.json)."""
        return self.doc


def run_digest(analysis: RunAnalysis) -> RunDigest:
    """The digest of an analysed run (request steps only)."""
    index = analysis.index
    n_w = index.n_windows
    memberships = {}
    for s, (name, scope) in enumerate(zip(index.series_names, index.series_scopes, strict=True)):
        if scope != SCOPE_REQUEST:
            continue
        points = analysis.curves.of(name)
        # Curves.membership holds global point ids: map them to rows of this step's curve
        row_of = {int(pid): row for row, pid in enumerate(points["pid"].to_numpy())}
        global_ids = analysis.curves.membership[s]
        memberships[s] = np.array([row_of.get(int(g), -1) for g in global_ids], dtype=np.int64)
    samples = index.latency_sample(
        {s: np.flatnonzero(m >= 0) for s, m in memberships.items()},
        LATENCY_PER_WINDOW,
        LATENCY_SEED,
    )
    steps = {}
    for s, membership in memberships.items():
        name = index.series_names[s]
        rows = series_rows(analysis.windows, index, name)
        points = analysis.curves.of(name)
        used = membership >= 0
        sample_w, sample_ms = samples[s]
        steps[name] = StepDigest(
            name,
            {c: np.where(used, rows[c].to_numpy(dtype=float), 0.0) for c in COUNT_COLUMNS},
            membership,
            points[[*POINT_COLUMNS, *METRIC_COLUMNS]].reset_index(drop=True),
            analysis.knees[name],
            sample_w,
            sample_ms,
        )
    return RunDigest(
        analysis.run_dir, analysis.meta, analysis.to_json(), index.window_s, n_w, steps
    )


def write_digest(digest: RunDigest) -> Path:
    """Write RUN_DIR/digest/ (each file atomically; digest.json last, so a reader that finds
    it finds the tables it describes); return the folder."""
    folder = digest.run_dir / FOLDER
    folder.mkdir(exist_ok=True)
    names = list(digest.steps)
    windows, points, latency = [], [], []
    for name, step in digest.steps.items():
        w = np.flatnonzero(step.membership >= 0)
        windows.append(
            pd.DataFrame(
                {
                    "step": name,
                    "window": w,
                    "point": step.membership[w],
                    **{c: step.counts[c][w] for c in COUNT_COLUMNS},
                }
            )
        )
        points.append(step.points.assign(step=name))
        latency.append(
            pd.DataFrame({"step": name, "window": step.rec_window, "latency_ms": step.rec_latency})
        )
    for file, frames in (
        ("windows.parquet", windows),
        ("points.parquet", points),
        ("latency.parquet", latency),
    ):
        frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({"step": []})
        frame["step"] = pd.Categorical(frame["step"], categories=names)
        _atomic_parquet(folder / file, frame)
    head = {
        "format_version": DIGEST_FORMAT_VERSION,
        "window_s": digest.window_s,
        "n_windows": digest.n_windows,
        "meta": digest.meta,
        "analysis": digest.doc,
        "knees": {name: asdict(step.knee) for name, step in digest.steps.items()},
    }
    tmp = folder / "digest.json.tmp"
    tmp.write_text(json.dumps(head, default=str, allow_nan=True), encoding="utf-8")
    os.replace(tmp, folder / "digest.json")
    return folder


def read_digest(run_dir: str | Path) -> RunDigest | None:
    """The run's digest, or None when it is missing, stale or of another format."""
    run_dir = Path(run_dir)
    folder = run_dir / FOLDER
    head_path = folder / "digest.json"
    try:
        if head_path.stat().st_mtime < newest_raw_input(run_dir):
            return None
        head = json.loads(head_path.read_text(encoding="utf-8"))
        if head.get("format_version") != DIGEST_FORMAT_VERSION:
            return None
        tables = {
            name: pq.read_table(folder / f"{name}.parquet").to_pandas()
            for name in ("windows", "points", "latency")
        }
    except (OSError, ValueError, pa.ArrowException):
        return None
    try:
        return _steps_from(run_dir, head, tables)
    except (KeyError, TypeError, ValueError):  # written by another build: analyse again
        return None


def _steps_from(run_dir: Path, head: dict[str, Any], tables: dict[str, pd.DataFrame]) -> RunDigest:
    n_w = int(head["n_windows"])
    steps = {}
    for name, knee in head["knees"].items():
        w = tables["windows"][tables["windows"]["step"] == name]
        at = w["window"].to_numpy(dtype=np.int64)

        def dense(column: str, fill: float = 0.0) -> np.ndarray:
            out = np.full(n_w, fill)
            out[at] = w[column].to_numpy(dtype=float)  # noqa: B023
            return out

        lat = tables["latency"][tables["latency"]["step"] == name]
        points = tables["points"][tables["points"]["step"] == name].drop(columns="step")
        steps[name] = StepDigest(
            name,
            {c: dense(c) for c in COUNT_COLUMNS},
            dense("point", -1.0).astype(np.int64),
            points.reset_index(drop=True),
            Knee(**knee),
            lat["window"].to_numpy(dtype=np.int64),
            lat["latency_ms"].to_numpy(dtype=float),
        )
    return RunDigest(run_dir, head["meta"], head["analysis"], float(head["window_s"]), n_w, steps)


def _atomic_parquet(path: Path, frame: pd.DataFrame) -> None:
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp)
    os.replace(tmp, path)
