"""Latency percentiles and the digest's sample, computed by the engine from a shard."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from authsurge.analysis import latencies
from tests.support.records import frame, index_of
from tests.support.synth import T0


def many(tmp_path: Path, per_window: int = 300, windows: int = 4):
    rng = np.random.default_rng(3)
    rows = [{"step": step, "t_start": T0 + w + 0.001 * i, "latency_ms": float(rng.uniform(1, 900)),
             "journey_id": f"{step}-{w}-{i}"}
            for step in ("a", "b") for w in range(windows) for i in range(per_window)]
    return index_of(frame(rows), tmp_path, T0, 1.0)


def test_window_and_series_percentiles_match_numpy(tmp_path: Path) -> None:
    df = frame([{"step": "a", "t_start": T0 + w, "latency_ms": float(v)}
                for w, values in enumerate([(1, 2, 3, 4), (10, 20)]) for v in values])
    index = index_of(df, tmp_path, T0, 1.0)
    try:
        windows, series, counts = latencies.window_and_series_quantiles(index.con, 1, index.n_windows)
    finally:
        index.close()
    assert counts[0, :2].tolist() == [4, 2]
    assert windows[0].tolist() == pytest.approx(list(np.percentile([1, 2, 3, 4], [50, 90, 95, 99])) + [4])
    assert series[0].tolist() == pytest.approx(
        list(np.percentile([1, 2, 3, 4, 10, 20], [50, 90, 95, 99])) + [20])


def test_the_sample_keeps_at_most_cap_per_window_the_same_with_or_without_the_threshold(tmp_path: Path) -> None:
    index = many(tmp_path)
    try:
        _, _, counts = latencies.window_and_series_quantiles(index.con, index.n_series, index.n_windows)
        wanted = {0: np.array([0, 1, 3]), 1: np.array([2])}
        sampled = latencies.latency_sample(index.con, wanted, 50, 7, counts)
        # counts far above the truth: every threshold keeps too few, and each window is
        # sampled again in full: the same rows must come out
        again = latencies.latency_sample(index.con, wanted, 50, 7, counts * 1000)
        everything = latencies.latency_sample(index.con, wanted, 10_000, 7, counts)
    finally:
        index.close()
    for s, ws in wanted.items():
        w, ms = sampled[s]
        assert np.bincount(w, minlength=4)[ws].tolist() == [50] * len(ws)
        assert set(np.unique(w)) == set(ws.tolist())
        assert np.array_equal(w, again[s][0]) and np.array_equal(ms, again[s][1])
        # a sample of each window's own latencies, in shard order: every (window, latency)
        # is one of the whole sample's, at increasing places in it
        whole = list(zip(everything[s][0].tolist(), everything[s][1].tolist(), strict=True))
        places = [whole.index(pair) for pair in zip(w.tolist(), ms.tolist(), strict=True)]
        assert places == sorted(places)
    assert not np.array_equal(sampled[0][1][:50], everything[0][1][:50])  # not just the first 50


def test_the_sample_picked_from_candidates_gathered_with_percentiles_is_the_queried_sample(tmp_path: Path) -> None:
    index = many(tmp_path)
    try:
        _, _, counts = latencies.window_and_series_quantiles(index.con, index.n_series, index.n_windows)
        group_of = np.full((index.n_series, index.n_windows), -1)
        group_of[0, [0, 1]] = 0
        group_of[1, [2, 3]] = 1
        gather = (np.ones_like(group_of, bool), 50, 7, counts)
        n, pct, candidates = latencies.latency_quantiles(index.con, group_of, 2, gather=gather)
        plain_n, plain_pct, none = latencies.latency_quantiles(index.con, group_of, 2)
        # window 3 of series 0 is in no group, so gathered nothing: it is queried
        wanted = {0: np.array([0, 1, 3]), 1: np.array([2])}
        queried = latencies.latency_sample(index.con, wanted, 50, 7, counts)
        picked = latencies.latency_sample(index.con, wanted, 50, 7, counts, candidates)
    finally:
        index.close()
    assert none is None and candidates is not None
    assert candidates.gathered[0, :4].tolist() == [True, True, False, False]
    assert np.array_equal(n, plain_n) and n.min() > 0
    assert np.array_equal(pct, plain_pct)
    for s in wanted:
        assert np.array_equal(picked[s][0], queried[s][0])
        assert np.array_equal(picked[s][1], queried[s][1])
    assert np.bincount(picked[0][0], minlength=4)[:4].tolist() == [50, 50, 0, 50]
