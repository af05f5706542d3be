"""A run's outputs against the previous run's: each output same, changed, new or missing.

A file output is compared by content, not by ID (each run makes new files): the same ID or the same parts
(the MD5 and size of each) is the same content, a different size is a change, and otherwise the bytes are
read and compared.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from runner.client.api import EngineClient
from runner.client.files import iter_content
from runner.spec.links import data_link_id

SAME, CHANGED, NEW, MISSING = "same", "changed", "new", "missing"


@dataclass(frozen=True, slots=True)
class OutputChange:
    """One output field: how it compares, and its value now (None when missing)."""

    name: str
    verdict: str
    value: Any


def compare_outputs(client: EngineClient, previous: Mapping[str, Any] | None,
                    current: Mapping[str, Any]) -> list[OutputChange]:
    """Every output of both runs, by name; with no previous run, every output is new."""
    before = previous or {}
    changes = []
    for name in sorted(set(before) | set(current)):
        if name not in current:
            changes.append(OutputChange(name, MISSING, None))
        elif name not in before:
            changes.append(OutputChange(name, NEW, current[name]))
        else:
            same = _same_value(client, before[name], current[name])
            changes.append(OutputChange(name, SAME if same else CHANGED, current[name]))
    return changes


def _same_value(client: EngineClient, old: Any, new: Any) -> bool:
    if isinstance(old, list) and isinstance(new, list):
        return len(old) == len(new) and all(_same_value(client, a, b) for a, b in zip(old, new, strict=True))
    old_id, new_id = data_link_id(old), data_link_id(new)
    if old_id is not None and new_id is not None:
        return _same_file(client, old_id, new_id)
    return bool(old == new)


def _same_file(client: EngineClient, old: str, new: str) -> bool:
    if old == new:
        return True
    if not (old.startswith("file-") and new.startswith("file-")):
        return False
    a, b = _parts(client, old), _parts(client, new)
    if a["size"] != b["size"]:
        return False
    if a["parts"] == b["parts"]:
        return True
    return _digest(client, old) == _digest(client, new)


def _parts(client: EngineClient, file_id: str) -> dict[str, Any]:
    described = client.call(f"/{file_id}/describe", {"fields": {"size": True, "parts": True}})
    parts = described.get("parts") or {}
    listed = sorted((int(index), part.get("md5"), part.get("size")) for index, part in parts.items())
    return {"size": described.get("size"), "parts": listed}


def _digest(client: EngineClient, file_id: str) -> str:
    digest = hashlib.sha256()
    for chunk in iter_content(client, file_id):
        digest.update(chunk)
    return digest.hexdigest()
