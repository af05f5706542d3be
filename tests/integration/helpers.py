"""What integration tests do with the engine: build and run sample apps, wait, look at trees and files."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import requests

from runner.client.api import EngineClient

SAMPLE_APPS = Path(__file__).resolve().parents[2] / "sample_apps"
TEST_APPLETS = Path(__file__).resolve().parent / "applets"
TERMINAL = ("done", "failed", "terminated")


@cache
def _built(engine: EngineClient, name: str, parent: Path = SAMPLE_APPS) -> str:
    return str(engine.call("/runner/build", {"folder": str(parent / name)})["id"])


def build_sample(engine: EngineClient, name: str) -> str:
    """The applet ID of sample_apps/<name>, built once per session."""
    return _built(engine, name)


def build_test_applet(engine: EngineClient, name: str) -> str:
    """The applet ID of tests/integration/applets/<name>, built once per session."""
    return _built(engine, name, TEST_APPLETS)


def run_test_applet(engine: EngineClient, name: str, input: dict[str, Any], **run_args: Any) -> str:
    """Build tests/integration/applets/<name> and run it in the default project; the root job's ID."""
    body = {"project": engine.project, "input": input, **run_args}
    return str(engine.call(f"/{build_test_applet(engine, name)}/run", body)["id"])


def run_sample(engine: EngineClient, name: str, input: dict[str, Any], **run_args: Any) -> str:
    """Build sample_apps/<name> and run it in the default project; the root job's ID."""
    applet = build_sample(engine, name)
    body = {"project": engine.project, "input": input, **run_args}
    return str(engine.call(f"/{applet}/run", body)["id"])


def wait_terminal(engine: EngineClient, job_id: str, timeout_s: float = 180) -> dict[str, Any]:
    """The describe of `job_id` once it is done, failed or terminated (AssertionError after `timeout_s`)."""
    return wait_state(engine, job_id, TERMINAL, timeout_s)


def wait_state(engine: EngineClient, job_id: str, states: tuple[str, ...], timeout_s: float = 120) -> dict[str, Any]:
    """The describe of `job_id` once it is in one of `states`."""
    deadline = time.monotonic() + timeout_s
    while True:
        described: dict[str, Any] = engine.call(f"/{job_id}/describe", {})
        if described["state"] in states:
            return described
        if time.monotonic() > deadline:
            raise AssertionError(f"{job_id} is {described['state']}, not one of {states}, after {timeout_s} s")
        time.sleep(0.2)


def tree_jobs(engine: EngineClient, root_id: str) -> list[dict[str, Any]]:
    """The describe of every job in the tree of `root_id`, the root first, then by creation."""
    found = engine.call("/system/findExecutions", {"rootExecution": root_id, "describe": True})["results"]
    jobs = [entry["describe"] for entry in found]
    return sorted(jobs, key=lambda j: (j["id"] != root_id, j["created"]))


def download_text(engine: EngineClient, file_link: dict[str, Any]) -> str:
    """The content of a closed file given as a link."""
    file_id = file_link["$dnanexus_link"]
    if isinstance(file_id, dict):
        file_id = file_id["id"]
    url = engine.call(f"/{file_id}/download", {})["url"]
    response = requests.get(url, timeout=30)
    response.raise_for_status()
    return response.text


def upload_text(engine: EngineClient, name: str, text: str, folder: str = "/",
                project: str | None = None) -> dict[str, Any]:
    """A closed file holding `text` in `project` (default: the default project), as a link."""
    file_id = engine.call("/file/new", {"project": project or engine.project, "name": name, "folder": folder,
                                        "parents": True})["id"]
    data = text.encode()
    target = engine.call(f"/{file_id}/upload", {"index": 1, "size": len(data)})
    requests.put(target["url"], data=data, headers=target.get("headers") or {}, timeout=30).raise_for_status()
    engine.call(f"/{file_id}/close", {})
    deadline = time.monotonic() + 30
    while engine.call(f"/{file_id}/describe", {})["state"] != "closed":
        if time.monotonic() > deadline:
            raise AssertionError(f"{file_id} did not close")
        time.sleep(0.1)
    return {"$dnanexus_link": file_id}


REPO = Path(__file__).resolve().parents[2]
CLI_TIMEOUT_S = 300


def runner_cli(engine_home: Path, *args: str, stdin: str | None = None,
               cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """`runner ARGS...` (as `python -m runner`) against the shared engine, text in and out."""
    env = {**os.environ, "RUNNER_HOME": str(engine_home)}
    return subprocess.run([sys.executable, "-m", "runner", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=CLI_TIMEOUT_S, check=False, input=stdin)


def runner_cli_bytes(engine_home: Path, *args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[bytes]:
    """`runner ARGS...` against the shared engine, stdout kept as bytes (for `cat` and `download -o -`)."""
    env = {**os.environ, "RUNNER_HOME": str(engine_home)}
    return subprocess.run([sys.executable, "-m", "runner", *args], cwd=cwd, env=env, capture_output=True,
                          timeout=CLI_TIMEOUT_S, check=False)


@contextmanager
def engine_of_its_own(folder: Path, client: Any) -> Iterator[Path]:
    """An engine daemon on the state folder `folder`, stopped afterwards; any container it left is removed."""
    from runner.backends.base import LABEL_HOME
    from runner.client.engine_process import start_engine, stop_engine

    start_engine(folder)
    try:
        yield folder
    finally:
        stop_engine(folder)
        for leftover in client.containers.list(all=True, filters={"label": f"{LABEL_HOME}={folder}"}):
            leftover.remove(force=True)


def job_containers(client: Any, home: Path, job_id: str | None = None, tree_id: str | None = None) -> list[Any]:
    """The job containers of `home` (of one job or tree) as the engine finds them: by their labels, or a pooled
    one by its slot's assignment; a pool container waiting for a job is none. `JobContainer`s (name, state...)."""
    from runner.backends.docker import DockerBackend

    found = asyncio.run(DockerBackend(client, home).find_containers(home, tree_id=tree_id, job_id=job_id))
    return [c for c in found if c.job_id]
