"""The run form's model: each field's text turned into a run input by its class, with an error per field.

Pure: no screen and no engine. An array is a list of rows, one value each. A local path given to a `file`
field becomes a `LocalFile`, which the screen uploads on submit (`with_uploads`); everything else is the
value the engine's `/applet-x/run` takes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.errors import UsageError
from runner.spec.io_spec import IOParam

LINK_KEY = "$dnanexus_link"
INT_PATTERN = re.compile(r"^[+-]?[0-9]+$")
ID_PATTERN = re.compile(r"^(?P<klass>[a-z]+)-[0-9A-Za-z]{24}$")
PROJECT_ID_PATTERN = re.compile(
    r"^(?P<project>(?:project|container)-[0-9A-Za-z]{24}):(?P<id>[a-z]+-[0-9A-Za-z]{24})$")
TRUE_WORDS = frozenset({"true", "yes", "1"})
FALSE_WORDS = frozenset({"false", "no", "0"})
MAX_TIMEOUT_MINUTES = 30 * 24 * 60


class FieldError(UsageError, ValueError):
    """One field's value is wrong: the message says what was expected."""


@dataclass(frozen=True, slots=True)
class LocalFile:
    """A local file to upload on submit; the run input gets its file ID."""

    path: Path


@dataclass(slots=True)
class FormResult:
    """The run input built from the fields, and the error of each field that had one."""

    input: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether every field was right."""
        return not self.errors


def placeholder(param: IOParam) -> str:
    """What a field expects, as the hint of its empty input."""
    item = {"int": "an integer", "float": "a number", "string": "text", "boolean": "true or false",
            "hash": 'JSON object, e.g. {"k": 1}', "file": "local path or file-xxxx",
            "record": "record-xxxx", "applet": "applet-xxxx"}.get(param.item_class, param.item_class)
    return f"{item} (one per row)" if param.is_array else item


def default_text(param: IOParam) -> str:
    """The default as a scalar field's starting text ('' when there is none)."""
    return _shown(param.default) if param.has_default else ""


def default_rows(param: IOParam) -> list[str]:
    """The default of an array as its starting rows (none when there is no default)."""
    if not param.has_default:
        return []
    values = param.default if isinstance(param.default, list) else [param.default]
    return [_shown(v) for v in values]


def sections(params: Sequence[IOParam]) -> list[tuple[str | None, list[IOParam]]]:
    """The inputs by their `group`, in the order each group first appears; the ungrouped ones first."""
    groups: dict[str | None, list[IOParam]] = {None: []}
    for param in params:
        groups.setdefault(param.group, []).append(param)
    return [(name, members) for name, members in groups.items() if members]


def file_options(results: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """The files a findDataObjects answer lists, as (shown text, file ID) for a Select, by name."""
    options = []
    for result in results:
        file_id, described = result.get("id"), result.get("describe") or {}
        if isinstance(file_id, str) and file_id.startswith("file-"):
            name = described.get("name") or "?"
            folder = described.get("folder") or "/"
            options.append((f"{folder.rstrip('/')}/{name}  {file_id}", file_id))
    return sorted(options)


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping) and LINK_KEY in value:
        link = value[LINK_KEY]
        return str(link.get("id") if isinstance(link, Mapping) else link)
    return json.dumps(value) if isinstance(value, (Mapping, list)) else str(value)


def parse_scalar(klass: str, text: str, base: Path | None = None) -> Any:
    """One value of a scalar class from its text; FieldError saying what was expected."""
    raw = text.strip()
    if klass == "int":
        if not INT_PATTERN.match(raw):
            raise FieldError(f"expected an integer, got {raw!r}")
        return int(raw)
    if klass == "float":
        try:
            return float(raw)
        except ValueError:
            raise FieldError(f"expected a number, got {raw!r}") from None
    if klass == "string":
        return text
    if klass == "boolean":
        if raw.lower() in TRUE_WORDS | FALSE_WORDS:
            return raw.lower() in TRUE_WORDS
        raise FieldError(f"expected true or false, got {raw!r}")
    if klass == "hash":
        return _hash(raw)
    return _data_object(klass, raw, base)


def _hash(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise FieldError(f"expected a JSON object: {exc.msg} at character {exc.pos + 1}") from None
    if not isinstance(value, dict):
        raise FieldError(f"expected a JSON object ({{...}}), got {type(value).__name__}")
    return value


def _data_object(klass: str, raw: str, base: Path | None) -> Any:
    matched = ID_PATTERN.match(raw)
    if matched and matched["klass"] == klass:
        return {LINK_KEY: raw}
    in_project = PROJECT_ID_PATTERN.match(raw)
    if in_project and in_project["id"].startswith(f"{klass}-"):
        return {LINK_KEY: {"project": in_project["project"], "id": in_project["id"]}}
    if klass == "file" and raw:
        path = Path(raw).expanduser()
        path = path if path.is_absolute() or base is None else base / path
        if path.is_file():
            return LocalFile(path)
        raise FieldError(f"{raw!r} is neither a file-xxxx ID nor a local file")
    raise FieldError(f"expected a {klass} ID ({klass}-xxxx or project-xxxx:{klass}-xxxx), got {raw!r}")


def _in_choices(param: IOParam, value: Any) -> Any:
    if param.choices is not None and value not in param.choices:
        shown = ", ".join(_shown(c) for c in param.choices)
        raise FieldError(f"expected one of {shown}, got {value!r}")
    return value


def parse_field(param: IOParam, value: object, base: Path | None = None) -> Any:
    """A field's value for the run input; None when left empty. FieldError when wrong or needed.

    A scalar's value is its text (or, from a switch or a select, the value itself); an array's is its rows.
    """
    if param.is_array:
        rows = [value] if isinstance(value, str) else list(value) if isinstance(value, Sequence) else []
        return _array(param, [str(r) for r in rows], base)
    if isinstance(value, bool) or (value is not None and not isinstance(value, str)):
        return value  # a switch or a select gives the value itself
    text = value or ""
    if not text.strip() and not (param.item_class == "string" and text):
        if param.required:
            raise FieldError(f"needed: {placeholder(param)}")
        return None
    return _in_choices(param, parse_scalar(param.item_class, text, base))


def _array(param: IOParam, rows: list[str], base: Path | None) -> list[Any] | None:
    values = []
    for index, row in enumerate(rows, 1):
        if not row.strip():
            continue  # a row added and left empty
        try:
            values.append(_in_choices(param, parse_scalar(param.item_class, row.strip(), base)))
        except FieldError as exc:
            raise FieldError(f"row {index}: {exc}") from None
    if not values and param.required:
        raise FieldError(f"needed: at least one row of {placeholder(param).removesuffix(' (one per row)')}")
    return values or None


def build_input(params: Sequence[IOParam], values: Mapping[str, object],
                base: Path | None = None) -> FormResult:
    """The run input from every field's value (by input name); each wrong field's error by its name."""
    result = FormResult()
    for param in params:
        try:
            value = parse_field(param, values.get(param.name), base)
        except FieldError as exc:
            result.errors[param.name] = str(exc)
            continue
        if value is not None:
            result.input[param.name] = value
    return result


def parse_timeout(text: str) -> int | None:
    """The timeout override in minutes (None when empty); FieldError when not 0..30 days."""
    raw = text.strip()
    if not raw:
        return None
    if not INT_PATTERN.match(raw) or not 0 <= int(raw) <= MAX_TIMEOUT_MINUTES:
        raise FieldError(f"expected whole minutes from 0 (no timeout) to {MAX_TIMEOUT_MINUTES} (30 days), "
                         f"got {raw!r}")
    return int(raw)


def with_uploads(run_input: Mapping[str, Any], upload: Callable[[Path], str]) -> dict[str, Any]:
    """The run input with every LocalFile uploaded (`upload` gives its file ID) and linked."""
    def resolved(value: Any) -> Any:
        if isinstance(value, LocalFile):
            return {LINK_KEY: upload(value.path)}
        if isinstance(value, list):
            return [resolved(v) for v in value]
        return value
    return {name: resolved(value) for name, value in run_input.items()}


def run_body(applet: str, run_input: Mapping[str, Any], *, project: str | None, instance_type: str | None,
             timeout_minutes: int | None) -> dict[str, Any]:
    """The `/applet-x/run` body: input, project, and the instance type and timeout when given."""
    body: dict[str, Any] = {"input": dict(run_input)}
    if project:
        body["project"] = project
    if instance_type:
        body["systemRequirements"] = {"*": {"instanceType": instance_type}}
    if timeout_minutes is not None:
        body["timeoutPolicyByExecutable"] = {applet: {"*": {"minutes": timeout_minutes}}}
    return body


def engine_field(details: Mapping[str, Any], names: Sequence[str]) -> str | None:
    """The form field an engine's InvalidInput details name (`field` may be a JSON path under the input)."""
    where = str(details.get("field") or "")
    for part in re.split(r"[./\[\]]", where):
        if part in names:
            return part
    if where in ("instanceType", "systemRequirements"):
        return "instance-type"
    if "timeout" in where:
        return "timeout"
    return None


def field_with_id(message: str, run_input: Mapping[str, Any]) -> str | None:
    """The input whose value holds an object ID the engine's message names (a refusal without a field)."""
    named = set(re.findall(r"\b[a-z]+-[0-9A-Za-z]{24}\b", message))
    for name, value in run_input.items():
        if named & set(re.findall(r"\b[a-z]+-[0-9A-Za-z]{24}\b", json.dumps(value, default=str))):
            return name
    return None


def engine_message(message: str, details: Mapping[str, Any]) -> str:
    """The engine's message, with what it expected when the message does not say it."""
    expected = details.get("expected")
    return f"{message} (expected {expected})" if expected and str(expected) not in message else message
