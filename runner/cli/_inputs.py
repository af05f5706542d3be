"""`-i NAME=VALUE` and `-j JSON` of `runner run` → a run input, read the way `dx run` reads them.

A value's class comes from `NAME:CLASS=VALUE`, else from the applet's inputSpec; without either the
value is read as JSON when it parses as a number, list or object, else as a string. Object IDs are
linked as given: names and project paths are not resolved. A local file given to a `file` input is
handed to `upload` (which uploads it and returns the new file's ID).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from runner.cli._run_options import json_value
from runner.errors import UsageError
from runner.spec.ids import id_class, is_id

LINK_KEY = "$dnanexus_link"
DATA_CLASSES = frozenset({"file", "record", "applet", "gtable", "database", "workflow", "dbcluster"})
SCALAR_CLASSES = frozenset({"int", "float", "string", "boolean", "hash"}) | DATA_CLASSES
TRUE_WORDS = frozenset({"true", "yes", "1"})
FALSE_WORDS = frozenset({"false", "no", "0"})
NAME_PATTERN = re.compile(r"^[A-Za-z_][0-9A-Za-z_]*$")
INT_PATTERN = re.compile(r"^[+-]?[0-9]+$")
JOB_REF_PATTERN = re.compile(r"^(?P<job>job-[0-9A-Za-z]{24}):(?P<field>[A-Za-z_][0-9A-Za-z_]*)$")
PROJECT_OBJECT_PATTERN = re.compile(
    r"^(?P<project>(?:project|container)-[0-9A-Za-z]{24}):(?P<id>[a-z]+-[0-9A-Za-z]{24})$")
SHOWN_CHARS = 60
# Before the engine is reached, a local file stands for the upload it will become.
NOT_UPLOADED = "file-" + "0" * 24

Uploader = Callable[[Path], str]


def parse_inputs(pairs: Sequence[str], input_spec: list[dict[str, Any]] | None,
                 json_input: str | None, upload: Uploader | None = None) -> dict[str, Any]:
    """The run input of `-i` pairs (`name=value`, `name:class=value`) over the `-j` JSON object.

    Raises UsageError with one line naming the input for a value its class cannot take, an unknown
    input name (when there is an inputSpec), a scalar input given twice, or malformed JSON. Local
    files given to file inputs go through `upload` (without one they are only checked to exist).
    """
    run_input = json_value("-j", json_input, (dict,), "a JSON object") if json_input is not None else {}
    spec_classes = _spec_classes(input_spec)
    grouped: dict[str, list[tuple[str | None, str]]] = {}
    for pair in pairs:
        name, explicit, raw = _split(pair)
        if spec_classes is not None and name not in spec_classes:
            names = ", ".join(spec_classes) or "none"
            raise UsageError(f"-i {name}: the applet has no input named {_shown(name)} (inputs: {names})")
        klass = explicit or (spec_classes or {}).get(name)
        grouped.setdefault(name, []).append((klass, raw))
    for name, given in grouped.items():
        run_input[name] = _value_of(name, given, upload)
    return run_input


def parse_value(name: str, klass: str | None, raw: str, upload: Uploader | None = None) -> Any:
    """One `-i` value as its class wants it (a job reference `job-xxxx:field` stands for any class)."""
    match = JOB_REF_PATTERN.match(raw)
    if match:
        return {LINK_KEY: {"job": match["job"], "field": match["field"]}}
    if klass is None:
        return _guess(name, raw)
    if klass == "string":
        return raw
    if klass == "int":
        if not INT_PATTERN.match(raw.strip()):
            raise _expected(name, "an int", raw)
        try:
            return int(raw)
        except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
            raise _expected(name, "an int of at most 4300 digits", raw) from None
    if klass == "float":
        return _float(name, raw)
    if klass == "boolean":
        return _boolean(name, raw)
    if klass == "hash":
        value = _loads(name, raw)
        if not isinstance(value, dict):
            raise _expected(name, "a hash (a JSON object)", raw)
        return value
    path = _local_file(raw) if klass == "file" and not _looks_like_id(raw) else None
    if path is not None:
        return _link(upload(path) if upload is not None else NOT_UPLOADED)
    return _data_link(name, klass, raw)


def _local_file(raw: str) -> Path | None:
    """The local file `raw` names, if it names one; a value no path can be (too long, ~nobody) names none."""
    try:
        path = Path(raw).expanduser()
        return path if path.is_file() else None
    except (OSError, RuntimeError, ValueError):
        return None


def _looks_like_id(raw: str) -> bool:
    return bool(PROJECT_OBJECT_PATTERN.match(raw)) or is_id(raw)


def _value_of(name: str, given: list[tuple[str | None, str]], upload: Uploader | None) -> Any:
    classes = {klass for klass, _ in given}
    if any(klass and klass.startswith("array:") for klass in classes):
        return [parse_value(name, klass.removeprefix("array:") if klass else None, raw, upload)
                for klass, raw in given]
    values = [parse_value(name, klass, raw, upload) for klass, raw in given]
    if len(values) == 1:
        return values[0]
    known = next((klass for klass in classes if klass), None)
    if known is not None:
        raise UsageError(f"-i {name}: given {len(values)} times, "
                         f"but the input is a single {known}, not an array")
    return values


def _split(pair: str) -> tuple[str, str | None, str]:
    key, equals, raw = pair.partition("=")
    name, colon, klass = key.partition(":")
    if not equals or not NAME_PATTERN.match(name):
        raise UsageError(f"-i {_shown(pair)}: expected NAME=VALUE or NAME:CLASS=VALUE")
    if colon and klass.removeprefix("array:") not in SCALAR_CLASSES:
        known = ", ".join(sorted(SCALAR_CLASSES))
        raise UsageError(f"-i {name}: unknown class {_shown(klass)} (classes: {known}, and array:<class>)")
    return name, klass if colon else None, raw


def _spec_classes(input_spec: list[dict[str, Any]] | None) -> dict[str, str | None] | None:
    if input_spec is None:
        return None
    return {str(p.get("name")): (p["class"] if isinstance(p.get("class"), str) else None)
            for p in input_spec if isinstance(p, Mapping)}


def _guess(name: str, raw: str) -> Any:
    if PROJECT_OBJECT_PATTERN.match(raw) or (is_id(raw) and id_class(raw) in DATA_CLASSES):
        return _link(raw)
    value = _loads(name, raw)
    if value is None:
        return raw
    # Like dx: only numbers, lists and objects count as JSON; "true" or '"x"' stay strings.
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return value if is_number or isinstance(value, (list, dict)) else raw


def _float(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise _expected(name, "a float", raw) from None
    if not math.isfinite(value):
        raise _expected(name, "a finite float", raw)
    return value


def _boolean(name: str, raw: str) -> bool:
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise _expected(name, "a boolean (true/false, yes/no, 1/0)", raw)


def _data_link(name: str, klass: str, raw: str) -> dict[str, Any]:
    match = PROJECT_OBJECT_PATTERN.match(raw)
    object_id = match["id"] if match else raw
    if not is_id(object_id):
        local = ", or a local file to upload" if klass == "file" else ""
        what = f"a {klass} ID ({klass}-xxxx or project-xxxx:{klass}-xxxx{local}; names are not resolved)"
        raise _expected(name, what, raw)
    if id_class(object_id) != klass:
        raise _expected(name, f"a {klass} ID", raw)
    return _link(raw)


def _link(raw: str) -> dict[str, Any]:
    match = PROJECT_OBJECT_PATTERN.match(raw)
    if match:
        return {LINK_KEY: {"project": match["project"], "id": match["id"]}}
    return {LINK_KEY: raw}


def _loads(name: str, raw: str) -> Any:
    """`raw` as JSON, None when it is not JSON; UsageError when it is nested deeper than can be read."""
    try:
        return json.loads(raw)
    except ValueError:
        return None
    except RecursionError:
        raise UsageError(f"-i {name}: the value is JSON nested too deeply ({_shown(raw)})") from None


def _shown(raw: str) -> str:
    """A value as a message shows it: quoted, and cut short when long."""
    return repr(raw) if len(raw) <= SHOWN_CHARS else f"{raw[:SHOWN_CHARS]!r}... ({len(raw)} characters)"


def _expected(name: str, what: str, raw: str) -> UsageError:
    return UsageError(f"-i {name}: expected {what}, got {_shown(raw)}")
