"""Loading a scenario file: YAML, `--set` overrides, validation, friendly errors.

Every error names the file, the line and the key; an unknown key gets a "did you mean"
hint from the model that may own it.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from authsurge.errors import ScenarioError
from authsurge.scenario.model import Scenario


def load_scenario(path: str | os.PathLike[str], overrides: list[str] | None = None) -> Scenario:
    """Read, override and validate a scenario file; raise ScenarioError with file:line on any problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such scenario file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read scenario file ({exc})") from None
    return parse_scenario(text, path, overrides)


def parse_scenario(text: str, path: Path, overrides: list[str] | None = None) -> Scenario:
    try:
        data = yaml.safe_load(text)
        lines = _key_lines(yaml.compose(text))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(f"{where}: YAML syntax error: {problem}") from None
    if not isinstance(data, dict):
        raise ScenarioError(
            f"{path}: a scenario must be a YAML mapping (name:, journeys:, traffic: ...)"
        )
    for item in overrides or []:
        apply_override(data, item)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_explain(exc, path, lines)) from None
    scenario.source = path.resolve()
    return scenario


def apply_override(data: dict[str, Any], item: str) -> None:
    """Apply one `--set key.path=value` override (value parsed as YAML) to raw scenario data."""
    key, sep, raw = item.partition("=")
    if not sep or not key.strip():
        raise ScenarioError(f"--set {item!r}: expected key.path=value, e.g. run.duration_s=30")
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        value = raw
    node: Any = data
    parts = key.strip().split(".")
    for part in parts[:-1]:
        if not isinstance(node, dict):
            raise ScenarioError(f"--set {key}: {part!r} is inside a value that is not a mapping")
        node = node.setdefault(part, {})
    if not isinstance(node, dict):
        raise ScenarioError(f"--set {key}: the parent of {parts[-1]!r} is not a mapping")
    node[parts[-1]] = value


def _key_lines(node: yaml.Node | None, prefix: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], int]:
    """Map each key path in the YAML document to its 1-based line."""
    lines: dict[tuple[Any, ...], int] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            path = (*prefix, key_node.value)
            lines[path] = key_node.start_mark.line + 1
            lines.update(_key_lines(value_node, path))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            path = (*prefix, index)
            lines[path] = item.start_mark.line + 1
            lines.update(_key_lines(item, path))
    return lines


def _explain(exc: ValidationError, path: Path, lines: dict[tuple[Any, ...], int]) -> str:
    messages = []
    for error in exc.errors():
        loc = tuple(str(p) if not isinstance(p, int) else p for p in error["loc"])
        # pydantic puts the discriminator tag (e.g. 'spike') into loc; the YAML has no such key
        yaml_loc = tuple(
            p for p in loc if p not in {"steady", "step_ramp", "linear_ramp", "spike", "trace"}
        )
        line = _nearest_line(yaml_loc, lines)
        key = ".".join(str(p) for p in yaml_loc) or "(top level)"
        where = f"{path}:{line}" if line else str(path)
        msg = error["msg"].removeprefix("Value error, ")
        if not yaml_loc and (m := _LEADING_KEY.match(msg)):
            # a cross-field check names its own key path: "traffic.mix: ..."
            yaml_loc = tuple(int(p) if p.isdigit() else p for p in m["key"].split("."))
            key, msg = m["key"], m["rest"]
            line = _nearest_line(yaml_loc, lines)
            where = f"{path}:{line}" if line else str(path)
        if error["type"] == "extra_forbidden":
            msg = "unknown key" + _suggest(yaml_loc, exc)
        elif error["type"] == "missing":
            msg = "required key is missing"
        messages.append(f"{where}: {key}: {msg}")
    return "\n".join(messages)


_LEADING_KEY = re.compile(r"^(?P<key>[A-Za-z_][\w]*(?:\.[\w-]+)+): (?P<rest>.*)$", re.S)


def _nearest_line(loc: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> int | None:
    while loc:
        if loc in lines:
            return lines[loc]
        loc = loc[:-1]
    return None


def _suggest(loc: tuple[Any, ...], exc: ValidationError) -> str:
    """'; did you mean X?' for a misspelt key, from the model(s) that may own it."""
    models: list[Any] = [Scenario]
    for part in loc[:-1]:
        fields = [m.model_fields[part] for m in models if part in getattr(m, "model_fields", {})]
        models = [m for f in fields for m in _models_of(f.annotation)]
    known = sorted({name for m in models for name in m.model_fields})
    if not known:
        return ""
    close = difflib.get_close_matches(str(loc[-1]), known, n=1)
    return f"; did you mean {close[0]!r}?" if close else f"; expected one of: {', '.join(known)}"


def _models_of(annotation: Any) -> list[Any]:
    """The pydantic models inside an annotation (unions, Optional, Annotated, list/dict)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in getattr(annotation, "__args__", ()) for m in _models_of(arg)]
