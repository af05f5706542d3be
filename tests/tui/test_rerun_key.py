"""Pilot test of `R` against a real engine: on a subjob, that subjob alone runs again, as a new root job of its
entry point with the input and instance type it ran with; on the root, the whole tree, as `runner rerun` does:
with the run's options (instance type, folder, name, tags, timeout...) and linked to it by `rerunOf`."""

from __future__ import annotations

from typing import Any

import pytest

from runner.client.api import EngineClient
from runner.tui.app import make_app
from runner.tui.widgets.job_tree import JobTree
from tests.conftest import SAMPLE_APPS
from tests.integration.helpers import build_sample, tree_jobs, wait_terminal
from tests.tui.conftest import until
from tests.tui.test_app_engine import SIZE, row, select

pytestmark = [pytest.mark.docker, pytest.mark.asyncio]


def keep_notifications(app: Any) -> list[str]:
    """What the app says from now on (Textual drops a notification once its timeout passes)."""
    said: list[str] = []
    notify = app.notify

    def keep(message: str, **how: Any) -> None:
        said.append(str(message))
        notify(message, **how)

    app.notify = keep
    return said


CARRIED = ("project", "folder", "name", "tags", "properties", "priority", "systemRequirements", "instanceType",
           "executionPolicy", "timeout")


async def test_r_on_a_subjob_re_runs_it_alone_and_on_the_root_the_tree(engine: EngineClient) -> None:
    applet = build_sample(engine, "scatter_gather_python")
    options = {"name": "squares", "folder": "/tui/out", "tags": ["t"], "properties": {"k": "v"}, "priority": "low",
               "systemRequirements": {"*": {"instanceType": "mem1_ssd1_v2_x2"},
                                      "gather": {"instanceType": "mem1_ssd1_v2_x4"}},
               "executionPolicy": {"restartOn": {"AppInternalError": 1}},
               "timeoutPolicyByExecutable": {applet: {"*": {"minutes": 9}}}}
    root = engine.call(f"/{applet}/run", {"project": engine.project, "input": {"n": 2}, **options})["id"]
    assert wait_terminal(engine, root)["state"] == "done"
    gather = next(job for job in tree_jobs(engine, root) if job["function"] == "gather")
    assert gather["instanceType"] == "mem1_ssd1_v2_x4"
    app = make_app(engine, paths=[SAMPLE_APPS])
    async with app.run_test(size=SIZE) as pilot:
        tree = app.screen.query_one(JobTree)
        await until(pilot, "the tree done", lambda: "done" in row(app, root))
        await select(app, pilot, gather["id"])
        said = keep_notifications(app)
        roots_before = set(app.model.roots)
        await pilot.press("R")
        await until(pilot, "a new tree", lambda: set(app.model.roots) - roots_before)
        (new,) = set(app.model.roots) - roots_before
        await until(pilot, "the new tree selected", lambda: tree.selected_job == new)
        await until(pilot, "the re-run done", lambda: "done" in row(app, new))
        assert any(f"the same input as {gather['id']}" in message for message in said), said
        described = engine.call(f"/{new}/describe", {})
        assert (described["function"], described["rerunOf"]) == ("gather", gather["id"])
        assert described["input"] == gather["input"] == {"squares": [0, 1]}
        assert described["output"] == {"total": 1} and app.model.jobs[new].children == []
        assert (described["instanceType"], described["timeout"], described["folder"]) == (
            "mem1_ssd1_v2_x4", 9 * 60_000, "/tui/out")

        await select(app, pilot, root)
        roots_before = set(app.model.roots)
        await pilot.press("R")
        await until(pilot, "a new tree of main", lambda: set(app.model.roots) - roots_before)
        (again,) = set(app.model.roots) - roots_before
        described = engine.call(f"/{again}/describe", {})
        assert (described["function"], described["originalInput"]) == ("main", {"n": 2})
        first = engine.call(f"/{root}/describe", {})
        assert {key: described.get(key) for key in CARRIED} == {key: first.get(key) for key in CARRIED}
        assert described["rerunOf"] == root  # as runner rerun ROOT: the new tree re-runs that one
        await until(pilot, "the tree re-run done", lambda: "done" in row(app, again))
        instance_types = {job["function"]: job["instanceType"] for job in tree_jobs(engine, again)}
        assert instance_types == {"main": "mem1_ssd1_v2_x2", "square": "mem1_ssd1_v2_x2", "gather": "mem1_ssd1_v2_x4"}
