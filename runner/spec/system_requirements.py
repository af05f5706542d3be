"""Effective system requirements of a job, in the five-level order of "Requesting Instance Types".

1. `systemRequirementsByExecutable` of the job's ancestors and the job itself, merged down the tree
   (upstream settings win; a `"*"` upstream precludes any override below it);
2. the `systemRequirements` given when the job's master job was run;
3. the `systemRequirements` given to `/job/new` for this job;
4. the executable's `runSpec.systemRequirements`;
5. the system default.

Each resource key (`instanceType`, `fpgaDriver`, `nvidiaDriver`, `clusterSpec`) is resolved on its own.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict, Unpack

from runner.spec._merge import WILDCARD, merge_upstream_wins

RESOURCE_KEYS = ("instanceType", "fpgaDriver", "nvidiaDriver", "clusterSpec")
DEFAULT_INSTANCE_TYPE = "mem2_ssd1_v2_x2"

ByExecutable = Mapping[str, Mapping[str, Mapping[str, Any]]]
"""Executable ID (or "*") -> entry point (or "*") -> requested resources."""
ByEntryPoint = Mapping[str, Mapping[str, Any]]
"""Entry point (or "*") -> requested resources: the form of `systemRequirements`."""


class RequirementLevels(TypedDict, total=False):
    """The four levels that request resources (the fifth is the default), as keyword arguments."""

    merged_by_executable: ByExecutable | None
    master_run_requirements: ByEntryPoint | None
    job_new_requirements: ByEntryPoint | None
    run_spec_requirements: ByEntryPoint | None


def _by_entry_point(levels: RequirementLevels) -> list[tuple[str, ByEntryPoint | None]]:
    """The levels keyed by entry point, in their order, each with the source `sources` names it by."""
    return [("run systemRequirements", levels.get("master_run_requirements")),
            ("job/new systemRequirements", levels.get("job_new_requirements")),
            ("runSpec.systemRequirements", levels.get("run_spec_requirements"))]


def _project(by_executable: ByExecutable, resource: str) -> dict[str, dict[str, Any]]:
    """The part of a by-executable mapping that sets `resource`, as executable -> entry point -> value."""
    view: dict[str, dict[str, Any]] = {}
    for executable, entries in by_executable.items():
        for entry_point, request in entries.items():
            if resource in request:
                view.setdefault(executable, {})[entry_point] = request[resource]
    return view


def merge_by_executable(parent: ByExecutable, child: ByExecutable) -> dict[str, dict[str, dict[str, Any]]]:
    """Merge a child's `systemRequirementsByExecutable` under its parent's, one resource key at a time."""
    merged: dict[str, dict[str, dict[str, Any]]] = {}
    keys = {k for entries in (*parent.values(), *child.values()) for request in entries.values() for k in request}
    for resource in sorted(keys):
        view = merge_upstream_wins(_project(parent, resource), _project(child, resource), depth=1)
        for executable, entries in view.items():
            for entry_point, value in entries.items():
                merged.setdefault(executable, {}).setdefault(entry_point, {})[resource] = value
    return merged


def merge_tree(chain: Iterable[ByExecutable | None]) -> dict[str, dict[str, dict[str, Any]]]:
    """Merge the by-executable settings of a root-to-job chain of runs (None where a run gave none)."""
    merged: dict[str, dict[str, dict[str, Any]]] = {}
    for level in chain:
        if level:
            merged = merge_by_executable(merged, level)
    return merged


def _lookup_by_executable(by_executable: ByExecutable, executable: str, entry_point: str, resource: str) -> Any:
    entries = _project(by_executable, resource)
    chosen = entries.get(executable, entries.get(WILDCARD))
    if chosen is None:
        return None
    return chosen.get(entry_point, chosen.get(WILDCARD))


def _lookup_by_entry_point(requirements: ByEntryPoint | None, entry_point: str, resource: str) -> Any:
    if not requirements:
        return None
    request = requirements.get(entry_point, requirements.get(WILDCARD))
    return request.get(resource) if isinstance(request, Mapping) else None


@dataclass(frozen=True, slots=True)
class EffectiveRequirements:
    """The resolved resources of one job, and where each came from."""

    instance_type: str
    fpga_driver: str | None = None
    nvidia_driver: str | None = None
    cluster_spec: Mapping[str, Any] | None = None
    sources: Mapping[str, str] = field(default_factory=dict)

    def as_request(self) -> dict[str, Any]:
        """The `{"instanceType", ...}` mapping, as describe shows it."""
        request: dict[str, Any] = {"instanceType": self.instance_type}
        if self.fpga_driver is not None:
            request["fpgaDriver"] = self.fpga_driver
        if self.nvidia_driver is not None:
            request["nvidiaDriver"] = self.nvidia_driver
        if self.cluster_spec is not None:
            request["clusterSpec"] = dict(self.cluster_spec)
        return request


def effective_requirements(
    executable: str, entry_point: str, *, default_instance_type: str = DEFAULT_INSTANCE_TYPE,
    **levels: Unpack[RequirementLevels],
) -> EffectiveRequirements:
    """Resolve each resource key through the five levels; the first level that sets it wins."""
    by_executable = levels.get("merged_by_executable") or {}
    lookups: list[tuple[str, Any]] = [
        ("systemRequirementsByExecutable", lambda r: _lookup_by_executable(by_executable, executable, entry_point, r)),
        *((source, functools.partial(_lookup_by_entry_point, level, entry_point))
          for source, level in _by_entry_point(levels)),
    ]
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for resource in RESOURCE_KEYS:
        for source, lookup in lookups:
            value = lookup(resource)
            if value is not None:
                values[resource], sources[resource] = value, source
                break
    if "instanceType" not in values:
        selected = _from_selector(levels.get("run_spec_requirements"), entry_point)
        values["instanceType"] = selected or default_instance_type
        sources["instanceType"] = "runSpec instanceTypeSelector" if selected else "default"
    return EffectiveRequirements(
        instance_type=values["instanceType"], fpga_driver=values.get("fpgaDriver"),
        nvidia_driver=values.get("nvidiaDriver"), cluster_spec=values.get("clusterSpec"), sources=sources,
    )


def described_requirements(
    executable: str, entry_point: str, **levels: Unpack[RequirementLevels],
) -> dict[str, dict[str, Any]]:
    """A job's describe `systemRequirements`, as the platform shows it: keyed like the requests (`*` kept).

    Each entry-point key any level names gets what resolves for it through the five levels; the job's own entry
    point alone when no level names any (the default instance type).
    """
    by_executable = levels.get("merged_by_executable") or {}
    named = [by_executable.get(executable), by_executable.get(WILDCARD),
             *(level for _, level in _by_entry_point(levels))]
    keys = list(dict.fromkeys(key for level in named if isinstance(level, Mapping) for key in level))
    return {key: effective_requirements(executable, key, **levels).as_request() for key in keys or [entry_point]}


def requested(requirements: ByEntryPoint | None, entry_point: str, resource: str) -> Any:
    """What `requirements` (a describe's `systemRequirements`) asks of `resource` for `entry_point` (or `*`)."""
    return _lookup_by_entry_point(requirements, entry_point, resource)


def _from_selector(requirements: ByEntryPoint | None, entry_point: str) -> str | None:
    """Locally, an instanceTypeSelector runs on the first of its allowed types."""
    selector = _lookup_by_entry_point(requirements, entry_point, "instanceTypeSelector")
    if isinstance(selector, Mapping):
        allowed = selector.get("allowedInstanceTypes")
        if isinstance(allowed, list) and allowed and isinstance(allowed[0], str):
            return allowed[0]
    return None
