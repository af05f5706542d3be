"""The watch loop: on every change under the folder, build the applet and run it again; report each step.

One thread decides everything, reading one inbox: debounced change sets from the watcher's thread, and the
end of each run from the thread following it (`follow.py`). While a tree runs, a change is handled by
`on_busy`: `restart` terminates the tree, waits until it ended and re-runs; `queue` re-runs once it ended
(any number of changes meanwhile give one re-run); `ignore` drops it. The loop owns no engine state: the
CLI's `runner dev` and the TUI's `w` run the same loop, with their own way to start a run and to show notes.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.client.api import EngineClient
from runner.dev import report
from runner.dev.compare import compare_outputs
from runner.dev.follow import TAIL_LINES, Ended, start_following
from runner.dev.report import Note
from runner.dev.watcher import QUIET_MS, watch_changes
from runner.errors import RunnerError, SpecError
from runner.spec.dxapp import Dxapp, load_dxapp

ON_BUSY = ("restart", "queue", "ignore")
WAKE_S = 0.5
# Starting a run: (applet ID, the root job it re-runs or None) -> the new root job's ID.
Starter = Callable[[str, str | None], str]


@dataclass(frozen=True, slots=True)
class DevOptions:
    """How to watch: the folder, what a change while busy does, polling, the quiet time of the debounce."""

    folder: Path
    on_busy: str = "restart"
    poll: bool = False
    keep_running: bool = False
    quiet_ms: int = QUIET_MS
    focus: str | None = None  # the entry point the focused loop re-runs, for the notes


@dataclass(frozen=True, slots=True)
class _Changed:
    paths: frozenset[str]


class _Stop:
    pass


class DevLoop:
    """Watch `options.folder`; build and run through `start`; tell `say` every note. `run()` blocks."""

    def __init__(self, client: EngineClient, options: DevOptions, start: Starter,
                 say: Callable[[Note], None]) -> None:
        if options.on_busy not in ON_BUSY:
            raise ValueError(f"on_busy must be one of {', '.join(ON_BUSY)}, not {options.on_busy!r}")
        self.client, self.options, self.start, self.say = client, options, start, say
        self.folder = options.folder.resolve()
        self.inbox: queue.Queue[_Changed | Ended | _Stop] = queue.Queue()
        self.stopping = threading.Event()
        self.ready = threading.Event()
        self.applet: str | None = None
        self.dxapp: Dxapp | None = None
        self.running: str | None = None
        self.last_root: str | None = None
        self.last_output: Mapping[str, Any] | None = None
        self.pending: frozenset[str] | None = None
        self.terminating = False
        self.run_started = 0.0
        self.finished = False

    # --- the loop

    def run(self) -> None:
        """Watch, build and run, and again on every change, until `stop()` (or KeyboardInterrupt)."""
        watcher = threading.Thread(target=self._watch, name="watch", daemon=True)
        watcher.start()
        while not self.ready.wait(WAKE_S):
            if not watcher.is_alive():
                raise RunnerError(f"watching {self.folder} failed before it began")
        self.say(report.watching(str(self.options.folder), self.options.on_busy, self.options.focus))
        self._cycle(frozenset())
        while not self.stopping.is_set():
            try:
                message = self.inbox.get(timeout=WAKE_S)
            except queue.Empty:
                continue
            if isinstance(message, _Stop):
                break
            if isinstance(message, _Changed):
                self._changed(message.paths)
            else:
                self._ended(message)
        self.finish(terminate=not self.options.keep_running)

    def stop(self) -> None:
        """Ask the loop (running in another thread) to stop; it finishes as `keep_running` says."""
        self.inbox.put(_Stop())

    def finish(self, *, terminate: bool) -> None:
        """Stop watching; terminate the running tree when `terminate`. Says so once."""
        if self.finished:
            return
        self.finished = True
        self.stopping.set()
        job, done = self.running, False
        if job is not None and terminate:
            try:
                self.client.call(f"/{job}/terminate", {})
                done = True
            except RunnerError as exc:
                self.say(report.trouble(f"terminate {job}", exc))
        self.say(report.stopped(job, done))

    def _watch(self) -> None:
        try:
            for paths in watch_changes(self.folder, self.stopping, poll=self.options.poll,
                                       quiet_ms=self.options.quiet_ms, ready=self.ready.set):
                self.inbox.put(_Changed(paths))
        except (OSError, RuntimeError) as exc:
            self.say(report.trouble(f"watching {self.folder}", exc))

    # --- what a message does

    def _changed(self, paths: frozenset[str]) -> None:
        paths |= self._drain_changes()
        if self.running is None:
            self._cycle(paths)
            return
        policy = self.options.on_busy
        self.say(report.changed(paths))
        if policy == "ignore":
            self.say(report.busy(self.running, policy))
            return
        first = self.pending is None
        self.pending = (self.pending or frozenset()) | paths
        if policy == "restart" and not self.terminating:
            self.terminating = True
            self.say(report.busy(self.running, policy))
            self._terminate(self.running)
        elif policy == "queue" and first:
            self.say(report.busy(self.running, policy))

    def _ended(self, ended: Ended) -> None:
        if ended.job != self.running:
            return
        self.running = None
        self.last_root = ended.job
        if self.terminating and ended.state == "terminated":
            self.say(report.restarted(ended.job))
        elif ended.error is not None:
            self.say(report.Note((f"error: {ended.error}", "  still watching"), report.ERROR))
        else:
            self._report(ended)
        self.terminating = False
        if self.pending is not None:
            paths, self.pending = self.pending, None
            self._cycle(paths, announce=False)

    def _drain_changes(self) -> frozenset[str]:
        """Every change set already waiting, as one (other messages are put back)."""
        paths: set[str] = set()
        others: list[Ended | _Stop] = []
        while True:
            try:
                message = self.inbox.get_nowait()
            except queue.Empty:
                break
            if isinstance(message, _Changed):
                paths |= message.paths
            else:
                others.append(message)
        for message in others:
            self.inbox.put(message)
        return frozenset(paths)

    # --- build, run, report

    def _cycle(self, paths: frozenset[str], *, announce: bool = True) -> None:
        """Build (again while changes came during the build), then run the build if it is good."""
        applet: str | None = None
        while True:
            if paths and announce:
                self.say(report.changed(paths))
            announce = True
            applet = self._build(paths)
            paths = self._drain_changes()
            if not paths or self.stopping.is_set():
                break
        if applet is not None and not self.stopping.is_set():
            self._run(applet)

    def _build(self, paths: frozenset[str]) -> str | None:
        try:
            dxapp = load_dxapp(self.folder)
        except SpecError as exc:
            self.say(report.build_failed(exc, self.applet))
            return None
        before = self.dxapp.run_spec.exec_depends if self.dxapp is not None else None
        if before is not None and before != dxapp.run_spec.exec_depends:
            self.say(report.image_rebuild([d.name for d in before],
                                          [d.name for d in dxapp.run_spec.exec_depends]))
        began = time.monotonic()
        try:
            answer = self.client.call("/runner/build", {"folder": str(self.folder),
                                                        "changedFiles": sorted(paths)}, timeout_s=None)
        except RunnerError as exc:
            self.say(report.build_failed(exc, self.applet))
            return None
        self.say(report.built(answer, self.applet, time.monotonic() - began))
        self.applet, self.dxapp = str(answer["id"]), dxapp
        return self.applet

    def _run(self, applet: str) -> None:
        try:
            job = self.start(applet, self.last_root)
        except RunnerError as exc:
            self.say(report.trouble(f"run {applet}", exc))
            return
        self.running, self.run_started = job, time.monotonic()
        self.say(report.started(job, self.last_root, self.options.focus))
        start_following(self.client, job, self.stopping, self.inbox.put)

    def _terminate(self, job: str) -> None:
        try:
            self.client.call(f"/{job}/terminate", {})
        except RunnerError as exc:
            # It may have ended meanwhile: its end, on its way, re-runs all the same.
            self.say(report.trouble(f"terminate {job}", exc))

    def _report(self, ended: Ended) -> None:
        seconds = time.monotonic() - self.run_started
        try:
            described = self.client.call(f"/{ended.job}/describe", {})
            if described.get("state") == "done":
                output = described.get("output") or {}
                changes = compare_outputs(self.client, self.last_output, output)
                self.last_output = output
                self.say(report.finished(described, seconds, changes))
                return
            cause = self._cause(described)
            culprit = str((cause or described).get("id"))
            self.say(report.failed(described, cause, ended.tails.get(culprit) or self._log_tail(culprit)))
        except RunnerError as exc:
            self.say(report.trouble(f"describe {ended.job}", exc))

    def _log_tail(self, job: str) -> list[str]:
        """The last lines of a job's log as the engine keeps it (when the stream brought none)."""
        lines = [str(r.get("line", "")).rstrip("\n") for r in self.client.stream_logs(job, tree=False, follow=False)
                 if r.get("kind") == "log"]
        return lines[-TAIL_LINES:]

    def _cause(self, described: Mapping[str, Any]) -> Mapping[str, Any] | None:
        cause = described.get("failureFrom")
        if not isinstance(cause, Mapping) or not cause.get("id") or cause.get("id") == described.get("id"):
            return None
        answer: Mapping[str, Any] = self.client.call(f"/{cause['id']}/describe", {})
        return answer
