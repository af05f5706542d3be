"""Checking the shape of request bodies: each helper names the key and what was expected."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runner.errors import InvalidInput
from runner.spec.ids import is_id

MAX_PROPERTY_KEY_BYTES = 100
MAX_PROPERTY_VALUE_BYTES = 700


def optional_str(body: Mapping[str, Any], key: str) -> str | None:
    """`body[key]` when it is a string, None when absent; InvalidInput otherwise."""
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidInput(f"Expected key {key!r} of input to be a string")
    return value


def optional_bool(body: Mapping[str, Any], key: str, default: bool = False) -> bool:
    """`body[key]` when it is a boolean, `default` when absent."""
    value = body.get(key, default)
    if not isinstance(value, bool):
        raise InvalidInput(f"Expected key {key!r} of input to be a boolean")
    return value


def optional_mapping(body: Mapping[str, Any], key: str) -> dict[str, Any] | None:
    """`body[key]` when it is a mapping, None when absent."""
    value = body.get(key)
    if value is not None and not isinstance(value, Mapping):
        raise InvalidInput(f"Expected key {key!r} of input to be a JSON object")
    return dict(value) if value is not None else None


def string_list(body: Mapping[str, Any], key: str, *, required: bool = False) -> list[str]:
    """`body[key]` as a list of non-empty strings."""
    if key not in body:
        if required:
            raise InvalidInput(f"the key {key!r} is missing")
        return []
    value = body[key]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise InvalidInput(f"Expected key {key!r} of input to be an array of non-empty strings")
    return list(value)


def properties(body: Mapping[str, Any], key: str = "properties", *, allow_null: bool = False) -> dict[str, Any]:
    """A properties mapping: string keys to strings (or null, to remove, when `allow_null`)."""
    value = body.get(key, {})
    if not isinstance(value, Mapping):
        raise InvalidInput(f"Expected key {key!r} of input to be a JSON object")
    for name, item in value.items():
        if not (isinstance(item, str) or (allow_null and item is None)):
            raise InvalidInput(f"the value of property {name!r} must be a string{' or null' if allow_null else ''}")
        if len(name.encode()) > MAX_PROPERTY_KEY_BYTES or (isinstance(item, str) and
                                                           len(item.encode()) > MAX_PROPERTY_VALUE_BYTES):
            raise InvalidInput("the size, encoded in UTF-8, of a property key may not exceed 100 bytes and "
                               "of a property value 700 bytes")
    return dict(value)


def depends_on(body: Mapping[str, Any]) -> list[str]:
    """`dependsOn`: an array of job, analysis or data object IDs."""
    ids = string_list(body, "dependsOn")
    for item in ids:
        if not is_id(item):
            raise InvalidInput(f"dependsOn: {item!r} is not an ID of a job or data object")
    return ids


def try_number(body: Mapping[str, Any]) -> int | None:
    """The `try` input: a non-negative integer, or None."""
    value = body.get("try")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput("`try` input should be a non-negative integer")
    return value
