"""Small modal screens: a yes/no confirmation and the key help."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from runner.tui._look import CAPPED_MARK, state_legend


class Confirm(ModalScreen[bool]):
    """Ask a yes/no question; dismisses with True for yes."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("y", "answer(True)", "Yes"), Binding("n,escape", "answer(False)", "No")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        """The question and two buttons."""
        with Grid(id="confirm"):
            yield Label(self.question, id="question")
            yield Button("Yes (y)", variant="error", id="yes")
            yield Button("No (n)", variant="primary", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """A button answers."""
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        """A key answers."""
        self.dismiss(yes)


KEYS = [
    ("↑ ↓ ← →", "move in the job tree; Enter folds a tree"),
    ("Tab", "next panel (applets, jobs, details)"),
    ("l d i u", "the detail pane's Log / Describe / Input/Output / Usage tab"),
    ("a W T", "in the log: the whole tree's lines, wrap, timestamps"),
    ("/ n N", "in the log: search it, next / previous match (Esc leaves)"),
    ("p S", "on a file in Input/Output: preview its first lines, save it"),
    ("t", "terminate the selected job's tree (asks first)"),
    ("R", "re-run the selected tree with the same input (on a subjob: that subjob alone)"),
    ("s", "a shell in the selected running or debug_hold job (runner ssh)"),
    ("/", "filter jobs by ID, name or state (Esc clears)"),
    ("f", "show only trees with a failed job (again: all)"),
    ("y", "copy the selected job's ID"),
    ("o", "open the selected job's HTTPS app (its link is shown and copied)"),
    ("r", "run the highlighted applet from a form of its inputs (from the job tree: the selected tree's applet)"),
    ("w", "watch mode for the selected applet: rebuild and re-run on every save (again: off)"),
    ("?", "this help"),
    ("q", "quit (jobs keep running)"),
]


class Help(ModalScreen[None]):
    """The keys and what they do."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        """One line per key."""
        with VerticalScroll(id="help"):
            yield Static("[b]Keys[/b]  (Esc closes)")
            for key, what in KEYS:
                with Horizontal(classes="help-row"):  # a long text wraps under itself, not under the keys
                    yield Static(key, classes="help-key")
                    yield Static(what, classes="help-what")
            yield Static(state_legend(), id="legend")
            yield Static(f"{CAPPED_MARK} after an instance type: larger than the host, so capped to it")
