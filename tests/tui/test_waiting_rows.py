"""Why a runnable job waits, in the scheduler's words as the event stream brings them (job.updated
`runnerWaiting`): kept per job by the model, shown in its tree row in place of the TUI's own reckoning, and
in Describe, which is read again when only that reason changed. The model and a screen fed fixed events,
then a Pilot on a real engine."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.client.api import EngineClient
from runner.config import write_setting
from runner.spec.events import Event, JobUpdated
from runner.tui.app import RunnerApp, make_app
from runner.tui.capacity import Capacity
from runner.tui.feed import EventFeed
from runner.tui.model import JobsModel
from runner.tui.widgets.detail import DetailPane
from runner.tui.widgets.job_tree import JobTree
from tests.conftest import SAMPLE_APPS
from tests.integration.helpers import run_sample, wait_state, wait_terminal
from tests.tui.conftest import until
from tests.tui.events_fixture import MINUTE, ROOT_A, ROOT_C, T0, sample_events, state

GiB = 2**30
HOST = Capacity(cores=4, memory_bytes=16 * GiB)
AT = T0 + 4 * MINUTE


def waits(seq: int, job: str, reason: str | None) -> JobUpdated:
    """The engine's job.updated event of why `job` waits (None: it no longer does)."""
    return JobUpdated(seq=seq, time=AT, job=job, root=job, changes={"runnerWaiting": reason})


def row(app: RunnerApp, job: str) -> str:
    """The job's tree row as plain text."""
    node = app.screen.query_one(JobTree).nodes.get(job)
    return node.label.plain if node is not None else ""


def test_the_model_keeps_the_engines_reason_until_it_changes_or_the_job_leaves_runnable() -> None:
    model = JobsModel(lambda: AT)
    model.apply_all(sample_events())
    job = model.jobs[ROOT_C]
    assert job.waiting_for() == "waiting for 4 cores and 8.0 GiB", "the TUI's own reckoning without the engine's"
    change = model.apply(waits(20, ROOT_C, "max-parallel 2 reached"))
    assert change.jobs == {ROOT_C}, "its row (and Describe, when it is shown) is redone"
    assert job.waiting_for() == "max-parallel 2 reached"
    model.apply(waits(21, ROOT_C, "waiting its turn: job-x goes first"))
    assert job.waiting_for() == "waiting its turn: job-x goes first"
    model.apply(waits(22, ROOT_C, None))
    assert job.waiting_for() == "waiting for 4 cores and 8.0 GiB"
    model.apply(waits(23, ROOT_C, "needs 4 cores; 2 free"))
    model.apply(state(24, ROOT_C, ROOT_C, "runnable", "running", AT))
    model.apply(state(25, ROOT_C, ROOT_C, "running", "restartable", AT))
    model.apply(state(26, ROOT_C, ROOT_C, "restartable", "runnable", AT))
    assert job.waiting_for() == "waiting for 4 cores and 8.0 GiB", "a reason is of one stay in runnable"


@pytest.mark.asyncio
async def test_a_row_shows_the_engines_reason_over_the_room_it_reckons() -> None:
    go_on = threading.Event()

    def source() -> Iterator[Event]:
        yield from sample_events()
        go_on.wait()
        yield waits(20, ROOT_C, "waiting its turn: job-x goes first")

    app = RunnerApp(None, JobsModel(lambda: AT), EventFeed(source), [])
    async with app.run_test(size=(160, 36)) as pilot:
        tree = app.screen.query_one(JobTree)
        await until(pilot, "the runnable job's row", lambda: ROOT_C in tree.nodes)
        tree.set_host(HOST)
        await pilot.pause()
        assert "needs 4 cores, 2 free" in row(app, ROOT_C), "reckoned from the room while the engine says nothing"
        go_on.set()
        await until(pilot, "the engine's words", lambda: "waiting its turn: job-x goes first" in row(app, ROOT_C))
        assert "needs 4 cores" not in row(app, ROOT_C) and ROOT_A in tree.nodes


@pytest.mark.docker
@pytest.mark.asyncio
async def test_a_job_waiting_for_cores_says_the_schedulers_words_in_its_row_and_describe(
        own_engine: tuple[EngineClient, Path]) -> None:
    engine, home = own_engine
    dashboard = run_sample(engine, "https_dashboard", {})
    jobs = [dashboard]
    try:
        wait_state(engine, dashboard, ("running",))  # holds both cores of the instance type the host gives it
        app = make_app(engine, paths=[SAMPLE_APPS])
        async with app.run_test(size=(160, 36)) as pilot:
            tree, detail = app.screen.query_one(JobTree), app.screen.query_one(DetailPane)
            await until(pilot, "the dashboard's row", lambda: dashboard in tree.nodes)
            # Four cores, capped to the host's: it cannot start while the dashboard holds them.
            waiter = run_sample(engine, "hello_bash", {"who": "later"}, systemRequirements={
                "*": {"instanceType": "mem1_ssd1_v2_x4"}})
            jobs.append(waiter)
            await until(pilot, "the waiting job's row", lambda: waiter in tree.nodes)
            await until(pilot, "the scheduler's words", lambda: (tree.model.jobs[waiter].engine_waiting or "")
                        .startswith("needs "))
            reason = str(tree.model.jobs[waiter].engine_waiting)
            assert "cores" in reason and reason in row(app, waiter), row(app, waiter)
            assert engine.call(f"/{waiter}/describe", {}).get("runnerWaiting") == reason, "as describe says"
            tree.keep_cursor_on(waiter)
            await pilot.press("d")
            await until(pilot, "Describe's words", lambda: detail.describe_text().startswith(
                f"{waiter} waits to start: {reason}"))

            write_setting("max-parallel", "1", home)  # read at the next admission: a new job brings one
            jobs.append(run_sample(engine, "hello_bash", {"who": "third"}))
            parallel = "max-parallel 1 reached"
            await until(pilot, "the new reason in the row", lambda: parallel in row(app, waiter))
            await until(pilot, "Describe read again for the reason alone", lambda: detail.describe_text()
                        .startswith(f"{waiter} waits to start: {parallel}"))
            assert tree.model.jobs[waiter].state == "runnable" and reason not in row(app, waiter)
    finally:
        for job in reversed(jobs):
            engine.call(f"/{job}/terminate", {})
            wait_terminal(engine, job)
