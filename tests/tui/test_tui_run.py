"""`runner tui --run NAME -i ...`: the named applet is built and started, and the TUI opens on its tree."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Static

from runner.cli.tui import named_source, start_named
from runner.client.api import EngineClient
from runner.errors import UsageError
from runner.tui.app import make_app
from runner.tui.screens.run_form import RunForm
from runner.tui.widgets.applets import AppletsPanel
from runner.tui.widgets.job_tree import JobTree
from runner.tui.widgets.log_view import LogView
from tests.conftest import SAMPLE_APPS
from tests.tui.conftest import until
from tests.tui.test_cli import runner

SIZE = (120, 36)


def test_a_name_not_found_exits_3_listing_the_applets_before_any_engine(tmp_path: Path) -> None:
    home = tmp_path / "home"
    done = runner("tui", str(SAMPLE_APPS), "--run", "hello_bsh", home=home)
    assert done.returncode == 3, done.stderr
    assert "--run hello_bsh: no applet of that name under" in done.stderr
    assert "applets found: failing_subjob, file_pipeline, gpu_check, hello_bash, hello_python" in done.stderr
    assert "Traceback" not in done.stderr
    assert not home.exists(), "no engine was started"


def test_bad_inputs_and_inputs_without_run_exit_3_naming_the_input(tmp_path: Path) -> None:
    home = tmp_path / "home"
    done = runner("tui", str(SAMPLE_APPS), "--run", "hello_bash", "-i", "whom=x", home=home)
    assert done.returncode == 3
    assert "-i whom: the applet has no input named 'whom' (inputs: who)" in done.stderr
    done = runner("tui", str(SAMPLE_APPS), "-i", "who=x", home=home)
    assert done.returncode == 3 and "-i: only with --run NAME" in done.stderr
    assert not home.exists(), "no engine was started"


def test_a_folder_name_finds_its_applet_too() -> None:
    assert named_source([SAMPLE_APPS], "hello_bash").folder == SAMPLE_APPS / "hello_bash"
    with pytest.raises(UsageError, match="applets found: none"):
        named_source([SAMPLE_APPS / "hello_bash" / "src"], "hello_bash")


@pytest.mark.docker
@pytest.mark.asyncio
async def test_the_started_tree_is_selected_when_the_tui_opens_and_runs_to_done(engine: EngineClient) -> None:
    job = start_named(engine, named_source([SAMPLE_APPS], "hello_bash"), ["who=Run"])
    app = make_app(engine, paths=[SAMPLE_APPS], select=job)
    async with app.run_test(size=SIZE) as pilot:
        tree = app.screen.query_one(JobTree)
        await until(pilot, f"{job} selected", lambda: tree.selected_job == job)
        await until(pilot, f"{job} done", lambda: tree.nodes[job].label.plain.startswith("  done"))
        log = app.screen.query_one("#log-view", LogView)
        await until(pilot, "its greeting in the log",
                    lambda: any("Hello, Run!" in line for line in log.lines))
        await until(pilot, "hello_bash built in the applets panel", lambda: any(
            s.name == "hello_bash" and s.applet is not None
            for s in app.screen.query_one(AppletsPanel).sources))
        await pilot.press("r")
        await until(pilot, "a run form", lambda: isinstance(app.screen, RunForm))
        assert "Run Hello (bash)" in str(app.screen.query_one("#run-title", Static).content), \
            "r on the selected tree opens its applet's form, whichever applet the panel highlights"
    assert engine.call(f"/{job}/describe", {})["input"] == {"who": "Run"}
