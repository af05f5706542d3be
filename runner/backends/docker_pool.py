"""The warm container pool: containers created and started ahead of their jobs, each given to exactly one job.

A job whose container could be made ahead (no network, no GPUs, no storage quota, a launcher that can wait)
has a pool key: what cannot change once a container exists (image, the read-only mounts every job of the applet
shares, where its own mounts go, /dev/shm, extra hosts, whether lxcfs and swappiness apply). The first job of a
key starts as before and asks for the key's pool; later jobs take a ready slot (or the one being made, which
is further along than a container made now):

    $RUNNER_HOME/pool/<slot-id>/        the engine's; never mounted as a whole
        control/assign                  a FIFO (control/ mounted read-only): the waiting launcher reads the job
        mounts/<n>                      placeholders mounted where the job's own mounts go (input file, work/)
        cpu-online                      mounted over /sys/devices/system/cpu/online, rewritten in place
        ready                           there while the launcher waits on the FIFO (the slot can be given)
        assignment.json                 the job it was given (and its environment, for `runner ssh`)

The slot's container (`runner-pool-<slot-id>`, labels runner.home and runner.pool: labels cannot change after
create, so it has no runner.job) runs the launcher waiting on the FIFO; the engine holds the FIFO's write end
from the moment the launcher opened it (that is when a slot is ready), so an engine that dies ends every idle
slot's launcher (an end of file with nothing written). Assignment: the job's limits by `docker update`, its
CPU list into cpu-online, its input into the placeholder file, the placeholder folder renamed to the job's
work/ (a bind mount follows the inode), assignment.json, then the environment through the FIFO. A waiting
container holds nothing of any job, and each slot mounts only its own folders.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker.errors

from runner.backends._outage import DockerFailure, reason
from runner.backends._pool_slots import (
    CPU_ONLINE,
    LABEL_POOL,
    MOUNTS,
    POOL_DIR,
    READY,
    PoolKey,
    Slot,
    discard,
    make_slot,
    slot_folder,
)
from runner.backends.base import ContainerSpec
from runner.backends.docker_limits import cpu_list, lxcfs_dir

__all__ = ["ASSIGNMENT", "LABEL_POOL", "POOL_DIR", "READY", "Assignment", "ContainerPool", "PoolKey", "pool_key",
           "read_assignment", "slot_folder"]
log = logging.getLogger(__name__)
ASSIGNMENT = "assignment.json"
# A key no job has taken from for this long loses its slots; at most MAX_KEYS keys keep slots.
IDLE_S = 600.0
MAX_KEYS = 4
# A job that finds no ready slot while one is being made waits for it this long at most (it is further along
# than a container the job would create now), then creates its own.
IN_FLIGHT_WAIT_S = 10.0


def pool_key(spec: ContainerSpec, swappiness: bool, quota: bool) -> PoolKey | None:
    """The pool key of `spec`; None when its container cannot be made ahead (network, GPUs, a storage quota)."""
    if not spec.waiting_command or not spec.waiting_fifo or spec.network_mode != "none":
        return None
    if spec.gpus or spec.gpu_ids or (spec.disk_bytes and quota):
        return None
    limited = spec.memory_bytes > 0
    return PoolKey(
        image=spec.image, workdir=spec.workdir,
        shared=tuple((m.host_path, m.container_path, m.read_only) for m in spec.mounts if not m.per_job),
        own=tuple((m.container_path, m.read_only, os.path.isdir(m.host_path)) for m in spec.mounts if m.per_job),
        shm_bytes=spec.shm_bytes, extra_hosts=tuple(sorted(spec.extra_hosts.items())),
        lxcfs=lxcfs_dir() if limited else None, swappiness=swappiness and limited, pinned=bool(spec.cpu_ids),
        command=spec.waiting_command, fifo=spec.waiting_fifo,
    )


@dataclass(frozen=True, slots=True)
class Assignment:
    """The job a slot was given, as its assignment.json says (read by a restarted engine too)."""

    job_id: str
    tree_id: str
    env: dict[str, str]
    disk_bytes: int = 0
    instance_type: str = ""
    writable: tuple[str, ...] = ()


def read_assignment(home: str, slot_id: str) -> Assignment | None:
    """The slot's assignment; None while it waits (or when the file cannot be read)."""
    try:
        document = json.loads((slot_folder(home, slot_id) / ASSIGNMENT).read_text(encoding="utf-8"))
        return Assignment(str(document["job"]), str(document["tree"]), dict(document["env"]),
                          int(document.get("disk_bytes") or 0), str(document.get("instance_type") or ""),
                          tuple(document.get("writable") or ()))
    except (OSError, ValueError, KeyError, TypeError):
        return None


@dataclass(slots=True)
class _KeyState:
    ready: list[Slot] = field(default_factory=list)
    used: float = field(default_factory=time.monotonic)
    refill: asyncio.Task[None] | None = None
    # Jobs waiting for the slot being made (a None result: the refill ended without one).
    waiters: list[asyncio.Future[Slot | None]] = field(default_factory=list)

    def offer(self, slot: Slot) -> None:
        """A new ready slot: to the first job still waiting, else to the ready ones."""
        while self.waiters:
            waiter = self.waiters.pop(0)
            if not waiter.done():
                waiter.set_result(slot)
                return
        self.ready.append(slot)

    def release_waiters(self) -> None:
        """The refill has ended: the jobs still waiting create their own containers."""
        for waiter in self.waiters:
            if not waiter.done():
                waiter.set_result(None)
        self.waiters.clear()


class ContainerPool:
    """The ready slots of each key, their refill in the background, their expiry and their assignment."""

    def __init__(self, client: Any, home: str, size: Callable[[], int], idle_s: float = IDLE_S) -> None:
        self.client = client
        self.home = home
        self.size = size
        self.idle_s = idle_s
        self._keys: dict[PoolKey, _KeyState] = {}
        self._wanted: set[PoolKey] = set()
        self._given: dict[str, str] = {}  # job ID -> container ID, of the jobs in pooled containers
        self._slot_of: dict[str, str] = {}  # container ID -> slot ID, of the containers given to jobs
        self._sweeper: asyncio.Task[None] | None = None
        self._dropping: set[asyncio.Task[None]] = set()
        self._closed = False

    # -- assignment ---------------------------------------------------------------------------------

    async def take(self, spec: ContainerSpec, key: PoolKey, body: dict[str, Any]) -> str | None:
        """Give a ready slot of `key` to `spec`'s job (limits `body`); its container ID, None when none is ready."""
        state = self._keys.get(key)
        if state is None or self._closed:
            return None
        state.used = time.monotonic()
        slot = await self._ready_slot(state)
        if slot is None:
            return None
        self._wanted.add(key)
        try:
            await asyncio.to_thread(self._assign, slot, spec, body)
        except (*DockerFailure, ValueError) as exc:
            log.warning("the pooled container %s could not take %s (it starts its own): %s", slot.slot_id,
                        spec.job_id, reason(exc) if isinstance(exc, docker.errors.APIError) else exc)
            await asyncio.to_thread(discard, self.client, slot)
            await asyncio.to_thread(_fresh_own_folders, spec)
            return None
        self._given[spec.job_id] = slot.handle
        self._slot_of[slot.handle] = slot.slot_id
        return slot.handle

    async def _ready_slot(self, state: _KeyState) -> Slot | None:
        """A ready slot of `state`'s key, or the one being made (waited for a while); None when there is none."""
        if state.ready:
            return state.ready.pop(0)
        # One job waits for the slot being made; the others create their own at once (in parallel).
        if state.refill is None or state.refill.done() or any(not w.done() for w in state.waiters):
            return None
        waiter: asyncio.Future[Slot | None] = asyncio.get_running_loop().create_future()
        state.waiters.append(waiter)
        try:
            return await asyncio.wait_for(waiter, IN_FLIGHT_WAIT_S)
        except TimeoutError:
            return None
        finally:
            if waiter in state.waiters:
                state.waiters.remove(waiter)

    def _assign(self, slot: Slot, spec: ContainerSpec, body: dict[str, Any]) -> None:
        (slot.folder / READY).unlink(missing_ok=True)
        api = self.client.api
        api._raise_for_status(api._post_json(api._url("/containers/{0}/update", slot.handle), data=body))
        if spec.cpu_ids:
            _rewrite(slot.folder / CPU_ONLINE, (cpu_list(spec.cpu_ids) + "\n").encode())
        own = [m for m in spec.mounts if m.per_job]
        for index, mount in enumerate(own):
            placeholder = slot.folder / MOUNTS / str(index)
            if placeholder.is_dir():
                _replace_folder(placeholder, Path(mount.host_path))
            else:
                _rewrite(placeholder, Path(mount.host_path).read_bytes())
        document = {"job": spec.job_id, "tree": spec.tree_id, "env": dict(spec.env),
                    "disk_bytes": spec.disk_bytes or 0, "instance_type": spec.instance_type,
                    "writable": [m.host_path for m in own if not m.read_only]}
        _write_private(slot.folder / ASSIGNMENT, json.dumps(document).encode())
        data = json.dumps({"env": dict(spec.env)}).encode()
        try:
            os.set_blocking(slot.fd, True)
            view = memoryview(data)
            while view:
                view = view[os.write(slot.fd, view):]
        finally:
            os.close(slot.fd)
            slot.fd = -1

    def handle_of(self, job_id: str) -> str | None:
        """The container ID of `job_id` when it runs in a pooled container this engine knows of."""
        return self._given.get(job_id)

    def adopt(self, job_id: str, handle: str, slot_id: str) -> None:
        """Know a pooled container a previous engine gave to `job_id` (found after a restart)."""
        self._given[job_id] = handle
        self._slot_of[handle] = slot_id

    def is_ours(self, slot_id: str) -> bool:
        """Whether `slot_id` is a slot of this engine's pool (ready or given), not a previous engine's."""
        return slot_id in self._slot_of.values() or any(
            slot.slot_id == slot_id for state in self._keys.values() for slot in state.ready)

    def is_given(self, handle: str) -> bool:
        """Whether `handle` is a pooled container given to a job (it runs already: nothing to start)."""
        return handle in self._slot_of

    def forget(self, handle: str) -> Path | None:
        """The container `handle` is gone: forget it; the slot folder to remove, if it was a slot's."""
        slot_id = self._slot_of.pop(handle, None)
        for job_id in [job for job, given in self._given.items() if given == handle]:
            del self._given[job_id]
        return slot_folder(self.home, slot_id) if slot_id is not None else None

    # -- refill, expiry and close --------------------------------------------------------------------

    def want(self, key: PoolKey) -> None:
        """A job of `key` started without a slot: keep a pool for the key (filled by `refill_soon`)."""
        if self.size() > 0 and not self._closed:
            self._wanted.add(key)

    def refill_soon(self) -> None:
        """Start filling each wanted key's pool in the background (after a job's start, never on its path)."""
        for key in list(self._wanted):
            self._wanted.discard(key)
            state = self._keys.get(key)
            if state is None:
                self._evict_beyond(MAX_KEYS - 1)
                state = self._keys[key] = _KeyState()
            if state.refill is None or state.refill.done():
                state.refill = asyncio.get_running_loop().create_task(self._refill(key, state))
        if self._keys and (self._sweeper is None or self._sweeper.done()):
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep())

    async def _refill(self, key: PoolKey, state: _KeyState) -> None:
        try:
            while not self._closed and self._keys.get(key) is state and (
                    len(state.ready) < self.size() or state.waiters):
                try:
                    slot = await asyncio.to_thread(make_slot, self.client, self.home, key)
                except Exception as exc:  # noqa: BLE001 - a refill that fails only logs: jobs create their own
                    log.warning("a pooled container of %s could not be made (jobs create their own): %s",
                                key.image, reason(exc) if isinstance(exc, docker.errors.APIError) else exc)
                    return
                if self._closed or self._keys.get(key) is not state:
                    await asyncio.to_thread(discard, self.client, slot)
                    return
                state.offer(slot)
        finally:
            state.release_waiters()

    async def _sweep(self) -> None:
        while self._keys and not self._closed:
            await asyncio.sleep(min(60.0, self.idle_s / 4))
            now = time.monotonic()
            for key in [k for k, s in self._keys.items() if now - s.used > self.idle_s]:
                await self._drop(key)

    def _evict_beyond(self, count: int) -> None:
        while len(self._keys) > count:
            oldest = min(self._keys, key=lambda k: self._keys[k].used)
            task = asyncio.get_running_loop().create_task(self._drop_state(self._keys.pop(oldest)))
            self._dropping.add(task)
            task.add_done_callback(self._dropping.discard)

    async def _drop(self, key: PoolKey) -> None:
        state = self._keys.pop(key, None)
        if state is not None:
            await self._drop_state(state)

    async def _drop_state(self, state: _KeyState) -> None:
        if state.refill is not None:
            # Not cancelled: a slot being made in a thread would be left behind. It ends by discarding it.
            await asyncio.gather(state.refill, return_exceptions=True)
        slots, state.ready = state.ready, []
        await asyncio.gather(*(asyncio.to_thread(discard, self.client, slot) for slot in slots))

    async def close(self) -> None:
        """Remove every ready slot and stop filling (engine close); containers given to jobs are the jobs'."""
        self._closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
        for key in list(self._keys):
            await self._drop(key)
        await asyncio.gather(*self._dropping, return_exceptions=True)


def _rewrite(path: Path, data: bytes) -> None:
    """Write `data` over the engine-owned file at `path` in place (a bind mount of it follows its inode)."""
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC)
    with os.fdopen(fd, "wb") as stream:
        stream.write(data)


def _replace_folder(placeholder: Path, target: Path) -> None:
    """Put the slot's (empty, mounted) folder at the job's `target`, which the engine has just made afresh."""
    info = os.lstat(target)
    if stat.S_ISDIR(info.st_mode) and not any(os.scandir(target)):
        os.rmdir(target)
    elif stat.S_ISDIR(info.st_mode):
        raise ValueError(f"{target} is not empty")
    os.rename(placeholder, target)


def _fresh_own_folders(spec: ContainerSpec) -> None:
    """After an assignment failed half way: the job's own folders empty again, for the container it creates."""
    for mount in spec.mounts:
        path = Path(mount.host_path)
        if mount.per_job and path.is_dir() and not path.is_symlink() and any(path.iterdir()):
            shutil.rmtree(path, ignore_errors=True)
            path.mkdir(mode=0o755, exist_ok=True)


def _write_private(path: Path, data: bytes) -> None:
    """Write the engine's own `path` (mode 0600: it holds the job's token) through a temporary file and a rename."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(handle, "wb") as stream:
        stream.write(data)
    os.replace(temporary, path)
