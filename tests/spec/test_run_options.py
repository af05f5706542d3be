"""debug.debugOn's failure reasons and rank's bounds, defined once for the engine, the API and the CLI."""

from __future__ import annotations

from runner.cli._run_options import debug_on
from runner.spec.run_options import DEBUG_REASONS, RANK_MAX, RANK_MIN, debug_reasons, rank_in_range


def test_all_stands_for_every_reason_in_the_documented_order() -> None:
    assert debug_reasons(["All"]) == DEBUG_REASONS == ("AppError", "AppInternalError", "ExecutionError")
    assert debug_reasons(["ExecutionError", "AppError", "Nonsense"]) == ("AppError", "ExecutionError")
    assert debug_reasons([]) == ()
    assert debug_on(["ExecutionError", "All"]) == ["ExecutionError", "AppError", "AppInternalError"]


def test_the_rank_bounds_are_inclusive() -> None:
    assert (rank_in_range(RANK_MIN), rank_in_range(RANK_MAX)) == (True, True)
    assert (rank_in_range(RANK_MIN - 1), rank_in_range(RANK_MAX + 1)) == (False, False)
