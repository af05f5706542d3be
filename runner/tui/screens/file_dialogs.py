"""A file of a job's input or output: its first lines in a preview, or a prompt for where to save it locally."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from runner.tui.screens.dialogs import Confirm

UTF8_TAIL = 3  # a cut inside a character leaves at most 3 of its bytes


def preview_text(data: bytes, *, truncated: bool) -> str | None:
    """The bytes as text, or None when they are binary (a NUL byte, or not UTF-8)."""
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if truncated and exc.start >= len(data) - UTF8_TAIL:
            return data[:exc.start].decode("utf-8")
        return None


def save_target(typed: str, name: str) -> Path | str:
    """Where the file goes (a folder means the file's name in it), or what is wrong with the typed path."""
    if not typed.strip():
        return "type the local path to save the file to"
    path = Path(typed.strip()).expanduser()
    if path.is_dir():
        path = path / Path(name).name
    if not path.parent.is_dir():
        return f"{path.parent} is not a folder"
    if path.is_dir():
        return f"{path} is a folder"
    return path


class FilePreview(ModalScreen[None]):
    """A file's first lines (or that it is binary); Esc closes."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "dismiss", "Close")]

    def __init__(self, title: str, text: str | None, truncated: bool) -> None:
        super().__init__()
        self.title_words, self.text, self.truncated = title, text, truncated

    def compose(self) -> ComposeResult:
        """The file's name and the text."""
        with Vertical(id="file-preview"):
            more = ": its first 64 KiB" if self.truncated else ""
            yield Label(Text.assemble((self.title_words, "bold"), f"{more}  (Esc closes)"), id="preview-title")
            with VerticalScroll(id="preview-scroll"):
                body = Text(self.text, no_wrap=True) if self.text is not None else Text(
                    "binary content: not shown (S on its row saves it)", style="italic")
                yield Static(body, id="preview-body")


class SavePrompt(ModalScreen[Path | None]):
    """Ask where to save a file; an existing file is replaced only once confirmed."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, name: str, default: Path) -> None:
        super().__init__()
        self.file_name, self.default = name, default

    def compose(self) -> ComposeResult:
        """The question, the path field and the place for what is wrong with it."""
        with Vertical(id="save-prompt"):
            yield Label(f"Save {self.file_name} to (Enter saves, Esc cancels):")
            yield Input(str(self.default), id="save-path")
            yield Static("", id="save-error")

    @on(Input.Submitted, "#save-path")
    def _submitted(self, event: Input.Submitted) -> None:
        target = save_target(event.value, self.file_name)
        if isinstance(target, str):
            self.query_one("#save-error", Static).update(Text(target, style="red"))
            return
        if not target.exists():
            self.dismiss(target)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.dismiss(target)
            else:
                self.query_one("#save-error", Static).update(Text(f"{target} exists: not replaced", style="red"))

        self.app.push_screen(Confirm(f"{target} exists. Replace it?"), answered)
