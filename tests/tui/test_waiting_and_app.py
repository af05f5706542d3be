"""Pilot tests on a real engine of what a person at the screen reads: the first tree's details when the cursor
went down before any job was there, why a runnable job waits (the scheduler's words), an HTTPS app's link."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.client.api import EngineClient
from runner.tui.app import make_app
from runner.tui.widgets.detail import DetailPane
from runner.tui.widgets.job_tree import JobTree
from tests.conftest import SAMPLE_APPS
from tests.integration.helpers import run_sample, wait_state, wait_terminal
from tests.tui.conftest import until

pytestmark = [pytest.mark.docker, pytest.mark.asyncio]
SIZE = (120, 36)


async def test_the_first_tree_shows_its_details_though_the_cursor_went_down_before_it_came(
        own_engine: tuple[EngineClient, Path]) -> None:
    empty_engine, _ = own_engine  # holds no job yet (the session's engine holds others')
    app = make_app(empty_engine, paths=[SAMPLE_APPS])
    async with app.run_test(size=SIZE) as pilot:
        tree, detail = app.screen.query_one(JobTree), app.screen.query_one(DetailPane)
        tree.focus()
        await pilot.press("down")  # on no row: Textual keeps the line, and the first row comes to it unannounced
        job = run_sample(empty_engine, "hello_bash", {"who": "first"})
        await until(pilot, "the new tree's row", lambda: job in tree.nodes)
        await until(pilot, "its details shown", lambda: detail.job == job)
        assert tree.selected_job == job
        status = str(app.screen.query_one("#log-status").content)  # type: ignore[attr-defined]
        assert status.startswith(job) and "Select a job" not in status


async def test_a_runnable_job_says_why_it_waits_and_o_copies_the_apps_link(engine: EngineClient) -> None:
    dashboard = run_sample(engine, "https_dashboard", {})
    waiter = ""
    try:
        wait_state(engine, dashboard, ("running",))  # holds both cores of the instance type the host gives it
        # Four cores, capped to the host's: it cannot start while the dashboard holds them.
        waiter = run_sample(engine, "hello_bash", {"who": "later"}, systemRequirements={
            "*": {"instanceType": "mem1_ssd1_v2_x4"}})
        wait_state(engine, waiter, ("runnable",))
        app = make_app(engine, paths=[SAMPLE_APPS])
        async with app.run_test(size=SIZE) as pilot:
            tree, detail = app.screen.query_one(JobTree), app.screen.query_one(DetailPane)
            await until(pilot, "both rows", lambda: {dashboard, waiter} <= set(tree.nodes))
            tree.keep_cursor_on(waiter)
            await pilot.press("d")
            await until(pilot, "the scheduler's reason on top of Describe", lambda: detail.describe_text()
                        .startswith(f"{waiter} waits to start: needs "))
            assert "cores" in detail.describe_text().splitlines()[0]
            tree.keep_cursor_on(dashboard)
            await pilot.press("o")
            await until(pilot, "the app's link said", lambda: any(
                "copied to the clipboard" in str(n.message) for n in app._notifications))
            said = next(str(n.message) for n in app._notifications if "clipboard" in str(n.message))
            link = said.split("\n")[0]
            assert link.startswith(f"http://{dashboard.lower()}.localhost:") and "/_runner/login?code=" in link
            assert app.clipboard == link, "the whole link, without the breaks the toast wraps it with"
    finally:
        for job in (waiter, dashboard):
            if job:
                engine.call(f"/{job}/terminate", {})
                wait_terminal(engine, job)
