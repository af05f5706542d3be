"""Terminating a job tree, job logs (file, /runner/logs, `runner watch`), `runner run --wait`, and the
sandbox every job container runs in."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import docker
import pytest
import requests

from runner.backends.base import DEFAULT_PIDS_LIMIT
from runner.backends.gpus import host_capacity
from runner.client.api import EngineClient
from tests.integration.helpers import (
    job_containers,
    run_sample,
    run_test_applet,
    runner_cli,
    tree_jobs,
    wait_state,
    wait_terminal,
)

pytestmark = pytest.mark.docker
# Backend-neutral: every test runs on the Docker and on the local backend (tests/integration/conftest.py).
BACKENDS = ("docker", "local")
# They look at containers, images or Docker's isolation (tests/integration/test_local_backend.py has the
# local backend's own).
DOCKER_ONLY = (
    "test_terminate_stops_the_whole_tree",
    "test_job_sandbox",
    "test_a_job_with_network_access_reaches_the_api_at_the_gateway",
)

CAP_SYS_ADMIN_BIT = 21


def tree_containers(root: str, home: Path) -> list[Any]:
    """The containers of the tree's jobs, pooled ones included (`JobContainer`s)."""
    client = docker.from_env()
    try:
        return job_containers(client, home, tree_id=root)
    finally:
        client.close()


# -- terminate ----------------------------------------------------------------------------------------

def test_terminate_stops_the_whole_tree(engine: EngineClient, engine_home: Path) -> None:
    root = run_test_applet(engine, "sleepy_tree", {})
    try:
        wait_state(engine, root, ("running",))
        deadline = time.monotonic() + 120
        while len(children := tree_jobs(engine, root)[1:]) < 2:
            assert time.monotonic() < deadline, f"{root} did not start its two subjobs"
            time.sleep(0.2)
        # Every job asks for one core (mem2_hdd2_x1): on a host with fewer than 3 cores, the subjobs the host
        # has no room for stay runnable, and are terminated from there.
        room = max(0, int(host_capacity(engine_home).cpus) - 1)
        for index, child in enumerate(children):
            wait_state(engine, child["id"], ("running",) if index < room else ("runnable", "running"))
        assert [c.job_id for c in tree_containers(root, engine_home)].count(root) == 1
        assert engine.call(f"/{root}/terminate", {}) == {"id": root}
        ended = wait_terminal(engine, root, 120)
    finally:
        engine.call(f"/{root}/terminate", {})  # a no-op once the tree has ended
    assert ended["state"] == "terminated"
    jobs = [wait_terminal(engine, job["id"], 60) for job in tree_jobs(engine, root)]
    assert len(jobs) == 3
    for job in jobs:
        assert job["state"] == "terminated", job["id"]
        assert job["failureReason"] == "Terminated", job["id"]
        assert job["stateTransitions"][-1]["newState"] == "terminated"
    assert engine.call(f"/{root}/terminate", {}) == {"id": root}  # already ended: nothing happens
    assert [c.name for c in tree_containers(root, engine_home)] == []


# -- logs ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def logs_job(engine: EngineClient) -> str:
    """A done run of hello_bash with who=logs: it prints "Greeting logs"."""
    job = wait_terminal(engine, run_sample(engine, "hello_bash", {"who": "logs"}))
    assert job["state"] == "done", (job.get("failureReason"), job.get("failureMessage"))
    return str(job["id"])


def test_job_log_file(engine_home: Path, logs_job: str) -> None:
    path = engine_home / "jobs" / logs_job / "job.log"
    lines = path.read_text(encoding="utf-8").splitlines()
    stamped = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z stdout Greeting logs")
    assert [line for line in lines if stamped.fullmatch(line)], lines


def test_logs_route(engine: EngineClient, logs_job: str) -> None:
    response = requests.get(f"{engine.url}/runner/logs", params={"job": logs_job, "follow": "0"}, timeout=60,
                            headers={"Authorization": f"Bearer {engine.token}"})
    response.raise_for_status()
    assert response.headers["Content-Type"].startswith("application/x-ndjson")
    records = [json.loads(line) for line in response.text.splitlines() if line.strip()]
    greetings = [r for r in records if r["kind"] == "log" and r["line"] == "Greeting logs"]
    assert len(greetings) == 1
    assert greetings[0]["job"] == logs_job and greetings[0]["stream"] == "stdout"
    assert isinstance(greetings[0]["t"], int)
    assert records[-1] == {"kind": "end", "job": logs_job, "state": "done"}
    assert "done" in [r["state"] for r in records if r["kind"] == "state"]


def test_logs_route_needs_a_token(engine: EngineClient, logs_job: str) -> None:
    response = requests.get(f"{engine.url}/runner/logs", params={"job": logs_job, "follow": "0"}, timeout=60)
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "InvalidAuthentication"


def test_watch_cli(engine_home: Path, logs_job: str) -> None:
    result = runner_cli(engine_home, "watch", logs_job, "--no-follow")
    assert result.returncode == 0, result.stderr
    assert [line for line in result.stdout.splitlines() if "STDOUT Greeting logs" in line], result.stdout


# -- runner run --wait --------------------------------------------------------------------------------

def test_run_cli_waits_and_prints_the_output(engine: EngineClient, engine_home: Path) -> None:
    result = runner_cli(engine_home, "run", "sample_apps/hello_bash", "-i", "who=cli", "--wait")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"greeting": "Hello, cli!"}


def test_run_cli_reports_a_failed_tree(engine: EngineClient, engine_home: Path) -> None:
    result = runner_cli(engine_home, "run", "sample_apps/failing_subjob", "--wait")
    assert result.returncode == 1, (result.stdout, result.stderr)
    said = result.stdout + result.stderr
    assert "AppError" in said and "caused by" in said, said


# -- the sandbox --------------------------------------------------------------------------------------

def test_job_sandbox(engine: EngineClient) -> None:
    job = wait_terminal(engine, run_test_applet(engine, "sandbox_probe", {}))
    assert job["state"] == "done", (job.get("failureReason"), job.get("failureMessage"))
    assert job["networkAccess"] == []
    seen = job["output"]
    assert seen["docker_socket"] == "absent"
    assert seen["pids_max"] == str(DEFAULT_PIDS_LIMIT)
    assert seen["no_new_privs"] == "1"
    assert not int(seen["cap_eff"], 16) >> CAP_SYS_ADMIN_BIT & 1, seen["cap_eff"]  # not privileged
    assert seen["internet"] == "unreachable"
    assert seen["api_state"] == "running"  # the API is still reachable, through the engine's socket


def test_a_job_with_network_access_reaches_the_api_at_the_gateway(engine: EngineClient, engine_home: Path) -> None:
    job = wait_terminal(engine, run_test_applet(engine, "network_probe", {}))
    assert job["state"] == "done", (job.get("failureReason"), job.get("failureMessage"))
    assert job["networkAccess"] == ["*"]
    gateway = json.loads((engine_home / "engine.json").read_text())["gateway"]
    assert job["output"] == {"api_host": gateway, "api_state": "running"}
