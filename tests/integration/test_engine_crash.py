"""`kill -9` of the engine daemon while trees run, then a restart: nothing is lost.

Each test has its own engine daemon and state folder (not the shared engine): real Docker, real dxpy in
the jobs, the real `runner` command. The jobs carry on while the engine is away, reach the restarted engine
where they reached the old one (its Unix socket, or its port on the jobs' network) with their own tokens,
and whatever they did meanwhile (output written, lines logged) is collected once.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from runner.backends.docker import container_name
from runner.client.api import EngineClient
from runner.client.engine_process import connect, engine_status, start_engine
from tests.integration.helpers import (
    TEST_APPLETS,
    engine_of_its_own,
    job_containers,
    runner_cli,
    wait_terminal,
)

pytestmark = pytest.mark.docker
OUTAGE_S = 6


@pytest.fixture
def home(tmp_path_factory: pytest.TempPathFactory, client: docker.DockerClient) -> Iterator[Path]:
    """A state folder with an engine of its own, stopped after the test; its containers must all be gone."""
    with engine_of_its_own(tmp_path_factory.mktemp("crash"), client) as folder:
        yield folder


def _client(home: Path) -> EngineClient:
    return connect(home, start=False)


def _run(engine: EngineClient, applet: str, input: dict[str, object]) -> str:
    built = engine.call("/runner/build", {"folder": str(TEST_APPLETS / applet)})["id"]
    return str(engine.call(f"/{built}/run", {"project": engine.project, "input": input})["id"])


def _kill_engine(home: Path) -> str:
    """`kill -9` the daemon; the URL it listened at."""
    status = engine_status(home)
    assert status.running and status.pid is not None and status.url is not None
    os.kill(status.pid, signal.SIGKILL)
    os.waitpid(status.pid, 0)  # our child (start_engine spawned it): reap it
    return status.url


def _containers(client: docker.DockerClient, home: Path) -> list[str]:
    """The home's job containers (a running engine's pool containers waiting for a job are none)."""
    return [c.name for c in job_containers(client, home)]


def _subjob(engine: EngineClient, root: str, function: str, timeout_s: float = 120) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = engine.call("/system/findExecutions", {"rootExecution": root, "describe": True})["results"]
        for entry in found:
            if entry["describe"]["function"] == function:
                return str(entry["id"])
        time.sleep(0.2)
    raise AssertionError(f"no {function} subjob in {root} after {timeout_s} s")


def _printed(home: Path, job: str, line: str, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while line not in runner_cli(home, "watch", "--no-follow", "--get-stdout", job).stdout.splitlines():
        assert time.monotonic() < deadline, f"{job} did not print {line!r} within {timeout_s} s"
        time.sleep(0.2)


def test_a_tree_without_network_lives_through_a_kill_9_of_the_engine(home: Path, client: docker.DockerClient) -> None:
    engine = _client(home)
    root = _run(engine, "crash_tree", {"seconds": 20, "quick_seconds": 3})
    quick = _subjob(engine, root, "quick")
    _printed(home, quick, "quick started")  # it ends, and writes its output, while the engine is away
    url = _kill_engine(home)
    time.sleep(OUTAGE_S)
    assert start_engine(home).url == url, "the restarted engine listens where the jobs were told it is"
    engine = _client(home)

    described = wait_terminal(engine, root)
    assert described["state"] == "done", described.get("failureMessage")
    assert described["output"] == {"quick": 30, "after": 8, "state_seen": "running"}
    quick_log = runner_cli(home, "watch", "--no-follow", quick)
    assert "the engine restarted: its container is exited" in quick_log.stdout, quick_log.stdout
    watched = runner_cli(home, "watch", "--get-stdout", root)
    assert watched.returncode == 0, watched.stderr
    ticks = [line for line in watched.stdout.splitlines() if line.startswith("main tick ")]
    assert ticks == [f"main tick {n}" for n in range(1, 21)], "each line once, those of the outage included"
    assert _containers(client, home) == []


def test_a_networked_job_reaches_the_restarted_engine_and_one_whose_container_went_fails(
        home: Path, client: docker.DockerClient) -> None:
    engine = _client(home)
    keeper = _run(engine, "crash_net", {"seconds": 15})
    victim = _run(engine, "crash_net", {"seconds": 200})
    for job in (keeper, victim):
        _printed(home, job, "net tick 1")
    url = _kill_engine(home)
    client.containers.get(container_name(victim)).remove(force=True)
    time.sleep(OUTAGE_S)
    assert start_engine(home).url == url
    engine = _client(home)

    kept = wait_terminal(engine, keeper)
    assert kept["state"] == "done", kept.get("failureMessage")
    assert kept["output"] == {"state_seen": "running"}
    gone = wait_terminal(engine, victim)
    assert gone["state"] == "failed" and gone["failureReason"] == "AppInternalError"
    assert gone["failureMessage"].startswith(
        "its container was gone after the engine restarted (the engine was away for about "), gone["failureMessage"]
    assert _containers(client, home) == []
