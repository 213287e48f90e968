"""Trace files: CSV of `t_s` and one arrivals/s column per journey type."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from authsurge.errors import ScenarioError


@dataclass(frozen=True)
class Trace:
    t_s: np.ndarray  # seconds since the trace start, increasing
    columns: dict[str, np.ndarray]  # arrivals/s per journey type at each t_s


def load_trace(path: Path) -> Trace:
    """Read and check a trace CSV; every problem is a ScenarioError naming the file and line."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = [row for row in csv.reader(f) if row and not row[0].lstrip().startswith("#")]
    except FileNotFoundError:
        raise ScenarioError(f"{path}: trace file not found") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ScenarioError(f"{path}: cannot read trace file ({exc})") from None
    if len(rows) < 3:
        raise ScenarioError(
            f"{path}: a trace needs a header (t_s,<journey>,...) and at least two rows"
        )
    header = [h.strip() for h in rows[0]]
    if header[0] != "t_s" or len(header) < 2 or len(set(header)) != len(header):
        raise ScenarioError(
            f"{path}:1: the header must be t_s followed by distinct journey columns, got {header}"
        )
    data = np.empty((len(rows) - 1, len(header)))
    for i, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise ScenarioError(f"{path}:{i}: expected {len(header)} values, got {len(row)}")
        for j, cell in enumerate(row):
            try:
                value = float(cell)
            except ValueError:
                raise ScenarioError(f"{path}:{i}: {header[j]} is not a number: {cell!r}") from None
            if not math.isfinite(value) or value < 0:
                raise ScenarioError(
                    f"{path}:{i}: {header[j]} must be a finite number >= 0, got {cell!r}"
                )
            data[i - 2, j] = value
    if np.any(np.diff(data[:, 0]) <= 0):
        raise ScenarioError(f"{path}: t_s must increase strictly from row to row")
    return Trace(data[:, 0] - data[0, 0], {h: data[:, j] for j, h in enumerate(header) if j > 0})
