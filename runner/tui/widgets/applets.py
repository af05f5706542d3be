"""The applets panel: the source folders found under the given paths, with their build state."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from runner.spec.events import Event
from runner.tui.applets import AppletSource, apply_build_event, mark_built

SOURCE_COLOURS = {"built": "green", "source": "grey58", "invalid": "red"}


SOURCE_MARKS = {"built": "✓", "source": "·", "invalid": "✗"}


def source_prompt(source: AppletSource) -> Text:
    """One row: a mark of the state in its colour and the applet's name; an invalid one's problem below."""
    colour = SOURCE_COLOURS.get(source.state, "white")
    text = Text(f"{SOURCE_MARKS.get(source.state, '?')} ", style=colour, no_wrap=True, overflow="ellipsis")
    text.append(source.name, style="bold" if source.state == "built" else "")
    if source.state == "invalid" and source.note:
        text.append(f"\n  {source.note}", style="red")
    return text


class AppletsPanel(OptionList):
    """The applet sources, one option each; build events update their state."""

    def __init__(self, sources: list[AppletSource], **kwargs: Any) -> None:
        super().__init__(*self._source_options(sources), **kwargs)
        self.sources = sources
        self.border_title = "Applets"
        self.border_subtitle = "✓ built ✗ invalid"

    @staticmethod
    def _source_options(sources: list[AppletSource]) -> list[Option]:
        if not sources:
            return [Option(Text("no dxapp.json found under the given paths", style="dim"), disabled=True)]
        return [Option(source_prompt(s), id=str(s.folder)) for s in sources]

    def apply(self, events: list[Event]) -> None:
        """Take in applet.built / applet.failed events."""
        changed = [apply_build_event(self.sources, e) for e in events]
        if any(changed):
            self._redraw()

    def built(self, applets: Mapping[str, str]) -> None:
        """Take in the applets the engine holds (name -> ID)."""
        if mark_built(self.sources, applets):
            self._redraw()

    def _redraw(self) -> None:
        highlighted = self.highlighted
        self.clear_options()
        self.add_options(self._source_options(self.sources))
        self.highlighted = highlighted
