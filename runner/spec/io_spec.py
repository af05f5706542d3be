"""Input and output specifications: parameters, their classes, defaults and choices."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from runner.spec._checks import Checker, is_int, is_number, join, show, type_name
from runner.spec.links import data_link_id, link_class

NAME_PATTERN = re.compile(r"^[a-zA-Z_][0-9a-zA-Z_]*$")
SCALAR_CLASSES = ("int", "float", "string", "boolean", "hash", "file", "record", "applet")
DATA_CLASSES = frozenset({"file", "record", "applet"})
CLASSES = SCALAR_CLASSES + tuple(f"array:{c}" for c in SCALAR_CLASSES)

_INPUT_FIELDS = frozenset(
    {"name", "class", "optional", "default", "choices", "label", "help", "group", "patterns",
     "suggestions", "type", "dx_type"}
)
_OUTPUT_FIELDS = frozenset({"name", "class", "optional", "label", "help", "group", "patterns", "type", "dx_type"})


@dataclass(frozen=True, slots=True)
class IOParam:
    """One parameter of an input or output specification."""

    name: str
    klass: str
    optional: bool = False
    has_default: bool = False
    default: Any = None
    choices: tuple[Any, ...] | None = None
    label: str | None = None
    help: str | None = None
    group: str | None = None
    patterns: Any = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def is_array(self) -> bool:
        """Whether the class is `array:<item>`."""
        return self.klass.startswith("array:")

    @property
    def item_class(self) -> str:
        """The class of one value: the item class of an array, else the class itself."""
        return self.klass.removeprefix("array:")

    @property
    def required(self) -> bool:
        """Whether a run must supply a value (not optional, no default)."""
        return not self.optional and not self.has_default


def value_matches_class(value: object, klass: str) -> bool:
    """Whether a literal value (not a job-based reference) belongs to a scalar class."""
    if klass == "int":
        return is_int(value)
    if klass == "float":
        return is_number(value)
    if klass == "string":
        return isinstance(value, str)
    if klass == "boolean":
        return isinstance(value, bool)
    if klass == "hash":
        return isinstance(value, Mapping)
    if klass in DATA_CLASSES:
        return link_class(value) == klass
    return False


def _expected(klass: str) -> str:
    if klass in DATA_CLASSES:
        return f'a link to a {klass} ({{"$dnanexus_link": "{klass}-..."}})'
    return {"int": "an integer", "float": "a number", "string": "a string", "boolean": "a boolean",
            "hash": "a mapping"}.get(klass, klass)


def _check_value(value: Any, klass: str, path: str, what: str, checker: Checker) -> bool:
    """Check that `value` belongs to `klass` (scalar or array); report under `path`."""
    if not klass.startswith("array:"):
        if value_matches_class(value, klass):
            return True
        checker.problem(path, f"{what} must be {_expected(klass)} for class {klass!r}, got {show(value)}")
        return False
    if not isinstance(value, list):
        checker.problem(path, f"{what} must be an array for class {klass!r}, got {type_name(value)}")
        return False
    item_class, good = klass.removeprefix("array:"), True
    for index, item in enumerate(value):
        if not value_matches_class(item, item_class):
            checker.problem(join(path, index), f"each element of {what} must be {_expected(item_class)} "
                            f"for class {klass!r}, got {show(item)}")
            good = False
    return good


def _same_choice(value: Any, choice: Any) -> bool:
    # A file choice may be written as {"$dnanexus_link": {"project", "id"}}; compare the object IDs.
    value_id, choice_id = data_link_id(value), data_link_id(choice)
    if value_id is not None or choice_id is not None:
        return value_id == choice_id
    return bool(value == choice and type(value) is type(choice))


def in_choices(value: Any, choices: tuple[Any, ...], klass: str) -> bool:
    """Whether `value` (each element, for arrays) is among `choices`."""
    items = value if klass.startswith("array:") and isinstance(value, list) else [value]
    return all(any(_same_choice(item, choice) for choice in choices) for item in items)


def _read_param(raw: Any, path: str, checker: Checker, *, is_input: bool) -> IOParam | None:
    if not isinstance(raw, Mapping):
        checker.wrong_type(path, "a mapping describing one parameter", raw)
        return None
    checker.unknown_keys(raw, path, _INPUT_FIELDS if is_input else _OUTPUT_FIELDS, strict=False)
    name = checker.string(raw, "name", path, required=True)
    if name is not None and not NAME_PATTERN.match(name):
        checker.problem(join(path, "name"), f"{name!r} must match ^[a-zA-Z_][0-9a-zA-Z_]*$")
        name = None
    klass = checker.string(raw, "class", path, required=True)
    if klass is not None and klass not in CLASSES:
        checker.problem(join(path, "class"), f"unknown class {klass!r}; expected one of {', '.join(CLASSES)}")
        klass = None
    optional = checker.boolean(raw, "optional", path) or False
    for text_field in ("label", "help", "group"):
        checker.string(raw, text_field, path)
    choices = _read_choices(raw, path, klass, checker) if is_input else None
    has_default = is_input and "default" in raw
    default = raw.get("default") if has_default else None
    default_ok = has_default and klass is not None and _check_value(default, klass, join(path, "default"),
                                                                    "the default", checker)
    if default_ok and choices is not None and klass is not None and not in_choices(default, choices, klass):
        checker.problem(join(path, "default"), f"the default {show(default)} is not among the choices")
    if name is None or klass is None:
        return None
    label, help_text, group = (raw.get(k) if isinstance(raw.get(k), str) else None for k in ("label", "help", "group"))
    return IOParam(name, klass, optional, has_default, default, choices, label, help_text, group,
                   raw.get("patterns"), raw)


def _read_choices(raw: Mapping[str, Any], path: str, klass: str | None, checker: Checker) -> tuple[Any, ...] | None:
    choices = checker.array(raw, "choices", path)
    if choices is None:
        return None
    if not choices:
        checker.problem(join(path, "choices"), "must list at least one value")
        return None
    if klass is None:
        return tuple(choices)
    item_class = klass.removeprefix("array:")
    ok = [_check_value(c, item_class, join(join(path, "choices"), i), "a choice", checker)
          for i, c in enumerate(choices)]
    return tuple(choices) if all(ok) else None


def stored_io_spec(executable: Mapping[str, Any], key: Literal["inputSpec", "outputSpec"]
                   ) -> tuple[IOParam, ...] | None:
    """The inputSpec or outputSpec of a stored executable (checked when it was built), read again."""
    return read_io_spec(executable.get(key), key, Checker(), is_input=key == "inputSpec")


def read_io_spec(raw: Any, path: str, checker: Checker, *, is_input: bool) -> tuple[IOParam, ...] | None:
    """Read an inputSpec or outputSpec array; names must be valid and unique."""
    if raw is None:
        return None
    if not isinstance(raw, list):
        checker.wrong_type(path, "an array of parameters", raw)
        return None
    params: list[IOParam] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(raw):
        param = _read_param(item, join(path, index), checker, is_input=is_input)
        if param is None:
            continue
        if param.name in seen:
            checker.problem(join(join(path, index), "name"),
                            f"duplicate name {param.name!r} (first used at {join(path, seen[param.name])})")
            continue
        seen[param.name] = index
        params.append(param)
    return tuple(params)
