"""The main screen: applets, the job tree and the detail pane, fed by the event stream; every key's action."""

from __future__ import annotations

import subprocess
import sys
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Input, TabbedContent, Tree

from runner.client.api import EngineClient
from runner.errors import RunnerError
from runner.spec.events import (
    AppletBuilt,
    AppletFailed,
    BackendDown,
    BackendUp,
    EngineStopping,
    Event,
    Gap,
    JobCreated,
)
from runner.tui.applets import AppletSource
from runner.tui.feed import EventFeed
from runner.tui.https_app import NO_APP, app_login_url, open_in_browser
from runner.tui.model import FAILURE_STATES, JobsModel, JobView
from runner.tui.screens._engine import EngineScreen
from runner.tui.screens.dialogs import Confirm, Help
from runner.tui.screens.run_form import open_form
from runner.tui.watch_mode import WatchMode, highlighted_source, newest_run
from runner.tui.widgets.applets import AppletsPanel
from runner.tui.widgets.detail import DetailPane
from runner.tui.widgets.job_tree import JobTree

DRAIN_EVERY_S = 0.1
TICK_EVERY_S = 1.0
SHELL_STATES = frozenset({"running", "debug_hold"})


class MainScreen(EngineScreen):
    """Where everything is: the screen applies the feed's events in batches and runs the keys' actions."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t", "terminate", "Terminate"),
        Binding("R", "rerun", "Re-run"),
        Binding("s", "shell", "Shell"),
        Binding("slash", "filter", "Filter"),
        Binding("f", "failures", "Failures"),
        Binding("y", "copy_id", "Copy ID"),
        Binding("o", "open_app", "Open app", show=False),
        Binding("r", "run", "Run"),
        Binding("w", "watch", "Watch", show=False),
        Binding("l", "tab('log')", "Log", show=False),
        Binding("d", "tab('describe')", "Describe", show=False),
        Binding("i", "tab('io')", "Input/Output", show=False),
        Binding("u", "tab('usage')", "Usage", show=False),
        Binding("question_mark", "help", "Help"),
        Binding("q", "app.quit", "Quit"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def __init__(self, client: EngineClient | None, model: JobsModel, feed: EventFeed,
                 sources: list[AppletSource]) -> None:
        super().__init__(client, model, sources)
        self.feed = feed
        self.text_filter = ""
        self.failures_only = False
        self.reported_error = False
        self.watch_mode = WatchMode(self, client)

    def compose(self) -> ComposeResult:
        """Applets and jobs above, the selected job's details below, the keys at the bottom."""
        with Horizontal(id="top"):
            yield AppletsPanel(self.sources, self.client, id="applets")
            with Vertical(id="jobs"):
                yield Input(placeholder="filter: ID, name or state (Esc clears)", id="filter")
                yield JobTree(self.model, self.client, id="tree")
        yield DetailPane(self.model, self.client, id="detail")
        yield Footer(compact=True, show_command_palette=False)  # every main key fits 80 columns; ^p still works

    def on_mount(self) -> None:
        """Start the feed and the timers that apply it and move the clocks."""
        self.query_one("#filter", Input).display = False
        self.query_one("#tree", JobTree).border_title = "Jobs"
        self.feed.start()
        self.apply_pending()
        self.set_interval(DRAIN_EVERY_S, self.apply_pending)
        self.set_interval(TICK_EVERY_S, self.query_one("#tree", JobTree).relabel_running)
        self.query_one("#tree", JobTree).focus()
        self.query_one("#detail", DetailPane).show_job(None)
        self.find_built()

    def on_unmount(self) -> None:
        """Stop taking events (and watching)."""
        self.feed.stop()
        self.watch_mode.stop_all()

    def apply_pending(self) -> None:
        """Apply every event read since the last tick as one batch: new rows, relabelled rows, new log lines."""
        events = self.feed.drain()
        if self.feed.error and not self.reported_error:
            self.reported_error = True
            self.notify(self.feed.error, title="Event stream", severity="error", timeout=30)
        if not events:
            return
        tree, detail = self.query_one("#tree", JobTree), self.query_one("#detail", DetailPane)
        change = self.model.apply_all(events)
        labelled: set[str] = set()  # rows just made, from the jobs as they are now
        if change.shape:
            new = [j for j in change.jobs if j not in tree.nodes]
            if self.failures_only or self.text_filter:
                tree.rebuild(self.keep)
                labelled = set(tree.nodes)
            else:
                tree.show_new(new)
                labelled = set(new)
        tree.relabel(j for j in change.jobs if j not in labelled)
        if detail.job in change.jobs:
            self.describe(detail.job)  # what describe says changed with the job's row
        detail.take(events)
        self._engine_news(events)
        if any(isinstance(e, JobCreated) and e.executable not in self._applet_ids for e in events):
            self.find_built()
        self.query_one("#applets", AppletsPanel).apply(
            [e for e in events if isinstance(e, (AppletBuilt, AppletFailed))])
        tree.settle_cursor()
        if self.awaited_root in tree.nodes:
            tree.keep_cursor_on(self.awaited_root)
            self.awaited_root = None
        self._ask_timeouts()

    def _engine_news(self, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, BackendDown):
                self.notify(f"Docker does not answer: {event.message}", severity="error", timeout=15)
            elif isinstance(event, BackendUp):
                self.notify("Docker answers again")
            elif isinstance(event, EngineStopping):
                self.notify(f"The engine is stopping {event.reason}".strip(), severity="warning")
            elif isinstance(event, Gap):
                self.notify(f"events {event.first}..{event.last} were missed ({event.reason})",
                            severity="warning")

    def keep(self, tree: list[JobView]) -> bool:
        """Whether a job tree passes the failures-only switch and the text filter."""
        if self.failures_only and not any(j.state in FAILURE_STATES for j in tree):
            return False
        words = self.text_filter.lower()
        return not words or any(words in f"{j.id} {j.name} {j.function} {j.state}".lower() for j in tree)

    # --- selection and the detail pane

    @on(Tree.NodeHighlighted, "#tree")
    def _highlighted(self, event: Tree.NodeHighlighted[str]) -> None:
        job = event.node.data
        if not job or job not in self.model.jobs:
            return
        detail = self.query_one("#detail", DetailPane)
        if detail.job != job:
            detail.show_job(job)
            self.describe(job)

    # --- actions

    def selected(self) -> JobView | None:
        """The job under the cursor; says so when there is none."""
        job = self.query_one("#tree", JobTree).selected_job
        if job is None or job not in self.model.jobs:
            self.notify("Select a job first", severity="warning")
            return None
        return self.model.jobs[job]

    def action_terminate(self) -> None:
        """Ask, then terminate the selected job's whole tree."""
        job = self.selected()
        if job is None:
            return
        root = self.model.jobs.get(job.root, job)

        def answered(yes: bool | None) -> None:
            if yes:
                self.engine_call(f"/{root.id}/terminate", {}, f"Terminating {root.id}")

        self.app.push_screen(Confirm(f"Terminate {root.id} ({root.name}) and its whole tree?"), answered)

    def action_run(self) -> None:
        """Open the form of the highlighted applet (from the jobs: the selected tree's); select what it starts."""
        panel = self.query_one("#applets", AppletsPanel)
        index = panel.highlighted
        source = panel.sources[index] if index is not None and index < len(panel.sources) else None
        job = self.model.jobs.get(self.query_one("#tree", JobTree).selected_job or "")
        root = self.model.jobs.get(job.root, job) if job is not None else None
        if not panel.has_focus and root is not None:
            source = next((s for s in panel.sources if s.applet == root.executable), source)

        def started(job: str | None) -> None:
            if job:
                # Its row may be there already (its events came before the form closed), or come later.
                tree = self.query_one("#tree", JobTree)
                if job in tree.nodes:
                    tree.keep_cursor_on(job)
                else:
                    self.awaited_root = job
                self.notify(f"{job} started")

        form = open_form(self.client, source, self.notify)
        if form is not None:
            self.app.push_screen(form, started)

    def action_rerun(self) -> None:
        """Run the selected job again as `runner rerun` does: on a subjob, that subjob alone; on a root, its tree."""
        job = self.selected()
        if job is not None:
            self.rerun_job(job.id)

    def action_shell(self) -> None:
        """Suspend the TUI and run `runner ssh JOB` in the terminal, for a running or held job."""
        job = self.selected()
        if job is None:
            return
        if job.state not in SHELL_STATES:
            self.notify(f"{job.id} is {job.state}: a shell needs a running or debug_hold job", severity="warning")
            return
        try:
            with self.app.suspend():
                done = subprocess.run([sys.executable, "-m", "runner", "ssh", job.id], check=False)
        except SuspendNotSupported:
            self.notify(f"this terminal cannot hand over to a shell: run runner ssh {job.id}", severity="warning")
            return
        if done.returncode not in (0, 130):
            self.notify(f"runner ssh {job.id} exited {done.returncode}", severity="warning")

    def action_filter(self) -> None:
        """Show the filter field."""
        field = self.query_one("#filter", Input)
        field.display = True
        field.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.text_filter = event.value.strip()
        self.query_one("#tree", JobTree).rebuild(self.keep)

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self.query_one("#tree", JobTree).focus()

    def action_clear_filter(self) -> None:
        """Clear and hide the filter."""
        field = self.query_one("#filter", Input)
        if field.display or self.text_filter:
            field.value = ""
            field.display = False
            self.text_filter = ""
            self.query_one("#tree", JobTree).rebuild(self.keep)
            self.query_one("#tree", JobTree).focus()

    def action_failures(self) -> None:
        """Switch between every tree and the trees with a failed job."""
        self.failures_only = not self.failures_only
        tree = self.query_one("#tree", JobTree)
        tree.rebuild(self.keep)
        tree.border_title = "Jobs: failures only" if self.failures_only else "Jobs"

    def action_copy_id(self) -> None:
        """Copy the selected job's ID to the clipboard."""
        job = self.selected()
        if job is not None:
            self.app.copy_to_clipboard(job.id)
            self.notify(f"copied {job.id}")

    def action_open_app(self) -> None:
        """Open the selected job's HTTPS app, when it has one."""
        job = self.selected()
        if job is not None:
            self.open_app(job.id)

    @work(thread=True, group="browser")
    def open_app(self, job: str) -> None:
        """Mint a login link to the job's HTTPS app, open it with webbrowser and say it (to copy where none opens)."""
        if self.client is None:
            return
        try:
            url = app_login_url(self.client, job)
        except RunnerError as exc:
            self.app.call_from_thread(self.notify, f"describe {job}: {exc}", severity="error")
            return
        if url is None:
            self.app.call_from_thread(self.notify, f"{job}: {NO_APP}", severity="warning")
            return
        opened = open_in_browser(url)
        # The toast wraps a long URL across lines, which a terminal copies with the breaks: copy it whole.
        self.app.call_from_thread(self.app.copy_to_clipboard, url)
        said = "opened in your browser" if opened else "no browser opens here"
        self.app.call_from_thread(self.notify, f"{url}\n({said}; copied to the clipboard)",
                                  title=f"{job}'s HTTPS app", timeout=30)

    def action_tab(self, tab: str) -> None:
        """Show a tab of the detail pane."""
        self.query_one("#detail", DetailPane).query_one(TabbedContent).active = tab

    def action_help(self) -> None:
        """Show the keys."""
        self.app.push_screen(Help())

    def action_watch(self) -> None:
        """Watch mode for the applet under the applets panel's cursor: on, and off again."""
        source = highlighted_source(self, self.sources)
        self.watch_mode.toggle(source, newest_run(self.model, source) if source is not None else None)
