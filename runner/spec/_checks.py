"""Collecting problems while reading a JSON document: paths, type names and typed readers."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, TypeGuard

from runner.errors import Problem

_PLAIN_KEY = re.compile(r"^[A-Za-z_*][A-Za-z0-9_*-]*$")


def join(path: str, key: str | int) -> str:
    """The JSON path of `key` under `path`: `runSpec.file`, `inputSpec[2]`, `properties["a b"]`."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _PLAIN_KEY.match(key):
        return f"{path}.{key}" if path else key
    return f'{path}["{key}"]' if path else f'["{key}"]'


def type_name(value: object) -> str:
    """How a JSON value's type is named in messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, Mapping):
        return "a mapping"
    return type(value).__name__


def show(value: object, limit: int = 60) -> str:
    """A short rendering of a value for a message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def is_int(value: object) -> TypeGuard[int]:
    """A JSON integer (booleans are not integers in JSON)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    """A finite JSON number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) if isinstance(value, float) else True


class Checker:
    """Accumulates problems; the readers return a usable value (or None) so checking can go on."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def problem(self, path: str, message: str) -> None:
        """Record one problem."""
        self.problems.append(Problem(path, message))

    def warn(self, path: str, message: str) -> None:
        """Record something suspicious that does not make the document invalid."""
        self.warnings.append(Problem(path, message))

    def wrong_type(self, path: str, expected: str, value: object) -> None:
        """Record that `value` at `path` is not of the expected kind."""
        self.problem(path, f"expected {expected}, got {type_name(value)} ({show(value)})")

    def mapping(self, parent: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any] | None:
        """An optional mapping field; None when absent or of the wrong type."""
        value = parent.get(key)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self.wrong_type(join(path, key), "a mapping", value)
            return None
        return value

    def array(self, parent: Mapping[str, Any], key: str, path: str) -> list[Any] | None:
        """An optional array field; None when absent or of the wrong type."""
        value = parent.get(key)
        if value is None:
            return None
        if not isinstance(value, list):
            self.wrong_type(join(path, key), "an array", value)
            return None
        return value

    def string(
        self, parent: Mapping[str, Any], key: str, path: str, *, required: bool = False
    ) -> str | None:
        """An optional (or required) string field."""
        if key not in parent or parent[key] is None:
            if required:
                self.problem(join(path, key), "is required")
            return None
        value = parent[key]
        if not isinstance(value, str):
            self.wrong_type(join(path, key), "a string", value)
            return None
        return value

    def boolean(self, parent: Mapping[str, Any], key: str, path: str) -> bool | None:
        """An optional boolean field."""
        value = parent.get(key)
        if value is None:
            return None
        if not isinstance(value, bool):
            self.wrong_type(join(path, key), "a boolean (true or false)", value)
            return None
        return value

    def one_of(
        self, parent: Mapping[str, Any], key: str, path: str, allowed: tuple[str, ...], *, required: bool = False
    ) -> str | None:
        """A string field that must be one of `allowed`."""
        value = self.string(parent, key, path, required=required)
        if value is not None and value not in allowed:
            choices = ", ".join(repr(a) for a in allowed)
            self.problem(join(path, key), f"must be one of {choices}, got {show(value)}")
            return None
        return value

    def string_list(self, parent: Mapping[str, Any], key: str, path: str) -> list[str] | None:
        """An optional array of strings."""
        items = self.array(parent, key, path)
        if items is None:
            return None
        good = True
        for index, item in enumerate(items):
            if not isinstance(item, str):
                self.wrong_type(join(join(path, key), index), "a string", item)
                good = False
        return items if good else None

    def unknown_keys(self, value: Mapping[str, Any], path: str, known: frozenset[str], *, strict: bool) -> None:
        """Report keys outside `known`: a problem when `strict`, else a warning."""
        for key in value:
            if key not in known:
                expected = ", ".join(sorted(known))
                message = f"unknown field {key!r} (known fields: {expected})"
                if strict:
                    self.problem(join(path, key), message)
                else:
                    self.warn(join(path, key), message)
