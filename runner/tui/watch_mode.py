"""The TUI's `w`: watch mode for an applet folder, on and off, the same loop as `runner dev` in a worker thread.

Its notes show as notifications, and the applets panel's subtitle names what is watched. Each run has the input
of the applet's newest run shown in the tree (job-based references resolved, as `runner rerun` reads it), or its
default input when it has not run yet (an applet with a required input says so at each run and watching goes
on); turning watch mode off leaves a running tree running (`t` terminates it).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import OptionList

from runner.client.api import EngineClient
from runner.client.reruns import recorded_input
from runner.dev.loop import DevLoop, DevOptions, Starter
from runner.dev.report import ERROR, INFO, WARNING, Note
from runner.dev.runs import same_request
from runner.errors import RunnerError
from runner.tui.applets import AppletSource
from runner.tui.model import JobsModel
from runner.tui.widgets.applets import AppletsPanel

SEVERITY: dict[str, SeverityLevel] = {ERROR: "error", WARNING: "warning"}
NOTE_SECONDS = {ERROR: 20.0, WARNING: 8.0}


class WatchMode:
    """The folders watched from one screen: one DevLoop each, started and stopped by `toggle`."""

    def __init__(self, screen: Screen[None], client: EngineClient | None, panel_id: str = "#applets") -> None:
        self.screen, self.client, self.panel_id = screen, client, panel_id
        self.loops: dict[Path, DevLoop] = {}
        self.names: dict[Path, str] = {}

    def toggle(self, source: AppletSource | None, newest_run: str | None = None) -> None:
        """Watch `source`'s folder, or stop watching it when it is watched already.

        Runs take the input `newest_run` (a root job of the applet) was given; the default input without one.
        """
        if source is None:
            self.screen.notify("Select an applet in the applets panel first", severity="warning")
            return
        if self.client is None:
            self.screen.notify("no engine: watch mode needs one", severity="error")
            return
        folder = source.folder.resolve()
        if folder in self.loops:
            self.loops.pop(folder).stop()
            self.names.pop(folder, None)
        else:
            own = EngineClient(self.client.url, self.client.token, self.client.project)
            say = self._note_from_thread(source.name)
            loop = DevLoop(own, DevOptions(folder, keep_running=True), with_input_of(own, newest_run, say), say)
            self.loops[folder], self.names[folder] = loop, source.name
            self.screen.run_worker(lambda: self._run(loop, source.name, folder), name=f"watch {source.name}",
                                   group="watch", thread=True, exit_on_error=False)
        self._subtitle()

    def _run(self, loop: DevLoop, name: str, folder: Path) -> None:
        try:
            loop.run()
        except RunnerError as exc:  # watching could not begin (the folder went away, ...)
            self.screen.app.call_from_thread(self._failed, name, folder, exc)

    def _failed(self, name: str, folder: Path, error: RunnerError) -> None:
        self.loops.pop(folder, None)
        self.names.pop(folder, None)
        self._show(name, Note((f"watch mode stopped: {error}",), ERROR))
        self._subtitle()

    def stop_all(self) -> None:
        """Stop every loop (the screen goes away)."""
        for loop in self.loops.values():
            loop.stop()
        self.loops.clear()

    def _note_from_thread(self, name: str) -> Callable[[Note], None]:
        def say(note: Note) -> None:
            self.screen.app.call_from_thread(self._show, name, note)
        return say

    def _show(self, name: str, note: Note) -> None:
        self.screen.notify(note.text, title=f"watch {name}", severity=SEVERITY.get(note.level, "information"),
                           timeout=NOTE_SECONDS.get(note.level, 4.0))

    def _subtitle(self) -> None:
        self.screen.query_one(self.panel_id, AppletsPanel).set_watching(self.names.values())


def with_input_of(client: EngineClient, job: str | None, say: Callable[[Note], None]) -> Starter:
    """A starter running each build with the input `job` ran with (read once, at the first run), else none."""
    body: dict[str, Any] | None = None

    def start(applet: str, rerun_of: str | None) -> str:
        nonlocal body
        if body is None:
            body = {"project": client.project, "input": _recorded_or_default(client, job, say)}
        return same_request(client, body)(applet, rerun_of)

    return start


def _recorded_or_default(client: EngineClient, job: str | None, say: Callable[[Note], None]) -> dict[str, Any]:
    if job is None:
        return {}
    try:
        recorded = recorded_input(client, job)
    except RunnerError as exc:
        say(Note((f"the input of {job} could not be read ({exc}); running with the default input",), WARNING))
        return {}
    if recorded.entry != "main":
        return {}
    say(Note((f"running with the input of {job}",), INFO))
    return dict(recorded.input)


def newest_run(model: JobsModel, source: AppletSource) -> str | None:
    """The newest root job of `source`'s applet in the tree: by its applet ID, else by the applet's name."""
    ids = {source.applet, source.latest} - {None}
    for root in model.roots:  # newest first
        job = model.jobs.get(root)
        if job is not None and job.function == "main" and (job.executable in ids or job.name == source.name):
            return root
    return None


def highlighted_source(screen: Screen[None], sources: list[AppletSource], panel_id: str = "#applets") \
        -> AppletSource | None:
    """The applet source under the applets panel's cursor."""
    index = screen.query_one(panel_id, OptionList).highlighted
    return sources[index] if index is not None and 0 <= index < len(sources) else None
