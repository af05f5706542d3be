"""dxpy's own test suite (the in-scope part of the pinned version) against an engine of its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conformance.dxpy_suite.harness import PASSING_LIST, recorded_passing, run_suite
from tests.integration.helpers import engine_of_its_own


@pytest.mark.docker
def test_dxpy_suite_keeps_every_recorded_pass(tmp_path_factory: pytest.TempPathFactory, client: Any) -> None:
    """Every dxpy test recorded in dxpy_passing.txt still passes; newly passing ones are printed, to be added."""
    scratch = tmp_path_factory.mktemp("dxpy")
    with engine_of_its_own(tmp_path_factory.mktemp("eng"), client) as home:
        result = run_suite(Path(home), scratch)
    print(result.summary())
    newly = sorted(result.passed - recorded_passing())
    if newly:
        print(f"newly passing (add them to {PASSING_LIST.name}):", *newly, sep="\n  ")
    lost = sorted(recorded_passing() - result.passed)
    outcomes = {node: result.outcomes.get(node, "not run") for node in lost}
    assert not lost, f"dxpy tests that passed no longer do (see {scratch}/dxpy-pytest.log): {outcomes}"
