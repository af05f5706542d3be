"""Describing a data object of any class: each class's module registers its describer here.

`/system/describeDataObjects`, `/system/findDataObjects` (with `describe`) and `listFolder` (with
`describe`) describe objects whose class they do not know; files and records register in their own
modules, applets in theirs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from runner.api.core.routing import Call

Describer = Callable[[Call, dict[str, Any], Mapping[str, Any]], dict[str, Any]]

DESCRIBERS: dict[str, Describer] = {}


def register(klass: str) -> Callable[[Describer], Describer]:
    """Register the describer of a class: `(call, stored object, describe body) -> describe answer`."""

    def add(describer: Describer) -> Describer:
        earlier = DESCRIBERS.get(klass)
        if earlier is not None and _name(earlier) != _name(describer):
            raise ValueError(f"two describers for the class {klass!r}")
        DESCRIBERS[klass] = describer
        return describer

    return add


def _name(describer: Describer) -> str:
    return f"{describer.__module__}.{describer.__qualname__}"


def describe_object(call: Call, obj: dict[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
    """The describe answer for a stored object (its registered describer, else its basic fields)."""
    describer = DESCRIBERS.get(obj["class"])
    if describer is None:
        return {k: obj[k] for k in ("id", "class", "project", "folder", "name", "state", "created", "modified")}
    return describer(call, obj, body)
