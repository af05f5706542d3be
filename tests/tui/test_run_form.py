"""Pilot tests of the run form on a real engine: `r` on an applet, fields from its inputSpec, real runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Button, Collapsible, Input, Select, Static

from runner.client.api import EngineClient
from runner.client.files import upload_file
from runner.tui.app import RunnerApp, make_app
from runner.tui.screens.run_form import RunForm
from runner.tui.widgets.applets import AppletsPanel
from runner.tui.widgets.array_field import ArrayField
from runner.tui.widgets.field_box import FieldBox, ProjectFiles
from runner.tui.widgets.job_tree import JobTree
from tests.conftest import SAMPLE_APPS
from tests.integration.helpers import TEST_APPLETS
from tests.tui.conftest import until

pytestmark = [pytest.mark.docker, pytest.mark.asyncio]
SIZE = (100, 40)
FORM_APPLETS = Path(__file__).parent / "form_applets"
MISSING_FILE = "file-" + "0" * 24


async def open_form(app: RunnerApp, pilot: Any, name: str) -> RunForm:
    """Highlight an applet in the applets panel and press `r`; the form it opens."""
    panel = app.screen.query_one(AppletsPanel)
    panel.focus()
    panel.highlighted = next(i for i, s in enumerate(panel.sources) if s.name == name)
    await pilot.press("r")
    await until(pilot, f"the run form of {name}", lambda: isinstance(app.screen, RunForm))
    form = app.screen
    assert isinstance(form, RunForm)
    await until(pilot, "a field of the form focused", lambda: form.focused is not None)
    return form


async def submit_and_see_the_new_tree(app: RunnerApp, pilot: Any) -> str:
    """Press ctrl+s on a filled form; the root job it started, once the tree's cursor is on it."""
    before = set(app.model.jobs)  # the session's engine holds the other tests' jobs too
    await pilot.press("ctrl+s")
    await until(pilot, "the form closed", lambda: not isinstance(app.screen, RunForm))
    tree = app.screen.query_one(JobTree)
    await until(pilot, "the new tree selected", lambda: tree.selected_job is not None
                and tree.selected_job not in before and app.model.jobs[tree.selected_job].parent is None)
    job = tree.selected_job
    assert job is not None
    return job


def executions(engine: EngineClient) -> set[str]:
    """Every job the engine holds, as findExecutions lists them."""
    return {r["id"] for r in engine.call("/system/findExecutions", {})["results"]}


def field_error(form: RunForm, key: str) -> str:
    """The error shown under a field ('' when hidden)."""
    box = form.query_one(f"#field-{key}", FieldBox)
    return str(box.query_one(".field-error", Static).content) if box.has_class("-invalid") else ""


async def press_button(pilot: Any, button: Button) -> None:
    """Focus a button (scrolling it into view) and press it with Enter, as a keyboard user does."""
    button.focus()
    await until(pilot, f"{button} focused", lambda: button.has_focus)
    await pilot.press("enter")


def rows(field: ArrayField) -> list[str]:
    """The texts of an array field's rows, top to bottom."""
    return [row.value for row in field.rows()]


async def rows_become(pilot: Any, field: ArrayField, expected: list[str]) -> None:
    """Wait until an array field's rows are `expected`."""
    await until(pilot, f"the rows {expected} in {field.key}", lambda: rows(field) == expected)


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
        job = await submit_and_see_the_new_tree(app, pilot)
        tree = app.screen.query_one(JobTree)
        await until(pilot, f"{job} done", lambda: tree.nodes[job].label.plain.startswith("  done"))
        described = engine.call(f"/{job}/describe", {})
        assert described["input"] == {"who": "Form"} and described["output"] == {"greeting": "Hello, Form!"}
        assert described["timeout"] == 7 * 60 * 1000, "the override, not the applet's 10 minutes"


async def test_a_bad_int_shows_inline_errors_and_nothing_runs_until_fixed(engine: EngineClient) -> None:
    app = make_app(engine, paths=[TEST_APPLETS / "typed_inputs"])
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(app, pilot, "typed_inputs")
        assert form.query_one("#input-n", Input).has_focus, "the first field has the focus"
        await pilot.press(*"many")
        form.query_one("#input-timeout", Input).value = "soon"
        await pilot.press("ctrl+s")
        await until(pilot, "the inline errors", lambda: field_error(form, "n") != "")
        assert field_error(form, "n") == "expected an integer, got 'many'"
        assert field_error(form, "label") == "needed: text"
        assert field_error(form, "timeout").startswith("expected whole minutes")
        assert field_error(form, "color") == ""
        assert "3 field(s) need a fix" in str(form.query_one("#run-status", Static).content)
        assert isinstance(app.screen, RunForm), "a form with errors stays open"
        form.query_one("#input-n", Input).value = "3"
        form.query_one("#input-label", Input).value = "x"
        form.query_one("#input-timeout", Input).value = ""
        form.query_one("#input-instance-type", Select).value = "mem1_ssd1_v2_x2"
        job = await submit_and_see_the_new_tree(app, pilot)
        described = engine.call(f"/{job}/describe", {})
        assert described["input"] == {"n": 3, "label": "x", "color": "red"}
        assert described["instanceType"] == "mem1_ssd1_v2_x2"


async def test_escape_cancels_and_an_invalid_applet_opens_no_form(
        engine: EngineClient, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "dxapp.json").write_text('{"name": "broken", "inputSpec": [{"name": "n", "class": "integer"}]}')
    app = make_app(engine, paths=[SAMPLE_APPS / "hello_bash", broken])
    started_before = executions(engine)  # the engine's record, not the model's (it may still be replaying)
    async with app.run_test(size=SIZE) as pilot:
        await open_form(app, pilot, "hello_bash")
        await pilot.press("escape")
        await until(pilot, "the form closed", lambda: not isinstance(app.screen, RunForm))
        panel = app.screen.query_one(AppletsPanel)
        panel.highlighted = next(i for i, s in enumerate(panel.sources) if s.name == "broken")
        await pilot.press("r")
        await until(pilot, "why there is no form", lambda: any(
            "unknown class 'integer'" in str(n.message) for n in app._notifications))
        assert not isinstance(app.screen, RunForm)
        assert executions(engine) == started_before, "a cancelled form and a refused applet started nothing"


async def test_a_local_file_is_uploaded_and_the_engines_refusal_shows_on_its_field(
        engine: EngineClient, tmp_path: Path) -> None:
    reads = tmp_path / "reads.txt"
    reads.write_text("one\ntwo\nthree\n")
    (tmp_path / "extra.txt").write_text("four\n")
    assert engine.project is not None
    extra = upload_file(engine, tmp_path / "extra.txt", project=engine.project, folder="/", name="extra.txt")
    app = make_app(engine, paths=[SAMPLE_APPS / "file_pipeline"])
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(app, pilot, "file_pipeline")
        form.query_one("#input-reads", Input).value = str(reads)
        extras = form.query_one("#field-extras", ArrayField)
        assert extras.rows() == [], "an optional array without default starts with no rows"
        files = form.query_one("#files-extras", ProjectFiles)
        await until(pilot, "the project's files listed", lambda: not files.disabled)
        files.value = extra
        await rows_become(pilot, extras, [extra])
        await press_button(pilot, extras.query_one(".add-row", Button))
        await rows_become(pilot, extras, [extra, ""])
        await until(pilot, "the new row focused", lambda: extras.rows()[1].has_focus)
        await pilot.press(*MISSING_FILE)
        await pilot.press("ctrl+s")
        status = form.query_one("#run-status", Static)
        await until(pilot, "the engine's refusal", lambda: "refused" in str(status.content)
                    or "not started" in str(status.content))
        assert field_error(form, "extras") == f"the input object {MISSING_FILE} does not exist"
        assert field_error(form, "reads") == "" and isinstance(app.screen, RunForm)
        await press_button(pilot, extras.query(".remove-row").last(Button))
        await rows_become(pilot, extras, [extra])
        job = await submit_and_see_the_new_tree(app, pilot)
        tree = app.screen.query_one(JobTree)
        await until(pilot, f"{job} done", lambda: tree.nodes[job].label.plain.startswith("  done"))
        run_input = engine.call(f"/{job}/describe", {})["input"]
        assert run_input["extras"] == [{"$dnanexus_link": extra}], "the picked project file"
        uploaded = run_input["reads"]["$dnanexus_link"]
        assert engine.call(f"/{uploaded}/describe", {})["name"] == "reads.txt"


async def test_arrays_are_rows_groups_are_sections_and_a_project_file_can_be_picked(
        engine: EngineClient, tmp_path: Path) -> None:
    (tmp_path / "picked.txt").write_text("picked\n")
    assert engine.project is not None
    picked = upload_file(engine, tmp_path / "picked.txt", project=engine.project, folder="/",
                         name="picked.txt")
    app = make_app(engine, paths=[FORM_APPLETS / "many_inputs"])
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(app, pilot, "many_inputs")
        advanced = form.query_one(".run-group", Collapsible)
        assert advanced.title == "Advanced" and not advanced.collapsed
        assert [box.key for box in advanced.query(FieldBox)] == ["mode", "verbose", "ratio"]
        assert "reads" not in [box.key for box in advanced.query(FieldBox)], "ungrouped inputs come first"
        assert "Reads (reads)" in str(form.query_one("#field-reads").query_one("Label").content)
        assert "file · required" in str(form.query_one("#field-reads").query_one("Label").content)

        files = form.query_one("#files-reads", ProjectFiles)
        await until(pilot, "the project's files listed", lambda: not files.disabled)
        assert any(value == picked and "picked.txt" in str(text) for text, value in files._options)
        files.value = picked
        await until(pilot, "the picked file in the field",
                    lambda: form.query_one("#input-reads", Input).value == picked)

        counts = form.query_one("#field-counts", ArrayField)
        assert rows(counts) == ["1", "2"], "the default's values are the rows"
        await press_button(pilot, counts.query_one(".add-row", Button))
        await rows_become(pilot, counts, ["1", "2", ""])
        await until(pilot, "the new row focused", lambda: counts.rows()[2].has_focus)
        await pilot.press(*"x7")
        await press_button(pilot, counts.query(".remove-row").first(Button))
        await rows_become(pilot, counts, ["2", "x7"])
        words = form.query_one("#field-words", ArrayField)
        await press_button(pilot, words.query_one(".add-row", Button))
        await rows_become(pilot, words, [""])
        await until(pilot, "the new row focused", lambda: words.rows()[0].has_focus)
        await pilot.press(*"hello world")
        await press_button(pilot, words.query_one(".add-row", Button))  # left empty: no value
        await rows_become(pilot, words, ["hello world", ""])

        await pilot.press("ctrl+s")
        await until(pilot, "the inline error", lambda: field_error(form, "counts") != "")
        assert field_error(form, "counts") == "row 2: expected an integer, got 'x7'"
        counts.rows()[1].value = "7"
        job = await submit_and_see_the_new_tree(app, pilot)
        assert engine.call(f"/{job}/describe", {})["input"] == {
            "reads": {"$dnanexus_link": picked}, "counts": [2, 7], "words": ["hello world"], "mode": "fast",
            "verbose": False}
