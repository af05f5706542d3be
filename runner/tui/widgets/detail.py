"""The detail pane: tabs about the selected job (Log, Describe, Input/Output, Usage), fed by events and describe."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import TabbedContent, TabPane, Tabs, Tree

from runner.client.api import EngineClient
from runner.spec.events import Event, JobOutput, JobUsage
from runner.tui.model import JobsModel
from runner.tui.widgets.describe_pane import DescribePane, failure_words
from runner.tui.widgets.io_pane import IoPane
from runner.tui.widgets.log_pane import LogPane
from runner.tui.widgets.log_view import VIEW_MAX_LINES, LogView
from runner.tui.widgets.usage_pane import UsagePane

LOG_MAX_LINES = VIEW_MAX_LINES
__all__ = ["LOG_MAX_LINES", "DetailPane", "failure_words"]
TAB_FOCUS = {"log": "#log-view", "describe": "#describe-tree", "io": "#io-tree"}


class DetailPane(Vertical):
    """The selected job's tabs; the screen says which job, hands over new events and describe answers."""

    def __init__(self, model: JobsModel, client: EngineClient | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model, self.client = model, client
        self.job: str | None = None

    def compose(self) -> ComposeResult:
        """The four tabs."""
        with TabbedContent(initial="log"):
            with TabPane("Log", id="log"):
                yield LogPane(self.model, id="log-pane")
            with TabPane("Describe", id="describe"):
                yield DescribePane(id="describe-pane")
            with TabPane("Input/Output", id="io"):
                yield IoPane(self.client, id="io-pane")
            with TabPane("Usage", id="usage"):
                yield UsagePane(id="usage-pane")

    @on(TabbedContent.TabActivated)
    def _tab_shown(self, event: TabbedContent.TabActivated) -> None:
        # A key that shows another tab hides the widget that had the focus: give it to the new tab's.
        focused = self.screen.focused
        inside = isinstance(focused, (LogView, Tree)) and self in focused.ancestors

        def settle() -> None:
            if inside or self.screen.focused is None:
                target = TAB_FOCUS.get(event.pane.id or "")
                (self.query_one(target) if target else self.query_one(Tabs)).focus()

        self.call_after_refresh(settle)

    def show_job(self, job: str | None) -> None:
        """Start over with another job (None: no job selected)."""
        self.job = job
        view = self.model.jobs.get(job) if job else None
        self.query_one(LogPane).show(job)
        self.query_one(DescribePane).start(job)
        self.query_one(IoPane).show(job, view.output if view else None)
        self.query_one(UsagePane).show(view)

    def take(self, events: Iterable[Event]) -> None:
        """Events just applied to the model: new log lines, the shown job's output and usage samples."""
        batch = list(events)
        self.query_one(LogPane).take(batch)
        if self.job is None:
            return
        for event in batch:
            if isinstance(event, JobOutput) and event.job == self.job:
                self.query_one(IoPane).output_set(event.output)
        if any(isinstance(e, JobUsage) and e.job == self.job for e in batch):
            self.query_one(UsagePane).show(self.model.jobs.get(self.job))

    def show_describe(self, job: str, description: Mapping[str, Any] | str) -> None:
        """The describe of `job` (or why it could not be read), unless another job is shown by now."""
        if job != self.job:
            return
        self.query_one(DescribePane).show(description)
        if not isinstance(description, str):
            self.query_one(IoPane).described(description)

    def describe_text(self) -> str:
        """The Describe tab as plain text."""
        return self.query_one(DescribePane).text()
