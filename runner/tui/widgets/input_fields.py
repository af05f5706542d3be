"""The run form's fields: one per input by class (text, switch, select, rows, JSON, file), and the run's own."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Input, Select, Switch, TextArea

from runner.spec.instance_types import InstanceType, catalog
from runner.spec.io_spec import IOParam
from runner.tui.form_model import default_text, placeholder
from runner.tui.widgets.array_field import ArrayField
from runner.tui.widgets.field_box import FieldBox, ProjectFiles, field_title


class TextField(FieldBox):
    """int, float, string and data-object IDs: one line of text."""

    def __init__(self, param: IOParam) -> None:
        super().__init__(field_title(param), param.help, param.name)
        self.param = param

    def make_input(self) -> Widget:
        """An Input with the default as its text."""
        return Input(default_text(self.param), placeholder=placeholder(self.param), id=f"input-{self.key}")

    def value(self) -> object:
        """The text as typed."""
        return self.query_one(f"#input-{self.key}", Input).value


class FileField(TextField):
    """A file: a local path (uploaded on submit) or an ID typed in, or a file of the project picked."""

    def make_input(self) -> Widget:
        """The path-or-ID line, and the project's files under it."""
        return Vertical(super().make_input(), ProjectFiles(self.key), classes="file-body")

    @on(Select.Changed, "ProjectFiles")
    def _file_picked(self, event: Select.Changed) -> None:
        event.stop()
        if isinstance(event.value, str):
            self.query_one(f"#input-{self.key}", Input).value = event.value
            event.select.clear()


class HashField(TextField):
    """A hash: a JSON object over several lines."""

    def make_input(self) -> Widget:
        """A TextArea with the default as its text."""
        return TextArea(default_text(self.param), id=f"input-{self.key}", show_line_numbers=False)

    def value(self) -> object:
        """The text as typed."""
        return self.query_one(TextArea).text


class SwitchField(TextField):
    """A boolean with a value to start from (a default, or not optional): a Switch."""

    def make_input(self) -> Widget:
        """A Switch set to the default."""
        return Switch(bool(self.param.default), id=f"input-{self.key}")

    def value(self) -> object:
        """True or False."""
        return self.query_one(Switch).value


class ChoiceField(TextField):
    """Choices (and an optional boolean without default): a Select; blank only when it may be left empty."""

    def __init__(self, param: IOParam) -> None:
        super().__init__(param)
        self.choices: tuple[Any, ...] = param.choices if param.choices is not None else (True, False)

    def make_input(self) -> Widget:
        """A Select of the choices, the default chosen."""
        options = [(choice_text(c), index) for index, c in enumerate(self.choices)]
        start: int | None = next((i for i, c in enumerate(self.choices)
                                  if self.param.has_default and c == self.param.default), None)
        return Select(options, value=Select.NULL if start is None else start,
                      allow_blank=not self.param.required or start is None, prompt="(not set)",
                      id=f"input-{self.key}")

    def value(self) -> object:
        """The chosen value; None when blank."""
        chosen = self.query_one(Select).value
        return self.choices[chosen] if isinstance(chosen, int) else None


def choice_text(choice: Any) -> str:
    """A choice as its option's text."""
    return "true" if choice is True else "false" if choice is False else str(choice)


def field_for(param: IOParam) -> FieldBox:
    """The field for an input's class."""
    if param.is_array:
        return ArrayField(param)
    if param.choices is not None:
        return ChoiceField(param)
    if param.klass == "boolean":
        return SwitchField(param) if param.has_default or not param.optional else ChoiceField(param)
    if param.klass == "hash":
        return HashField(param)
    return FileField(param) if param.klass == "file" else TextField(param)


def instance_type_text(kind: InstanceType) -> str:
    """An instance type as its option: name, cores, memory (and GPUs)."""
    gpus = f", {kind.gpus} GPU" if kind.gpus else ""
    return f"{kind.name}  {kind.cores} cores, {kind.memory_gib:g} GiB{gpus}"


class InstanceTypeField(FieldBox):
    """The instance type: a Select of the catalog with cores and memory; blank keeps the applet's own."""

    def __init__(self, current: str | None) -> None:
        super().__init__("[b]Instance type[/b]",
                         f"the applet asks for {current or 'the default'}; blank keeps it",
                         "instance-type")

    def make_input(self) -> Widget:
        """The catalog, smallest first."""
        types = sorted(catalog().values(), key=lambda t: (t.name.startswith("azure:"), t.gpus, t.cores,
                                                          t.memory_gib, t.name))
        return Select([(instance_type_text(t), t.name) for t in types], prompt="(the applet's own)",
                      id="input-instance-type")

    def value(self) -> object:
        """The chosen name; None when blank."""
        chosen = self.query_one(Select).value
        return chosen if isinstance(chosen, str) else None


class TimeoutField(FieldBox):
    """The timeout override in minutes."""

    def __init__(self) -> None:
        super().__init__("[b]Timeout (minutes)[/b]", "blank keeps the applet's timeoutPolicy; 0 means none",
                         "timeout")

    def make_input(self) -> Widget:
        """An Input of whole minutes."""
        return Input(placeholder="whole minutes", id="input-timeout")

    def value(self) -> object:
        """The text as typed."""
        return self.query_one(Input).value
