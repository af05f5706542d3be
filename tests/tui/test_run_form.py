"""Pilot tests of the run form against a real engine: `r` on an applet, fields from its inputSpec, a real run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Select, Static, TextArea

from runner.client.api import EngineClient
from runner.tui.app import RunnerApp, make_app
from runner.tui.screens.run_form import RunForm
from runner.tui.widgets.applets import AppletsPanel
from runner.tui.widgets.input_fields import FieldBox
from runner.tui.widgets.job_tree import JobTree
from tests.conftest import SAMPLE_APPS
from tests.integration.helpers import TEST_APPLETS
from tests.tui.conftest import until

pytestmark = [pytest.mark.docker, pytest.mark.asyncio]
SIZE = (100, 40)


async def open_form(app: RunnerApp, pilot: Any, name: str) -> RunForm:
    """Highlight an applet in the applets panel and press `r`; the form it opens."""
    panel = app.screen.query_one(AppletsPanel)
    panel.focus()
    panel.highlighted = next(i for i, s in enumerate(panel.sources) if s.name == name)
    await pilot.press("r")
    await until(pilot, f"the run form of {name}", lambda: isinstance(app.screen, RunForm))
    assert isinstance(app.screen, RunForm)
    return app.screen


def field_error(form: RunForm, key: str) -> str:
    """The error shown under a field ('' when hidden)."""
    box = form.query_one(f"#field-{key}", FieldBox)
    return str(box.query_one(".field-error", Static).content) if box.has_class("-invalid") else ""


async def test_the_form_runs_hello_bash_and_selects_the_tree_until_done(engine: EngineClient) -> None:
    app = make_app(engine, paths=[SAMPLE_APPS])
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(app, pilot, "hello_bash")
        who = form.query_one("#input-who", Input)
        assert who.value == "World", "the default is the field's starting text"
        assert "Who to greet (who)" in str(form.query_one("#field-who").query_one("Label").content)
        types = form.query_one("#input-instance-type", Select)
        assert any("mem1_ssd1_v2_x4  4 cores, 8 GiB" in str(prompt) for prompt, _ in types._options)
        who.value = "Form"
        form.query_one("#input-timeout", Input).value = "7"
        await pilot.press("ctrl+s")
        await until(pilot, "the form closed", lambda: not isinstance(app.screen, RunForm))
        tree = app.screen.query_one(JobTree)
        await until(pilot, "the new tree selected", lambda: tree.selected_job is not None)
        job = tree.selected_job
        assert job is not None
        await until(pilot, f"{job} done", lambda: tree.nodes[job].label.plain.startswith("  done"))
        described = engine.call(f"/{job}/describe", {})
        assert described["input"] == {"who": "Form"} and described["output"] == {"greeting": "Hello, Form!"}
        assert described["timeout"] == 7 * 60 * 1000, "the override, not the applet's 10 minutes"


async def test_bad_fields_show_inline_errors_and_nothing_runs(engine: EngineClient, tmp_path: Path) -> None:
    app = make_app(engine, paths=[TEST_APPLETS / "typed_inputs"])
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(app, pilot, "typed_inputs")
        form.query_one("#input-n", Input).value = "many"
        form.query_one("#input-timeout", Input).value = "soon"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert field_error(form, "n") == "expected an integer, got 'many'"
        assert field_error(form, "label") == "needed: text"
        assert field_error(form, "timeout").startswith("expected whole minutes")
        assert field_error(form, "color") == ""
        assert isinstance(app.screen, RunForm), "a form with errors stays open"
        form.query_one("#input-n", Input).value = "3"
        form.query_one("#input-label", Input).value = "x"
        form.query_one("#input-timeout", Input).value = ""
        form.query_one("#input-instance-type", Select).value = "mem1_ssd1_v2_x2"
        await pilot.press("ctrl+s")
        await until(pilot, "the form closed", lambda: not isinstance(app.screen, RunForm))
        tree = app.screen.query_one(JobTree)
        await until(pilot, "the new tree selected", lambda: tree.selected_job is not None)
        job = tree.selected_job
        described = engine.call(f"/{job}/describe", {})
        assert described["input"] == {"n": 3, "label": "x", "color": "red"}
        assert described["instanceType"] == "mem1_ssd1_v2_x2"


async def test_escape_cancels_and_an_invalid_applet_opens_no_form(engine: EngineClient, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "dxapp.json").write_text('{"name": "broken", "inputSpec": [{"name": "n", "class": "integer"}]}')
    app = make_app(engine, paths=[SAMPLE_APPS / "hello_bash", broken])
    async with app.run_test(size=SIZE) as pilot:
        await open_form(app, pilot, "hello_bash")
        await pilot.press("escape")
        assert not isinstance(app.screen, RunForm)
        panel = app.screen.query_one(AppletsPanel)
        panel.highlighted = next(i for i, s in enumerate(panel.sources) if s.name == "broken")
        await pilot.press("r")
        await pilot.pause()
        assert not isinstance(app.screen, RunForm)
        shown = [str(n.message) for n in app._notifications]
        assert any("unknown class 'integer'" in m for m in shown), shown


async def test_a_local_file_is_uploaded_and_the_engines_refusal_shows_on_its_field(
        engine: EngineClient, tmp_path: Path) -> None:
    reads = tmp_path / "reads.txt"
    reads.write_text("one\ntwo\nthree\n")
    app = make_app(engine, paths=[SAMPLE_APPS / "file_pipeline"])
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(app, pilot, "file_pipeline")
        form.query_one("#input-reads", Input).value = str(reads)
        form.query_one("#input-extras", TextArea).text = "file-" + "0" * 24
        await pilot.press("ctrl+s")
        status = form.query_one("#run-status", Static)
        await until(pilot, "the engine's refusal", lambda: "refused" in str(status.content)
                    or "not started" in str(status.content))
        assert field_error(form, "extras") == f"the input object file-{'0' * 24} does not exist"
        assert field_error(form, "reads") == "" and isinstance(app.screen, RunForm)
        form.query_one("#input-extras", TextArea).text = ""
        await pilot.press("ctrl+s")
        await until(pilot, "the form closed", lambda: not isinstance(app.screen, RunForm))
        tree = app.screen.query_one(JobTree)
        await until(pilot, "the new tree selected", lambda: tree.selected_job is not None)
        job = tree.selected_job
        assert job is not None
        await until(pilot, f"{job} done", lambda: tree.nodes[job].label.plain.startswith("  done"))
        uploaded = engine.call(f"/{job}/describe", {})["input"]["reads"]["$dnanexus_link"]
        assert engine.call(f"/{uploaded}/describe", {})["name"] == "reads.txt"
