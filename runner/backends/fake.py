"""A backend that runs nothing: scripted exit codes, log lines and durations, for the engine's unit tests.

    backend = FakeBackend({"job-A...": FakeJob(exit_code=1, logs=(("stderr", "boom"),), duration_s=0.1)})
    result = await backend.run(spec, timeout_s=None, on_log=lines.append, stop_event=asyncio.Event())

A job not in the script gets `default`. `duration_s=None` runs until stopped, timed out or `finish()`ed.
The backend records what happened (`created`, `started`, `stopped`, `removed`) for assertions.
`adopt()` plants a container as a crashed engine leaves it, for a new engine to `find_job()` and `resume()`.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from runner.backends.base import (
    Backend,
    BackendError,
    Capability,
    ContainerSpec,
    ContainerState,
    Created,
    Finished,
    Found,
    LogSink,
    Usage,
)

EXIT_TERMINATED = 143
EXIT_KILLED = 137


@dataclass(frozen=True, slots=True)
class FakeJob:
    """What a fake container does: print `logs`, run `duration_s` (None: forever), exit with `exit_code`.

    `ignores_stop` makes it survive SIGTERM, so the runner must kill it after the grace period;
    `create_error` makes creating it fail (an image that does not exist, say); `usage` is what `usage()`
    reads while it runs, one reading a call, the last one repeated.
    """

    exit_code: int = 0
    logs: tuple[tuple[str, str], ...] = ()
    duration_s: float | None = 0.0
    oom_killed: bool = False
    ignores_stop: bool = False
    create_error: str | None = None
    disk_limit_enforced: bool | None = None
    usage: tuple[Usage, ...] = ()


@dataclass(slots=True)
class _Running:
    spec: ContainerSpec
    job: FakeJob
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    exit_code: int | None = None
    oom_killed: bool = False
    started_at: float | None = None
    readings: int = 0


class FakeBackend(Backend):
    """An in-process Backend driven by a script of FakeJobs, keyed by job ID or chosen by a function."""

    capabilities = frozenset({Capability.FIND})

    def __init__(
        self,
        script: Mapping[str, FakeJob] | Callable[[ContainerSpec], FakeJob] | None = None,
        *,
        default: FakeJob | None = None,
        stop_grace_s: float = 0.05,
    ) -> None:
        self.script = script if script is not None else {}
        self.default = default or FakeJob()
        self.stop_grace_s = stop_grace_s
        self.log_drain_s = 1.0
        self.created: list[ContainerSpec] = []
        self.started: list[str] = []
        self.stopped: list[str] = []
        self.removed: list[str] = []
        self._handles = (f"fake-{n}" for n in itertools.count(1))
        self._running: dict[str, _Running] = {}

    def job_for(self, spec: ContainerSpec) -> FakeJob:
        """The scripted behaviour of `spec`'s job."""
        if callable(self.script):
            return self.script(spec)
        return self.script.get(spec.job_id, self.default)

    def running_jobs(self) -> list[str]:
        """The job IDs whose fake containers exist and have not ended."""
        return [r.spec.job_id for r in self._running.values() if not r.ended.is_set()]

    def adopt(self, spec: ContainerSpec, job: FakeJob, state: ContainerState = "running") -> str:
        """Plant the container of `spec` as an engine that died left it (`state`); its handle.

        A running one runs `job.duration_s` from now; an exited one has already exited with `job.exit_code`.
        """
        handle = next(self._handles)
        self.created.append(spec)
        running = _Running(spec, job)
        if state != "created":
            running.started_at = time.time()
        if state == "exited":
            running.exit_code, running.oom_killed = job.exit_code, job.oom_killed
            running.ended.set()
        self._running[handle] = running
        return handle

    async def find_job(self, job_id: str) -> Found | None:
        """The fake container of `job_id` that was not removed, if any."""
        for handle, running in self._running.items():
            if running.spec.job_id == job_id:
                state: ContainerState = "exited" if running.ended.is_set() else (
                    "running" if running.started_at is not None else "created")
                return Found(handle, state)
        return None

    def finish(self, job_id: str, exit_code: int = 0) -> None:
        """End a running fake job now, as if its process exited with `exit_code`."""
        for running in self._running.values():
            if running.spec.job_id == job_id and not running.ended.is_set():
                running.exit_code = exit_code
                running.ended.set()

    def usage(self, job_id: str) -> Usage | None:
        """The next scripted reading of the running fake container of `job_id` (None: none runs or none scripted)."""
        for running in list(self._running.values()):
            if running.spec.job_id == job_id and running.started_at is not None and not running.ended.is_set():
                if not running.job.usage:
                    return None
                running.readings += 1
                return running.job.usage[min(running.readings, len(running.job.usage)) - 1]
        return None

    async def _create(self, spec: ContainerSpec) -> Created:
        job = self.job_for(spec)
        if job.create_error is not None:
            raise BackendError(job.create_error)
        handle = next(self._handles)
        self.created.append(spec)
        self._running[handle] = _Running(spec, job)
        await asyncio.sleep(0)
        return Created(handle, job.disk_limit_enforced)

    async def _start(self, handle: str) -> None:
        self.started.append(handle)
        self._running[handle].started_at = time.time()
        await asyncio.sleep(0)

    async def _stream_logs(self, handle: str, on_log: LogSink, already: Mapping[str, int]) -> None:
        seen: dict[str, int] = {}
        for stream, line in self._running[handle].job.logs:
            seen[stream] = seen.get(stream, 0) + 1
            if seen[stream] > already.get(stream, 0):
                on_log(stream, line)
            await asyncio.sleep(0)

    async def _wait(self, handle: str) -> Finished:
        running = self._running[handle]
        try:
            await asyncio.wait_for(running.ended.wait(), running.job.duration_s)
        except TimeoutError:
            running.exit_code = running.job.exit_code
            running.oom_killed = running.job.oom_killed
            running.ended.set()
        code = running.exit_code if running.exit_code is not None else running.job.exit_code
        return Finished(code, running.oom_killed, running.started_at, time.time())

    async def _stop(self, handle: str, grace_s: float) -> None:
        self.stopped.append(handle)
        running = self._running[handle]
        if running.ended.is_set():
            return
        if running.job.ignores_stop:
            await asyncio.sleep(grace_s)
            running.exit_code = EXIT_KILLED
        else:
            running.exit_code = EXIT_TERMINATED
        running.ended.set()

    async def _remove(self, handle: str) -> None:
        running = self._running.pop(handle, None)
        if running is not None:
            if not running.ended.is_set():
                running.exit_code = EXIT_KILLED
                running.ended.set()
            self.removed.append(handle)
