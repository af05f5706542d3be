"""SVG snapshots of the main screen: a fixed set of events, a fixed clock, no engine, so they are stable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from runner.tui.app import RunnerApp, make_app
from tests.tui.events_fixture import MINUTE, T0, sample_events

SOURCES = Path(__file__).parent / "sources"


def fixed_app() -> RunnerApp:
    """The app on the sample events at five minutes past the first one, with the test's applet sources."""
    return make_app(None, lambda: T0 + 5 * MINUTE, paths=[SOURCES], events=sample_events())


async def all_events_shown(pilot: Pilot[Any]) -> None:
    """Wait until the feed's thread has handed every event over and the screen applied them."""
    app = pilot.app
    assert isinstance(app, RunnerApp)
    for _ in range(100):
        if app.model.last_seq == sample_events()[-1].seq and not app.feed.drain_pending():
            break
        await pilot.pause(0.05)
    await pilot.pause()


def test_main_screen(snap_compare: Any) -> None:
    assert snap_compare(fixed_app(), terminal_size=(120, 36), run_before=all_events_shown)


def test_main_screen_at_80_by_24(snap_compare: Any) -> None:
    assert snap_compare(fixed_app(), terminal_size=(80, 24), run_before=all_events_shown)


def test_a_failed_tree_with_failures_only(snap_compare: Any) -> None:
    assert snap_compare(fixed_app(), terminal_size=(120, 36), press=["f"], run_before=all_events_shown)


def test_the_log_of_a_running_job(snap_compare: Any) -> None:
    assert snap_compare(fixed_app(), terminal_size=(120, 36), press=["down"], run_before=all_events_shown)
