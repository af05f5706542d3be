"""Backend.run()'s common parts (timeout, stop, exit collection, teardown), driven through FakeBackend."""

from __future__ import annotations

import asyncio

import pytest

from runner.backends.base import BackendError, Capability, ContainerExit, ContainerSpec
from runner.backends.docker import DockerBackend
from runner.backends.fake import EXIT_KILLED, EXIT_TERMINATED, FakeBackend, FakeJob

pytestmark = pytest.mark.asyncio


def spec(job_id: str = "job-1") -> ContainerSpec:
    return ContainerSpec(job_id=job_id, tree_id="job-1", image="img", command=("true",))


async def run(backend: FakeBackend, job_id: str = "job-1", timeout_s: float | None = None,
              stop: asyncio.Event | None = None) -> tuple[ContainerExit, list[tuple[str, str]]]:
    lines: list[tuple[str, str]] = []
    result = await backend.run(
        spec(job_id), timeout_s=timeout_s, on_log=lambda s, line: lines.append((s, line)),
        stop_event=stop or asyncio.Event(),
    )
    return result, lines


async def test_natural_exit_reports_code_and_logs_and_removes_the_container() -> None:
    job = FakeJob(exit_code=3, logs=(("stdout", "out"), ("stderr", "err")), duration_s=0.01)
    backend = FakeBackend({"job-1": job})
    result, lines = await run(backend)
    assert result.exit_code == 3
    assert not result.timed_out and not result.stopped_by_runner and not result.oom_killed
    assert lines == [("stdout", "out"), ("stderr", "err")]
    assert backend.removed == ["fake-1"] and backend.stopped == []


async def test_timeout_stops_the_container_and_marks_timed_out() -> None:
    backend = FakeBackend(default=FakeJob(duration_s=None))
    result, _ = await run(backend, timeout_s=0.05)
    assert result.timed_out and not result.stopped_by_runner
    assert result.exit_code == EXIT_TERMINATED
    assert backend.stopped == ["fake-1"] and backend.removed == ["fake-1"]


async def test_stop_event_stops_and_kills_after_the_grace_period() -> None:
    backend = FakeBackend(default=FakeJob(duration_s=None, ignores_stop=True), stop_grace_s=0.01)
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(0.02, stop.set)
    result, _ = await run(backend, stop=stop)
    assert result.stopped_by_runner and not result.timed_out
    assert result.exit_code == EXIT_KILLED
    assert backend.removed == ["fake-1"]


async def test_a_job_stopped_before_it_starts_never_gets_a_container() -> None:
    backend = FakeBackend()
    stop = asyncio.Event()
    stop.set()
    result, _ = await run(backend, stop=stop)
    assert result.stopped_by_runner and result.exit_code is None
    assert backend.created == []


async def test_oom_is_reported_from_the_backend_verdict() -> None:
    backend = FakeBackend(default=FakeJob(exit_code=137, oom_killed=True))
    result, _ = await run(backend)
    assert result.oom_killed and result.exit_code == 137


async def test_cancelling_run_still_removes_the_container() -> None:
    backend = FakeBackend(default=FakeJob(duration_s=None))
    task = asyncio.create_task(run(backend))
    while not backend.started:
        await asyncio.sleep(0.001)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0)
    assert backend.removed == ["fake-1"] and backend.running_jobs() == []


async def test_create_failure_is_a_backend_error() -> None:
    backend = FakeBackend(default=FakeJob(create_error="image img is not on this Docker engine"))
    with pytest.raises(BackendError, match="image img"):
        await run(backend)


async def test_finish_ends_a_long_job_with_the_given_code() -> None:
    backend = FakeBackend(default=FakeJob(duration_s=None))
    task = asyncio.create_task(run(backend, "job-2"))
    while backend.running_jobs() != ["job-2"]:
        await asyncio.sleep(0.001)
    backend.finish("job-2", exit_code=5)
    result, _ = await task
    assert result.exit_code == 5 and not result.stopped_by_runner


async def test_what_a_backend_cannot_do_is_declared_and_refused_by_name() -> None:
    backend = FakeBackend()
    assert backend.capabilities == {Capability.FIND}
    with pytest.raises(BackendError, match=r"the FakeBackend cannot open a shell .* 'shell' capability"):
        backend.exec_shell_argv("job-1")
    with pytest.raises(BackendError, match=r"the FakeBackend cannot remove the containers .* 'reap'"):
        await backend.reap_orphans("/home", ["job-1"])


async def test_the_docker_backend_declares_every_capability() -> None:
    assert DockerBackend.capabilities == set(Capability)
