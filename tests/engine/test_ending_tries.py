"""No job is left in a non-terminal state without a container: what the job left, or a fault while ending a
try, fails it (AppInternalError naming what went wrong), and terminate always ends in terminated."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from runner.backends.base import BackendError, ContainerSpec
from runner.backends.fake import FakeJob
from runner.engine import _tree, driver
from runner.engine.driver import Engine
from runner.engine.job_files import MAX_DEPTH
from runner.engine.scheduler import Resources
from tests.engine.conftest import Harness, Make, function_of, job_dir, outputs

pytestmark = pytest.mark.asyncio
FOREVER = {"duration_s": None}
REFUSED = "the {} the job left cannot be used: "


def deep(depth: int) -> dict[str, Any]:
    value: Any = []
    for _ in range(depth - 2):
        value = [value]
    return {"deep": value}


def tree_script(h: Harness, jobs: dict[str, str], bad: Callable[[ContainerSpec], FakeJob]) -> None:
    """main starts `bad` and a `slow` sibling that runs until stopped; `bad` plays the container of `bad`."""
    def script(spec: ContainerSpec) -> FakeJob:
        function = function_of(spec)
        if function == "main":
            jobs["slow"] = h.subjob(spec, "slow")
            jobs["bad"] = h.subjob(spec, "bad")
            return outputs(spec, {})
        if function == "bad":
            return bad(spec)
        return outputs(spec, {}, **FOREVER)
    h.script = script


async def failed_tree(h: Harness, jobs: dict[str, str], root: str) -> dict[str, Any]:
    """The describe of the bad job once it failed, its parent failed from it and its sibling terminated."""
    await h.until(lambda: "bad" in jobs, "the subjobs to be created")
    bad = await h.ended(jobs["bad"])
    parent, slow = await h.ended(root), await h.ended(jobs["slow"])
    assert (bad["state"], bad["failureReason"]) == ("failed", "AppInternalError")
    assert (parent["state"], parent["failureFrom"]["id"]) == ("failed", jobs["bad"])
    assert slow["state"] == "terminated"
    return bad


async def test_a_link_left_at_output_json_fails_the_job_and_the_linked_file_is_untouched(
        make: Make, tmp_path: Path) -> None:
    h = await make(cores=4)
    canary = tmp_path / "canary.txt"
    canary.write_text("host secret\n")
    before = canary.stat().st_mtime_ns
    jobs: dict[str, str] = {}

    def plant(spec: ContainerSpec) -> FakeJob:
        (job_dir(spec) / "output.json").symlink_to(canary)
        return FakeJob()

    tree_script(h, jobs, plant)
    bad = await failed_tree(h, jobs, h.run())
    assert bad["failureMessage"] == ("the output.json the job left cannot be used: it is a symbolic link "
                                     "(the engine follows no link in the job folder)")
    assert canary.read_text() == "host secret\n" and canary.stat().st_mtime_ns == before
    assert not (h.home / "jobs" / jobs["bad"] / "output.json").exists()
    h.script = lambda spec: outputs(spec, {"after": 1})
    assert (await h.ended(h.run()))["output"] == {"after": 1}  # the engine keeps serving


async def test_a_fifo_left_at_error_json_fails_the_job_without_a_hang(make: Make) -> None:
    h = await make()

    def plant(spec: ContainerSpec) -> FakeJob:
        os.mkfifo(job_dir(spec) / "error.json")
        return FakeJob(exit_code=1)

    h.script = plant
    job = await h.ended(h.run())
    assert (job["state"], job["failureReason"]) == ("failed", "AppInternalError")
    assert job["failureMessage"] == REFUSED.format("error.json") + "it is a FIFO, not a regular file"


async def test_an_output_nested_900_levels_fails_the_job_and_its_tree(make: Make) -> None:
    h = await make(cores=4)
    jobs: dict[str, str] = {}
    tree_script(h, jobs, lambda spec: outputs(spec, deep(900)))
    bad = await failed_tree(h, jobs, h.run())
    assert bad["failureMessage"] == REFUSED.format("output.json") + f"it is nested deeper than {MAX_DEPTH} " \
                                                                    "levels"


async def test_a_checked_output_is_copied_into_the_engine_owned_folder(make: Make) -> None:
    h = await make()
    h.script = lambda spec: outputs(spec, deep(MAX_DEPTH))
    job_id = h.run()
    assert (await h.ended(job_id))["state"] == "done"
    assert json.loads((h.home / "jobs" / job_id / "output.json").read_text()) == deep(MAX_DEPTH)


async def test_a_store_error_while_ending_a_try_fails_the_job_and_its_tree(
        make: Make, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    h = await make(cores=4)
    jobs: dict[str, str] = {}
    real_update = driver.update_job

    def failing_update(db: Any, job_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        if job_id == jobs.get("bad") and "_rawOutput" in changes:
            raise sqlite3.OperationalError("disk I/O error")
        return real_update(db, job_id, changes)

    monkeypatch.setattr(driver, "update_job", failing_update)
    tree_script(h, jobs, lambda spec: outputs(spec, {"x": 1}))
    bad = await failed_tree(h, jobs, h.run())
    assert bad["failureMessage"] == "the engine could not finish this try: OperationalError: disk I/O error"
    assert "ending the try of" in caplog.text
    caplog.clear()


async def test_when_failing_the_tree_raises_too_the_job_still_fails(
        make: Make, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    h = await make()

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(h.engine, "finish_try", broken)
    monkeypatch.setattr(_tree, "end_tree", broken)
    h.script = lambda spec: outputs(spec, {})
    job = await h.ended(h.run())
    assert (job["state"], job["failureReason"]) == ("failed", "AppInternalError")
    assert job["failureMessage"] == ("the engine could not finish this try: RecursionError: maximum "
                                     "recursion depth exceeded")
    caplog.clear()


async def test_terminate_ends_terminated_when_stopping_the_container_fails(
        make: Make, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    h = await make()

    async def cannot_stop(handle: str, grace_s: float) -> None:
        raise BackendError(f"stopping container {handle} failed: the Docker engine did not answer")

    monkeypatch.setattr(h.backend, "_stop", cannot_stop)
    h.script = lambda spec: FakeJob(**FOREVER)
    job_id = h.run()
    await h.in_state(job_id, "running")
    h.engine.terminate(job_id)
    job = await h.ended(job_id)
    assert job["state"] == "terminated"
    assert h.states(job_id)[-2:] == ["terminating", "terminated"]
    assert h.backend.running_jobs() == []  # run() removed the container all the same
    caplog.clear()


async def test_terminate_ends_terminated_when_ending_the_try_fails(
        make: Make, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    h = await make()

    def broken(job_id: str, outcome: Any) -> None:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(h.engine, "finish_try", broken)
    h.script = lambda spec: FakeJob(**FOREVER)
    job_id = h.run()
    await h.in_state(job_id, "running")
    h.engine.terminate(job_id)
    job = await h.ended(job_id)
    assert job["state"] == "terminated"
    assert h.states(job_id)[-2:] == ["terminating", "terminated"]
    caplog.clear()


async def test_terminate_ends_a_running_job_that_has_no_container_here(
        make: Make, caplog: pytest.LogCaptureFixture) -> None:
    h = await make()
    h.script = lambda spec: FakeJob(**FOREVER)
    job_id = h.run()
    await h.in_state(job_id, "running")
    # A second engine on the same store has no try of the job: there is no container for it to wait on.
    other = Engine(h.db, h.backend, h.home, h.engine.reach, Resources(cores=2, memory_bytes=1 << 30, gpus=0))
    other.terminate(job_id)
    job = h.describe(job_id)
    assert job["state"] == "terminated" and "stoppedRunning" in job
    assert job["failureReason"] == "Terminated"
    await asyncio.sleep(0)
    logging.getLogger("runner").debug("the first engine's try ends on its own when the fixture closes it")
    caplog.clear()
