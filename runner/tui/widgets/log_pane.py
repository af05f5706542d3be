"""The Log tab: the selected job's log, or its whole tree's with job prefixes; search, wrap and timestamps keys."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Input, Static

from runner.spec.events import Event, LogLines
from runner.tui.model import JobsModel, JobView, LogLine, log_lines
from runner.tui.widgets.log_view import Entry, LogView

# Not red: stderr is. Fixed 256-colour names, so the colours do not change with the theme's ANSI palette.
JOB_COLOURS = ("sky_blue1", "pale_green1", "light_goldenrod1", "orchid1", "light_slate_blue", "aquamarine1",
               "plum1", "wheat1")
PREFIX_WIDTH = 14


def job_prefix(job: JobView) -> str:
    """A job's short name in whole-tree mode: its entry point and the end of its ID."""
    return f"{job.function[:PREFIX_WIDTH - 5]}·{job.id[-4:]}".ljust(PREFIX_WIDTH)


class LogPane(Vertical):
    """The log of one job or of its tree, a status line above, and the search field below when searching."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "toggle_tree", "Job/tree"),
        Binding("W", "toggle_wrap", "Wrap"),
        Binding("T", "toggle_times", "Times"),
        Binding("slash", "search", "Search log"),
        Binding("n", "next_match(1)", "Next", show=False),
        Binding("N", "next_match(-1)", "Previous", show=False),
        Binding("escape", "leave_search", "Leave search", show=False),
    ]

    def __init__(self, model: JobsModel, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model = model
        self.job: str | None = None
        self.whole_tree = False
        self._colours: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        """The status line, the lines, the (hidden) search field."""
        yield Static("", id="log-status")
        yield LogView(id="log-view")
        yield Input(placeholder="search the log (Enter: to the log, n/N: next/previous, Esc: leave)",
                    id="log-search")

    def on_mount(self) -> None:
        """The search field shows only while searching."""
        self.query_one("#log-search", Input).display = False

    @property
    def view(self) -> LogView:
        """The lines."""
        return self.query_one(LogView)

    def show(self, job: str | None) -> None:
        """Start over with another job (or its tree): the lines the model kept."""
        self.job = job
        self._colours.clear()
        view = self.view
        view.clear()
        if job is not None and job in self.model.jobs:
            if self.whole_tree:
                view.write(self._entry(owner, line) for owner, line in self.model.tree_log(job))
            else:
                view.write(Entry(line) for line in self.model.jobs[job].log)
        if view.search_term:
            view.search(view.search_term)
        self._status()

    def take(self, events: Iterable[Event]) -> None:
        """Write the new lines of the shown job, or of every job of its tree in whole-tree mode."""
        shown = self.model.jobs.get(self.job) if self.job else None
        if shown is None:
            return
        entries: list[Entry] = []
        for event in events:
            if not isinstance(event, LogLines):
                continue
            if self.whole_tree and event.root == shown.root and event.job in self.model.jobs:
                owner = self.model.jobs[event.job]
                entries.extend(self._entry(owner, line) for line in log_lines(event))
            elif event.job == shown.id:
                entries.extend(Entry(line) for line in log_lines(event))
        if entries:
            self.view.write(entries)
            self._status()

    def _entry(self, job: JobView, line: LogLine) -> Entry:
        colour = self._colours.setdefault(job.id, JOB_COLOURS[len(self._colours) % len(JOB_COLOURS)])
        return Entry(line, job_prefix(job), colour)

    def _status(self) -> None:
        view = self.view
        if self.job is None:
            words = "Select a job to see its log."
        else:
            job = self.model.jobs.get(self.job)
            count = len(self.model.tree_of(self.job)) if job is not None and self.whole_tree else 1
            words = (f"tree of {job.root if job else self.job} ({count} job{'s' * (count != 1)}, a: one job)"
                     if self.whole_tree else f"{self.job} (a: whole tree)")
            if not view.line_count:
                words += ": no log lines yet"
            words += " · following" if view.following else " · scrolled up (End follows)"
        switches = [name for name, on_ in (("wrap", view.wrap), ("times", view.timestamps)) if on_]
        if switches:
            words += " · " + " ".join(switches)
        if view.search_term:
            at = f"{view.current + 1}/" if view.current is not None else ""
            words += f" · {at}{len(view.matches)} matching {view.search_term!r}"
        self.query_one("#log-status", Static).update(words)

    @on(LogView.Moved)
    def _moved(self) -> None:
        self._status()

    # --- keys

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Esc leaves a search only while there is one (else it is the screen's)."""
        if action == "leave_search":
            return self.query_one("#log-search", Input).display or bool(self.view.search_term)
        return True

    def action_toggle_tree(self) -> None:
        """Show the whole tree's lines with job prefixes, or the selected job's alone."""
        self.whole_tree = not self.whole_tree
        self.show(self.job)

    def action_toggle_wrap(self) -> None:
        """Wrap long lines, or not."""
        self.view.set_wrap(not self.view.wrap)
        self._status()

    def action_toggle_times(self) -> None:
        """Show each line's time, or not."""
        self.view.set_timestamps(not self.view.timestamps)
        self._status()

    def action_search(self) -> None:
        """Open the search field."""
        field = self.query_one("#log-search", Input)
        field.display = True
        field.value = self.view.search_term
        field.focus()

    @on(Input.Changed, "#log-search")
    def _search_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.view.search(event.value)
        self._status()

    @on(Input.Submitted, "#log-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#log-search", Input).display = False  # the status line keeps the term and count
        self.view.focus()

    def action_next_match(self, step: int) -> None:
        """The next (1) or previous (-1) match."""
        self.view.next_match(step)
        self._status()

    def action_leave_search(self) -> None:
        """Close the search field and drop the highlights."""
        field = self.query_one("#log-search", Input)
        if not field.display and not self.view.search_term:
            return
        field.display = False
        field.value = ""
        self.view.search("")
        self.view.focus()
        self._status()
