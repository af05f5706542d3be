"""The event stream of a real engine daemon (real Docker, real dxpy jobs), followed across two restarts.

A follower (`runner.client.events.follow_events`) joins with since=0 and keeps following while the engine is
stopped and started again, and then killed with SIGKILL and started again, with jobs run before and after.
Afterwards it must hold exactly the events the store holds: none lost, none repeated, in order.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from runner.client.api import EngineClient
from runner.client.engine_process import connect, engine_status, start_engine, stop_engine
from runner.client.events import EventQuery, follow_events
from runner.errors import InvalidInput
from runner.spec import events as ev
from tests.integration.helpers import SAMPLE_APPS, engine_of_its_own, wait_terminal

pytestmark = pytest.mark.docker
# Backend-neutral: every test runs on the Docker and on the local backend (tests/integration/conftest.py).
BACKENDS = ("docker", "local")


@pytest.fixture
def home(tmp_path_factory: pytest.TempPathFactory, client: docker.DockerClient) -> Iterator[Path]:
    """A state folder with an engine of its own, stopped after the test; its containers must all be gone."""
    with engine_of_its_own(tmp_path_factory.mktemp("events"), client) as folder:
        yield folder


class _Follower(threading.Thread):
    """Follows every event (heartbeats too, to notice when to stop) until it has seen `until`."""

    def __init__(self, home: Path) -> None:
        super().__init__(daemon=True)
        self.home = home
        self.events: list[ev.Event] = []
        self.until: int | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with connect(self.home, start=False) as client:
                stream = follow_events(client, EventQuery(since=0), heartbeats=True,
                                       locate=lambda: connect(self.home, start=False))
                for event in stream:
                    if not isinstance(event, ev.Heartbeat):
                        self.events.append(event)
                    if self.until is not None and event.seq >= self.until:
                        return
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            self.error = exc


def _hello(engine: EngineClient, who: str) -> str:
    applet = engine.call("/runner/build", {"folder": str(SAMPLE_APPS / "hello_bash")})["id"]
    job = str(engine.call(f"/{applet}/run", {"project": engine.project, "input": {"who": who}})["id"])
    assert wait_terminal(engine, job)["state"] == "done"
    return job


def _kill(home: Path) -> None:
    status = engine_status(home)
    assert status.running and status.pid is not None
    os.kill(status.pid, signal.SIGKILL)
    os.waitpid(status.pid, 0)  # our child (start_engine spawned it): reap it


def test_a_follower_loses_and_repeats_nothing_across_a_stop_and_a_crash_of_the_engine(home: Path,
                                                                                    tmp_path: Path) -> None:
    follower = _Follower(home)
    follower.start()
    with connect(home, start=False) as engine:
        with pytest.raises(InvalidInput):
            engine.call("/runner/build", {"folder": str(tmp_path)})  # no dxapp.json: applet.failed
        first = _hello(engine, "before")
    stop_engine(home)
    start_engine(home)
    with connect(home, start=False) as engine:
        second = _hello(engine, "between")
    _kill(home)
    start_engine(home)
    with connect(home, start=False) as engine:
        third = _hello(engine, "after")
        stored = list(follow_events(engine, EventQuery(follow=False)))
        described = {job: engine.call(f"/{job}/describe", {}) for job in (first, second, third)}
    follower.until = stored[-1].seq
    follower.join(120)
    assert not follower.is_alive() and follower.error is None, follower.error
    assert [e.seq for e in follower.events] == [e.seq for e in stored]  # nothing lost, nothing twice
    assert follower.events == stored
    kinds = [e.kind for e in stored]
    assert kinds.count("engine.started") == 3 and kinds.count("engine.stopping") == 1
    assert [e.folder for e in stored if isinstance(e, ev.AppletFailed)] == [str(tmp_path)]
    assert {e.name for e in stored if isinstance(e, ev.AppletBuilt)} == {"hello_bash"}
    assert kinds.count("applet.built") == 3
    for job, description in described.items():
        states = [e.to_state for e in stored if isinstance(e, ev.JobStateChanged) and e.job == job]
        assert states == [t["newState"] for t in description["stateTransitions"]]
        outputs = [e.output for e in stored if isinstance(e, ev.JobOutput) and e.job == job]
        assert outputs == [description["output"]]
    logged = "\n".join(e.text for e in stored if isinstance(e, ev.LogLines) and e.job == third)
    assert "Hello, after!" in logged
