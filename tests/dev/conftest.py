"""Watch mode's tests: a real engine daemon of their own, real applet folders in tmp, the loop and its events."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from runner.client.api import EngineClient
from runner.client.events import EventQuery, follow_events
from runner.dev.loop import DevLoop, DevOptions, Starter
from runner.dev.report import Note
from runner.dev.runs import same_request
from runner.spec.events import Event
from tests.integration.helpers import engine_of_its_own

# A guard against a hang, not a measure: a step that never comes fails the test after this long.
GUARD_S = 240.0
STEP_S = 0.05
WAITING_SCRIPT = """main() {
    # Wait until the test tags this job "released" (so a change surely comes while it runs).
    while ! dx describe "$DX_JOB_ID" --json | grep -q '"released"'; do sleep 0.3; done
    dx-jobutil-add-output version "%s" --class=string
}
"""
QUICK_SCRIPT = """main() {
    dx-jobutil-add-output version "%s" --class=string
}
"""


@pytest.fixture(scope="session")
def dev_home(tmp_path_factory: pytest.TempPathFactory, client: Any) -> Iterator[Path]:
    """The state folder of an engine daemon for watch mode's tests, stopped at the end of the session."""
    with engine_of_its_own(tmp_path_factory.mktemp("dev"), client) as folder:
        yield folder


@pytest.fixture(scope="session")
def engine(dev_home: Path) -> Iterator[EngineClient]:
    """A client of that engine."""
    from runner.client.engine_process import connect

    with connect(dev_home, start=False) as engine_client:
        yield engine_client


def write_applet(folder: Path, script: str, *, name: str = "dev_probe", **extra: Any) -> Path:
    """An applet source folder: dxapp.json (bash, one string output `version`) and src/code.sh."""
    (folder / "src").mkdir(parents=True, exist_ok=True)
    dxapp = {"name": name, "dxapi": "1.0.0", "version": "0.0.1", "inputSpec": [],
             "outputSpec": [{"name": "version", "class": "string"}],
             "runSpec": {"interpreter": "bash", "file": "src/code.sh", "distribution": "Ubuntu",
                         "release": "24.04", "version": "0"}, **extra}
    (folder / "dxapp.json").write_text(json.dumps(dxapp, indent=2))
    (folder / "src" / "code.sh").write_text(script)
    return folder


class Recorder:
    """Events of the engine from now on, read in a thread through runner.client.events.follow_events."""

    def __init__(self, engine: EngineClient) -> None:
        self.engine = EngineClient(engine.url, engine.token, engine.project)
        existing = list(follow_events(self.engine, EventQuery(follow=False)))
        self.since = existing[-1].seq if existing else 0
        self.events: list[Event] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        for event in follow_events(self.engine, EventQuery(since=self.since), heartbeats=True):
            if self.stopped.is_set():
                return
            if event.kind != "heartbeat":
                self.events.append(event)

    def of(self, cls: type[Event]) -> list[Any]:
        """The events of one class so far, in order."""
        return [e for e in list(self.events) if isinstance(e, cls)]

    def close(self) -> None:
        """Stop reading (at the next heartbeat at the latest)."""
        self.stopped.set()


class Watching:
    """A DevLoop on a folder in a thread of its own; its notes, and the engine's events, as they come."""

    def __init__(self, engine: EngineClient, folder: Path, *, on_busy: str = "restart",
                 start: Starter | None = None, keep_running: bool = False, focus: str | None = None,
                 poll: bool = False) -> None:
        self.engine, self.recorder = engine, Recorder(engine)
        self.notes: list[Note] = []
        own = EngineClient(engine.url, engine.token, engine.project)
        body = {"project": engine.project, "input": {}}
        self.loop = DevLoop(own, DevOptions(folder, on_busy=on_busy, keep_running=keep_running, focus=focus,
                                                  poll=poll),
                            start or same_request(own, body), self.notes.append)
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.loop.run()
        except BaseException as exc:  # noqa: BLE001 - handed to the test, which fails naming it
            self.failure = exc

    def texts(self) -> list[str]:
        """Every note's text so far."""
        return [note.text for note in list(self.notes)]

    def until(self, what: str, check: Callable[[], Any]) -> Any:
        """Wait until `check()` gives something true; returns it. Fails naming `what` if the loop died."""
        deadline = time.monotonic() + GUARD_S
        while True:
            found = check()
            if found:
                return found
            if self.failure is not None:
                raise AssertionError(f"the loop failed waiting for {what}: {self.failure!r}")
            if time.monotonic() > deadline:
                raise AssertionError(f"never saw {what}; notes:\n" + "\n".join(self.texts()))
            time.sleep(STEP_S)

    def note(self, what: str, predicate: Callable[[str], bool], after: int = 0) -> int:
        """The index of the first note from `after` on whose text passes `predicate`."""
        def find() -> int | None:
            for index, text in enumerate(self.texts()[after:], start=after):
                if predicate(text):
                    return index + 1  # never 0, so it is true
            return None
        return int(self.until(what, find)) - 1

    def stop(self) -> None:
        """Stop the loop and the event reader; wait for the loop's thread."""
        self.loop.stop()
        self.thread.join(GUARD_S)
        self.recorder.close()


@pytest.fixture
def watching(engine: EngineClient) -> Iterator[Callable[..., Watching]]:
    """Start a DevLoop on a folder (`watching(folder, on_busy=...)`); stopped at the end of the test."""
    started: list[Watching] = []

    def start(folder: Path, **kwargs: Any) -> Watching:
        started.append(Watching(engine, folder, **kwargs))
        return started[-1]

    yield start
    for each in started:
        each.stop()
