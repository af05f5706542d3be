"""A hostile job in a real container, with the real dxpy and its own job token, against a real engine daemon:
every attempt on another tree or project is refused, and nothing of the other tree changes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runner.client.api import EngineClient

pytestmark = pytest.mark.docker

HERE = Path(__file__).resolve().parent
SAMPLE_APPS = HERE.parents[1] / "sample_apps"
TERMINAL = ("done", "failed", "terminated")


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineClient]:
    """A client of a real engine daemon of its own, stopped after the module."""
    from runner.client.engine_process import connect, start_engine, stop_engine

    home = tmp_path_factory.mktemp("hostile")
    start_engine(home)
    try:
        yield connect(home, start=False)
    finally:
        stop_engine(home)


def _ended(engine: EngineClient, job_id: str, timeout_s: float = 240) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while (job := engine.call(f"/{job_id}/describe", {}))["state"] not in TERMINAL:
        assert time.monotonic() < deadline, f"{job_id} is still {job['state']}"
        time.sleep(0.3)
    return job


def _run(engine: EngineClient, folder: Path, job_input: dict[str, Any]) -> dict[str, Any]:
    applet = engine.call("/runner/build", {"folder": str(folder)})["id"]
    job = _ended(engine, engine.call(f"/{applet}/run", {"project": engine.project, "input": job_input})["id"])
    assert job["state"] == "done", (job.get("failureReason"), job.get("failureMessage"))
    return job


def test_a_hostile_job_achieves_nothing_against_another_tree(engine: EngineClient) -> None:
    elsewhere = engine.call("/project/new", {"name": "someone else's"})["id"]
    victim = _run(engine, SAMPLE_APPS / "hello_bash", {"who": "victim"})
    hello = victim["applet"]
    hostile = _run(engine, HERE / "applets" / "hostile_api",
                   {"victim": victim["id"], "other_project": elsewhere, "applet": hello})
    assert hostile["output"]["attempts"] == {
        "detach_elsewhere": "PermissionDenied", "detach_here": "PermissionDenied", "update": "PermissionDenied",
        "tags": "PermissionDenied", "terminate": "PermissionDenied", "describe": "PermissionDenied",
        "steal_output": "PermissionDenied", "logs": "PermissionDenied"}
    after = engine.call(f"/{victim['id']}/describe", {"fields": {"allowSSH": True, "rank": True, "tags": True,
                                                                 "state": True}})
    assert after == {"id": victim["id"], "allowSSH": [], "rank": 0, "tags": [], "state": "done"}
    runs = engine.call("/system/findExecutions", {"executable": hello})["results"]
    assert [r["id"] for r in runs] == [victim["id"]]  # no detached run started, here or elsewhere
    assert engine.call("/system/findExecutions", {"project": elsewhere})["results"] == []
