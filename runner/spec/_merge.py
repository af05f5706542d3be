"""The merge rule shared by the by-executable settings that flow down a job tree."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

WILDCARD = "*"


def merge_upstream_wins(parent: Mapping[str, Any], child: Mapping[str, Any], depth: int) -> dict[str, Any]:
    """Merge one level of a by-executable mapping: the parent's keys win and a parent "*" shuts the child out."""
    if WILDCARD in parent:
        return dict(parent)
    merged = dict(parent)
    for key, value in child.items():
        if key not in parent:
            merged[key] = value
        elif depth > 0 and isinstance(value, Mapping) and isinstance(parent[key], Mapping):
            merged[key] = merge_upstream_wins(parent[key], value, depth - 1)
    return merged
