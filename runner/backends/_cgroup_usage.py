"""A Docker container's CPU time and memory, read from its cgroup's files (not the Docker stats API).

Docker's stats call waits for a sample period of its own (about 1-2 s a call); the cgroup files answer in
microseconds. A container's cgroup is the one its init process is in (`/proc/<pid>/cgroup`), or, where that
process is not visible from here, where Docker's cgroup drivers put it: `system.slice/docker-<id>.scope`
(systemd) or `docker/<id>` (cgroupfs). Both layouts are read:

    cgroup v2 (one tree)   cpu.stat `usage_usec`, memory.current, memory.stat `inactive_file`, memory.peak
    cgroup v1 (per kind)   cpuacct/cpuacct.usage (ns), memory/memory.usage_in_bytes, memory.stat
                           `total_inactive_file`, memory.max_usage_in_bytes

Memory in use is the charge less the inactive file cache, as `docker stats` shows it (the cache a job's
reads leave is given back before the limit bites); the peak is the kernel's high-water mark of the charge.
"""

from __future__ import annotations

import logging
import os
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.backends._outage import DockerFailure
from runner.backends.base import Usage

log = logging.getLogger(__name__)
CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC = Path("/proc")
# Jobs whose cgroup files are remembered (a cheap bound for a long-lived engine; a miss costs one inspect).
KEEP = 1024
# (container ID, its init process's pid), or None while it has not started or is gone.
Locate = Callable[[str], "tuple[str, int] | None"]


@dataclass(frozen=True, slots=True)
class CgroupFiles:
    """Where one container's readings are: CPU time, memory charge, memory.stat and the peak (if kept)."""

    cpu: Path
    memory: Path
    stat: Path
    peak: Path | None
    v2: bool


def cgroup_files(container_id: str, pid: int, root: Path = CGROUP_ROOT, proc: Path = PROC) -> CgroupFiles | None:
    """The cgroup files of the container `container_id` whose init process is `pid`; None when none exist."""
    v2 = (root / "cgroup.controllers").exists()
    own = _own_paths(proc / str(pid) / "cgroup")
    guesses = [f"system.slice/docker-{container_id}.scope", f"docker/{container_id}"]
    if v2:
        for relative in ([own[""]] if "" in own else []) + guesses:
            folder = root / relative.lstrip("/")
            if (folder / "memory.current").exists():
                peak = folder / "memory.peak"
                return CgroupFiles(folder / "cpu.stat", folder / "memory.current", folder / "memory.stat",
                                   peak if peak.exists() else None, True)
        return None
    memory = _v1_folder(root, ("memory",), own, guesses, "memory.usage_in_bytes")
    cpu = _v1_folder(root, ("cpuacct", "cpu,cpuacct"), own, guesses, "cpuacct.usage")
    if memory is None or cpu is None:
        return None
    peak = memory / "memory.max_usage_in_bytes"
    return CgroupFiles(cpu / "cpuacct.usage", memory / "memory.usage_in_bytes", memory / "memory.stat",
                       peak if peak.exists() else None, False)


def _own_paths(path: Path) -> dict[str, str]:
    """`/proc/<pid>/cgroup` as {controller: path} ('' for the v2 tree); empty when it cannot be read."""
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        return {}
    paths: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            for controller in parts[1].split(","):
                paths[controller] = parts[2]
    return paths


def _v1_folder(root: Path, mounts: tuple[str, ...], own: dict[str, str], guesses: list[str],
               probe: str) -> Path | None:
    controller = mounts[0].split(",")[-1]
    candidates = ([own[controller]] if controller in own else []) + guesses
    for mount in mounts:
        for relative in candidates:
            folder = root / mount / relative.lstrip("/")
            if (folder / probe).exists():
                return folder
    return None


def read_usage(files: CgroupFiles) -> Usage:
    """One reading of the container's cgroup; OSError or ValueError when its files are gone or garbled."""
    if files.v2:
        cpu_seconds = _field(_text(files.cpu), "usage_usec") / 1e6
        inactive = _field(_text(files.stat), "inactive_file")
    else:
        cpu_seconds = int(_text(files.cpu)) / 1e9
        inactive = _field(_text(files.stat), "total_inactive_file")
    charge = int(_text(files.memory))
    peak = int(_text(files.peak)) if files.peak is not None else None
    return Usage(cpu_seconds=cpu_seconds, memory_bytes=max(0, charge - inactive), memory_peak_bytes=peak)


def _text(path: Path) -> str:
    # A bare read: half the CPU of Path.read_text, which the sampler pays four times per job and round.
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, 65536).decode("ascii")
    finally:
        os.close(fd)


def _field(text: str, name: str) -> int:
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == name:
            return int(value)
    raise ValueError(f"no {name} in the cgroup's file")


class ContainerUsage:
    """Readings by job ID: each job's container located once (`locate`), its files kept until they are gone.

    A job's next try has a new container under the same name: the old one's files are gone by then, so the
    failed read forgets them and the next call locates the new container.
    """

    def __init__(self, locate: Locate, root: Path = CGROUP_ROOT, proc: Path = PROC) -> None:
        self._locate, self._root, self._proc = locate, root, proc
        self._files: OrderedDict[str, CgroupFiles] = OrderedDict()

    def read(self, job_id: str) -> Usage | None:
        """What the running container of `job_id` uses now; None when it has none or its cgroup is not found."""
        files = self._files.get(job_id)
        if files is None:
            found = self._locate(job_id)
            if found is None or found[1] <= 0:
                return None
            files = cgroup_files(found[0], found[1], self._root, self._proc)
            if files is None:
                log.debug("no cgroup found for the container %s of %s", found[0][:12], job_id)
                return None
            self._files[job_id] = files
            while len(self._files) > KEEP:
                self._files.popitem(last=False)
        try:
            return read_usage(files)
        except (OSError, ValueError):
            del self._files[job_id]
            return None


def docker_locator(client: Any, name_of: Callable[[str], str]) -> Locate:
    """`Locate` through the Docker engine: inspect the container named `name_of(job_id)` (once per container)."""
    def locate(job_id: str) -> tuple[str, int] | None:
        try:
            attrs = client.api.inspect_container(name_of(job_id))
        except DockerFailure:
            return None
        return str(attrs["Id"]), int((attrs.get("State") or {}).get("Pid") or 0)

    return locate
