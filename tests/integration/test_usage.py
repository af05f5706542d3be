"""Usage sampling of a real container: a job holding 200 MiB and burning one core shows about its own CPU share
and that memory, in describe's runnerUsage, on the event stream and in the job's usage.ndjson."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner.client.api import EngineClient
from runner.client.events import EventQuery, follow_events
from runner.spec.events import JobUsage
from tests.integration.helpers import run_test_applet, wait_terminal

pytestmark = pytest.mark.docker
MIB = 2**20


def test_a_job_burning_a_core_shows_its_cpu_share_and_the_memory_it_holds(engine: EngineClient,
                                                                          engine_home: Path) -> None:
    job = run_test_applet(engine, "usage_burn", {"cpu_seconds": 7, "mib": 200})
    described = wait_terminal(engine, job)
    assert described["state"] == "done", described.get("failureMessage")
    # What the job saw of its own share of a core: on a loaded machine well under 100 %.
    share = described["output"]["cpu_percent"]
    usage = described["runnerUsage"]
    assert usage["samples"] >= 2
    assert 0.6 * share <= usage["cpuPercentMax"] <= 150
    assert 190 * MIB <= usage["memoryBytesPeak"] <= 1024 * MIB

    events = [e for e in follow_events(engine, EventQuery(root=job, kinds=("job.usage",), follow=False))
              if isinstance(e, JobUsage)]
    assert events and {e.job for e in events} == {job}
    assert max(e.cpu_percent for e in events) >= 0.6 * share
    assert max(e.memory_bytes for e in events) >= 190 * MIB

    lines = [json.loads(line) for line in (engine_home / "jobs" / job / "usage.ndjson").read_text().splitlines()]
    assert len(lines) == usage["samples"] and {line["try"] for line in lines} == {0}
