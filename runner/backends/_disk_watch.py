"""The disk watchdog: where Docker cannot cap a container's size, what the job writes is measured every few seconds.

A job writes into its container's writable layer (the UpperDir of inspect's GraphDriver) and its writable bind
mounts (the job's work/ folder). Both are walked as the engine sees them on the host, counting allocated blocks (a
sparse file counts what it holds) and each inode once, never following a link. When the layer's folder cannot be
read (a remote Docker engine, a data root the engine may not read), Docker's own SizeRw is asked instead. The
limit and instance type travel as container labels, so that a restarted engine watches the containers it resumes;
a pooled container (made before its job, so without the job's labels) is given them as a `GivenLimit` instead.
"""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

WATCH_INTERVAL_S = 3.0
LABEL_DISK_LIMIT = "runner.disk_limit"
LABEL_INSTANCE_TYPE = "runner.instance_type"
GB = 10**9


def allocated_bytes(roots: Iterable[str]) -> int:
    """The disk space the files under `roots` take (allocated blocks), each inode counted once; links not followed."""
    seen: set[tuple[int, int]] = set()
    total = 0
    pending = [root for root in roots]
    while pending:
        folder = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:  # gone meanwhile, or not a folder
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if (info.st_dev, info.st_ino) in seen:
                continue
            seen.add((info.st_dev, info.st_ino))
            total += info.st_blocks * 512
            if stat.S_ISDIR(info.st_mode):
                pending.append(entry.path)
    return total


def _gb(count: int) -> str:
    value = count / GB
    return f"{value:.0f}" if value >= 100 else f"{value:.2g}" if value < 1 else f"{value:.1f}"


def over_limit_message(written: int, limit: int, instance_type: str) -> str:
    """What a job that wrote too much fails with (as AppInsufficientResourceError)."""
    kind = f" {instance_type}" if instance_type else ""
    return (f"The job ran out of disk space: the job wrote {_gb(written)} GB, more than the {_gb(limit)} GB of "
            f"storage of its instance type{kind}; choose an instance type with more storage")


@dataclass(frozen=True, slots=True)
class DiskWatch:
    """One container's watch: its limit, the host folders it writes to, and Docker's size as the fallback."""

    limit_bytes: int
    instance_type: str
    folders: tuple[str, ...]
    size_from_docker: Callable[[], int] | None = None

    def written(self) -> int:
        """What the job has written so far."""
        readable = [f for f in self.folders if os.access(f, os.R_OK | os.X_OK)]
        measured = allocated_bytes(readable)
        if self.size_from_docker is not None:
            measured += self.size_from_docker()
        return measured

    def over(self) -> str | None:
        """The failure message once the job has written more than its limit; None while it has not."""
        written = self.written()
        return over_limit_message(written, self.limit_bytes, self.instance_type) if written > self.limit_bytes \
            else None


@dataclass(frozen=True, slots=True)
class GivenLimit:
    """The disk limit of a pooled container's job, and the host folders its writable mounts now are."""

    limit_bytes: int
    instance_type: str
    writable: tuple[str, ...]


def watch_of(attrs: Mapping[str, Any], size_from_docker: Callable[[], int],
             given: GivenLimit | None = None) -> DiskWatch | None:
    """The watch of a container from its inspect document (or `given`); None when it has no disk limit to watch."""
    labels = (attrs.get("Config") or {}).get("Labels") or {}
    try:
        limit = given.limit_bytes if given is not None else int(labels.get(LABEL_DISK_LIMIT) or 0)
    except ValueError:
        return None
    if limit <= 0:
        return None
    # A pooled container's folders were renamed to the job's after Docker recorded their paths.
    writable = list(given.writable) if given is not None else [
        str(m["Source"]) for m in attrs.get("Mounts") or [] if m.get("RW") and m.get("Type") == "bind"]
    upper = ((attrs.get("GraphDriver") or {}).get("Data") or {}).get("UpperDir")
    layer_readable = bool(upper) and os.access(str(upper), os.R_OK | os.X_OK)
    folders = tuple(([str(upper)] if layer_readable else []) + writable)
    instance_type = given.instance_type if given is not None else str(labels.get(LABEL_INSTANCE_TYPE) or "")
    return DiskWatch(limit, instance_type, folders, None if layer_readable else size_from_docker)


async def first_excess(inspect: Callable[[], Mapping[str, Any]], size_from_docker: Callable[[], int],
                       failures: type[BaseException] | tuple[type[BaseException], ...],
                       given: GivenLimit | None = None) -> str | None:
    """Watch a container every few seconds: the failure message once it has written past its limit.

    None at once when it has no limit to watch or cannot be inspected (its wait says what became of it); else
    it runs until cancelled. A measure that `failures` interrupts (Docker not answering) is tried again.
    """
    try:
        watch = watch_of(await asyncio.to_thread(inspect), size_from_docker, given)
    except failures:
        return None
    while watch is not None:
        await asyncio.sleep(WATCH_INTERVAL_S)
        try:
            message = await asyncio.to_thread(watch.over)
        except failures:
            continue
        if message is not None:
            return message
    return None
