"""Effective execution policy: the run's keys override the run specification's; restart limits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runner.spec.run_spec import DEFAULT_MAX_RESTARTS


def effective_execution_policy(
    run_spec_policy: Mapping[str, Any] | None, runtime_policy: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Each key given at run time (`restartOn`, `maxRestarts`, ...) replaces the run specification's."""
    return {**(run_spec_policy or {}), **(runtime_policy or {})}


def restarts_allowed(policy: Mapping[str, Any], failure_reason: str, failure_counts: Mapping[str, int]) -> bool:
    """Whether a job that just failed with `failure_reason` runs again as a new try.

    `failure_counts` counts this tree's failures by reason, the current one included.
    `restartOn[reason]` (or `restartOn["*"]`) bounds the restarts for that reason, and
    `maxRestarts` (default 9) bounds the restarts of all reasons together.
    """
    restart_on = policy.get("restartOn") or {}
    limit = restart_on.get(failure_reason, restart_on.get("*", 0))
    max_restarts = policy.get("maxRestarts", DEFAULT_MAX_RESTARTS)
    return failure_counts.get(failure_reason, 0) <= int(limit) and sum(failure_counts.values()) <= int(max_restarts)
