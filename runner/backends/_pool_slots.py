"""One slot of the warm container pool (`docker_pool`): its folder, its container made and started, its FIFO.

The container is made from the pool key alone (nothing of any job): the key's shared read-only mounts, the
slot's own placeholders where a job's own mounts go, its control folder (the FIFO) read-only, its own CPU list
file, lxcfs where the key has it; no network, the hardening of every container, the default pids limit and no
CPU or memory limit (the job's come by `docker update` at assignment).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker.errors
from docker.types import Mount as DockerMount

from runner.backends._outage import DockerFailure
from runner.backends.base import DEFAULT_PIDS_LIMIT, LABEL_HOME
from runner.backends.docker_limits import CPU_ONLINE_PATH, hardening_args, lxcfs_mounts

log = logging.getLogger(__name__)
POOL_DIR = "pool"
LABEL_POOL = "runner.pool"
READY = "ready"
CONTROL, MOUNTS, CPU_ONLINE = "control", "mounts", "cpu-online"
# How long a new slot's launcher may take to open its FIFO, and how often the engine looks meanwhile.
READY_WAIT_S = 60.0
READY_POLL_S = 0.02


def pool_name(slot_id: str) -> str:
    """The Docker name of a slot's container."""
    return f"runner-pool-{slot_id}"


@dataclass(frozen=True, slots=True)
class PoolKey:
    """What a pooled container is made with and cannot change after create; jobs of one key share a pool."""

    image: str
    workdir: str
    shared: tuple[tuple[str, str, bool], ...]  # (host path, container path, read only) of every job of the key
    own: tuple[tuple[str, bool, bool], ...]  # (container path, read only, is a folder) of each job's own mount
    shm_bytes: int
    extra_hosts: tuple[tuple[str, str], ...]
    lxcfs: str | None
    swappiness: bool
    pinned: bool
    command: tuple[str, ...]
    fifo: str


def slot_folder(home: str, slot_id: str) -> Path:
    """The engine-owned folder of a slot."""
    return Path(home) / POOL_DIR / slot_id


@dataclass(slots=True)
class Slot:
    """One pooled container: its folder, its Docker ID, and the write end of its FIFO once ready."""

    slot_id: str
    folder: Path
    key: PoolKey
    handle: str = ""
    fd: int = -1


def make_slot(client: Any, home: str, key: PoolKey) -> Slot:
    """A new slot of `key`: its folder, its container created and started, its launcher waiting (blocking)."""
    slot_id = secrets.token_hex(8)
    slot = Slot(slot_id, slot_folder(home, slot_id), key)
    try:
        mounts = _prepare_folder(slot)
        args = hardening_args("none", DEFAULT_PIDS_LIMIT)
        args["mounts"] = mounts
        if key.extra_hosts:
            args["extra_hosts"] = dict(key.extra_hosts)
        if key.shm_bytes > 0:
            args["shm_size"] = key.shm_bytes
        if key.swappiness:
            args["mem_swappiness"] = 0
        created = client.api.create_container(
            key.image, list(key.command), name=pool_name(slot_id), labels={LABEL_HOME: home,
                                                                          LABEL_POOL: slot_id},
            working_dir=key.workdir, host_config=client.api.create_host_config(**args), detach=True)
        slot.handle = str(created["Id"])
        client.api.start(slot.handle)
        slot.fd = _ready_fd(slot)
        (slot.folder / READY).touch()
    except BaseException:
        discard(client, slot)
        raise
    return slot


def _prepare_folder(slot: Slot) -> list[DockerMount]:
    key = slot.key
    (slot.folder / CONTROL).mkdir(parents=True, mode=0o700)
    os.mkfifo(slot.folder / CONTROL / os.path.basename(key.fifo), 0o600)
    mounts = [DockerMount(target=target, source=source, type="bind", read_only=read_only)
              for source, target, read_only in key.shared]
    mounts.append(DockerMount(target=os.path.dirname(key.fifo), source=str(slot.folder / CONTROL),
                              type="bind", read_only=True))
    (slot.folder / MOUNTS).mkdir(mode=0o700)
    for index, (target, read_only, is_folder) in enumerate(key.own):
        placeholder = slot.folder / MOUNTS / str(index)
        if is_folder:
            placeholder.mkdir(mode=0o755)
        else:
            placeholder.touch(mode=0o644)
        mounts.append(DockerMount(target=target, source=str(placeholder), type="bind", read_only=read_only))
    if key.pinned:
        online = slot.folder / CPU_ONLINE
        online.write_bytes(Path(CPU_ONLINE_PATH).read_bytes())
        mounts.append(DockerMount(target=CPU_ONLINE_PATH, source=str(online), type="bind", read_only=True))
    if key.lxcfs:
        mounts.extend(lxcfs_mounts(key.lxcfs))
    return mounts


def _ready_fd(slot: Slot) -> int:
    """The FIFO's write end, once the slot's launcher has opened it for reading."""
    fifo = slot.folder / CONTROL / os.path.basename(slot.key.fifo)
    deadline = time.monotonic() + READY_WAIT_S
    while True:
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as exc:
            if exc.errno != errno.ENXIO:
                raise
        if time.monotonic() > deadline:
            raise TimeoutError(f"the launcher of {pool_name(slot.slot_id)} did not open its FIFO within "
                               f"{READY_WAIT_S:.0f} s")
        time.sleep(READY_POLL_S)


def discard(client: Any, slot: Slot) -> None:
    """Remove a slot's container and folder (quiet: a failure only logs; blocking)."""
    if slot.fd >= 0:
        with contextlib.suppress(OSError):
            os.close(slot.fd)
        slot.fd = -1
    if slot.handle:
        try:
            client.api.remove_container(slot.handle, force=True, v=True)
        except docker.errors.NotFound:
            pass
        except DockerFailure as exc:
            log.warning("removing the pooled container %s failed: %s", slot.slot_id, exc)
    shutil.rmtree(slot.folder, ignore_errors=True)
