"""An array input as repeatable rows: one value per row, a row added or removed with a button."""

from __future__ import annotations

from itertools import count

from textual import on
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Button, Input, Select

from runner.spec.io_spec import IOParam
from runner.tui.form_model import default_rows, placeholder
from runner.tui.widgets.field_box import FieldBox, ProjectFiles, field_title


class ArrayField(FieldBox):
    """Rows of one value each (the default's values to start with); file arrays can add project files."""

    DEFAULT_CSS = """
    ArrayField .array-rows { height: auto; }
    ArrayField .array-row { height: auto; }
    ArrayField .array-row Input { width: 1fr; }
    ArrayField .remove-row { min-width: 5; width: 5; }
    ArrayField .array-actions { height: auto; }
    ArrayField .add-row { min-width: 11; margin-right: 1; }
    ArrayField ProjectFiles { width: 1fr; }
    """

    def __init__(self, param: IOParam) -> None:
        super().__init__(field_title(param), param.help, param.name)
        self.param = param
        self._numbers = count(1)

    def make_input(self) -> Widget:
        """The rows, then the add button (and, for files, the project's files)."""
        actions: list[Widget] = [Button("+ row", classes="add-row", id=f"add-{self.key}")]
        if self.param.item_class == "file":
            actions.append(ProjectFiles(self.key))
        rows = Vertical(*(self._row(text)[0] for text in default_rows(self.param)), classes="array-rows")
        return Vertical(rows, Horizontal(*actions, classes="array-actions"), classes="array-body")

    def _row(self, text: str) -> tuple[Horizontal, Input]:
        number = next(self._numbers)
        item = placeholder(self.param).removesuffix(" (one per row)")
        field = Input(text, placeholder=item, classes="row-input", id=f"input-{self.key}-{number}")
        remove = Button("✕", classes="remove-row", tooltip="remove this row")
        return Horizontal(field, remove, classes="array-row"), field

    def value(self) -> object:
        """The rows' texts, top to bottom."""
        return [row.value for row in self.rows()]

    def rows(self) -> list[Input]:
        """The rows' inputs, top to bottom."""
        return list(self.query(".row-input").results(Input))

    def add_row(self, text: str = "") -> Input:
        """A new row at the bottom, focused."""
        row, field = self._row(text)
        self.query_one(".array-rows", Vertical).mount(row)
        field.focus()
        return field

    @on(Button.Pressed, ".add-row")
    def _add_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.add_row()

    @on(Button.Pressed, ".remove-row")
    def _remove_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        row = event.button.parent
        if isinstance(row, Widget):
            row.remove()

    @on(Select.Changed, "ProjectFiles")
    def _file_picked(self, event: Select.Changed) -> None:
        event.stop()
        if isinstance(event.value, str):
            self.add_row(event.value)
            event.select.clear()
