"""The log view: at most `max_lines` log lines, optionally wrapped and timestamped, searched, following the bottom.

Each shown line is an `Entry` with a serial number (its place among every line written since the last clear);
the view keeps the visual rows (one per line, or several when wrapped) tagged with that serial, so trimming the
oldest lines, finding a match's row and keeping the reader's place across a re-wrap are cheap. Search highlights
are applied when a row is drawn, so searching never rebuilds the rows.
"""

from __future__ import annotations

import re
import time
from bisect import bisect_left
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from rich.cells import cell_len
from rich.control import strip_control_codes
from rich.text import Text
from textual import events
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from runner.tui.model import LogLine

VIEW_MAX_LINES = 5000
STREAM_STYLES = {"stderr": "indian_red1", "runner": "italic grey62"}
MATCH_STYLE = "black on #d7d787"
CURRENT_MATCH_STYLE = "bold black on #ffaf00"


@dataclass(frozen=True, slots=True)
class Entry:
    """One shown line: the log line and, in whole-tree mode, the prefix naming its job and the job's colour."""

    line: LogLine
    prefix: str = ""
    colour: str = ""


def clock_time(ms: int) -> str:
    """A line's time as the view shows it: local HH:MM:SS.mmm."""
    return time.strftime("%H:%M:%S", time.localtime(ms / 1000)) + f".{ms % 1000:03d}"


class LogView(ScrollView, can_focus=True):
    """Bounded log lines with per-job prefixes and stderr in its own colour; follows the bottom while there."""

    class Moved(Message):
        """The view started or stopped following the bottom."""

    def __init__(self, max_lines: int = VIEW_MAX_LINES, **kwargs: str | None) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.entries: deque[Entry] = deque(maxlen=max_lines)
        self._next = 0
        self._rows: deque[tuple[int, Text]] = deque()
        self._widest = 0
        self._wrap_width = 0
        self.wrap = False
        self.timestamps = False
        self._pattern: re.Pattern[str] | None = None
        self.search_term = ""
        self.matches: list[int] = []
        self.current: int | None = None
        self._follow = True

    # --- what the view holds

    @property
    def lines(self) -> list[str]:
        """The text of every line shown, oldest first."""
        return [entry.line.text for entry in self.entries]

    @property
    def line_count(self) -> int:
        """How many lines the view holds (at most `max_lines`)."""
        return len(self.entries)

    @property
    def row_count(self) -> int:
        """How many rows the lines take (more than lines when wrapped)."""
        return len(self._rows)

    @property
    def following(self) -> bool:
        """Whether new lines scroll the view: it was at the bottom when last scrolled (or never was scrolled)."""
        return self._follow

    def clear(self) -> None:
        """Drop every line (a search stays, with no matches)."""
        self.entries.clear()
        self._rows.clear()
        self._next = self._widest = 0
        self.matches, self.current = [], None
        self.virtual_size = Size(0, 0)
        self.scroll_to(0, 0, animate=False, immediate=True, force=True)
        self._set_following(True)
        self.refresh()

    def write(self, entries: Iterable[Entry]) -> None:
        """Add lines at the bottom (the oldest beyond `max_lines` go); the view follows them if it was there."""
        batch = list(entries)
        keep = self.entries.maxlen or len(batch)
        if len(batch) > keep:  # lines that would go at once are never laid out (a whole tree's log, say)
            self._next += len(batch) - keep
            batch = batch[-keep:]
        for entry in batch:
            serial = self._next
            self._next += 1
            self.entries.append(entry)
            self._add_rows(serial, entry)
            if self._pattern is not None and self._pattern.search(entry.line.text):
                self.matches.append(serial)
        removed = self._trim()
        self._set_virtual_size()
        if self._follow:
            self._to_bottom()
        elif removed:
            self.scroll_to(y=max(0, self.scroll_y - removed), animate=False, immediate=True, force=True)
        self.refresh()

    def _add_rows(self, serial: int, entry: Entry) -> None:
        head, body = self._head(entry), self._body(entry)
        width = self._wrap_width
        if self.wrap and width > 0:
            # Continuation rows hang under the text, not under the time and the job's prefix.
            indent = head.cell_len if head.cell_len <= width // 2 else 0
            parts = list(body.wrap(self.app.console, width - indent, overflow="fold")) or [Text("")]
            rows = [head + parts[0], *(Text(" " * indent) + part for part in parts[1:])]
        else:
            rows = [head + body]
        for row in rows:
            self._widest = max(self._widest, row.cell_len)
            self._rows.append((serial, row))

    def _head(self, entry: Entry) -> Text:
        head = Text(no_wrap=True, end="")
        if self.timestamps:
            head.append(clock_time(entry.line.time) + " ", style="grey58")
        if entry.prefix:
            head.append(entry.prefix + " ", style=entry.colour)
        return head

    @staticmethod
    def _body(entry: Entry) -> Text:
        text = strip_control_codes(entry.line.text.expandtabs())
        return Text(text, style=STREAM_STYLES.get(entry.line.stream, ""), end="")

    def _trim(self) -> int:
        """Drop the rows and matches of lines no longer kept; how many rows went."""
        first = self._next - len(self.entries)
        removed = 0
        while self._rows and self._rows[0][0] < first:
            self._rows.popleft()
            removed += 1
        dropped = bisect_left(self.matches, first)
        if dropped:
            del self.matches[:dropped]
            if self.current is not None:
                self.current = max(0, self.current - dropped) if self.matches else None
        return removed

    def _set_virtual_size(self) -> None:
        width = self._wrap_width if self.wrap else self._widest
        self.virtual_size = Size(width, len(self._rows))

    def rebuild(self) -> None:
        """Lay the rows out again (after a wrap or timestamps switch, or a new width), keeping the reader's place."""
        top = self._rows[min(int(self.scroll_y), len(self._rows) - 1)][0] if self._rows else 0
        self._rows.clear()
        self._widest = 0
        first = self._next - len(self.entries)
        for serial, entry in enumerate(self.entries, start=first):
            self._add_rows(serial, entry)
        self._set_virtual_size()
        if self._follow:
            self._to_bottom()
        else:
            self.scroll_to(y=self._row_of(top), animate=False, immediate=True, force=True)
        self.refresh()

    def _to_bottom(self) -> None:
        # force: until the next layout shows the scrollbar Textual refuses to scroll, yet the height is known.
        self.scroll_end(animate=False, immediate=True, x_axis=False, force=True)
        self.call_after_refresh(self._place_scrollbar)

    def _place_scrollbar(self) -> None:
        # After the layout: a scrollbar that appeared may have taken a row (at the bottom again, then), and a
        # forced scroll before the scrollbar showed left its thumb where it was.
        if self._follow and self.scroll_y != self.max_scroll_y:
            self.scroll_end(animate=False, immediate=True, x_axis=False, force=True)
        if self.show_vertical_scrollbar:
            self.vertical_scrollbar.position = self.scroll_y

    def _row_of(self, serial: int) -> int:
        return bisect_left(self._rows, serial, key=lambda row: row[0])

    # --- switches and search

    def set_wrap(self, wrap: bool) -> None:
        """Wrap long lines at the view's width, or let them run (scroll sideways)."""
        self.wrap = wrap
        self._wrap_width = self.scrollable_content_region.width
        self.rebuild()

    def set_timestamps(self, shown: bool) -> None:
        """Show each line's time, or not."""
        self.timestamps = shown
        self.rebuild()

    def search(self, term: str) -> int:
        """Highlight the lines holding `term` (any case) and go to the last; the number of matches."""
        self.search_term = term
        self._pattern = re.compile(re.escape(term), re.IGNORECASE) if term else None
        first = self._next - len(self.entries)
        pattern = self._pattern
        self.matches = [] if pattern is None else [
            serial for serial, entry in enumerate(self.entries, start=first) if pattern.search(entry.line.text)]
        self.current = len(self.matches) - 1 if self.matches else None
        self._show_current()
        return len(self.matches)

    def next_match(self, step: int) -> None:
        """Go to the next match below (step 1) or above (-1), round the end."""
        if self.matches:
            self.current = ((self.current if self.current is not None else -1) + step) % len(self.matches)
            self._show_current()

    def _show_current(self) -> None:
        if self.current is not None:
            row = self._row_of(self.matches[self.current])
            self.scroll_to(y=max(0, row - self.scrollable_content_region.height // 2), animate=False,
                           immediate=True, force=True)
        self.refresh()

    # --- drawing

    def render_line(self, y: int) -> Strip:
        """One row of the view, search matches highlighted."""
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        style = self.rich_style
        index = scroll_y + y
        if index >= len(self._rows):
            return Strip.blank(width, style)
        serial, text = self._rows[index]
        if self._pattern is not None:
            current = self.current is not None and self.matches[self.current] == serial
            text = text.copy()
            text.highlight_regex(self._pattern, CURRENT_MATCH_STYLE if current else MATCH_STYLE)
        strip = Strip(list(text.render(self.app.console)), cell_len(text.plain)).apply_style(style)
        return strip.crop_extend(scroll_x, scroll_x + width, style)

    def on_resize(self, event: events.Resize) -> None:
        """Wrapped rows follow the view's width."""
        if self.wrap and self.scrollable_content_region.width != self._wrap_width:
            self._wrap_width = self.scrollable_content_region.width
            self.rebuild()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        """Tell the pane when the view starts or stops following the bottom."""
        super().watch_scroll_y(old_value, new_value)
        self._set_following(new_value >= self.max_scroll_y)

    def _set_following(self, follow: bool) -> None:
        if follow != self._follow:
            self._follow = follow
            self.post_message(self.Moved())
