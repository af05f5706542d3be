"""The `fields` / `defaultFields` selection every describe call shares."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from runner.errors import InvalidInput


def wanted_fields(body: Mapping[str, Any], all_fields: Collection[str], default_fields: Collection[str]) -> set[str]:
    """The names a describe answers with: defaults unless `fields` is given, then `fields` overrides.

    `defaultFields` defaults to false when `fields` is supplied and to true otherwise; `id` is always there.
    """
    fields = body.get("fields")
    if fields is not None and (not isinstance(fields, Mapping) or
                               not all(isinstance(v, bool) for v in fields.values())):
        raise InvalidInput("fields, if present, must be a mapping of field names to booleans")
    defaults = body.get("defaultFields", fields is None)
    if not isinstance(defaults, bool):
        raise InvalidInput("defaultFields must be a boolean")
    chosen = set(default_fields) if defaults else set()
    for name, include in (fields or {}).items():
        if include and name in all_fields:
            chosen.add(name)
        elif not include:
            chosen.discard(name)
    chosen.add("id")
    return chosen


def select(document: Mapping[str, Any], names: Collection[str]) -> dict[str, Any]:
    """The entries of `document` named in `names`, in the document's order."""
    return {key: value for key, value in document.items() if key in names}
