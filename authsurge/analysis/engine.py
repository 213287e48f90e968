"""The analysis engine: a DuckDB connection with bounded memory that spills to disk.

DuckDB was chosen by measurement (bench/bench_engines.py, README "Benchmarks"): on 100 M
records the per-window core took 6.2-7.3 s and under 1 GiB in two runs, where polars'
streaming engine took 16.1-18.3 s and 9.7-10.9 GiB. `memory_limit` bounds what DuckDB holds; past it, sorts and
aggregates spill to a temp directory of the connection's own (DuckDB locks a temp
directory: two connections cannot share one).
"""

from __future__ import annotations

import math
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Any

import duckdb

MEMORY_LIMIT = "3GB"  # with Python's own frames, an analysis stays under 4 GiB at 100 M records
THREADS = 2


class Connection:
    """A DuckDB connection that removes its spill directory when closed (or collected)."""

    def __init__(self) -> None:
        self.spill = tempfile.mkdtemp(prefix="authsurge-duckdb-")
        self.con = duckdb.connect(
            config={
                "memory_limit": MEMORY_LIMIT,
                "threads": THREADS,
                "temp_directory": self.spill,
                # the queries group and sort; nothing depends on the order rows are read in
                "preserve_insertion_order": False,
            }
        )
        # an analysis that is never closed still leaves no spill directory behind
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.spill, True)

    def execute(self, sql: str, parameters: Any = None) -> duckdb.DuckDBPyConnection:
        return (
            self.con.execute(sql, parameters) if parameters is not None else self.con.execute(sql)
        )

    def arrow(self, sql: str, parameters: Any = None) -> Any:
        """The query's result as a pyarrow Table (lists and structs without a row-by-row
        conversion)."""
        return self.con.sql(sql, params=parameters).to_arrow_table()

    def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        self.con.executemany(sql, rows)

    def register(self, name: str, frame: Any) -> None:
        self.con.register(name, frame)

    def unregister(self, name: str) -> None:
        self.con.unregister(name)

    def close(self) -> None:
        self.con.close()
        self._cleanup()


def connect() -> Connection:
    return Connection()


def sql_float(value: float) -> str:
    """A float as SQL: repr, except inf and nan, which DuckDB reads as column names."""
    return repr(value) if math.isfinite(value) else f"'{value!r}'::DOUBLE"


def sql_paths(paths: list[Path]) -> str:
    """A list of file paths as an SQL list of string literals (a quote in a path is
    doubled; Python's repr would turn such a path into a double-quoted column name)."""
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"
