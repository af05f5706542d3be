"""The detail pane: the selected job's Log (from the stream's log events) and Describe (through the client)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from rich.console import Group
from rich.json import JSON
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Log, Static, TabbedContent, TabPane

LOG_MAX_LINES = 5000


def failure_words(description: Mapping[str, Any]) -> str | None:
    """A failed job's reason, message and `failureFrom` chain in plain words; None when it did not fail."""
    if description.get("state") != "failed":
        return None
    words = f"{description.get('id')} failed: {description.get('failureReason') or 'unknown reason'}"
    if description.get("failureMessage"):
        words += f": {description['failureMessage']}"
    cause = description.get("failureFrom")
    if isinstance(cause, Mapping) and cause.get("id") and cause.get("id") != description.get("id"):
        words += f"\ncaused by {cause['id']} ({cause.get('name') or '?'})"
    return words


class DetailPane(Vertical):
    """Tabs about the selected job: its log lines, following the bottom, and its describe as JSON."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job: str | None = None

    def compose(self) -> ComposeResult:
        """The Log and Describe tabs."""
        with TabbedContent(initial="log"):
            with TabPane("Log", id="log"):
                yield Log(max_lines=LOG_MAX_LINES, id="log-view")
            with TabPane("Describe", id="describe"), VerticalScroll():
                yield Static("Select a job.", id="describe-view")

    def show_job(self, job: str | None, lines: Iterable[str]) -> None:
        """Start over with another job: its log lines so far."""
        self.job = job
        log = self.query_one(Log)
        log.clear()
        shown = list(lines) if job else ["Select a job to see its log."]
        log.write_lines(shown or [f"{job}: no log lines yet"])
        self.query_one("#describe-view", Static).update("Loading..." if job else "Select a job.")

    def add_lines(self, job: str, lines: list[str]) -> None:
        """New log lines of the shown job; the view follows them only while it is at the bottom."""
        if job != self.job or not lines:
            return
        log = self.query_one(Log)
        log.write_lines(lines, scroll_end=log.is_vertical_scroll_end or log.max_scroll_y == 0)

    def show_describe(self, job: str, description: Mapping[str, Any] | str) -> None:
        """The describe of `job` (or why it could not be read), unless another job is shown by now."""
        if job != self.job:
            return
        view = self.query_one("#describe-view", Static)
        if isinstance(description, str):
            view.update(Text(description, style="red"))
            return
        words = failure_words(description)
        body = JSON(json.dumps(description, default=str), indent=2)
        view.update(Group(Text(words, style="bold red"), Text(""), body) if words else body)
