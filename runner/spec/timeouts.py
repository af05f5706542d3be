"""Effective job timeout, per "Specifying Job Timeouts".

Order: the runtime `timeoutPolicyByExecutable[executable][entry point or "*"]` (merged down the tree,
upstream winning), then the executable's `runSpec.timeoutPolicy[entry point or "*"]`, then the system
default of 30 days. A timeout of 0 means the job has no timeout.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from runner.errors import Problem
from runner.spec._checks import Checker
from runner.spec._merge import WILDCARD, merge_upstream_wins
from runner.spec.run_spec import MAX_TIMEOUT_SECONDS, duration_seconds

DEFAULT_TIMEOUT_SECONDS = MAX_TIMEOUT_SECONDS

TimeoutsByExecutable = Mapping[str, Mapping[str, Mapping[str, float]]]
"""Executable ID -> entry point (or "*") -> `{"days", "hours", "minutes"}`."""


@dataclass(frozen=True, slots=True)
class EffectiveTimeout:
    """A job's timeout in seconds (None: no timeout) and where it came from."""

    seconds: float | None
    source: str


def merge_timeout_policies(chain: Iterable[TimeoutsByExecutable | None]) -> dict[str, Any]:
    """Merge the `timeoutPolicyByExecutable` of a root-to-job chain; explicit upstream policies win."""
    merged: dict[str, Any] = {}
    for level in chain:
        if level:
            merged = merge_upstream_wins(merged, level, depth=1)
    return merged


def parse_timeouts_by_executable(raw: Any, path: str = "timeoutPolicyByExecutable") -> tuple[dict[str, Any], list[Problem]]:
    """Check a runtime `timeoutPolicyByExecutable`; returns it with every problem found."""
    checker = Checker()
    if not isinstance(raw, Mapping):
        checker.wrong_type(path, "a mapping of executable ID to timeout policy", raw)
        return {}, checker.problems
    for executable, policy in raw.items():
        if not isinstance(policy, Mapping):
            checker.wrong_type(f"{path}.{executable}", "a mapping of entry point to duration", policy)
            continue
        for entry_point, duration in policy.items():
            duration_seconds(duration, f"{path}.{executable}.{entry_point}", checker)
    return dict(raw), checker.problems


def _seconds(duration: Mapping[str, float]) -> float:
    units = {"days": 86400, "hours": 3600, "minutes": 60}
    return float(sum(amount * units[unit] for unit, amount in duration.items()))


def effective_timeout(
    executable: str,
    entry_point: str,
    *,
    merged_by_executable: TimeoutsByExecutable | None = None,
    run_spec_policy: Mapping[str, float] | None = None,
) -> EffectiveTimeout:
    """Resolve a job's timeout. `run_spec_policy` maps entry point to seconds, as `RunSpec.timeout_policy`."""
    runtime = (merged_by_executable or {}).get(executable)
    if runtime:
        key = entry_point if entry_point in runtime else WILDCARD if WILDCARD in runtime else None
        if key is not None:
            return _final(_seconds(runtime[key]), f"timeoutPolicyByExecutable[{executable}][{key}]")
    if run_spec_policy:
        key = entry_point if entry_point in run_spec_policy else WILDCARD if WILDCARD in run_spec_policy else None
        if key is not None:
            return _final(run_spec_policy[key], f"runSpec.timeoutPolicy[{key}]")
    return EffectiveTimeout(DEFAULT_TIMEOUT_SECONDS, "default (30 days)")


def _final(seconds: float, source: str) -> EffectiveTimeout:
    return EffectiveTimeout(seconds if seconds > 0 else None, source)
