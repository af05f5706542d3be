"""An app on the sample events plus log lines, some held back until the test lets them through, and what it shows."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Static

from runner.spec.events import Event, LogLines
from runner.tui.app import RunnerApp
from runner.tui.feed import EventFeed
from runner.tui.model import JobsModel
from runner.tui.widgets.job_tree import JobTree
from runner.tui.widgets.log_view import LogView
from tests.tui.conftest import until
from tests.tui.events_fixture import MINUTE, ROOT_A, T0, sample_events

SIZE = (120, 36)


def log(seq: int, job: str, text: str, stream: str = "stdout", root: str = ROOT_A,
        at: int = T0 + 3 * MINUTE) -> LogLines:
    """A log event of `job` in ROOT_A's tree."""
    return LogLines(seq=seq, time=at, job=job, root=root, stream=stream, text=text)


class HeldApp:
    """The app on the sample events and `first`; each of `later` comes only once `release()` lets it."""

    def __init__(self, first: Sequence[Event], *later: Sequence[Event]) -> None:
        self.gates = [threading.Event() for _ in later]
        self.first_seq = max(e.seq for e in [*sample_events(), *first])
        self.batch_seqs = [max(e.seq for e in batch) for batch in later]

        def source() -> Iterator[Event]:
            yield from sample_events()
            yield from first
            for gate, batch in zip(self.gates, later, strict=True):
                gate.wait()
                yield from batch

        self.app = RunnerApp(None, JobsModel(lambda: T0 + 5 * MINUTE), EventFeed(source), [])
        self.released = 0

    async def release(self, pilot: Pilot[Any]) -> None:
        """Let the next held batch through and wait until the screen applied it."""
        target = self.batch_seqs[self.released]
        self.gates[self.released].set()
        self.released += 1
        await until(pilot, "the released lines applied", lambda: self.app.model.last_seq == target)
        await pilot.pause()

    async def shown(self, pilot: Pilot[Any]) -> None:
        """Wait until the events before the held ones are applied."""
        await until(pilot, "the first events applied", lambda: self.app.model.last_seq == self.first_seq)
        await pilot.pause()


async def select(pilot: Pilot[Any], job: str) -> LogView:
    """Put the tree's cursor on `job`, then click into its log; the log view."""
    app = pilot.app
    tree = app.screen.query_one(JobTree)
    await until(pilot, f"a row for {job}", lambda: job in tree.nodes)
    tree.move_cursor(tree.nodes[job])
    await pilot.pause()
    await pilot.click("#log-view")
    view = app.screen.query_one(LogView)
    await until(pilot, "the log focused", lambda: view.has_focus)
    return view


def visible(view: LogView) -> list[str]:
    """The rows of the log as they are on the screen, trailing blanks cut."""
    return [view.render_line(y).text.rstrip() for y in range(view.scrollable_content_region.height)]


def status(pilot: Pilot[Any]) -> str:
    """The log's status line."""
    return str(pilot.app.screen.query_one("#log-status", Static).content)
