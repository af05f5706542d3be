"""The backend contract (miniwdl's TaskContainer): run one job's container from start to end.

    Backend                  abstract; the final `run()` owns timeout, stop on request, exit collection
    │                        and teardown, around small hooks: create, start, stream logs, wait, stop, remove;
    │                        the final `resume()` does the same for a container a previous engine started
    ├── DockerBackend        backends/docker.py, one Docker container per job
    └── FakeBackend          backends/fake.py, scripted and in-process, for the engine's unit tests

Beyond running jobs, a backend declares in `capabilities` what else it can do (a `Capability`). The methods
have defaults here for a backend that cannot: `find_job()` finds nothing, `reap_orphans()` and
`exec_shell_argv()` raise a BackendError naming the backend and what it cannot do; so callers ask
`Capability.X in backend.capabilities` or just call, and never probe with getattr.
"""

from __future__ import annotations

import abc
import asyncio
import logging
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import ClassVar, Literal, final

from runner.errors import RunnerError

LogSink = Callable[[str, str], None]
# (answering, detail): the backend stopped answering (False, why) or answers again (True, "").
HealthSink = Callable[[bool, str], None]
_HEALTH_LOCK = threading.Lock()
ExitHook = Callable[[], None]
ContainerState = Literal["created", "running", "exited"]
log = logging.getLogger(__name__)
NO_LINES: Mapping[str, int] = {}

DEFAULT_PIDS_LIMIT = 4096
DEFAULT_WORKDIR = "/home/dnanexus"
STOP_GRACE_S = 5.0
# How long run() waits for the last log lines once the container has exited.
LOG_DRAIN_S = 5.0

LABEL_JOB = "runner.job"
LABEL_TREE = "runner.tree"
LABEL_HOME = "runner.home"


class BackendError(RunnerError):
    """A container could not be created, started, watched or removed."""


class Capability(str, Enum):
    """What a backend can do besides running a job's container to its end."""

    FIND = "find"  # find_job(): the container a previous engine left, for resume() to carry on with
    REAP = "reap"  # reap_orphans(): remove the containers no live job owns
    SHELL = "shell"  # exec_shell_argv(): a command line opening a shell in a running job


@dataclass(frozen=True, slots=True)
class Mount:
    """A host path bind-mounted into the container."""

    host_path: str
    container_path: str
    read_only: bool = True
    # The job's own (its input file, its work/ folder), as opposed to what every job of the applet mounts: a
    # pooled container mounts a placeholder of its own there, which becomes the job's at assignment.
    per_job: bool = False


@dataclass(frozen=True, slots=True)
class ContainerSpec:
    """Everything a backend needs to run one job: image, command, environment, mounts and limits."""

    job_id: str
    tree_id: str
    image: str
    command: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    mounts: tuple[Mount, ...] = ()
    cpus: float = 1.0
    memory_bytes: int = 0
    gpus: int = 0
    pids_limit: int = DEFAULT_PIDS_LIMIT
    network_mode: str = "none"
    labels: Mapping[str, str] = field(default_factory=dict)
    workdir: str = DEFAULT_WORKDIR
    extra_hosts: Mapping[str, str] = field(default_factory=dict)
    disk_bytes: int | None = None
    # The host CPUs the job is pinned to (its cpuset; what nproc and os.cpu_count() report), and the host GPUs
    # it is given (Docker device requests by ID); empty: no pinning, and `gpus` GPUs of any.
    cpu_ids: tuple[int, ...] = ()
    gpu_ids: tuple[int, ...] = ()
    shm_bytes: int = 0
    # Named in the error of a job that writes more than `disk_bytes`.
    instance_type: str = ""
    # The launcher started ahead of its job (a pooled container): it waits for the job's environment on the FIFO
    # `waiting_fifo` (a container path), then runs as `command` would. Empty: the job never runs pooled.
    waiting_command: tuple[str, ...] = ()
    waiting_fifo: str = ""


@dataclass(frozen=True, slots=True)
class ContainerExit:
    """How a job's container ended; times are seconds since the epoch.

    `exit_code` is None only when the container never started (stopped before it could).
    `oom_killed` is the engine's own verdict (Docker's State.OOMKilled), not a guess from exit code 137.
    `disk_limit_enforced` is None when no disk limit was asked for, False when the storage driver cannot.
    """

    exit_code: int | None
    oom_killed: bool
    stopped_by_runner: bool
    timed_out: bool
    started_at: float | None
    finished_at: float | None
    disk_limit_enforced: bool | None = None
    # Set when the backend ended the job for going over a limit of its instance type (AppInsufficientResourceError).
    resource_error: str | None = None


@dataclass(frozen=True, slots=True)
class Created:
    """What the create hook reports: the backend's handle of the container, and whether a disk limit holds."""

    handle: str
    disk_limit_enforced: bool | None = None


@dataclass(frozen=True, slots=True)
class Finished:
    """What the wait hook reports once the container's process has ended."""

    exit_code: int
    oom_killed: bool
    started_at: float | None
    finished_at: float | None
    resource_error: str | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    """One reading of what a running container uses: its CPU time so far, and its memory now and at most.

    `cpu_seconds` is cumulative (the sampler turns two readings into a percentage); `memory_bytes` leaves
    out reclaimable page cache; `memory_peak_bytes` is the kernel's high-water mark (None when it keeps none).
    """

    cpu_seconds: float
    memory_bytes: int
    memory_peak_bytes: int | None = None


@dataclass(frozen=True, slots=True)
class Found:
    """A job's container as a restarted engine finds it: created (never started), running, or exited."""

    handle: str
    state: ContainerState


class Backend(abc.ABC):
    """Runs job containers; subclasses implement the hooks, `run()` is the same for all."""

    stop_grace_s: float = STOP_GRACE_S
    log_drain_s: float = LOG_DRAIN_S
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    # Told of each change of whether the backend answers (the engine records engine.backend_down / _up).
    on_health: HealthSink | None = None
    _answering: bool = True
    # When set (the engine daemon sets it), run() returns once the process has exited and its logs are
    # drained, and the container is removed in the background: a removal is not on a job's path to done.
    # settle() waits for those removals; a crash before one ends leaves the container to reap_orphans.
    remove_in_background: bool = False
    _removal_tasks: set[asyncio.Task[None]]

    async def settle(self) -> None:
        """Wait until every container whose removal was left to the background is removed."""
        while pending := self._background_removals():
            await asyncio.gather(*pending, return_exceptions=True)

    def _background_removals(self) -> set[asyncio.Task[None]]:
        tasks: set[asyncio.Task[None]] | None = getattr(self, "_removal_tasks", None)
        if tasks is None:
            tasks = set()
            self._removal_tasks = tasks
        return tasks

    def _remove_later(self, handle: str, job_id: str | None) -> None:
        async def remove() -> None:
            try:
                await self._remove(handle)
            except BackendError as exc:
                log.warning("%s", exc)

        task = asyncio.get_running_loop().create_task(remove())
        tasks = self._background_removals()
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        if job_id is not None:
            removing = self._removing_of_job()
            removing[job_id] = task
            task.add_done_callback(lambda done: removing.pop(job_id, None) if removing.get(job_id) is done else None)

    def _removing_of_job(self) -> dict[str, asyncio.Task[None]]:
        removing: dict[str, asyncio.Task[None]] | None = getattr(self, "_job_removals", None)
        if removing is None:
            removing = {}
            self._job_removals = removing
        return removing

    async def _removed_before(self, job_id: str) -> None:
        """Wait for the background removal of `job_id`'s previous container: a new try's takes its name."""
        task = self._removing_of_job().pop(job_id, None)
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)

    def report_health(self, answering: bool, detail: str = "") -> None:
        """Tell `on_health`, once per change, that the backend stopped or started answering (any thread)."""
        with _HEALTH_LOCK:
            if answering == self._answering:
                return
            self._answering = answering
        if self.on_health is not None:
            self.on_health(answering, detail)

    @final
    async def run(
        self,
        spec: ContainerSpec,
        *,
        timeout_s: float | None,
        on_log: LogSink,
        stop_event: asyncio.Event,
        on_exit: ExitHook | None = None,
    ) -> ContainerExit:
        """Run `spec` to its end: logs go to `on_log(stream, line)`; the container is always removed after.

        `on_exit()` is called as soon as the container's process has ended, before logs are drained and the
        container removed: from then on it uses no CPU or memory, so a scheduler may give them away.
        """
        if stop_event.is_set():
            return ContainerExit(None, False, True, False, None, None)
        await self._removed_before(spec.job_id)
        created = await self._create(spec)
        return await self._supervised(created, timeout_s, on_log, stop_event, on_exit, start=True, already=NO_LINES,
                                      job_id=spec.job_id)

    @final
    async def resume(
        self,
        found: Found,
        *,
        timeout_s: float | None,
        on_log: LogSink,
        stop_event: asyncio.Event,
        on_exit: ExitHook | None = None,
        already: Mapping[str, int] = NO_LINES,
        job_id: str | None = None,
    ) -> ContainerExit:
        """Carry on with a container a previous engine started (or only created), as `run()` would have.

        `already[stream]` lines of each stream are in the job's log already: they are not delivered again.
        An exited container is collected at once; the container is always removed after (a next try of
        `job_id` waits for that removal).
        """
        created = Created(found.handle)
        return await self._supervised(created, timeout_s, on_log, stop_event, on_exit,
                                      start=found.state == "created", already=already, job_id=job_id)

    async def find_job(self, job_id: str) -> Found | None:
        """The container of `job_id` that a previous engine left; None when there is none.

        A backend without Capability.FIND keeps no containers across engines, so it never finds one.
        """
        del job_id
        return None

    async def reap_orphans(self, home: Path | str, live_job_ids: Collection[str]) -> list[str]:
        """Remove the containers of `home` whose job is not live (after an engine crash); their job IDs."""
        del home, live_job_ids
        raise self._cannot(Capability.REAP, "remove the containers a previous engine left")

    def usage(self, job_id: str) -> Usage | None:
        """What the running container of `job_id` uses now; None when it has none or the backend cannot tell.

        Blocking (the engine's sampler calls it in a worker thread, for every running try at each round), so
        it must be cheap (no call that waits for a sample period) and must not raise.
        """
        del job_id
        return None

    def exec_shell_argv(self, job_id: str) -> list[str]:
        """The command line that opens an interactive shell in the running container of `job_id`."""
        del job_id
        raise self._cannot(Capability.SHELL, "open a shell in a job's container")

    def _cannot(self, capability: Capability, what: str) -> BackendError:
        return BackendError(f"the {type(self).__name__} cannot {what} (it lacks the {capability.value!r} "
                            "capability)")

    async def _supervised(
        self, created: Created, timeout_s: float | None, on_log: LogSink, stop_event: asyncio.Event,
        on_exit: ExitHook | None, *, start: bool, already: Mapping[str, int], job_id: str | None,
    ) -> ContainerExit:
        try:
            result = await self._supervise(created, timeout_s, on_log, stop_event, on_exit, start, already)
        except BaseException:
            # The failure that ended supervision is the one to report, not a removal failing after it.
            try:
                await asyncio.shield(self._remove(created.handle))
            except BackendError as exc:
                log.warning("%s", exc)
            raise
        if self.remove_in_background:
            self._remove_later(created.handle, job_id)
        else:
            # Shielded: a cancelled run() must still not leave its container behind.
            await asyncio.shield(self._remove(created.handle))
        return result

    async def _supervise(
        self, created: Created, timeout_s: float | None, on_log: LogSink, stop_event: asyncio.Event,
        on_exit: ExitHook | None, start: bool, already: Mapping[str, int],
    ) -> ContainerExit:
        handle = created.handle
        if start:
            await self._start(handle)
        logs = asyncio.create_task(self._stream_logs(handle, on_log, already))
        waiter = asyncio.create_task(self._wait(handle))
        stopper = asyncio.create_task(stop_event.wait())
        try:
            done, _ = await asyncio.wait(
                {waiter, stopper}, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED
            )
            stopped = waiter not in done and stopper in done
            timed_out = waiter not in done and not stopped
            if stopped or timed_out:
                await self._stop(handle, self.stop_grace_s)
            finished = await waiter
            if on_exit is not None:
                on_exit()
            await asyncio.wait({logs}, timeout=self.log_drain_s)
        finally:
            for task in (stopper, waiter, logs):
                task.cancel()
            await asyncio.gather(stopper, waiter, logs, return_exceptions=True)
        return ContainerExit(
            exit_code=finished.exit_code,
            oom_killed=finished.oom_killed,
            stopped_by_runner=stopped,
            timed_out=timed_out,
            started_at=finished.started_at,
            finished_at=finished.finished_at,
            disk_limit_enforced=created.disk_limit_enforced,
            resource_error=finished.resource_error,
        )

    @abc.abstractmethod
    async def _create(self, spec: ContainerSpec) -> Created:
        """Create (not start) the container of `spec` with its limits and labels."""

    @abc.abstractmethod
    async def _start(self, handle: str) -> None:
        """Start a created container."""

    @abc.abstractmethod
    async def _stream_logs(self, handle: str, on_log: LogSink, already: Mapping[str, int]) -> None:
        """Deliver every line the container writes, per stream, until it exits; returns when both end.

        The first `already[stream]` lines of each stream were delivered to an earlier engine: skip them.
        """

    @abc.abstractmethod
    async def _wait(self, handle: str) -> Finished:
        """Wait until the container's process has ended."""

    @abc.abstractmethod
    async def _stop(self, handle: str, grace_s: float) -> None:
        """Ask the container to end (SIGTERM), killing it after `grace_s` seconds."""

    @abc.abstractmethod
    async def _remove(self, handle: str) -> None:
        """Remove the container, killing it if it still runs; quiet when it is already gone."""
