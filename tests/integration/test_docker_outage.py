"""Docker stops mid-tree: running jobs fail naming Docker, nothing hangs, and once Docker is back new runs
work and no container of the tree is left.

Twice: once for the engine alone (it reaches the real Docker through a proxy the test cuts, which is what
a stopping dockerd looks like to a client), and once for real: the machine's dockerd is stopped (`kill
-TERM`, as an administrator or a crash would) and brought back with scripts/ensure-docker. That one
disturbs every other Docker test, so it is marked `docker_outage`, which tests/conftest.py moves to the
end of the run; it needs root and a dockerd started with a pid file (as ensure-docker starts it).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import pytest

from runner.client.api import EngineClient
from runner.client.engine_process import connect, start_engine, stop_engine
from runner.client.events import EventQuery, follow_events
from runner.spec.events import BackendDown
from tests.backends.docker_proxy import DockerProxy
from tests.integration.helpers import REPO, TERMINAL, TEST_APPLETS, job_containers, tree_jobs, wait_terminal

pytestmark = pytest.mark.docker
DOCKER_PID_FILE = Path("/var/run/docker.pid")
ENSURE_DOCKER = REPO / "scripts" / "ensure-docker"
DOCKERD_EXIT_S = 60
CLEANUP_S = 60


def _run(engine: EngineClient, applet: str, input: dict[str, object]) -> str:
    built = engine.call("/runner/build", {"folder": str(TEST_APPLETS / applet)})["id"]
    return str(engine.call(f"/{built}/run", {"project": engine.project, "input": input})["id"])


def _stop_dockerd() -> None:
    if os.geteuid() != 0 or not DOCKER_PID_FILE.exists():
        pytest.fail(f"stopping Docker needs root and {DOCKER_PID_FILE} (a dockerd started by {ENSURE_DOCKER})")
    pid = int(DOCKER_PID_FILE.read_text().strip())
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + DOCKERD_EXIT_S
    while Path(f"/proc/{pid}").exists():
        assert time.monotonic() < deadline, f"dockerd (pid {pid}) did not exit within {DOCKERD_EXIT_S} s"
        time.sleep(0.2)


def _start_dockerd() -> None:
    subprocess.run([str(ENSURE_DOCKER)], check=True, timeout=180, capture_output=True)


def _containers(client: docker.DockerClient, home: Path, status: str | None = None) -> list[str]:
    """The home's job containers (a pool's ready container, which no job has, is not one)."""
    return sorted(c.name for c in job_containers(client, home) if status is None or c.state == status)


def _running_containers(client: docker.DockerClient, home: Path, count: int, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while len(_containers(client, home, "running")) < count:
        assert time.monotonic() < deadline, f"fewer than {count} running containers after {timeout_s} s"
        time.sleep(0.2)


def outage(home: Path, client: docker.DockerClient, stop: Callable[[], None], start: Callable[[], None]) -> None:
    """A tree runs; Docker stops (`stop`), then comes back (`start`): what a user sees then."""
    engine = connect(home, start=False)
    root = _run(engine, "sleepy_tree", {})
    _running_containers(client, home, 2)  # main and a sleeper: the host's two cores
    try:
        stop()
        failed = wait_terminal(engine, root, timeout_s=120)  # the engine answers throughout
    finally:
        start()
    assert failed["state"] == "failed"
    culprit = failed.get("failureFrom") or failed
    assert culprit["failureReason"] == "ExecutionError"
    # "waiting for container ...", "inspecting container ..." or "container ... was stopped": whichever call
    # of the engine's met Docker going away first.
    assert culprit["failureMessage"].startswith("the Docker engine stopped answering: "), culprit["failureMessage"]
    # The root fails at once; a descendant may still be `terminating` (its container is stopped once Docker
    # answers again), and must end too.
    deadline = time.monotonic() + 120
    while any(job["state"] not in TERMINAL for job in tree_jobs(engine, root)):
        assert time.monotonic() < deadline, [(job["id"], job["state"]) for job in tree_jobs(engine, root)]
        time.sleep(0.5)
    assert all(job["state"] in ("failed", "terminated") for job in tree_jobs(engine, root))

    again = _run(engine, "crash_net", {"seconds": 1})
    done = wait_terminal(engine, again, timeout_s=180)
    assert done["state"] == "done", done.get("failureMessage")
    assert done["output"] == {"state_seen": "running"}
    # Subscribers of the event stream were told: Docker went away (why), then came back.
    health = [event for event in follow_events(engine, EventQuery(kinds=("engine.backend_*",), follow=False))]
    assert [event.kind for event in health] == ["engine.backend_down", "engine.backend_up"], health
    assert isinstance(health[0], BackendDown) and health[0].message.startswith("the Docker engine stopped answering")
    deadline = time.monotonic() + CLEANUP_S
    while _containers(client, home):
        assert time.monotonic() < deadline, f"containers left after Docker came back: {_containers(client, home)}"
        time.sleep(0.5)


def _engine_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("outage")
    start_engine(folder)
    try:
        yield folder
    finally:
        stop_engine(folder)


@pytest.fixture
def proxy(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[DockerProxy]:
    """The engine daemon (started after this) reaches Docker through a proxy the test can cut."""
    proxied = DockerProxy(tmp_path_factory.mktemp("proxy") / "docker.sock")
    proxied.start()
    monkeypatch.setenv("DOCKER_HOST", proxied.url)
    yield proxied
    proxied.close()


@pytest.fixture
def proxied_home(proxy: DockerProxy, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A state folder with an engine of its own that reaches Docker through `proxy`."""
    yield from _engine_home(tmp_path_factory)


@pytest.fixture
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A state folder with an engine of its own, stopped after the test."""
    yield from _engine_home(tmp_path_factory)


def test_docker_going_away_for_the_engine_alone_fails_the_tree_naming_docker(
        proxied_home: Path, proxy: DockerProxy, client: docker.DockerClient) -> None:
    outage(proxied_home, client, proxy.cut, proxy.restore)


@pytest.mark.docker_outage
def test_the_real_docker_engine_stopping_mid_tree_fails_it_naming_docker_and_new_runs_work_once_it_is_back(
        home: Path, client: docker.DockerClient) -> None:
    outage(home, client, _stop_dockerd, _start_dockerd)
