"""The `dx run`-style flags of `runner run` → the fields of an /applet-xxxx/run request body.

Every function raises UsageError with one line naming the flag when a value is wrong, so that a
bad flag exits 3 before anything is sent to the engine.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.errors import UsageError
from runner.spec.ids import is_id
from runner.spec.run_options import (
    DEBUG_ALL,
    DEBUG_ON_CHOICES,
    DEBUG_REASONS,
    RANK_MAX,
    RANK_MIN,
    rank_in_range,
)

PROJECT_PATTERN = re.compile(r"^(?:project|container)-[0-9A-Za-z]{24}$")
INSTANCE_TYPE_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]+$")


@dataclass(frozen=True, slots=True)
class RunOptions:
    """The flags of `runner run` that become fields of the run request, as given on the command line."""

    name: str | None = None
    destination: str | None = None
    instance_type: str | None = None
    instance_type_by_executable: str | None = None
    extra_args: str | None = None
    tags: tuple[str, ...] = ()
    properties: tuple[str, ...] = ()
    details: str | None = None
    depends_on: tuple[str, ...] = ()
    delay_workspace_destruction: bool = False
    debug_on: tuple[str, ...] = ()
    allow_ssh: tuple[str, ...] = ()
    ignore_reuse: bool = False
    reuse: bool = False
    rank: str | None = None
    cost_limit: str | None = None


def request_fields(options: RunOptions, default_project: str | None) -> dict[str, Any]:
    """The run request without `input`: project, folder and every field the flags ask for."""
    project, folder = destination(options.destination, default_project)
    body: dict[str, Any] = {"project": project, "folder": folder}
    if options.name:
        body["name"] = options.name
    if options.instance_type is not None:
        body["systemRequirements"] = instance_type(options.instance_type)
    if options.instance_type_by_executable is not None:
        body["systemRequirementsByExecutable"] = by_executable(options.instance_type_by_executable)
    if options.tags:
        body["tags"] = list(options.tags)
    if options.properties:
        body["properties"] = properties(options.properties)
    if options.details is not None:
        body["details"] = json_value("--details", options.details, (dict, list), "a JSON object or array")
    if options.depends_on:
        body["dependsOn"] = depends_on(options.depends_on)
    if options.delay_workspace_destruction:
        body["delayWorkspaceDestruction"] = True
    if options.debug_on:
        body["debug"] = {"debugOn": debug_on(options.debug_on)}
    if options.allow_ssh:
        body["allowSSH"] = list(dict.fromkeys(options.allow_ssh))
    if options.ignore_reuse and options.reuse:
        raise UsageError("--reuse: not with --ignore-reuse")
    if options.ignore_reuse:
        body["ignoreReuse"] = True
    if options.reuse:
        body["reuse"] = True
    if options.rank is not None:
        body["rank"] = rank(options.rank)
    if options.cost_limit is not None:
        body["costLimit"] = cost_limit(options.cost_limit)
    if options.extra_args is not None:
        extra = json_value("--extra-args", options.extra_args, (dict,), "a JSON object")
        body = deep_merge(body, extra)
    return body


def destination(value: str | None, default_project: str | None) -> tuple[str | None, str]:
    """`project-xxxx:/folder`, `project-xxxx:` or `/folder` → (project, folder)."""
    if value is None:
        return default_project, "/"
    project, colon, folder = value.partition(":")
    if not colon:
        project, folder = "", value
    if colon and not PROJECT_PATTERN.match(project):
        raise UsageError(f"--folder: {project!r} is not a project ID (project-xxxx); names are not resolved")
    folder = folder or "/"
    if not folder.startswith("/"):
        raise UsageError(f"--folder: {value!r}: the folder must be an absolute path (/folder or project-xxxx:/folder)")
    if len(folder) > 1:
        folder = folder.rstrip("/")
    return project or default_project, folder


def instance_type(value: str) -> dict[str, Any]:
    """`NAME` → {"*": {"instanceType": NAME}}; `{"entry": "NAME"}` → one such request per entry point."""
    if value.lstrip().startswith("{"):
        given = json_value("--instance-type", value, (dict,), "a JSON object of entry point → instance type")
        return _per_entry("--instance-type", given)
    return {"*": {"instanceType": _type_name("--instance-type", value)}}


def by_executable(value: str) -> dict[str, Any]:
    """`{"applet-xxxx": {"entry": "NAME"}}` → systemRequirementsByExecutable (values may be full requests)."""
    flag = "--instance-type-by-executable"
    given = json_value(flag, value, (dict,), 'a JSON object such as {"applet-xxxx": {"*": "mem1_ssd1_v2_x2"}}')
    result: dict[str, Any] = {}
    for executable, entries in given.items():
        if not isinstance(entries, Mapping):
            raise UsageError(f"{flag}: the value for {executable!r} must be a JSON object of entry point → "
                             "instance type")
        result[executable] = _per_entry(flag, entries)
    return result


def _per_entry(flag: str, given: Mapping[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for entry, requested in given.items():
        if isinstance(requested, str):
            result[entry] = {"instanceType": _type_name(flag, requested)}
        elif isinstance(requested, Mapping):
            result[entry] = dict(requested)
        else:
            raise UsageError(f"{flag}: the instance type for {entry!r} must be a string, got {json.dumps(requested)}")
    if not result:
        raise UsageError(f"{flag}: names no entry point")
    return result


def _type_name(flag: str, value: str) -> str:
    if not INSTANCE_TYPE_PATTERN.match(value):
        raise UsageError(f"{flag}: {value!r} is not an instance type name (e.g. mem1_ssd1_v2_x2)")
    return value


def properties(pairs: Sequence[str]) -> dict[str, str]:
    """`key=value` pairs → a properties mapping."""
    result: dict[str, str] = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals or not key:
            raise UsageError(f"--property: expected KEY=VALUE, got {pair!r}")
        result[key] = value
    return result


def depends_on(ids: Sequence[str]) -> list[str]:
    """The IDs of jobs, analyses or data objects to wait for, checked for shape."""
    for value in ids:
        if not is_id(value) or value.startswith(("project-", "container-", "user-", "org-")):
            raise UsageError(f"--depends-on: {value!r} is not a job, analysis or data object ID")
    return list(dict.fromkeys(ids))


def debug_on(values: Sequence[str]) -> list[str]:
    """The job errors to keep a worker for; `All` stands for every one of them."""
    chosen: list[str] = []
    for value in values:
        if value not in DEBUG_ON_CHOICES:
            raise UsageError(f"--debug-on: {value!r} is not one of {', '.join(DEBUG_ON_CHOICES)}")
        chosen.extend(DEBUG_REASONS if value == DEBUG_ALL else (value,))
    return list(dict.fromkeys(chosen))


def rank(value: str) -> int:
    """An integer from -1024 to 1023."""
    try:
        number = int(value)
    except ValueError:
        raise UsageError(f"--rank: expected an integer from {RANK_MIN} to {RANK_MAX}, got {value!r}") from None
    if not rank_in_range(number):
        raise UsageError(f"--rank: {number} is not from {RANK_MIN} to {RANK_MAX}")
    return number


def cost_limit(value: str) -> float:
    """A positive number."""
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number <= 0:
        raise UsageError(f"--cost-limit: expected a positive number, got {value!r}")
    return number


def json_value(flag: str, text: str, kinds: tuple[type, ...], what: str) -> Any:
    """`text` parsed as JSON of one of `kinds`."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{flag}: not valid JSON ({exc})") from None
    except RecursionError:
        raise UsageError(f"{flag}: not valid JSON (nested too deeply)") from None
    if not isinstance(value, kinds):
        raise UsageError(f"{flag}: expected {what}, got {type(value).__name__}")
    return value


def read_input_file(path: str) -> str:
    """The text of `-f FILE` (`-` is standard input), which must hold a JSON object."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"-f: cannot read {path}: {exc}") from None
    json_value("-f", text, (dict,), "a JSON object")
    return text


def deep_merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `extra` merged in: mappings merge key by key, anything else in `extra` wins."""
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
