"""Look for secret values, in every form a request carries them, in every file of a run
directory (Parquet and Arrow string columns included) and in captured output."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from urllib.parse import quote, quote_plus

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}")  # an ID or access token
TEXT_SUFFIXES = {".json", ".yaml", ".yml", ".csv", ".svg", ".html", ".md", ".txt", ".log"}


def needles(secrets: dict[str, str], clients: list[str]) -> dict[str, str]:
    """label -> text to look for: the raw values, their URL encodings (form bodies) and the
    HTTP Basic credentials of each client id with each secret."""
    out: dict[str, str] = {}
    for label, value in secrets.items():
        out[label] = value
        out[f"{label} (form-encoded)"] = quote_plus(value)
        out[f"{label} (percent-encoded)"] = quote(value, safe="")
        out[f"{label} (base64)"] = base64.b64encode(value.encode()).decode()
        for client in clients:
            basic = base64.b64encode(f"{quote_plus(client)}:{quote_plus(value)}".encode()).decode()
            out[f"{label} (Basic auth of {client})"] = basic
    return out


def find_in_text(text: str, where: str, looking_for: dict[str, str]) -> list[str]:
    hits = [f"{where}: {label}" for label, value in looking_for.items() if value and value in text]
    if JWT.search(text):
        hits.append(f"{where}: a JWT (token)")
    return hits


def _table_strings(table: pa.Table) -> list[str]:
    values: list[str] = []
    for name in table.column_names:
        column = table.column(name)
        kind = column.type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            values += [v for v in column.to_pylist() if v]
    return values


def scan_run_dir(run_dir: Path, looking_for: dict[str, str]) -> tuple[list[str], list[str]]:
    """(hits, files scanned); every file is scanned as bytes, tables also column by column."""
    hits: list[str] = []
    scanned: list[str] = []
    for path in sorted(p for p in Path(run_dir).rglob("*") if p.is_file()):
        rel = str(path.relative_to(run_dir))
        scanned.append(rel)
        data = path.read_bytes()
        hits += find_in_text(data.decode("latin-1"), rel, looking_for)
        if path.suffix == ".parquet":
            strings = _table_strings(pq.read_table(path))
            hits += find_in_text("\n".join(strings), f"{rel} (string columns)", looking_for)
        elif path.suffix == ".arrows":
            with pa.OSFile(str(path)) as f:
                strings = _table_strings(ipc.open_stream(f).read_all())
            hits += find_in_text("\n".join(strings), f"{rel} (string columns)", looking_for)
        elif path.suffix in TEXT_SUFFIXES:
            hits += find_in_text(data.decode("utf-8", "replace"), rel, looking_for)
    return hits, scanned


def find_codes(text: str, where: str, codes: dict[str, str]) -> list[str]:
    """One-time codes (digits) standing alone in `text`: not inside a longer number, nor
    the decimals of one (a run's JSON is full of numbers)."""
    return [f"{where}: {label}" for label, code in codes.items()
            if re.search(rf"(?<![0-9.]){re.escape(code)}(?![0-9])", text)]


def scan_for_codes(run_dir: Path, codes: dict[str, str]) -> list[str]:
    """`find_codes` over a run directory's text files and its tables' string columns (the
    binary bytes of Parquet would match digits by chance)."""
    hits: list[str] = []
    for path in sorted(p for p in Path(run_dir).rglob("*") if p.is_file()):
        rel = str(path.relative_to(run_dir))
        if path.suffix == ".parquet":
            hits += find_codes("\n".join(_table_strings(pq.read_table(path))), rel, codes)
        elif path.suffix in TEXT_SUFFIXES:
            hits += find_codes(path.read_text(errors="replace"), rel, codes)
    return hits
