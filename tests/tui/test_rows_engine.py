"""The applets panel's build states, the host's capacity and `o`, against a real engine (real builds in Docker)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from textual.widgets import OptionList

from runner.client.api import EngineClient
from runner.tui.app import RunnerApp, make_app
from runner.tui.applets import AppletSource
from runner.tui.capacity import Capacity
from runner.tui.https_app import NO_APP
from runner.tui.widgets.applets import AppletsPanel
from runner.tui.widgets.job_tree import JobTree
from tests.conftest import SAMPLE_APPS
from tests.integration.helpers import run_sample, wait_terminal
from tests.tui.conftest import until

pytestmark = [pytest.mark.docker, pytest.mark.asyncio]
SIZE = (120, 36)


def greeter_copy(tmp_path: Path, name: str) -> Path:
    """sample_apps/hello_bash copied and renamed `name`, so no other test builds an applet of that name."""
    folder = Path(shutil.copytree(SAMPLE_APPS / "hello_bash", tmp_path / name))
    spec = json.loads((folder / "dxapp.json").read_text())
    (folder / "dxapp.json").write_text(json.dumps({**spec, "name": name}))
    return folder


def source_of(app: RunnerApp, name: str) -> AppletSource:
    return next(s for s in app.screen.query_one(AppletsPanel).sources if s.name == name)


def shown(app: RunnerApp, name: str) -> str:
    """The panel's row of applet `name` as the screen shows it."""
    panel = app.screen.query_one("#applets", OptionList)
    for index in range(panel.option_count):
        prompt = str(panel.get_option_at_index(index).prompt)
        if f" {name}" in prompt.split("\n")[0]:
            return prompt
    return ""


async def test_a_built_source_goes_stale_when_edited_and_built_again(engine: EngineClient, tmp_path: Path) -> None:
    folder = greeter_copy(tmp_path, "rows_greeter")
    first = engine.call("/runner/build", {"folder": str(folder)}, timeout_s=None)["id"]
    app = make_app(engine, paths=[folder])
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, "the source built", lambda: source_of(app, "rows_greeter").state == "built")
        assert shown(app, "rows_greeter") == f"✓ rows_greeter\n  {first}"
        script = folder / "src" / "hello_bash.sh"
        script.write_text(script.read_text().replace("Hello", "Howdy"))
        await until(pilot, "the edited source stale", lambda: source_of(app, "rows_greeter").state == "stale")
        assert shown(app, "rows_greeter") == f"~ rows_greeter\n  changed since {first}"
        second = engine.call("/runner/build", {"folder": str(folder)}, timeout_s=None)["id"]
        assert second != first
        await until(pilot, "the source built again", lambda: source_of(app, "rows_greeter").state == "built")
        assert source_of(app, "rows_greeter").applet == second


async def test_a_source_never_built_then_one_with_a_link_out_of_its_folder(engine: EngineClient,
                                                                           tmp_path: Path) -> None:
    fresh = greeter_copy(tmp_path, "rows_fresh")
    leaky = greeter_copy(tmp_path, "rows_leaky")
    app = make_app(engine, paths=[tmp_path])
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, "both asked about", lambda: all(s.applet for s in app.screen.query_one(AppletsPanel).sources))
        assert (source_of(app, "rows_fresh").state, shown(app, "rows_fresh")) == ("not built", "· rows_fresh")
        script = leaky / "src" / "hello_bash.sh"
        script.unlink()
        script.symlink_to(SAMPLE_APPS / "hello_bash" / "src" / "hello_bash.sh")
        await until(pilot, "the leaky source invalid", lambda: source_of(app, "rows_leaky").state == "invalid")
        assert "outside the applet folder" in shown(app, "rows_leaky")
        assert "✗1" in str(app.screen.query_one(AppletsPanel).border_subtitle)
        seen = source_of(app, "rows_fresh").signature
        os.utime(fresh / "dxapp.json", (1, 1))
        await until(pilot, "the touch seen", lambda: source_of(app, "rows_fresh").signature != seen)
        assert source_of(app, "rows_fresh").state == "not built", "a touched file is no change"
        assert shown(app, "rows_fresh") == "· rows_fresh"


async def test_the_tree_knows_the_host_and_o_says_a_job_has_no_https_app(engine: EngineClient) -> None:
    job = run_sample(engine, "hello_bash", {"who": "rows"})
    wait_terminal(engine, job)
    app = make_app(engine, paths=[SAMPLE_APPS])
    async with app.run_test(size=SIZE) as pilot:
        tree = app.screen.query_one(JobTree)
        await until(pilot, "the host's capacity", lambda: tree.host is not None)
        assert tree.host == Capacity.of_answer(engine.call("/runner/host", {}))
        assert tree.host is not None and tree.host.cores == len(os.sched_getaffinity(0))
        await until(pilot, "the job's row", lambda: job in tree.nodes)
        tree.move_cursor(tree.nodes[job])
        await pilot.press("o")
        await until(pilot, "no HTTPS app said", lambda: any(
            f"{job}: {NO_APP}" == str(n.message) for n in app._notifications))


async def test_an_engine_that_refuses_the_questions_leaves_the_local_states_and_says_why(
        engine: EngineClient) -> None:
    refused = EngineClient(engine.url, "not-a-token", engine.project)
    app = make_app(refused, paths=[Path(__file__).parent / "sources"], events=[])
    async with app.run_test(size=SIZE) as pilot:
        def said(start: str) -> bool:
            return any(str(n.message).startswith(start) for n in app._notifications)
        await until(pilot, "the build states unknown", lambda: said("build states unknown: "))
        await until(pilot, "the host unknown", lambda: said("the host's capacity is unknown: "))
        assert {s.name: s.state for s in app.screen.query_one(AppletsPanel).sources} == {
            "broken": "invalid", "greeter": "not built"}
        assert app.screen.query_one(JobTree).host is None
        messages = " ".join(str(n.message) for n in app._notifications)
        assert "Traceback" not in messages and "token" in messages.lower(), messages


async def test_the_id_asked_about_is_the_id_a_build_gives_resources_included(engine: EngineClient,
                                                                             tmp_path: Path) -> None:
    folder = Path(shutil.copytree(SAMPLE_APPS / "file_pipeline", tmp_path / "file_pipeline"))
    asked = engine.call("/runner/sourceId", {"folder": str(folder)})
    assert asked["problems"] == [] and asked["id"]
    built = engine.call("/runner/build", {"folder": str(folder)}, timeout_s=None)
    assert built["id"] == asked["id"]
    assert engine.call("/runner/sourceId", {"folder": str(folder)})["built"] is True
