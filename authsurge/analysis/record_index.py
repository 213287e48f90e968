"""RecordIndex: what the analysis stages ask of a run's records, answered by the engine
from the shards without loading them.

Opening it reads the shards five times: twice for the run's shape (record_views), twice
for the counts (record_counts: everything, with the cost model's cells when given the
resource-sample edges, then distinct people), and once for the window and whole-run
percentiles (latencies). The curve points' percentiles read them once more and gather the
digest's sample (when given its cap and seed). Other questions read them once each: SLO
percentiles over part of the load, the cost model's counts for other edges, the sample of
windows not gathered (or left short by their hash threshold). The connection and its
views stay open until close(), or until the index is collected.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from authsurge.analysis import cost_counts, latencies, record_counts
from authsurge.analysis.engine import connect
from authsurge.analysis.record_files import RecordFiles, scan_sound_shards
from authsurge.analysis.record_views import open_views
from authsurge.analysis.windows import PERCENTILE_COLUMNS, SCOPE_JOURNEY, SCOPE_REQUEST
from authsurge.rundir import records as record


class RecordIndex:
    """The run's series and windows, its window table, and the queries the stages make."""

    def __init__(
        self,
        files: list[Path],
        started_at: float,
        window_s: float,
        ended_at: float | None = None,
        warnings: list[str] | None = None,
        cost_edges: np.ndarray | None = None,
        sample: tuple[int, int] | None = None,
    ) -> None:
        self.con = connect()
        # the digest's sample (cap, seed), gathered by latency_quantiles(gather_sample=True)
        self._sample_plan = sample
        self._candidates: latencies.SampleCandidates | None = None
        # the cost model's edges are counted in the counts' pass (see counts_up_to)
        self._cells = cost_counts.EdgeCells.of(cost_edges) if cost_edges is not None else None
        try:
            self.shape = open_views(self.con, files, started_at, window_s, ended_at, warnings)
            self.con.execute(latencies.LATENCY_VIEW)
            self.counts = record_counts.count_records(self.con, self.shape, self._cells)
            window_pct, self._series_pct, self._latencies_in = (
                latencies.window_and_series_quantiles(
                    self.con, len(self.shape.series_names), self.shape.n_windows
                )
            )
            self.windows = self._window_table(window_pct)
        except BaseException:
            self.con.close()
            raise

    # the run's shape, as the stages read it
    @property
    def t0(self) -> float:
        return self.shape.t0

    @property
    def window_s(self) -> float:
        return self.shape.window_s

    @property
    def n_windows(self) -> int:
        return self.shape.n_windows

    @property
    def series_names(self) -> list[str]:
        return self.shape.series_names

    @property
    def series_scopes(self) -> list[str]:
        return self.shape.series_scopes

    @property
    def outcome_names(self) -> list[str]:
        return self.shape.outcome_names

    @property
    def journey_names(self) -> list[str]:
        return self.shape.journey_names

    @property
    def n_series(self) -> int:
        return len(self.shape.series_names)

    def window_start(self, w: np.ndarray | int) -> np.ndarray:
        return self.t0 + np.asarray(w, dtype=np.float64) * self.window_s

    def series_of(self, name: str) -> int:
        return self.series_names.index(name)

    def journey_series(self, journey: str) -> str:
        """The series name of a journey's rows: its name, or ``journey:<name>`` when a
        request step has the same name."""
        prefixed = f"journey:{journey}"
        return prefixed if prefixed in self.series_names else journey

    def close(self) -> None:
        self.con.close()

    def _window_table(self, pct: np.ndarray) -> pd.DataFrame:
        """windows.py's table: one row per (series, window), series-major."""
        shape, counts = self.shape, self.counts
        n_s, n_w, w = len(shape.series_names), shape.n_windows, shape.window_s
        size = n_s * n_w
        arr = counts.arrivals
        offered = np.bincount(
            arr["s"].to_numpy(np.int64) * n_w + arr["arrive_w"].to_numpy(np.int64),
            weights=arr["n"].to_numpy(np.float64),
            minlength=size,
        ).astype(np.int64)
        done = counts.completions
        key = done["s"].to_numpy(np.int64) * n_w + done["end_w"].to_numpy(np.int64)
        n = done["n"].to_numpy(np.float64)
        completed = np.bincount(key, weights=n, minlength=size).astype(np.int64)
        by_class = {
            o: np.bincount(
                key[(done["outcome"] == o).to_numpy()],
                weights=n[(done["outcome"] == o).to_numpy()],
                minlength=size,
            ).astype(np.int64)
            for o in shape.outcome_names
        }
        good = by_class.get(record.OK, np.zeros(size, np.int64))
        journeys = arr[arr["kind"] != record.KIND_REQUEST]
        if len(journeys):
            arrivals = np.bincount(
                journeys["arrive_w"].to_numpy(np.int64),
                weights=journeys["n"].to_numpy(np.float64),
                minlength=n_w,
            )
        else:
            arrivals = np.full(n_w, np.nan)

        frame = pd.DataFrame(
            {
                "series": pd.Categorical.from_codes(
                    np.repeat(np.arange(n_s), n_w), categories=shape.series_names
                ),
                "scope": pd.Categorical.from_codes(
                    np.repeat([0 if sc == SCOPE_REQUEST else 1 for sc in shape.series_scopes], n_w),
                    categories=[SCOPE_REQUEST, SCOPE_JOURNEY],
                ),
                "window": np.tile(np.arange(n_w, dtype=np.int32), n_s),
            }
        )
        frame["t"] = shape.t0 + frame["window"].to_numpy() * w
        frame["offered"] = offered
        frame["offered_rps"] = offered / w
        frame["arrivals_rps"] = np.tile(arrivals, n_s) / w
        frame["completed"] = completed
        frame["ok"] = good
        frame["errors"] = completed - good
        frame["goodput_rps"] = good / w
        with np.errstate(invalid="ignore", divide="ignore"):
            frame["error_rate"] = np.where(completed > 0, frame["errors"] / completed, np.nan)
        for name in shape.outcome_names:
            if name != record.OK:
                frame[f"err_{name}"] = by_class[name]
        for j, name in enumerate(PERCENTILE_COLUMNS):
            frame[name] = pct[:, j]
        frame["concurrency"] = record_counts.concurrency(counts, shape).reshape(-1)
        return frame

    def latency_quantiles(
        self, group_of: np.ndarray, n_groups: int, gather_sample: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Percentiles and max of the latencies of each group of (series, completion
        window): see latencies.latency_quantiles. `gather_sample` (the curve points', which
        pool the windows the digest samples): the same pass gathers the sample's candidates
        in the request steps' grouped windows, when the index was opened with a sample plan."""
        gather = None
        if gather_sample and self._sample_plan is not None:
            requests = np.array([sc == SCOPE_REQUEST for sc in self.series_scopes])
            wanted = np.broadcast_to(requests[:, None], group_of.shape)
            gather = (wanted, *self._sample_plan, self._latencies_in)
        counts, values, candidates = latencies.latency_quantiles(
            self.con, group_of, n_groups, gather=gather
        )
        if candidates is not None:
            self._candidates = candidates
        return counts, values

    def series_totals(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Whole-run records, successes and records per outcome class, per series (every
        record ends in one window: the window table's sums)."""
        n_s, n_w = self.n_series, self.n_windows
        frame = self.windows

        def per_series(column: str) -> np.ndarray:
            return frame[column].to_numpy().reshape(n_s, n_w).sum(axis=1).astype(np.int64)

        total, ok = per_series("completed"), per_series("ok")
        by_class = (
            np.column_stack(
                [
                    ok if name == record.OK else per_series(f"err_{name}")
                    for name in self.outcome_names
                ]
            )
            if self.outcome_names
            else np.zeros((n_s, 0), np.int64)
        )
        return total, ok, by_class

    def series_quantiles(self) -> np.ndarray:
        """Whole-run latency percentiles and max per series (read with the window table's)."""
        return self._series_pct

    def latency_sample(
        self, windows: dict[int, np.ndarray], cap: int, seed: int
    ) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """The digest's sample: see latencies.latency_sample. The candidates gathered for
        it are let go once it is drawn (three times the sample's size)."""
        candidates, self._candidates = self._candidates, None
        return latencies.latency_sample(
            self.con, windows, cap, seed, self._latencies_in, candidates
        )

    def top_reasons(self, top: int = 3) -> dict[int, list[dict]]:
        """The commonest failure reasons per series; a tie goes to the reason seen later in
        the shards."""
        reasons, first = self.counts.reasons, self.shape.reason_order
        out: dict[int, list[dict]] = {s: [] for s in range(self.n_series)}
        rows = sorted(
            zip(reasons["s"], reasons["reason"], reasons["n"], strict=True),
            key=lambda r: (-r[2], tuple(-x for x in first[r[1]])),
        )
        for s, reason, n in rows:
            if len(out[int(s)]) < top:
                out[int(s)].append({"reason": reason or "(no reason given)", "count": int(n)})
        return out

    def arrivals(self) -> dict[str, Any]:
        """Journey arrivals (attempts and drops) for retries and drops: totals, people and
        per-window counts."""
        n_w = self.n_windows
        arr = self.counts.arrivals
        arr = arr[arr["kind"] != record.KIND_REQUEST]
        w = arr["arrive_w"].to_numpy(np.int64)
        n, firsts = arr["n"].to_numpy(np.float64), arr["firsts"].to_numpy(np.float64)
        is_drop = (arr["kind"] == record.KIND_DROPPED).to_numpy()
        drops = arr[is_drop & arr["journey"].notna().to_numpy()]
        return {
            "attempts": int(n.sum()),
            "first_attempts": int(firsts.sum()),
            "persons": self.counts.persons,
            "per_window": np.bincount(w, weights=n, minlength=n_w).astype(np.int64),
            "firsts_per_window": np.bincount(w, weights=firsts, minlength=n_w).astype(np.int64),
            "dropped_per_window": np.bincount(w[is_drop], weights=n[is_drop], minlength=n_w).astype(
                np.int64
            ),
            "dropped_by_journey": {
                j: int(v) for j, v in drops.groupby("journey", sort=False)["n"].sum().items()
            },
        }

    def request_attempts(self) -> tuple[np.ndarray, np.ndarray]:
        """(requests, first-attempt requests) per (series, arrival window), [n_series,
        n_windows]: what retries added to each step, and when."""
        arr = self.counts.arrivals
        return self._attempts(arr[arr["kind"] == record.KIND_REQUEST])

    def arrival_attempts(self) -> tuple[np.ndarray, np.ndarray]:
        """(arrivals, first-attempt arrivals) of journey and dropped rows per (series,
        arrival window), [n_series, n_windows]: what retries added to each journey's load."""
        arr = self.counts.arrivals
        return self._attempts(arr[arr["kind"] != record.KIND_REQUEST])

    def _attempts(self, mine: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        key = mine["s"].to_numpy(np.int64) * self.n_windows + mine["arrive_w"].to_numpy(np.int64)
        size = self.n_series * self.n_windows

        def per_window(column: str) -> np.ndarray:
            weights = mine[column].to_numpy(np.float64)
            counted = np.bincount(key, weights=weights, minlength=size).astype(np.int64)
            return counted.reshape(self.n_series, self.n_windows)

        return per_window("n"), per_window("firsts")

    def requests_by_journey_window(self) -> list[tuple[int, str, int, int]]:
        """(series, journey, arrival window, requests) of request rows with a journey."""
        arr = self.counts.arrivals
        mine = arr[(arr["kind"] == record.KIND_REQUEST) & arr["journey"].notna()]
        return [
            (int(s), j, int(w), int(n))
            for s, j, w, n in zip(
                mine["s"], mine["journey"], mine["arrive_w"], mine["n"], strict=True
            )
        ]

    def status_by_source(self, status: int) -> list[tuple[str, int, int]] | None:
        """(source address, requests, requests answered `status`) of the analysed requests
        ("": the system chose the address); None when the records do not say (format 1)."""
        if not self.shape.has_source:
            return None
        rows = self.con.execute(
            f"""SELECT source, count(*), count(*) FILTER (status = ?)
                FROM valid WHERE kind = '{record.KIND_REQUEST}' GROUP BY source ORDER BY source""",
            [status],
        ).fetchall()
        return [(str(s), int(n), int(k)) for s, n, k in rows]

    def population_events(self) -> list[tuple[str, int, str, int]]:
        """(event, window, reason, count) of the population's event rows (format 2)."""
        rows = self.con.execute(
            f"""SELECT step, floor((t_start - ?) / ?)::BIGINT AS w, reason, count(*)
                FROM raw WHERE kind = '{record.KIND_EVENT}' AND isfinite(t_start)
                GROUP BY ALL""",
            [self.t0, self.window_s],
        ).fetchall()
        return [(str(e), int(w), str(r or ""), int(n)) for e, w, r, n in rows]

    def device_attempts(self) -> pd.DataFrame:
        """Per attempt of the surge whose device authorization succeeded and that ended
        (signed in, or a device step failed; not cut off by the run's end): arrive (the
        device authorization's start), t_auth, t_token (the end of the successful final poll;
        NaN without one), polls (device.poll and device.token requests), slow_downs, and
        signed_in. Empty without any."""
        return self.con.execute(
            f"""SELECT min(arrive) FILTER (step = 'device.authorize') AS arrive,
                       min(start_t) FILTER (step = 'device.authorize') AS t_auth,
                       max(end_t) FILTER (step = 'device.token' AND outcome = 'ok') AS t_token,
                       count(*) FILTER (step IN ('device.poll', 'device.token')) AS polls,
                       count(*) FILTER (step = 'device.poll' AND reason = 'slow_down')
                           AS slow_downs,
                       coalesce(bool_or(step = 'device.token' AND outcome = 'ok'), false)
                           AS signed_in
                FROM valid
                WHERE kind = '{record.KIND_REQUEST}' AND cohort = '{record.SURGE}'
                      AND step IN ('device.authorize', 'device.poll', 'device.verify',
                                   'device.token')
                GROUP BY person_id, attempt
                HAVING bool_or(step = 'device.authorize' AND outcome = 'ok')
                       AND bool_or(outcome <> 'ok' OR step = 'device.token')"""
        ).df()

    def arrivals_by_journey_window(self) -> list[tuple[str, int, int]]:
        """(journey, arrival window, arrivals) of journey and dropped rows with a journey."""
        arr = self.counts.arrivals
        mine = arr[(arr["kind"] != record.KIND_REQUEST) & arr["journey"].notna()]
        summed = mine.groupby(["journey", "arrive_w"], sort=False)["n"].sum()
        return [(j, int(w), int(n)) for (j, w), n in summed.items()]

    def counts_up_to(
        self, edges: np.ndarray
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """The cost model's cumulative counts per edge: see cost_counts.counts_up_to. Read
        from the counts' pass when these are the edges the index was opened with."""
        counted = (
            (self._cells, self.counts.cells)
            if self._cells is not None and self.counts.cells is not None
            else None
        )
        return cost_counts.counts_up_to(self.con, self.shape, edges, counted)

    def journeys_of_steps(self) -> dict[str, list[str]]:
        """The journeys each request step was recorded in, in order of first appearance."""
        order = {j: i for i, j in enumerate(self.journey_names)}
        out: dict[str, set[str]] = {}
        for s, j, _, _ in self.requests_by_journey_window():
            out.setdefault(self.series_names[s], set()).add(j)
        return {n: sorted(js, key=order.__getitem__) for n, js in out.items()}


def open_index(
    records: RecordFiles,
    started_at: float,
    window_s: float,
    ended_at: float | None,
    warnings: list[str],
    cost_edges: np.ndarray | None = None,
    sample: tuple[int, int] | None = None,
) -> RecordIndex:
    """The RecordIndex of a run's sound shards (a shard that does not decode is left out
    with a warning). `cost_edges`: the resource-sample edges the cost model will ask
    counts_up_to for, counted while opening; `sample`: the (cap, seed) of the latency
    sample latency_sample will be asked for, gathered with the curve points' percentiles.
    Each saves a pass over the records."""
    return scan_sound_shards(
        records,
        warnings,
        lambda files: RecordIndex(
            files, started_at, window_s, ended_at, warnings, cost_edges, sample
        ),
    )
