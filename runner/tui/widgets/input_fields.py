"""The run form's fields: one per input by class (text, switch, select, list, JSON), with label, help and error."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static, Switch, TextArea

from runner.spec.instance_types import catalog
from runner.spec.io_spec import IOParam
from runner.tui.form_model import default_text, placeholder


def field_title(param: IOParam) -> str:
    """The field's heading: its label (or name), its class, and whether it may be left empty."""
    name = f"{param.label} ({param.name})" if param.label and param.label != param.name else param.name
    need = "optional" if param.optional else "default" if param.has_default else "required"
    return f"[b]{name}[/b]  [dim]{param.klass} · {need}[/dim]"


class FieldBox(Vertical):
    """A heading, one input widget, a help line and an error line (shown only when there is an error)."""

    DEFAULT_CSS = """
    FieldBox { height: auto; margin-bottom: 1; }
    FieldBox .field-help { color: $text-muted; }
    FieldBox .field-error { color: $error; display: none; }
    FieldBox.-invalid .field-error { display: block; }
    FieldBox TextArea { height: 4; }
    """

    def __init__(self, title: str, help_text: str | None, key: str) -> None:
        super().__init__(id=f"field-{key}")
        self.title, self.help_text, self.key = title, help_text, key

    def make_input(self) -> Widget:
        """The widget that holds the value."""
        raise NotImplementedError

    def value(self) -> object:
        """The value as the form model takes it: text, a bool, or a chosen value (None when blank)."""
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


class TextField(FieldBox):
    """int, float, string, file and data-object IDs: one line of text."""

    def __init__(self, param: IOParam) -> None:
        super().__init__(field_title(param), param.help, param.name)
        self.param = param

    def make_input(self) -> Widget:
        """An Input with the default as its text."""
        return Input(default_text(self.param), placeholder=placeholder(self.param), id=f"input-{self.key}")

    def value(self) -> object:
        """The text as typed."""
        return self.query_one(Input).value


class ListField(TextField):
    """Arrays and hashes: several lines (items by comma or line; a hash as JSON)."""

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
        options = [(default_text_of(c), index) for index, c in enumerate(self.choices)]
        start = next((i for i, c in enumerate(self.choices) if self.param.has_default and c == self.param.default),
                     Select.BLANK)
        return Select(options, value=start, allow_blank=not self.param.required or start is Select.BLANK,
                      prompt="(not set)", id=f"input-{self.key}")

    def value(self) -> object:
        """The chosen value; None when blank."""
        chosen = self.query_one(Select).value
        return self.choices[chosen] if isinstance(chosen, int) else None


def default_text_of(choice: Any) -> str:
    """A choice as its option's text."""
    return "true" if choice is True else "false" if choice is False else str(choice)


def field_for(param: IOParam) -> FieldBox:
    """The field for an input's class."""
    if param.choices is not None and not param.is_array:
        return ChoiceField(param)
    if param.klass == "boolean":
        return SwitchField(param) if param.has_default or not param.optional else ChoiceField(param)
    if param.is_array or param.klass == "hash":
        return ListField(param)
    return TextField(param)


class InstanceTypeField(FieldBox):
    """The instance type: a Select of the catalog with cores and memory; blank keeps the applet's own."""

    def __init__(self, current: str | None) -> None:
        super().__init__("[b]Instance type[/b]", f"the applet asks for {current or 'the default'}; blank keeps it",
                         "instance-type")

    def make_input(self) -> Widget:
        """The catalog, smallest first."""
        types = sorted(catalog().values(), key=lambda t: (t.name.startswith("azure:"), t.gpus, t.cores,
                                                          t.memory_gib, t.name))
        options = [(f"{t.name}  {t.cores} cores, {t.memory_gib:g} GiB" + (f", {t.gpus} GPU" if t.gpus else ""),
                    t.name) for t in types]
        return Select(options, prompt="(the applet's own)", id="input-instance-type")

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
