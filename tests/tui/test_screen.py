"""The screen on a fixed set of events (no engine): the log view is bounded and follows the bottom."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from runner.spec.events import Event, LogLines
from runner.tui.app import RunnerApp
from runner.tui.feed import EventFeed
from runner.tui.model import JobsModel
from runner.tui.widgets.detail import LOG_MAX_LINES
from runner.tui.widgets.job_tree import JobTree
from runner.tui.widgets.log_view import LogView
from tests.tui.conftest import until
from tests.tui.events_fixture import MINUTE, ROOT_A, T0, sample_events

pytestmark = pytest.mark.asyncio
MANY = LOG_MAX_LINES + 1000


def chatty_events() -> list[LogLines]:
    """More log lines of ROOT_A than the log view keeps, in batches as the engine sends them."""
    return [LogLines(seq=100 + n, time=T0 + 3 * MINUTE, job=ROOT_A, root=ROOT_A, stream="stdout",
                     text="\n".join(f"line {n * 100 + k}" for k in range(100))) for n in range(MANY // 100)]


async def test_a_long_log_is_bounded_and_followed_to_its_last_line() -> None:
    selected = threading.Event()

    def source() -> Iterator[Event]:
        yield from sample_events()
        selected.wait()  # the rest arrives while the job is shown, as a live job's lines do
        yield from chatty_events()

    app = RunnerApp(None, JobsModel(lambda: T0 + 5 * MINUTE), EventFeed(source), [])
    async with app.run_test(size=(120, 36)) as pilot:
        tree = app.screen.query_one(JobTree)
        await until(pilot, "the running tree", lambda: ROOT_A in tree.nodes)
        tree.move_cursor(tree.nodes[ROOT_A])
        await until(pilot, "the job's log shown", lambda: app.screen.query_one("#log-view", LogView).lines[-1:]
                    == ["starting 1 subjob"])
        selected.set()
        await until(pilot, "every log line read", lambda: app.model.last_seq == 100 + MANY // 100 - 1)
        await pilot.pause()
        log = app.screen.query_one("#log-view", LogView)
        assert log.line_count == LOG_MAX_LINES
        assert log.lines[-1] == f"line {MANY - 1}"
        assert log.is_vertical_scroll_end
