"""/app-xxxx/isCompatible's rules: whether an app version can replace another in a workflow without the user.

Compatible changes (of the other version's specs): label or help changed, optional set to true, a default set,
an optional input added, an output added. Incompatible: an optional input made required, a required input
added, an input or output renamed or its class or type changed, an output removed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def _by_name(spec: Any) -> dict[str, Mapping[str, Any]]:
    params = spec if isinstance(spec, Sequence) and not isinstance(spec, str) else []
    return {str(p["name"]): p for p in params if isinstance(p, Mapping) and "name" in p}


def _required(param: Mapping[str, Any]) -> bool:
    """Whether a run must give the input: not optional and without a default."""
    return param.get("optional") is not True and "default" not in param


def _same_kind(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    return old.get("class") == new.get("class") and old.get("type") == new.get("type")


def _changed(kind: str, new_spec: Any, old_spec: Any) -> list[str]:
    """What breaks in one spec (`kind`: input or output): a parameter of the old removed, renamed or retyped."""
    found: list[str] = []
    new_params = _by_name(new_spec)
    for name, old in _by_name(old_spec).items():
        param = new_params.get(name)
        if param is None:
            found.append(f"{kind} {name!r} was removed or renamed")
        elif not _same_kind(old, param):
            found.append(f"{kind} {name!r} changed its class or type")
        elif kind == "input" and not _required(old) and _required(param):
            found.append(f"input {name!r} was optional and is required")
    return found


def incompatibilities(new: Mapping[str, Any], other: Mapping[str, Any]) -> list[str]:
    """What stops `new` (an app's describe) from replacing `other`; empty when it can."""
    found = _changed("input", new.get("inputSpec"), other.get("inputSpec"))
    old_in = _by_name(other.get("inputSpec"))
    found += [f"input {name!r} was added as a required input"
              for name, param in _by_name(new.get("inputSpec")).items() if name not in old_in and _required(param)]
    return found + _changed("output", new.get("outputSpec"), other.get("outputSpec"))
