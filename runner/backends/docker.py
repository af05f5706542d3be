"""Jobs as Docker containers: limits, labels and hardening on create, logs per stream, teardown by label.

Every container carries the labels runner.job, runner.tree and runner.home, so that an engine finds its own
containers after a restart (`find_containers`, `reap_orphans`) and never touches anyone else's; a pooled
container, made before its job (`docker_pool`), carries runner.home and runner.pool, and its slot's
assignment.json names its job and tree. Containers
run under Docker's init (tini), which passes the stop signal on to the launcher; they are never privileged,
never see the Docker socket, drop the capabilities in CAP_DROP and may not gain privileges (setuid).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import math
import shutil
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import docker
import docker.errors

from runner.backends._cgroup_usage import ContainerUsage, docker_locator
from runner.backends._disk_watch import LABEL_DISK_LIMIT, LABEL_INSTANCE_TYPE, GivenLimit, first_excess
from runner.backends._docker_find import JobContainer, LabelledContainers
from runner.backends._logs import docker_time, follow
from runner.backends._outage import (
    SIGNAL_EXITS,
    STOPPED_ANSWERING,
    DockerFailure,
    PendingRemovals,
    failure,
    fresh_ping_problem,
    unreachable,
)
from runner.backends._outage import reason as _reason
from runner.backends._threads import in_own_thread
from runner.backends.base import (
    LABEL_HOME,
    LABEL_JOB,
    LABEL_TREE,
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
from runner.backends.docker_limits import (  # noqa: F401 - CAP_DROP, host_config_args: where tests find them
    CAP_DROP,
    HostFeatures,
    cpu_online_file,
    host_config_args,
    lxcfs_dir,
    storage_quota_supported,
    update_body,
)
from runner.backends.docker_pool import (
    ContainerPool,
    PoolKey,
    pool_key,
    read_assignment,
)

# A wait is asked again after this long without an answer, once Docker has shown it still answers a ping.
WAIT_POLL_S = 60
_STATES: Mapping[str, ContainerState] = {
    "created": "created", "running": "running", "paused": "running", "restarting": "running",
    "exited": "exited", "dead": "exited",
}


def container_name(job_id: str) -> str:
    """The Docker name of a job's container."""
    return f"runner-{job_id}"


class DockerBackend(LabelledContainers, Backend):
    """Runs each job in its own container on the Docker engine `client` talks to."""

    capabilities = frozenset({Capability.FIND, Capability.REAP, Capability.SHELL})

    def __init__(self, client: docker.DockerClient, home: Path | str,
                 container_pool: Callable[[], int] = lambda: 0) -> None:
        """`container_pool()`: how many ready containers to keep per pool key (0: no pool; read at each refill)."""
        self.client = client
        self.home = str(home)
        self._pool = ContainerPool(client, self.home, container_pool)
        # The disk limits of jobs in pooled containers (which carry no labels of the job), by container ID.
        self._given_disk: dict[str, GivenLimit] = {}
        self._disk_limits: bool | None = None
        self._host_info: Mapping[str, Any] | None = None
        # Containers the disk watchdog ended, with the failure message of each.
        self._over_disk: dict[str, str] = {}
        self._probe_lock = threading.Lock()
        # Containers whose log lines are still wanted: none arrive after run() has torn down.
        self._streaming: set[str] = set()
        self._pending_removals = PendingRemovals(self._remove_now)
        # Containers the runner asked to stop: their signal exit is the runner's, not Docker's shutdown.
        self._stopping: set[str] = set()
        # Set once a container's wait has answered, by handle: its log thread then reads what it missed.
        self._exited: dict[str, threading.Event] = {}
        # Containers this engine made without a disk limit to watch: their watchdog needs no inspect.
        self._unwatched: set[str] = set()
        adapter = getattr(client.api, "_custom_adapter", None)
        self._socket_path: str | None = getattr(adapter, "socket_path", None)
        self._usage = ContainerUsage(docker_locator(client, lambda job: self._pool.handle_of(job) or
                                                    container_name(job)))

    # -- the hooks of Backend.run ------------------------------------------------------------------

    async def _create(self, spec: ContainerSpec) -> Created:
        key = await asyncio.to_thread(self._pool_key, spec)
        if key is not None:
            handle = await self._pool.take(spec, key, update_body(spec, self._cpus_of_host()))
            if handle is not None:
                if spec.disk_bytes:
                    writable = tuple(m.host_path for m in spec.mounts if m.per_job and not m.read_only)
                    self._given_disk[handle] = GivenLimit(spec.disk_bytes, spec.instance_type, writable)
                else:
                    self._unwatched.add(handle)
                return Created(handle, False if spec.disk_bytes else None)
        created = await asyncio.to_thread(self._create_now, spec)
        if not spec.disk_bytes or created.disk_limit_enforced:
            self._unwatched.add(created.handle)
        if key is not None:
            self._pool.want(key)
        return created

    def _pool_key(self, spec: ContainerSpec) -> PoolKey | None:
        if self._pool.size() <= 0:
            return None
        quota = bool(spec.disk_bytes) and self._disk_limits_supported(spec.image)
        return pool_key(spec, str(self._info().get("CgroupVersion")) == "1", quota)

    async def _start(self, handle: str) -> None:
        if not self._pool.is_given(handle):  # a pooled container runs its job already
            try:
                await asyncio.to_thread(self.client.api.start, handle)
            except DockerFailure as exc:
                raise self._failure(f"starting container {handle[:12]}", exc) from exc
        self._pool.refill_soon()

    async def settle(self) -> None:
        """Remove the pool's ready containers, then wait for the removals left to the background."""
        await self._pool.close()
        await super().settle()

    async def _stream_logs(self, handle: str, on_log: LogSink, already: Mapping[str, int]) -> None:
        self._streaming.add(handle)
        exited = self._exited.setdefault(handle, threading.Event())
        loop = asyncio.get_running_loop()

        def deliver(stream: str, lines: list[str]) -> None:
            if handle in self._streaming:
                for line in lines:
                    on_log(stream, line)

        def push(stream: str, lines: list[str]) -> None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(deliver, stream, lines)

        def until_exited() -> None:
            # Set by the wait of the same run(); a wait of its own only if that one is somehow not under way.
            if not exited.wait(WAIT_POLL_S):
                self.client.api.wait(handle, timeout=None)

        await in_own_thread(f"logs-{handle[:12]}", functools.partial(
            follow, self.client.api, handle, push, already, until_exited))

    async def _wait(self, handle: str) -> Finished:
        exited = self._exited.setdefault(handle, threading.Event())
        watchdog = asyncio.create_task(self._watch_disk(handle))
        try:
            finished = await in_own_thread(f"wait-{handle[:12]}", lambda: self._wait_now(handle, exited))
        finally:
            exited.set()
            self._exited.pop(handle, None)
            self._unwatched.discard(handle)
            watchdog.cancel()
            await asyncio.gather(watchdog, return_exceptions=True)
        over = self._over_disk.pop(handle, None)
        return dataclasses.replace(finished, resource_error=over) if over else finished

    async def _watch_disk(self, handle: str) -> None:
        """Where no storage quota holds, end the container once it has written more than its instance's storage."""
        if handle in self._unwatched:
            return
        message = await first_excess(functools.partial(self.client.api.inspect_container, handle),
                                     functools.partial(self._size_rw, handle), DockerFailure,
                                     self._given_disk.get(handle))
        if message is not None:
            self._over_disk[handle] = message
            self._stopping.add(handle)
            await asyncio.to_thread(self._kill_now, handle)

    async def _stop(self, handle: str, grace_s: float) -> None:
        self._stopping.add(handle)
        try:
            await asyncio.to_thread(self.client.api.stop, handle, timeout=math.ceil(grace_s))
        except docker.errors.NotFound:
            pass
        except DockerFailure as exc:
            raise self._failure(f"stopping container {handle[:12]}", exc) from exc

    async def _remove(self, handle: str) -> None:
        self._streaming.discard(handle)
        self._stopping.discard(handle)
        self._given_disk.pop(handle, None)
        try:
            await asyncio.to_thread(self._remove_now, handle)
            folder = self._pool.forget(handle)
            if folder is not None:
                await asyncio.to_thread(shutil.rmtree, folder, True)
        except BackendError as exc:
            if not isinstance(exc.__cause__, BaseException) or not unreachable(exc.__cause__):
                raise
            # Docker is away: the job has failed for that already; its container goes once Docker is back.
            self._pending_removals.add(handle)

    async def find_job(self, job_id: str) -> Found | None:
        """The container of `job_id` in this home, as a restarted engine finds it (None when it is gone)."""
        for found in await self.find_containers(self.home, job_id=job_id):
            state = _STATES.get(found.state)
            if state is not None:
                if found.slot_id:
                    self._adopt(job_id, found)
                return Found(found.container_id, state)
        return None

    def _adopt(self, job_id: str, found: JobContainer) -> None:
        """Carry on with a pooled container a previous engine gave to `job_id`: its handle and disk limit."""
        self._pool.adopt(job_id, found.container_id, found.slot_id)
        given = read_assignment(self.home, found.slot_id)
        if given is not None and given.disk_bytes:
            self._given_disk[found.container_id] = GivenLimit(given.disk_bytes, given.instance_type, given.writable)

    def usage(self, job_id: str) -> Usage | None:
        """What the running container of `job_id` uses now, from its cgroup's files (not Docker's stats)."""
        return self._usage.read(job_id)

    # -- blocking parts, run in threads -------------------------------------------------------------

    def _failure(self, what: str, exc: BaseException) -> BackendError:
        """`failure()` for `what`; when Docker did not answer at all, the engine is told it went away."""
        error = failure(what, exc)
        if unreachable(exc):
            self.report_health(False, str(error))
        return error

    def _create_now(self, spec: ContainerSpec) -> Created:
        labels = {**spec.labels, LABEL_JOB: spec.job_id, LABEL_TREE: spec.tree_id, LABEL_HOME: self.home}
        try:
            disk_limit = self._disk_limits_supported(spec.image) if spec.disk_bytes else False
            if spec.disk_bytes and not disk_limit:
                labels.update({LABEL_DISK_LIMIT: str(spec.disk_bytes), LABEL_INSTANCE_TYPE: spec.instance_type})
            host_config = self.client.api.create_host_config(
                **host_config_args(spec, self._cpus_of_host(), disk_limit, self._features(spec))
            )
            try:
                created = self._create_container(spec, labels, host_config)
            except docker.errors.APIError as exc:
                if exc.status_code != 409 or not self._remove_stale(container_name(spec.job_id)):
                    raise
                created = self._create_container(spec, labels, host_config)
        except docker.errors.ImageNotFound as exc:
            raise BackendError(f"image {spec.image} is not on this Docker engine; build the applet") from exc
        except DockerFailure as exc:
            raise self._failure(f"creating the container of {spec.job_id}", exc) from exc
        self.report_health(True)
        return Created(str(created["Id"]), disk_limit if spec.disk_bytes else None)

    def _create_container(self, spec: ContainerSpec, labels: dict[str, str], host_config: Any) -> Any:
        return self.client.api.create_container(
            spec.image,
            list(spec.command),
            name=container_name(spec.job_id),
            environment=dict(spec.env),
            labels=labels,
            working_dir=spec.workdir,
            host_config=host_config,
            detach=True,
        )

    def _remove_stale(self, name: str) -> bool:
        """Remove a leftover container of ours with this name (a job restarted after a crash)."""
        try:
            attrs = self.client.api.inspect_container(name)
        except DockerFailure:
            return False
        if (attrs.get("Config", {}).get("Labels") or {}).get(LABEL_HOME) != self.home:
            return False
        self._remove_now(str(attrs["Id"]))
        return True

    def _info(self) -> Mapping[str, Any]:
        if self._host_info is None:
            self._host_info = self.client.info()
        return self._host_info

    def _cpus_of_host(self) -> int:
        return int(self._info().get("NCPU") or 1)

    def _features(self, spec: ContainerSpec) -> HostFeatures:
        """lxcfs when it runs now, swappiness on cgroup v1, and the CPU list file of `spec`'s cpuset."""
        online = cpu_online_file(self.home, spec.cpu_ids) if spec.cpu_ids else None
        return HostFeatures(lxcfs_dir=lxcfs_dir(), swappiness=str(self._info().get("CgroupVersion")) == "1",
                            cpu_online_file=online)

    def _size_rw(self, handle: str) -> int:
        """Docker's size of the container's writable layer (SizeRw): slow, for when the layer cannot be read."""
        rows = self.client.api.containers(all=True, size=True, filters={"id": handle})
        return int(rows[0].get("SizeRw") or 0) if rows else 0

    def _kill_now(self, handle: str) -> None:
        try:
            self.client.api.kill(handle)
        except docker.errors.APIError:
            pass  # gone or already ended: either way it no longer writes
        except DockerFailure as exc:
            raise self._failure(f"killing container {handle[:12]}", exc) from exc

    def _disk_limits_supported(self, image: str) -> bool:
        """Whether the storage driver takes a size limit (overlay2 only on xfs with pquota); probed once."""
        with self._probe_lock:
            if self._disk_limits is None:
                self._disk_limits = storage_quota_supported(self.client, image, self.home)
            return self._disk_limits

    def _wait_now(self, handle: str, exited: threading.Event) -> Finished:
        what = f"waiting for container {handle[:12]}"
        while True:
            try:
                status = self.client.api.wait(handle, timeout=WAIT_POLL_S)
                break
            except docker.errors.NotFound:
                return Finished(137, False, None, None)
            except DockerFailure as exc:
                if not unreachable(exc):
                    raise self._failure(what, exc) from exc
                # No answer yet: the job may simply still run. Go on waiting only if Docker answers at all.
                self._answers_or_raise(what)
        # Its log is complete now: the log thread reads what its stream missed while this one inspects.
        exited.set()
        code = int(status.get("StatusCode", -1))
        try:
            state: Mapping[str, Any] = self.client.api.inspect_container(handle).get("State") or {}
        except docker.errors.NotFound:
            return Finished(code, False, None, None)
        except DockerFailure as exc:
            raise self._failure(f"inspecting container {handle[:12]}", exc) from exc
        finished = Finished(
            exit_code=int(state.get("ExitCode", code)),
            oom_killed=bool(state.get("OOMKilled")),
            started_at=docker_time(state.get("StartedAt")),
            finished_at=docker_time(state.get("FinishedAt")),
        )
        if finished.exit_code in SIGNAL_EXITS and not finished.oom_killed and handle not in self._stopping:
            self._killed_by_docker_or_raise(handle, finished.exit_code)
        return finished

    def _killed_by_docker_or_raise(self, handle: str, code: int) -> None:
        problem = fresh_ping_problem(self._socket_path) if self._socket_path else None
        if problem is not None:
            error = BackendError(f"{STOPPED_ANSWERING}: container {handle[:12]} was stopped (exit code {code}) "
                                 f"and Docker no longer answers ({problem})")
            self.report_health(False, str(error))
            raise error

    def _answers_or_raise(self, what: str) -> None:
        try:
            self.client.api.ping()
        except DockerFailure as exc:
            raise self._failure(what, exc) from exc

    def _remove_now(self, handle: str) -> None:
        try:
            self.client.api.remove_container(handle, force=True, v=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            if exc.status_code != 409 or "in progress" not in _reason(exc):
                raise BackendError(f"removing container {handle[:12]} failed: {_reason(exc)}") from exc
        except DockerFailure as exc:
            raise self._failure(f"removing container {handle[:12]}", exc) from exc
        # Only once it is gone: a retry that fails while Docker is still away keeps it pending.
        self._pending_removals.discard(handle)
        self.report_health(True)
