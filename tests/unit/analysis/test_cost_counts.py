"""The cost model's counts per resource-sample edge, against numpy's searchsorted."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from authsurge.analysis.record_index import RecordIndex
from tests.support.records import frame, write_shard
from tests.support.synth import T0


def records(rng: np.random.Generator) -> pd.DataFrame:
    rows = [{"step": step, "journey": journey, "t_start": T0 + float(rng.uniform(0, 20)),
             "latency_ms": float(rng.uniform(1, 400))}
            for step, journey in (("a", "j"), ("b", "j"), ("b", "k")) for _ in range(400)]
    rows += [{"kind": "journey", "step": journey, "journey": journey,
              "t_start": T0 + float(rng.uniform(0, 20)), "latency_ms": 500.0}
             for journey in ("j", "k") for _ in range(300)]
    # journey rows the cost model never counts: no journey name, or no t_start (their
    # arrival still places them in the windows, through t_intended)
    rows += [{"kind": "journey", "step": "j", "journey": "", "t_start": T0 + 5.0, "latency_ms": 500.0},
             {"kind": "journey", "step": "j", "journey": "j", "t_start": None, "t_intended": T0 + 6.0,
              "latency_ms": 500.0}]
    return frame(rows)


def expected(df: pd.DataFrame, edges: np.ndarray) -> dict[str, np.ndarray]:
    """Rows at or before each edge: requests at their middle, journey arrivals at t_start."""
    req = df[df["kind"] == "request"]
    out = {step: np.searchsorted(np.sort(g["t_start"] + g["latency_ms"] / 2000), edges, "right")
           for step, g in req.groupby("step")}
    jr = df[(df["kind"] == "journey") & df["t_start"].notna() & (df["journey"] != "")]
    out |= {f"arrivals {j}": np.searchsorted(np.sort(g["t_start"]), edges, "right")
            for j, g in jr.groupby("journey")}
    return out


def test_cells_counted_with_the_counts_and_in_a_pass_of_their_own_agree_with_numpy(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    df = records(rng)
    shard = write_shard(df, tmp_path / "r.parquet")
    edges = np.sort(T0 + rng.uniform(-1, 21, 40))
    other = edges[::2] + 0.01  # edges the index was not opened with: counted in a pass
    close = np.sort(np.append(edges, edges[0] + 1e-7))  # too close for cells: the ASOF join
    opened = RecordIndex([shard], T0, 1.0, None, None, cost_edges=edges)
    plain = RecordIndex([shard], T0, 1.0)
    try:
        assert opened.counts.cells is not None and plain.counts.cells is None
        results = [(e, index.counts_up_to(e)) for index in (opened, plain) for e in (edges, other, close)]
    finally:
        opened.close()
        plain.close()
    for e, (steps, journeys) in results:
        want = expected(df, e)
        assert set(steps) == {"a", "b"} and set(journeys) == {"j", "k"}
        for step in ("a", "b"):
            assert steps[step].tolist() == want[step].tolist()
        for j in ("j", "k"):
            assert journeys[j].tolist() == want[f"arrivals {j}"].tolist()
