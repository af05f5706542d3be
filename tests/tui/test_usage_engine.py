"""The Usage tab against a real engine: a real container's samples, emitted by the engine's sampler, drawn by the
TUI opened after the job started (the earlier samples come from the stored events)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from textual.widgets import Sparkline, Static

from runner.client.api import EngineClient
from runner.client.events import EventQuery, follow_events
from runner.spec.events import JobUsage
from runner.tui.app import make_app
from runner.tui.widgets.job_tree import JobTree
from tests.integration.helpers import run_test_applet, wait_terminal
from tests.tui.conftest import until

pytestmark = [pytest.mark.docker, pytest.mark.asyncio]
SIZE = (120, 36)
MIB = 2**20


def sampled(engine: EngineClient, job: str, give_up_s: float = 120) -> None:
    """Return once describe shows a usage sample of `job` (AssertionError when none comes)."""
    deadline = time.monotonic() + give_up_s
    while "runnerUsage" not in engine.call(f"/{job}/describe", {}):
        assert time.monotonic() < deadline, f"{job} was never sampled"
        time.sleep(0.2)


async def test_the_usage_tab_draws_the_samples_the_engine_emitted(engine: EngineClient) -> None:
    # Idle, then a whole core: a change the sampler reports, so there are at least two samples to draw.
    job = run_test_applet(engine, "usage_burn", {"cpu_seconds": 7, "mib": 200, "rest_seconds": 5})
    sampled(engine, job)
    app = make_app(engine)
    async with app.run_test(size=SIZE) as pilot:
        tree = app.screen.query_one(JobTree)
        await until(pilot, f"a row for {job}", lambda: job in tree.nodes)
        tree.keep_cursor_on(job)
        await pilot.pause()
        await pilot.press("u")
        assert wait_terminal(engine, job)["state"] == "done"
        emitted = [e for e in follow_events(engine, EventQuery(root=job, kinds=("job.usage",), follow=False))
                   if isinstance(e, JobUsage)]
        assert len(emitted) >= 2
        spark = app.screen.query_one("#cpu-spark", Sparkline)
        await until(pilot, "every emitted sample drawn", lambda: list(spark.data or []) == [
            e.cpu_percent for e in emitted])
        memory: Any = app.screen.query_one("#memory-spark", Sparkline).data
        assert list(memory) == [float(e.memory_bytes) for e in emitted]
        words = str(app.screen.query_one("#cpu-words", Static).content)
        assert words.startswith(f"CPU {emitted[-1].cpu_percent:.0f}% now, peak "
                                f"{max(e.cpu_percent for e in emitted):.0f}%")
        assert f"({len(emitted)} samples over" in words
        peak = max(max(e.memory_bytes, e.memory_peak_bytes or 0) for e in emitted)
        assert f"peak {peak / MIB:.0f} MiB" in str(app.screen.query_one("#memory-words", Static).content)
        assert peak >= 190 * MIB
        assert not app.screen.query_one("#gpu-spark", Sparkline).display  # no GPU: no GPU lines
