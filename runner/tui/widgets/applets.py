"""The applets panel: the source folders found under the given paths, with their build state by content.

With an engine, a worker asks `/runner/sourceId` about each folder at start, then every POLL_S for the folders
whose files changed (their signature: paths, sizes, mtimes), and again for a folder when an applet of its name
is built; the answer says built, stale, not built or invalid. All file and engine I/O runs in that worker.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.text import Text
from textual import work
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from runner.client.api import EngineClient
from runner.errors import RunnerError
from runner.spec.events import AppletBuilt, Event
from runner.tui.applets import (
    BUILT,
    INVALID,
    NOT_BUILT,
    STALE,
    AppletSource,
    apply_build_event,
    apply_source_id,
    held_changed,
    signature,
)

POLL_S = 2.0
SOURCE_COLOURS = {BUILT: "green", STALE: "yellow", NOT_BUILT: "grey58", INVALID: "red"}
SOURCE_MARKS = {BUILT: "✓", STALE: "~", NOT_BUILT: "·", INVALID: "✗"}
NOTE_STYLES = {BUILT: "dim green", STALE: "yellow", INVALID: "red"}


def source_prompt(source: AppletSource) -> Text:
    """One row: a mark of the state in its colour and the applet's name; its note (problem, applet ID) below."""
    colour = SOURCE_COLOURS.get(source.state, "white")
    text = Text(f"{SOURCE_MARKS.get(source.state, '?')} ", style=colour, no_wrap=True, overflow="ellipsis")
    text.append(source.name, style="bold" if source.state == BUILT else "")
    if source.note and source.state in NOTE_STYLES:
        text.append(f"\n  {source.note}", style=NOTE_STYLES[source.state])
    return text


def counts(sources: list[AppletSource]) -> str:
    """The panel's subtitle: how many sources are in each state, by mark, in the states' colours."""
    shown = [(state, sum(s.state == state for s in sources)) for state in SOURCE_MARKS]
    return " ".join(f"[{SOURCE_COLOURS[state]}]{SOURCE_MARKS[state]}{n}[/]" for state, n in shown if n)


class AppletsPanel(OptionList):
    """The applet sources, one option each; the engine's answers and build events update their state."""

    def __init__(self, sources: list[AppletSource], client: EngineClient | None = None, **kwargs: Any) -> None:
        super().__init__(*self._source_options(sources), **kwargs)
        self.sources, self.client = sources, client
        self.border_title = "Applets"
        self.watching: tuple[str, ...] = ()
        self.border_subtitle = counts(sources)
        self._checking = False
        self._again: set[Path] = set()
        self._told = False

    def on_mount(self) -> None:
        """Ask the engine about every folder now, then poll their files for changes."""
        if self.client is not None:
            self.poll()
            self.set_interval(POLL_S, self.poll)

    @staticmethod
    def _source_options(sources: list[AppletSource]) -> list[Option]:
        if not sources:
            return [Option(Text("no dxapp.json found under the given paths", style="dim"), disabled=True)]
        return [Option(source_prompt(s), id=str(s.folder)) for s in sources]

    def poll(self) -> None:
        """Start a check of the changed folders (and those asked again), unless one is still running."""
        if self._checking or self.client is None:
            return
        self._checking = True
        again, self._again = frozenset(self._again), set()
        self.check_sources(again)

    @work(thread=True, group="sources")
    def check_sources(self, again: frozenset[Path]) -> None:
        """In a worker: each folder whose signature changed (or in `again`) is asked about."""
        assert self.client is not None
        answers: list[tuple[AppletSource, Any, Mapping[str, Any] | str]] = []
        for source in list(self.sources):
            now = signature(source.folder)
            if now == source.signature and source.folder not in again:
                continue
            try:
                answer: Mapping[str, Any] | str = self.client.call(
                    "/runner/sourceId", {"folder": str(source.folder.resolve())})
            except RunnerError as exc:
                answer = str(exc)
            answers.append((source, now, answer))
        self.app.call_from_thread(self._answered, answers)

    def _answered(self, answers: list[tuple[AppletSource, Any, Mapping[str, Any] | str]]) -> None:
        self._checking = False
        changed = False
        for source, now, answer in answers:
            if isinstance(answer, str):  # asked again at the next poll; said once
                if not self._told:
                    self._told = True
                    self.notify(f"build states unknown: {answer}", title="Applets", severity="warning")
                continue
            source.signature = now
            changed = apply_source_id(source, answer) or changed
        if changed:
            self._redraw()

    def apply(self, events: list[Event]) -> None:
        """Take in applet.built / applet.failed events; a build of a source's name has it asked about again."""
        touched = False
        for event in events:
            for source in apply_build_event(self.sources, event):
                touched = True
                if isinstance(event, AppletBuilt):
                    self._again.add(source.folder)
        if touched:
            self._redraw()
            self.poll()

    def built(self, applets: Mapping[str, str]) -> None:
        """Take in the newest applet the engine holds of each name: sources it concerns are asked about again."""
        for source in held_changed(self.sources, applets):
            self._again.add(source.folder)
        if self._again:
            self.poll()

    def _redraw(self) -> None:
        highlighted = self.highlighted
        self.clear_options()
        self.add_options(self._source_options(self.sources))
        self.highlighted = highlighted
        self._subtitle()

    def set_watching(self, names: Iterable[str]) -> None:
        """Name the applets watch mode is on for in the subtitle (none: the counts by state again)."""
        self.watching = tuple(sorted(names))
        self._subtitle()

    def _subtitle(self) -> None:
        # What is watched outranks the counts: a redraw after a build must not hide that watch mode is on.
        self.border_subtitle = (f"watching {escape(', '.join(self.watching))}" if self.watching
                                else counts(self.sources))
