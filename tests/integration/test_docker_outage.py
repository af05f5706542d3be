"""The real Docker engine stops mid-tree: running jobs fail naming Docker, nothing hangs, and once Docker is
back new runs work and no container of the tree is left.

This stops the machine's dockerd (`kill -TERM`, as an administrator or a crash would) and brings it back
with scripts/ensure-docker, so it disturbs every other Docker test: it is marked `docker_outage`, which
tests/conftest.py moves to the end of the run. It needs root and a dockerd started with a pid file (as
ensure-docker starts it).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from runner.backends.base import LABEL_HOME
from runner.client.api import EngineClient
from runner.client.engine_process import connect, start_engine, stop_engine
from tests.integration.helpers import REPO, TEST_APPLETS, tree_jobs, wait_state, wait_terminal

pytestmark = [pytest.mark.docker, pytest.mark.docker_outage]
DOCKER_PID_FILE = Path("/var/run/docker.pid")
ENSURE_DOCKER = REPO / "scripts" / "ensure-docker"
DOCKERD_EXIT_S = 60
CLEANUP_S = 60


@pytest.fixture
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A state folder with an engine of its own, stopped after the test."""
    folder = tmp_path_factory.mktemp("outage")
    start_engine(folder)
    try:
        yield folder
    finally:
        stop_engine(folder)


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


def _leftovers(home: Path) -> list[str]:
    with docker.from_env(timeout=10) as client:
        return [c.name for c in client.containers.list(all=True, filters={"label": f"{LABEL_HOME}={home}"})]


def test_docker_stopping_mid_tree_fails_its_jobs_naming_docker_and_new_runs_work_once_it_is_back(
        home: Path) -> None:
    engine = connect(home, start=False)
    root = _run(engine, "sleepy_tree", {})
    wait_state(engine, root, ("running",))
    try:
        _stop_dockerd()
        failed = wait_terminal(engine, root, timeout_s=120)  # the engine answers throughout
    finally:
        _start_dockerd()
    assert failed["state"] == "failed"
    culprit = failed.get("failureFrom") or failed
    assert culprit["failureReason"] == "ExecutionError"
    assert culprit["failureMessage"].startswith("the Docker engine stopped answering: "), culprit["failureMessage"]
    assert all(job["state"] in ("failed", "terminated") for job in tree_jobs(engine, root))

    again = _run(engine, "crash_net", {"seconds": 1})
    done = wait_terminal(engine, again, timeout_s=180)
    assert done["state"] == "done", done.get("failureMessage")
    assert done["output"] == {"state_seen": "running"}
    deadline = time.monotonic() + CLEANUP_S
    while _leftovers(home):
        assert time.monotonic() < deadline, f"containers left after Docker came back: {_leftovers(home)}"
        time.sleep(0.5)
