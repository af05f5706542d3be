"""`runner describe` says when a job runs with less than its instance type asks for (instance-policy cap)."""

from __future__ import annotations

from datetime import UTC

from runner.cli.describe import format_describe
from tests.cli.test_describe import job, rows

WHY = ("mem1_ssd1_v2_x4 asks for 4 cores, 8.0 GiB, more than this host's 2 cores, 23.5 GiB: runs with 2 cores, "
       "8.0 GiB (instance-policy cap)")


def test_a_capped_job_says_why_and_an_uncapped_one_says_nothing() -> None:
    capped = job(instanceType="mem1_ssd1_v2_x4", runnerResources={"capped": True, "why": WHY})
    assert rows(format_describe(capped, UTC))["Capped"] == WHY
    fitting = job(runnerResources={"capped": False, "why": None})
    assert "Capped" not in rows(format_describe(fitting, UTC))
