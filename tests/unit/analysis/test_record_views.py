"""The views' helpers that read the shards directly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from authsurge.analysis.record_views import middle_start
from tests.support.records import BASE, write_shard
from tests.support.synth import T0


def shard(path: Path, t_start: np.ndarray) -> Path:
    df = pd.DataFrame({**BASE, "step": "a", "latency_ms": 1.0, "t_start": t_start})
    return write_shard(df, path)


def test_the_middle_of_a_small_run_is_the_median_of_every_row(tmp_path: Path) -> None:
    t = T0 + np.random.default_rng(1).uniform(0, 100, 5_001)
    t[:100] = T0 + 1e9  # garbage times do not move a median
    assert middle_start([shard(tmp_path / "a.parquet", t)]) == float(np.median(t))


def test_the_middle_of_a_large_shard_comes_from_rows_spread_over_all_of_it(tmp_path: Path) -> None:
    # times in shard order over 2,000 s: rows read from the start alone would say ~T0 + 16
    t = T0 + np.arange(1_000_000) * 0.002
    middle = middle_start([shard(tmp_path / "a.parquet", t)])
    assert middle is not None and T0 + 800 < middle < T0 + 1200


def test_each_shard_weighs_by_its_rows_so_small_shards_with_a_bad_clock_do_not_outvote(tmp_path: Path) -> None:
    big = shard(tmp_path / "big.parquet", T0 + np.arange(1_000_000) * 0.002)
    # ten small shards, a day off: read whole, each as much as the big one, they would win
    small = [shard(tmp_path / f"s{i}.parquet", np.full(10_000, T0 + 86_400.0)) for i in range(10)]
    middle = middle_start([big, *small])
    assert middle is not None and T0 < middle < T0 + 2000
