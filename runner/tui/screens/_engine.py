"""The engine's side of the main screen: every engine call runs in a thread worker and hands its answer back."""

from __future__ import annotations

from typing import Any

from textual import work
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.worker import get_current_worker

from runner.client.api import EngineClient
from runner.client.reruns import recorded_input, start_rerun
from runner.errors import RunnerError
from runner.tui.applets import AppletSource
from runner.tui.model import JobsModel
from runner.tui.widgets.applets import AppletsPanel
from runner.tui.widgets.detail import DetailPane
from runner.tui.widgets.job_tree import JobTree


class EngineScreen(Screen[None]):
    """A screen on one engine's jobs: describe, timeouts, built applets, re-run and plain calls, in workers."""

    def __init__(self, client: EngineClient | None, model: JobsModel, sources: list[AppletSource]) -> None:
        super().__init__()
        self.client, self.model, self.sources = client, model, sources
        self.awaited_root: str | None = None
        self._asked: set[str] = set()
        self._applet_ids: set[str] = set()

    @work(thread=True, exclusive=True, group="describe")
    def describe(self, job: str) -> None:
        """Read the job's describe in a worker; the Describe tab shows it."""
        if self.client is None:
            return
        try:
            answer: Any = self.client.call(f"/{job}/describe", {})
        except RunnerError as exc:
            answer = f"describe {job}: {exc}"
        worker = get_current_worker()

        def show() -> None:
            # A newer describe cancelled this one (on the UI thread, so this check cannot race it):
            # its answer may be older than the one already shown.
            if worker.is_cancelled:
                return
            try:
                self.query_one("#detail", DetailPane).show_describe(job, answer)
            except NoMatches:
                pass  # the app is closing: its widgets are going
        self.app.call_from_thread(show)

    @work(thread=True, exclusive=True, group="applets")
    def find_built(self) -> None:
        """Ask the engine which applets it holds, for the applets panel's build states."""
        if self.client is None:
            return
        try:
            found = self.client.call("/system/findDataObjects", {
                "class": "applet", "describe": {"fields": {"name": True, "created": True}}})
        except RunnerError:
            return
        newest: dict[str, tuple[int, str]] = {}
        for result in found.get("results") or []:
            name, created = result["describe"].get("name"), int(result["describe"].get("created") or 0)
            if name and created >= newest.get(name, (-1, ""))[0]:
                newest[name] = (created, result["id"])
        self.app.call_from_thread(self._found_built, {name: applet for name, (_, applet) in newest.items()})

    def _found_built(self, applets: dict[str, str]) -> None:
        self._applet_ids.update(applets.values())
        self.query_one("#applets", AppletsPanel).built(applets)

    def _ask_timeouts(self) -> None:
        waiting = [j for j in self.model.untimed_running() if j not in self._asked]
        if waiting and self.client is not None:
            self._asked.update(waiting)
            self.read_timeouts(waiting)

    @work(thread=True, group="timeouts")
    def read_timeouts(self, jobs: list[str]) -> None:
        """No event carries a job's effective timeout: describe has it, asked once per running job."""
        assert self.client is not None
        for job in jobs:
            try:
                timeout = self.client.call(f"/{job}/describe", {"fields": {"timeout": True}}).get("timeout")
            except RunnerError:
                continue
            self.app.call_from_thread(self._got_timeout, job, timeout if isinstance(timeout, int) else None)

    def _got_timeout(self, job: str, timeout: int | None) -> None:
        if self.model.set_timeout(job, timeout):
            self.query_one("#tree", JobTree).relabel([job])

    @work(thread=True, group="engine")
    def rerun_job(self, job: str) -> None:
        """Run `job` again as a new root at its entry point, with the input and run options it ran with."""
        if self.client is None:
            return
        try:
            recorded = recorded_input(self.client, job)
            new = start_rerun(self.client, recorded.applet, entry=recorded.entry, input=recorded.input,
                              rerun_of=job, run_options=recorded.carried())
        except RunnerError as exc:
            self.app.call_from_thread(self.notify, f"re-run {job}: {exc}", severity="error")
            return
        self.app.call_from_thread(self._rerun_started, job, new)

    def _rerun_started(self, old: str, new: str) -> None:
        self.awaited_root = new
        self.notify(f"{new} started, the same input as {old}")

    @work(thread=True, group="engine")
    def engine_call(self, route: str, body: dict[str, Any], doing: str) -> None:
        """One engine call in a worker; says what it did or the engine's refusal."""
        if self.client is None:
            return
        try:
            self.client.call(route, body)
        except RunnerError as exc:
            self.app.call_from_thread(self.notify, f"{route}: {exc}", severity="error")
            return
        self.app.call_from_thread(self.notify, doing)
