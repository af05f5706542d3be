"""Pilot tests of `runner tui` against a real engine: real applets run in Docker and the keys act on them."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import Input

from runner.client.api import EngineClient
from runner.tui.app import RunnerApp, make_app
from runner.tui.screens.dialogs import Confirm, Help
from runner.tui.screens.run_form import RunForm
from runner.tui.widgets.detail import DetailPane
from runner.tui.widgets.job_tree import JobTree
from runner.tui.widgets.log_view import LogView
from tests.conftest import SAMPLE_APPS
from tests.integration.helpers import run_sample, run_test_applet, wait_terminal
from tests.tui.conftest import until

pytestmark = [pytest.mark.docker, pytest.mark.asyncio]
SIZE = (120, 36)


def row(app: RunnerApp, job: str) -> str:
    """The text of a job's row in the tree ('' when it has none)."""
    node = app.screen.query_one(JobTree).nodes.get(job)
    return node.label.plain if node is not None else ""


def shown_describe(app: RunnerApp) -> str:
    """The Describe tab's text as a person reads it."""
    return app.screen.query_one(DetailPane).describe_text()


async def select(app: RunnerApp, pilot: Any, job: str) -> None:
    """Move the tree's cursor to a job's row."""
    tree = app.screen.query_one(JobTree)
    await until(pilot, f"a row for {job}", lambda: job in tree.nodes)
    tree.keep_cursor_on(job)
    await pilot.pause()


async def test_hello_bash_runs_to_done_with_its_log_and_describe(engine: EngineClient) -> None:
    app = make_app(engine, paths=[SAMPLE_APPS])
    async with app.run_test(size=SIZE) as pilot:
        job = run_sample(engine, "hello_bash", {"who": "TUI"})
        await select(app, pilot, job)
        await until(pilot, f"{job} done", lambda: row(app, job).startswith("  done"))
        assert "Hello (bash):main" in row(app, job) and "mem1_ssd1_v2_x2" in row(app, job)
        log = app.screen.query_one("#log-view", LogView)
        await until(pilot, "the greeting in the log", lambda: any("TUI" in line for line in log.lines))
        # The describe asked while the job ran may show first: wait for the one of the done job.
        await until(pilot, "the describe of the done job", lambda: job in shown_describe(app)
                    and 'state: "done"' in shown_describe(app))
        assert "Hello, TUI" in shown_describe(app)
        second = run_sample(engine, "hello_bash", {"who": "again"})
        await until(pilot, "the second run's row", lambda: second in app.screen.query_one(JobTree).nodes)
        await pilot.pause()
        assert app.screen.query_one(JobTree).selected_job == job, "a new tree above moved the selection"
        applets = app.screen.query_one("#applets")
        await until(pilot, "hello_bash built", lambda: any(
            s.name == "hello_bash" and s.state == "built" for s in applets.sources))  # type: ignore[attr-defined]


async def test_subjobs_sit_under_their_parent_and_t_terminates_the_tree(engine: EngineClient) -> None:
    app = make_app(engine, paths=[SAMPLE_APPS])
    async with app.run_test(size=SIZE) as pilot:
        root = run_test_applet(engine, "sleepy_tree", {})
        tree = app.screen.query_one(JobTree)
        await until(pilot, "two sleepers under the root", lambda: len(app.model.jobs[root].children) == 2
                    if root in app.model.jobs else False)
        await until(pilot, "rows for the sleepers", lambda: all(c in tree.nodes for c in app.model.jobs[root].children))
        sleeper = app.model.jobs[root].children[0]
        assert tree.nodes[sleeper].parent is tree.nodes[root]
        await until(pilot, "the root running with time left", lambda: "left" in row(app, root))
        await select(app, pilot, sleeper)
        await pilot.press("t")
        assert isinstance(app.screen, Confirm) and root in app.screen.question
        await pilot.press("n")
        assert not isinstance(app.screen, Confirm)
        await pilot.pause(0.5)
        assert "stopped" not in row(app, root)
        await pilot.press("t", "y")
        await until(pilot, "the whole tree terminated", lambda: all(
            row(app, j).lstrip("▼└ ").startswith("stopped") for j in [root, *app.model.jobs[root].children]))
        assert wait_terminal(engine, root)["state"] == "terminated"


async def test_filter_failures_copy_shell_form_help_and_rerun(engine: EngineClient) -> None:
    first = run_sample(engine, "hello_bash", {"who": "filter"})
    failed = run_sample(engine, "timeout_demo", {})
    wait_terminal(engine, first), wait_terminal(engine, failed)
    app = make_app(engine, paths=[SAMPLE_APPS])
    async with app.run_test(size=SIZE) as pilot:
        tree = app.screen.query_one(JobTree)
        await until(pilot, "both trees ended", lambda: "done" in row(app, first) and "failed" in row(app, failed))
        assert "timed out" in row(app, failed)
        await pilot.press("slash", *"times out")
        assert app.screen.query_one("#filter", Input).value == "times out"
        await until(pilot, "only the timeout_demo tree", lambda: failed in tree.nodes and first not in tree.nodes)
        await pilot.press("escape")
        await until(pilot, "every tree again", lambda: first in tree.nodes and failed in tree.nodes)
        await pilot.press("f")
        await until(pilot, "failures only", lambda: first not in tree.nodes and failed in tree.nodes)
        await pilot.press("f")
        await until(pilot, "every tree after f again", lambda: first in tree.nodes)

        await select(app, pilot, first)
        await pilot.press("y")
        assert app.clipboard == first
        await pilot.press("s")
        await until(pilot, "the shell refused for a done job",
                    lambda: any("a shell needs a running" in str(n.message) for n in app._notifications))
        await pilot.press("r")
        await until(pilot, "the run form", lambda: isinstance(app.screen, RunForm))
        await pilot.press("escape")
        await pilot.press("question_mark")
        assert isinstance(app.screen, Help)
        await pilot.press("escape")
        assert not isinstance(app.screen, Help)

        roots_before = set(app.model.roots)
        await pilot.press("R")
        await until(pilot, "a new tree", lambda: set(app.model.roots) - roots_before)
        (new,) = set(app.model.roots) - roots_before
        await until(pilot, "the new tree selected", lambda: tree.selected_job == new)
        await until(pilot, "the re-run done", lambda: "done" in row(app, new))
        assert engine.call(f"/{new}/describe", {})["originalInput"] == {"who": "filter"}
