"""The TUI's `w`: watch mode for an applet folder, on and off, the same loop as `runner dev` in a worker thread.

Its notes show as notifications, and the applets panel's subtitle names what is watched. Each run has the
applet's default input (an applet with a required input says so at each run and watching goes on); turning
watch mode off leaves a running tree running (`t` terminates it).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import OptionList

from runner.client.api import EngineClient
from runner.dev.loop import DevLoop, DevOptions
from runner.dev.report import ERROR, WARNING, Note
from runner.dev.runs import same_request
from runner.errors import RunnerError
from runner.tui.applets import AppletSource

SEVERITY: dict[str, SeverityLevel] = {ERROR: "error", WARNING: "warning"}
NOTE_SECONDS = {ERROR: 20.0, WARNING: 8.0}


class WatchMode:
    """The folders watched from one screen: one DevLoop each, started and stopped by `toggle`."""

    def __init__(self, screen: Screen[None], client: EngineClient | None, panel_id: str = "#applets") -> None:
        self.screen, self.client, self.panel_id = screen, client, panel_id
        self.loops: dict[Path, DevLoop] = {}
        self.names: dict[Path, str] = {}

    def toggle(self, source: AppletSource | None) -> None:
        """Watch `source`'s folder, or stop watching it when it is watched already."""
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
            start = same_request(own, {"project": own.project, "input": {}})
            loop = DevLoop(own, DevOptions(folder, keep_running=True), start, self._note_from_thread(source.name))
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
        panel = self.screen.query_one(self.panel_id, OptionList)
        watched = ", ".join(sorted(self.names.values()))
        panel.border_subtitle = f"watching {watched}" if watched else "✓ built ✗ invalid"


def highlighted_source(screen: Screen[None], sources: list[AppletSource], panel_id: str = "#applets") \
        -> AppletSource | None:
    """The applet source under the applets panel's cursor."""
    index = screen.query_one(panel_id, OptionList).highlighted
    return sources[index] if index is not None and 0 <= index < len(sources) else None
