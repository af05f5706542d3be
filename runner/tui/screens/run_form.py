"""The run form: an applet's inputSpec as fields; submit builds the applet, uploads local files, runs it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Collapsible, Input, Static

from runner.client.api import EngineClient
from runner.client.files import upload_file
from runner.errors import ApiError, InvalidInput, RunnerError, SpecError
from runner.spec.dxapp import Dxapp, load_dxapp
from runner.spec.io_spec import IOParam
from runner.tui.applets import AppletSource
from runner.tui.form_model import (
    FieldError,
    build_input,
    engine_field,
    engine_message,
    field_with_id,
    file_options,
    parse_timeout,
    run_body,
    sections,
    with_uploads,
)
from runner.tui.widgets.field_box import FieldBox
from runner.tui.widgets.input_fields import InstanceTypeField, TimeoutField, field_for

PROJECT_FILES_SHOWN = 200


def applet_instance_type(dxapp: Dxapp) -> str | None:
    """The instance type the applet's own runSpec asks for (its `*` entry point), if any."""
    requirements = (dxapp.raw.get("runSpec") or {}).get("systemRequirements") or {}
    entry = requirements.get("*") or requirements.get("main") or {}
    value = entry.get("instanceType") if isinstance(entry, dict) else None
    return value if isinstance(value, str) else None


def shown_folder(folder: Path) -> str:
    """The applet's folder as the heading shows it: under the current folder, relative to it."""
    try:
        return str(folder.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(folder)


class RunForm(ModalScreen[str | None]):
    """One field per input; dismisses with the new root job's ID once it runs, None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "submit", "Run"),
    ]

    def __init__(self, client: EngineClient | None, folder: Path, dxapp: Dxapp) -> None:
        super().__init__()
        self.client, self.folder, self.dxapp = client, folder, dxapp
        self.params: tuple[IOParam, ...] = dxapp.input_spec or ()
        self.busy = False
        self.submitted: dict[str, Any] = {}

    def compose(self) -> ComposeResult:
        """The heading, the fields by group, instance type and timeout, the buttons and a status line."""
        with VerticalScroll(id="run-form"):
            yield Static(Text.assemble((f"Run {self.dxapp.title or self.dxapp.name}", "bold"), "  ",
                                       (shown_folder(self.folder), "dim")), id="run-title")
            if not self.params:
                yield Static("[dim]this applet takes no input[/dim]")
            for group, params in sections(self.params):
                if group is None:
                    yield from map(field_for, params)
                else:
                    yield Collapsible(*map(field_for, params), title=group, collapsed=False,
                                      classes="run-group")
            yield InstanceTypeField(applet_instance_type(self.dxapp))
            yield TimeoutField()
            yield Static("", id="run-status", markup=False)
            with Horizontal(id="run-buttons"):
                yield Button("Run (ctrl+s)", variant="primary", id="run-submit")
                yield Button("Cancel (Esc)", id="run-cancel")

    def on_mount(self) -> None:
        """Focus the first field; list the project's files for the file fields."""
        self.query_one(VerticalScroll).border_title = "Run form"
        inputs = self.query("Input, TextArea, Switch, Select")
        if inputs:
            inputs.first().focus()
        if any(p.item_class == "file" for p in self.params):
            self.find_files()

    @work(thread=True, group="run-form-files")
    def find_files(self) -> None:
        """The closed files of the engine's default project, for the file fields' Selects."""
        options: list[tuple[str, str]] = []
        if self.client is not None and self.client.project is not None:
            try:
                found = self.client.call("/system/findDataObjects", {
                    "class": "file", "state": "closed", "scope": {"project": self.client.project},
                    "describe": {"fields": {"name": True, "folder": True}}, "limit": PROJECT_FILES_SHOWN})
                options = file_options(found.get("results") or [])
            except RunnerError as exc:
                self.app.call_from_thread(self.status, f"could not list the project's files: {exc}")
        self.app.call_from_thread(self._offer_files, options)

    def _offer_files(self, options: list[tuple[str, str]]) -> None:
        for box in self.query(FieldBox):
            box.offer_files(options)

    def fields(self) -> dict[str, FieldBox]:
        """Every field by its key (input names, `instance-type`, `timeout`)."""
        return {box.key: box for box in self.query(FieldBox)}

    def action_cancel(self) -> None:
        """Close the form; nothing runs."""
        if not self.busy:
            self.dismiss(None)

    @on(Button.Pressed, "#run-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    @on(Button.Pressed, "#run-submit")
    @on(Input.Submitted)
    def action_submit(self) -> None:
        """Check every field; when all are right, build and run in a worker."""
        if self.busy:
            return
        fields = self.fields()
        values = {name: box.value() for name, box in fields.items()}
        result = build_input(self.params, values, Path.cwd())
        errors = dict(result.errors)
        timeout: int | None = None
        try:
            timeout = parse_timeout(str(values.get("timeout") or ""))
        except FieldError as exc:
            errors["timeout"] = str(exc)
        self.show_errors(errors)
        if errors:
            self.status(f"{len(errors)} field(s) need a fix")
            return
        instance = values.get("instance-type")
        self.busy, self.submitted = True, result.input
        self.status("building and starting ...")
        self.start(result.input, instance if isinstance(instance, str) else None, timeout)

    def show_errors(self, errors: dict[str, str]) -> None:
        """Put each error under its field and clear the others; scroll to the first one."""
        first: FieldBox | None = None
        for key, box in self.fields().items():
            box.show_error(errors.get(key))
            if key in errors:
                for section in box.ancestors_with_self:
                    if isinstance(section, Collapsible):
                        section.collapsed = False
                first = first or box
        if first is not None:
            first.scroll_visible()

    def status(self, text: str) -> None:
        """The line above the buttons."""
        self.query_one("#run-status", Static).update(text)

    @work(thread=True, exclusive=True, group="run-form")
    def start(self, run_input: dict[str, Any], instance: str | None, timeout: int | None) -> None:
        """Build the applet, upload local files, run it; the answer goes back to the screen."""
        try:
            if self.client is None:
                raise RunnerError("no engine to run on")
            client = self.client
            built = client.call("/runner/build", {"folder": str(self.folder.resolve())}, timeout_s=None)
            if not isinstance(built, dict) or not isinstance(built.get("id"), str):
                raise ApiError(f"/runner/build answered without an applet ID: {built!r}")
            project = client.project

            def upload(path: Path) -> str:
                if project is None:
                    raise RunnerError(f"{path}: the engine has no default project to upload it to")
                return upload_file(client, path, project=project, folder="/", name=path.name)

            body = run_body(built["id"], with_uploads(run_input, upload), project=project,
                            instance_type=instance, timeout_minutes=timeout)
            job = str(client.call(f"/{built['id']}/run", body)["id"])
        except (RunnerError, OSError) as exc:
            self.app.call_from_thread(self.refused, exc)
            return
        self.app.call_from_thread(self.dismiss, job)

    def refused(self, exc: Exception) -> None:
        """Show the engine's refusal on the field it names, else on the status line."""
        self.busy = False
        details = exc.details if isinstance(exc, ApiError) else {}
        message = exc.message if isinstance(exc, ApiError) else str(exc)
        key = engine_field(details, [p.name for p in self.params]) if isinstance(exc, InvalidInput) \
            else field_with_id(message, self.submitted)
        if key is not None and key in self.fields():
            self.show_errors({key: engine_message(message, details)})
            self.status("the engine refused the input")
        else:
            self.show_errors({})
            self.status(f"not started: {engine_message(message, details)}")


def open_form(client: EngineClient | None, source: AppletSource | None,
              say: Callable[..., None]) -> RunForm | None:
    """The run form of an applet source, or None after saying why there is none (none chosen, or invalid)."""
    if source is None:
        say("Select an applet in the applets panel first", severity="warning")
        return None
    try:
        dxapp = load_dxapp(source.folder)
    except SpecError as exc:
        problem = exc.problems[0] if exc.problems else exc
        say(f"{source.folder}: {problem}", severity="error")
        return None
    return RunForm(client, source.folder, dxapp)
