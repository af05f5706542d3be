"""SVG snapshots of the job rows with the host's capacity at 80x24: capped marks, what runnable jobs need, the keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from runner.tui.app import RunnerApp, make_app
from runner.tui.widgets.job_tree import JobTree
from tests.tui.events_fixture import MINUTE, T0
from tests.tui.test_rows import HOST, with_big_job

SOURCES = Path(__file__).parent / "sources"


async def shown_with_the_host(pilot: Pilot[Any]) -> None:
    """Wait until every event is applied, then give the tree the host's capacity (as /runner/host would)."""
    app = pilot.app
    assert isinstance(app, RunnerApp)
    last = with_big_job()[-1].seq
    for _ in range(100):
        if app.model.last_seq == last and not app.feed.drain_pending():
            break
        await pilot.pause(0.05)
    await pilot.pause()
    app.screen.query_one(JobTree).set_host(HOST)
    await pilot.pause()


def test_rows_at_80_by_24_with_the_host(snap_compare: Any) -> None:
    app = make_app(None, lambda: T0 + 5 * MINUTE, paths=[SOURCES], events=with_big_job())
    assert snap_compare(app, terminal_size=(80, 24), run_before=shown_with_the_host)


def test_rows_at_120_by_36_with_the_host(snap_compare: Any) -> None:
    app = make_app(None, lambda: T0 + 5 * MINUTE, paths=[SOURCES], events=with_big_job())
    assert snap_compare(app, terminal_size=(120, 36), run_before=shown_with_the_host)
