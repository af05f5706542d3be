"""SVG snapshots of the run form: fixed events, a fixed clock, no engine (no project files): stable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from runner.tui.app import RunnerApp, make_app
from runner.tui.screens.run_form import RunForm
from runner.tui.widgets.applets import AppletsPanel
from tests.tui.events_fixture import MINUTE, T0, sample_events
from tests.tui.test_snapshots import all_events_shown

MANY_INPUTS = Path(__file__).parent / "form_applets" / "many_inputs"


def form_app() -> RunnerApp:
    """The app on the sample events, with many_inputs (a file, arrays, a group) as its only applet."""
    return make_app(None, lambda: T0 + 5 * MINUTE, paths=[MANY_INPUTS], events=sample_events())


async def form_open(pilot: Pilot[Any]) -> None:
    """Every event shown, then `r` on the applet; its form open with the cursor still (no blink)."""
    await all_events_shown(pilot)
    pilot.app.screen.query_one(AppletsPanel).highlighted = 0
    await pilot.press("r")
    for _ in range(100):
        if isinstance(pilot.app.screen, RunForm):
            break
        await pilot.pause(0.05)
    assert isinstance(pilot.app.screen, RunForm)
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause()


def test_the_run_form(snap_compare: Any) -> None:
    assert snap_compare(form_app(), terminal_size=(100, 40), run_before=form_open)


def test_the_run_form_at_80_by_24_scrolled_to_the_group(snap_compare: Any) -> None:
    assert snap_compare(form_app(), terminal_size=(80, 24), run_before=form_open,
                        press=["tab", "tab", "tab", "tab", "tab", "tab", "tab"])
