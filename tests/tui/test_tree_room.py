"""Runnable rows and the free room: when a job gives its cores back, every runnable row says so once it is on
screen, the ones scrolled into view later too (rows are relabelled as they are drawn, not all at each change)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from runner.spec.events import Event
from runner.tui.app import RunnerApp
from runner.tui.capacity import Capacity
from runner.tui.feed import EventFeed
from runner.tui.model import JobsModel
from runner.tui.widgets.job_tree import JobTree
from tests.tui.conftest import until
from tests.tui.events_fixture import MINUTE, T0, created, state

HOST = Capacity(cores=4, memory_bytes=16 * 2**30)
HOLDER = "job-H00000000000000000000001"
WAITING = [f"job-W{n:023d}" for n in range(60)]  # more rows than the screen shows


def busy_host() -> list[Event]:
    """HOLDER running with all 4 cores, then 60 roots of 2 cores each, runnable."""
    events: list[Event] = [
        created(1, HOLDER, HOLDER, None, "holder", resources={"cores": 4, "memoryBytes": 2**30, "gpus": 0}),
        state(2, HOLDER, HOLDER, "idle", "runnable", T0), state(3, HOLDER, HOLDER, "runnable", "running", T0)]
    for n, job in enumerate(WAITING):
        events.append(created(4 + 2 * n, job, job, None, f"waiting_{n}", at=T0 + 1000 * (n + 1),
                              resources={"cores": 2, "memoryBytes": 2**30, "gpus": 0}))
        events.append(state(5 + 2 * n, job, job, "idle", "runnable", T0 + 1000 * (n + 1)))
    return events


def row(tree: JobTree, job: str) -> str:
    return tree.nodes[job].label.plain


@pytest.mark.asyncio
async def test_the_runnable_rows_say_the_room_a_job_gave_back_on_screen_and_once_scrolled_to() -> None:
    go_on = threading.Event()
    initial = busy_host()

    def source() -> Iterator[Event]:
        yield from initial
        go_on.wait()
        yield state(len(initial) + 1, HOLDER, HOLDER, "running", "done", T0 + 2 * MINUTE)

    app = RunnerApp(None, JobsModel(lambda: T0 + 2 * MINUTE), EventFeed(source), [])
    async with app.run_test(size=(120, 30)) as pilot:
        tree = app.screen.query_one(JobTree)
        await until(pilot, "every row", lambda: len(tree.nodes) == len(WAITING) + 1)
        tree.set_host(HOST)
        await pilot.pause()
        top, bottom = WAITING[-1], WAITING[0]  # newest first: the first row waiting is the last one drawn
        assert "needs 2 cores, 0 free" in row(tree, top)
        assert "needs 2 cores, 0 free" in row(tree, bottom)
        go_on.set()
        await until(pilot, "the room given back on the first row", lambda: "fits, waiting its turn" in row(tree, top))
        tree.scroll_end(animate=False)
        await until(pilot, "the room given back on the last runnable row, scrolled to",
                    lambda: "fits, waiting its turn" in row(tree, bottom))
        assert "done" in row(tree, HOLDER)
