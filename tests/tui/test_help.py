"""The help screen as read at 80x24: every key's text in one column, a long one wrapping under itself."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from runner.tui.app import RunnerApp
from runner.tui.feed import EventFeed
from runner.tui.model import JobsModel
from runner.tui.screens.dialogs import KEYS, Help
from tests.tui.events_fixture import T0, sample_events


@pytest.mark.asyncio
async def test_at_80_by_24_a_long_key_text_wraps_under_itself_not_under_the_keys() -> None:
    app = RunnerApp(None, JobsModel(lambda: T0), EventFeed(lambda: sample_events()), [])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, Help)
        await pilot.pause()
        texts = list(app.screen.query(".help-what").results(Static))
        keys = list(app.screen.query(".help-key").results(Static))
        assert [str(t.content) for t in texts] == [what for _, what in KEYS]
        assert [str(k.content) for k in keys] == [key for key, _ in KEYS]
        assert len({t.region.x for t in texts}) == 1, "every text starts in the same column"
        assert all(k.region.right <= texts[0].region.x for k in keys), "the keys stay left of the texts"
        rerun = texts[[key for key, _ in KEYS].index("R")]
        assert rerun.region.height > 1, "the re-run text is longer than the box is wide: it wraps"
