"""Backend.resume() (a container a previous engine started) and run()'s teardown when supervision fails."""

from __future__ import annotations

import asyncio

import pytest

from runner.backends.base import BackendError, ContainerSpec, Finished, Found
from runner.backends.fake import FakeBackend, FakeJob

pytestmark = pytest.mark.asyncio
SPEC = ContainerSpec(job_id="job-1", tree_id="job-1", image="img", command=("true",))
LOGS = (("stdout", "a"), ("stderr", "x"), ("stdout", "b"), ("stdout", "c"))


async def resume(backend: FakeBackend, found: Found, already: dict[str, int],
                 stop: asyncio.Event | None = None) -> tuple[int | None, bool, list[tuple[str, str]]]:
    lines: list[tuple[str, str]] = []
    result = await backend.resume(found, timeout_s=None, on_log=lambda s, line: lines.append((s, line)),
                                  stop_event=stop or asyncio.Event(), already=already)
    return result.exit_code, result.stopped_by_runner, lines


async def test_a_running_container_is_followed_to_its_end_skipping_the_lines_already_logged() -> None:
    backend = FakeBackend()
    handle = backend.adopt(SPEC, FakeJob(exit_code=4, logs=LOGS, duration_s=0.01))
    found = await backend.find_job("job-1")
    assert found == Found(handle, "running")
    code, stopped, lines = await resume(backend, found, {"stdout": 1})
    assert (code, stopped) == (4, False)
    assert lines == [("stderr", "x"), ("stdout", "b"), ("stdout", "c")]
    assert backend.started == [] and backend.removed == [handle]
    assert await backend.find_job("job-1") is None


async def test_an_exited_container_is_collected_at_once() -> None:
    backend = FakeBackend()
    backend.adopt(SPEC, FakeJob(exit_code=2, duration_s=None), "exited")
    found = await backend.find_job("job-1")
    assert found is not None and found.state == "exited"
    code, stopped, _ = await resume(backend, found, {})
    assert (code, stopped) == (2, False)


async def test_a_created_container_is_started_and_a_stop_request_stops_it() -> None:
    backend = FakeBackend(stop_grace_s=0.01)
    handle = backend.adopt(SPEC, FakeJob(duration_s=None), "created")
    found = await backend.find_job("job-1")
    assert found == Found(handle, "created")
    stop = asyncio.Event()
    stop.set()
    _, stopped, _ = await resume(backend, found, {}, stop)
    assert stopped and backend.started == [handle] and backend.stopped == [handle]


class _DockerGone(FakeBackend):
    """Waiting fails, and so does removing: as when the Docker engine stops while a job runs."""

    async def _wait(self, handle: str) -> Finished:
        raise BackendError("the Docker engine stopped answering: waiting failed")

    async def _remove(self, handle: str) -> None:
        raise BackendError("the Docker engine stopped answering: removing failed")


async def test_the_failure_that_ended_a_run_is_reported_not_the_removal_failing_after_it(
        caplog: pytest.LogCaptureFixture) -> None:
    backend = _DockerGone()
    with pytest.raises(BackendError, match="waiting failed"):
        await backend.run(SPEC, timeout_s=None, on_log=lambda s, line: None, stop_event=asyncio.Event())
    assert "removing failed" in caplog.text
