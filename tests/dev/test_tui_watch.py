"""The TUI's `w` (Pilot, real engine): watch mode for the selected applet on, a save re-runs it, `w` again off."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.content import Content

from runner.client.api import EngineClient
from runner.tui.app import make_app
from runner.tui.widgets.applets import AppletsPanel, counts
from runner.tui.widgets.job_tree import JobTree
from tests.dev.conftest import QUICK_SCRIPT, write_applet
from tests.tui.conftest import until

pytestmark = [pytest.mark.docker, pytest.mark.asyncio]


def counts_shown(panel: AppletsPanel) -> bool:
    """Whether the panel's subtitle is its usual one again: how many applets are in each build state."""
    return Content.from_markup(panel.border_subtitle).plain == Content.from_markup(counts(panel.sources)).plain


async def test_w_watches_the_selected_applet_re_runs_it_on_a_save_and_w_again_stops(
        tmp_path: Path, engine: EngineClient) -> None:
    folder = write_applet(tmp_path / "apps" / "watched", QUICK_SCRIPT % "tui-v0", name="tui_watched")
    app = make_app(engine, paths=[tmp_path / "apps"])
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.screen
        panel = screen.query_one("#applets", AppletsPanel)
        panel.focus()
        panel.highlighted = 0
        await pilot.press("w")
        await until(pilot, "the panel naming what is watched", lambda: panel.border_subtitle == "watching tui_watched")

        def runs() -> list[str]:
            return [j.id for j in app.model.jobs.values() if j.parent is None and j.name == "tui_watched"]

        def done(count: int) -> bool:
            return len(runs()) == count and all(app.model.jobs[job].state == "done" for job in runs())

        await until(pilot, "the first run done", lambda: done(1))
        await until(pilot, "the panel redrawn with the build", lambda: panel.sources[0].state == "built")
        await pilot.pause()
        assert panel.border_subtitle == "watching tui_watched", "the build's redraw of the panel kept it"
        (folder / "src" / "code.sh").write_text(QUICK_SCRIPT % "tui-v1")
        await until(pilot, "the re-run after the save done", lambda: done(2))
        tree = screen.query_one(JobTree)
        assert all(job in tree.nodes for job in runs())
        outputs = [engine.call(f"/{job}/describe", {})["output"] for job in runs()]
        assert sorted(o["version"] for o in outputs) == ["tui-v0", "tui-v1"]
        (loop,) = screen.watch_mode.loops.values()  # type: ignore[attr-defined]
        await pilot.press("w")
        await until(pilot, "the panel's usual subtitle", lambda: counts_shown(panel))
        await until(pilot, "the watch loop stopped", lambda: loop.finished)
        assert loop.stopping.is_set() and not screen.watch_mode.loops  # type: ignore[attr-defined]


ECHO_SCRIPT = """main() {
    dx-jobutil-add-output version "$word" --class=string
}
"""


async def test_w_runs_with_the_input_of_the_applets_newest_run(tmp_path: Path, engine: EngineClient) -> None:
    folder = write_applet(tmp_path / "apps" / "echoing", ECHO_SCRIPT, name="tui_echoing",
                          inputSpec=[{"name": "word", "class": "string"}])
    built = engine.call("/runner/build", {"folder": str(folder)}, timeout_s=None)
    first = engine.call(f"/{built['id']}/run", {"project": engine.project, "input": {"word": "given-before"}})["id"]
    app = make_app(engine, paths=[tmp_path / "apps"])
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.screen
        await until(pilot, "the earlier run in the tree", lambda: first in app.model.jobs)
        panel = screen.query_one("#applets", AppletsPanel)
        panel.focus()
        panel.highlighted = 0
        await pilot.press("w")

        def watched_run() -> str | None:
            later = [j for j in app.model.jobs.values() if j.parent is None and j.name == "tui_echoing"
                     and j.id != first and j.state == "done"]
            return later[0].id if later else None

        await until(pilot, "the watch run done", lambda: watched_run() is not None)
        job = watched_run()
        assert engine.call(f"/{job}/describe", {})["output"] == {"version": "given-before"}
        await pilot.press("w")
        await until(pilot, "the panel's usual subtitle", lambda: counts_shown(panel))
