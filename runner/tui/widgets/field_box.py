"""A run-form field's frame (heading, input, help, error) and the Select of files already in the project."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.markup import escape
from textual.widget import Widget
from textual.widgets import Label, Select, Static

from runner.spec.io_spec import IOParam


def field_title(param: IOParam) -> str:
    """The field's heading: its label (or name), its class, and whether it may be left empty."""
    name = f"{param.label} ({param.name})" if param.label and param.label != param.name else param.name
    need = "optional" if param.optional else "has a default" if param.has_default else "required"
    return f"[b]{escape(name)}[/b]  [dim]{param.klass} · {need}[/dim]"


class FieldBox(Vertical):
    """A heading, one input widget, a help line and an error line (shown only when there is an error)."""

    DEFAULT_CSS = """
    FieldBox { height: auto; margin-bottom: 1; }
    FieldBox .field-help { color: $text-muted; }
    FieldBox .field-error { color: $error; display: none; }
    FieldBox.-invalid .field-error { display: block; }
    FieldBox TextArea { height: 4; }
    FieldBox .file-body, FieldBox .array-body { height: auto; }
    """

    def __init__(self, title: str, help_text: str | None, key: str) -> None:
        super().__init__(id=f"field-{key}")
        self.title, self.help_text, self.key = title, help_text, key

    def make_input(self) -> Widget:
        """The widget that holds the value."""
        raise NotImplementedError

    def value(self) -> object:
        """The value as the form model takes it: text, rows, a bool, or a chosen value (None when blank)."""
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        """Heading, input, help, error."""
        yield Label(self.title, markup=True)
        yield self.make_input()
        if self.help_text:
            yield Static(self.help_text, classes="field-help", markup=False)
        yield Static("", classes="field-error", markup=False)

    def show_error(self, message: str | None) -> None:
        """Show (or clear) the error under the field."""
        self.query_one(".field-error", Static).update(message or "")
        self.set_class(bool(message), "-invalid")

    def offer_files(self, options: list[tuple[str, str]]) -> None:
        """The project's files, for a field that takes one; the others ignore them."""
        for select in self.query(ProjectFiles):
            select.offer(options)


class ProjectFiles(Select[str]):
    """A file already in the project, to put in a file field (it fills the field, or adds a row)."""

    def __init__(self, key: str) -> None:
        super().__init__([], prompt="files in the project: loading...", id=f"files-{key}", disabled=True)

    def offer(self, options: list[tuple[str, str]]) -> None:
        """The project's files as the options (none: say so)."""
        self.set_options(options)
        self.prompt = "or pick a file already in the project" if options else "no files in the project yet"
        self.disabled = not options
