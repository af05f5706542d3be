"""Job reuse and debug hold against a real engine and Docker: reused output, held containers, `docker exec`."""

from __future__ import annotations

import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import docker
import pytest
import requests

from runner.client.api import EngineClient
from tests.integration.helpers import job_containers, run_sample, run_test_applet, wait_state, wait_terminal

pytestmark = pytest.mark.docker
# Backend-neutral: every test runs on the Docker and on the local backend (tests/integration/conftest.py).
BACKENDS = ("docker", "local")
# They look at containers, images or Docker's isolation (tests/integration/test_local_backend.py has the
# local backend's own).
DOCKER_ONLY = (
    "test_a_job_failing_with_a_listed_reason_is_held_until_terminated",
)


def _done(engine: EngineClient, job_id: str) -> dict[str, Any]:
    job = wait_terminal(engine, job_id)
    assert job["state"] == "done", (job_id, job.get("failureReason"), job.get("failureMessage"))
    return job


def _containers(engine: EngineClient, job_id: str) -> list[Any]:
    """The job's containers, a pooled one included (`JobContainer`s)."""
    client = docker.from_env()
    try:
        return job_containers(client, Path(str(engine.ping()["home"])), job_id=job_id)
    finally:
        client.close()


def _shell_argv(engine: EngineClient, job_id: str) -> list[str]:
    response = requests.get(f"{engine.url}/runner/shell", params={"job": job_id},
                            headers={"Authorization": f"Bearer {engine.token}"}, timeout=30)
    response.raise_for_status()
    argv: list[str] = response.json()["argv"]
    return argv


def test_a_second_equal_run_with_reuse_takes_the_first_ones_output(engine: EngineClient) -> None:
    who = f"reuse-{uuid.uuid4().hex[:8]}"
    first = _done(engine, run_sample(engine, "hello_bash", {"who": who}, reuse=True))
    assert "outputReusedFrom" not in first
    second = _done(engine, run_sample(engine, "hello_bash", {"who": who}, reuse=True))
    assert second["output"] == first["output"] == {"greeting": f"Hello, {who}!"}
    assert second["outputReusedFrom"] == first["id"]
    again = _done(engine, run_sample(engine, "hello_bash", {"who": who}, reuse=True, ignoreReuse=True))
    assert "outputReusedFrom" not in again
    assert again["output"] == first["output"]
    assert again["ignoreReuse"] is True


def test_a_job_failing_with_a_listed_reason_is_held_until_terminated(engine: EngineClient) -> None:
    job_id = run_test_applet(engine, "debug_fail", {}, debug={"debugOn": ["AppError"]})
    held = wait_state(engine, job_id, ("debug_hold", "done", "failed", "terminated"), timeout_s=180)
    assert held["state"] == "debug_hold", (held.get("failureReason"), held.get("failureMessage"))
    assert (held["failureReason"], held["failureMessage"]) == ("AppError", "failed on purpose")
    containers = _containers(engine, job_id)
    assert [c.state for c in containers] == ["running"]
    argv = _shell_argv(engine, job_id)
    assert argv[:2] == ["docker", "exec"] and argv[-1] == "bash"
    probe = [part for part in argv if part != "-it"] + ["-c", "cat marker.txt; pwd"]
    result = subprocess.run(probe, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["left for the debugger", "/home/dnanexus"]
    engine.call(f"/{job_id}/terminate", {})
    ended = wait_terminal(engine, job_id, timeout_s=60)
    assert ended["state"] == "terminated"
    states = [t["newState"] for t in ended["stateTransitions"]]
    assert states[-3:] == ["debug_hold", "terminating", "terminated"]
    deadline = time.monotonic() + 30
    while _containers(engine, job_id) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _containers(engine, job_id) == []


def test_a_shell_is_refused_for_a_job_that_is_not_running(engine: EngineClient) -> None:
    job = _done(engine, run_sample(engine, "hello_bash", {"who": f"shell-{uuid.uuid4().hex[:8]}"}))
    response = requests.get(f"{engine.url}/runner/shell", params={"job": job["id"]},
                            headers={"Authorization": f"Bearer {engine.token}"}, timeout=30)
    assert response.status_code >= 400
    assert "done" in response.json()["error"]["message"]
