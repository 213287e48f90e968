"""meta.json as a typed model: RunMeta is what every run mode writes and every reader reads.

One writer (`write_meta`, called by the run modes in authsurge.run) and one reader
(`read_meta`, used by the analysis, history, report and compare), as Rally's `Race` is
for its race.json. The reader is lenient where a damaged file is still worth analysing:
a key of the wrong type, or one a newer writer changed, is left out with a warning
rather than failing the whole run directory; an unknown format_version fails.

Format versions: FORMAT_VERSION (authsurge.rundir.layout) is the one this code writes;
READABLE lists what it reads. A later format adds its upgrade here, with a test that
reads the older one.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from authsurge.errors import RunDirError
from authsurge.rundir.layout import FORMAT_VERSION, META, write_json_atomic

READABLE = (1, 2)  # 2 added the requests' cohort column and population events


class _Section(BaseModel):
    # unknown keys are kept: a newer writer may add some, and nothing here drops them
    model_config = ConfigDict(extra="allow")


class TargetInfo(_Section):
    base_url: str | None = None
    version: str | None = None
    git_commit: str | None = None
    pids: list[int] = []


class HarnessInfo(_Section):
    authsurge: str | None = None
    locust: str | None = None
    python: str | None = None
    host: str | None = None
    user: str | None = None
    cpu_count: int | None = None
    workers: int | None = None
    worker_cpu_s: dict[str, float | None] = {}  # CPU seconds each worker used


class TrafficInfo(_Section):
    model: str | None = None
    shape: str | None = None
    arrivals: str | None = None
    rate_scale: float | None = None
    planned_journeys: int | None = None
    peak_rate: float | None = None
    max_concurrency: int | None = None
    started_journeys: int | None = None
    persons: int | None = None
    dropped_journeys: int | None = None
    requests: int | None = None
    shortfall: list[dict[str, Any]] = []
    on_schedule: bool | None = None


class PopulationInfo(_Section):
    """The signed-in population (scenario `population:`): as configured, and at the end
    what the workers counted (authsurge.population.Counts, summed)."""

    size: int | None = None
    sign_in: str | None = None
    api_rate: float | None = None  # API calls a second per person
    warmup_started_at: float | None = None  # epoch s; the warm-up ends at started_at
    on_401: str | None = None
    session_lifetime_s: float | None = None
    token_lifetime_s: float | None = None
    join_share: float | None = None
    signed_in_at_start: int | None = None
    warmup_failures: int | None = None
    joined: int | None = None  # surge people who signed in and stayed
    relogins: int | None = None
    refreshes: int | None = None
    gave_up: int | None = None


class CalibrationProbe(_Section):
    """One calibration probe (authsurge.calibrate.Probe)."""

    rate: float  # planned sign-in journeys a second
    arrivals: int | None = None  # journeys that really arrived in the judged window
    goodput: float | None = None  # sign-ins completed ok a second (by completion time)
    success: float | None = None  # share of the judged arrivals that signed in
    p95_ms: float | None = None  # the sign-in journeys' p95 in the judged window
    passed: bool = False
    why: str | None = None  # what failed (saturation signs), None when it passed


class CalibrationInfo(_Section):
    """What `--rate-scale auto` (and `make demo`) measured before the run."""

    capacity_rps: float  # sign-in journeys a second the target sustained
    probes: list[CalibrationProbe] = []
    with_population: bool = False  # the population's API load ran during the probes
    peak_multiple: float | None = None  # the surge's planned sign-in peak / capacity
    rate_scale: float | None = None  # the trace scale it chose (None: not a trace)
    given: bool = False  # the capacity was given (`authsurge demo --capacity`), not measured


class MailInfo(_Section):
    """The mail sink the run started (authsurge.run.mail_sink) and what it saw."""

    smtp_port: int
    behaviour: dict[str, Any] = {}  # the scenario's flows.mail.sink, as given
    counters: dict[str, int] = {}  # received, delivered, dropped, rejected


class MachineReference(_Section):
    """What one core of the harness's machine does, measured at run start
    (authsurge.pbkdf2.reference_rate): printed beside every per-vCPU figure."""

    hashes_per_s_per_core: float | None = None  # PBKDF2-SHA256 of `iterations`
    iterations: int | None = None
    cpu_s: float | None = None
    hashes: int | None = None


class Level(_Section):
    start: float
    end: float
    rate: float | None = None


class RunMeta(_Section):
    """meta.json (docs/CONTRACTS.md lists every key)."""

    format_version: int = FORMAT_VERSION
    run_id: str | None = None
    scenario: str | None = None
    scenario_file: str | None = None
    status: str | None = None  # running | complete | interrupted | aborted | failed
    started_at: float | None = None
    ended_at: float | None = None
    duration_s: float | None = None
    planned_duration_s: float | None = None
    target: TargetInfo = TargetInfo()
    harness: HarnessInfo = HarnessInfo()
    traffic: TrafficInfo = TrafficInfo()
    levels: list[Level] = []
    analysis: dict[str, Any] = {}
    slos: list[dict[str, Any] | str] = []  # model dumps (the runner) or SLO strings
    command: str | None = None
    # status aborted: the run.abort_on condition that held (condition, measured, at)
    aborted: dict[str, Any] | None = None
    population: PopulationInfo | None = None  # format 2, with a scenario population
    calibration: CalibrationInfo | None = None  # the run was sized by a calibration
    mail: MailInfo | None = None  # the run started a mail sink (flows.mail.sink)
    reference: MachineReference | None = None  # this machine's PBKDF2 rate, at run start

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON types, every key (also unknown ones) as written."""
        return self.model_dump(mode="json")


def write_meta(run_dir: Path, meta: RunMeta) -> None:
    """Write meta.json atomically (the run modes call this at the start and at the end)."""
    write_json_atomic(Path(run_dir) / META, meta.as_dict())


def read_meta(run_dir: Path, warnings: list[str] | None = None) -> RunMeta:
    """meta.json, validated enough to trust: RunDirError when it is missing, unreadable or
    of a format this code does not read; a key of the wrong type is left out, with a line in
    `warnings`, so readers can trust the rest."""
    warnings = warnings if warnings is not None else []
    path = Path(run_dir) / META
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunDirError(
            f"{run_dir}: no meta.json; is this a run directory (runs/<id>/)?"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunDirError(f"{path}: unreadable ({exc}); the run directory is damaged") from None
    if not isinstance(raw, dict):
        raise RunDirError(f"{path}: expected a JSON object, found {type(raw).__name__}")
    version = raw.get("format_version")
    if version is None:
        raise RunDirError(f"{path}: no format_version; not written by authsurge?")
    if version not in READABLE:
        raise RunDirError(
            f"{path}: format_version {version!r}; this authsurge reads "
            f"format_version {', '.join(map(str, READABLE))} (upgrade authsurge to analyse it)"
        )
    return _lenient(_typed(raw, warnings), warnings)


def _lenient(raw: dict[str, Any], warnings: list[str]) -> RunMeta:
    """Validate; each top-level key that does not fit is left out (with a warning), then again."""
    raw = dict(raw)
    for _ in range(len(raw) + 1):
        try:
            return RunMeta.model_validate(raw)
        except ValidationError as exc:
            bad = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
            if not bad & raw.keys():
                raise RunDirError(f"meta.json does not fit its schema ({exc})") from None
            for key in sorted(bad & raw.keys()):
                warnings.append(
                    f"meta.json {key} is {_shown(raw.pop(key))}, which does not fit; left out"
                )
    raise RunDirError("meta.json does not fit its schema")  # pragma: no cover - the loop ends first


META_TYPES: dict[str, tuple[str, tuple[type, ...]]] = {
    **{
        k: ("a number", (int, float))
        for k in ("started_at", "ended_at", "duration_s", "planned_duration_s")
    },
    **{
        k: ("a string", (str,))
        for k in ("run_id", "scenario", "scenario_file", "status", "command")
    },
    **{k: ("an object", (dict,)) for k in ("target", "harness", "traffic", "analysis")},
    **{k: ("a list", (list,)) for k in ("levels", "slos")},
}


def _typed(meta: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    """Leave out keys of the wrong type and malformed levels, so readers can trust the rest."""
    meta = dict(meta)
    for key, (what, types) in META_TYPES.items():
        value = meta.get(key)
        if value is None:
            continue
        bad = not isinstance(value, types) or isinstance(value, bool)
        if not bad and types == (int, float):
            bad = not _finite(value)
            if not bad:
                meta[key] = float(value)
        if bad:
            warnings.append(f"meta.json {key} is {_shown(value)}, not {what}; left out")
            del meta[key]
    levels = meta.get("levels")
    if levels:
        good = [
            lv
            for lv in levels
            if isinstance(lv, dict)
            and _finite(lv.get("start"))
            and _finite(lv.get("end"))
            and lv["end"] > lv["start"]
            and (lv.get("rate") is None or _finite(lv.get("rate")))
        ]
        if len(good) < len(levels):
            warnings.append(
                f"meta.json levels: {len(levels) - len(good)} malformed level(s) left out"
            )
            meta["levels"] = good
    started, ended = meta.get("started_at"), meta.get("ended_at")
    if started is not None and ended is not None and ended < started:
        warnings.append("meta.json ended_at is before started_at; left out")
        del meta["ended_at"]
    return meta


def _finite(value: Any) -> bool:
    """A JSON number that is a finite float (not a bool, not an int beyond float range)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _shown(value: Any) -> str:
    text = json.dumps(value) if isinstance(value, str | list | dict) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
