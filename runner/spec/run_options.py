"""Run options more than one layer checks: `debug.debugOn`'s failure reasons and `rank`'s bounds.

The engine holds a failed job for the reasons listed (`All`: every one); the API and the command line
refuse anything else, and a rank outside [RANK_MIN, RANK_MAX].
"""

from __future__ import annotations

from collections.abc import Iterable

DEBUG_REASONS = ("AppError", "AppInternalError", "ExecutionError")
DEBUG_ALL = "All"
DEBUG_ON_CHOICES = (*DEBUG_REASONS, DEBUG_ALL)
RANK_MIN, RANK_MAX = -1024, 1023
RANK_RANGE = f"[{RANK_MIN}, {RANK_MAX}]"


def debug_reasons(listed: Iterable[str]) -> tuple[str, ...]:
    """The failure reasons a `debugOn` list holds a job for, in the documented order (`All`: every one)."""
    chosen = set(listed)
    return DEBUG_REASONS if DEBUG_ALL in chosen else tuple(r for r in DEBUG_REASONS if r in chosen)


def rank_in_range(rank: int) -> bool:
    """Whether `rank` is a rank the platform accepts."""
    return RANK_MIN <= rank <= RANK_MAX
