"""Whether the job hit its container's process limit: the pids controller's `max` event counter.

The kernel counts, in the `pids.events` file of a cgroup, how often a fork or clone was refused because the
cgroup was at `pids.max`. Inside a job container that cgroup is the container's own: at
/sys/fs/cgroup/pids.events under cgroup v2, /sys/fs/cgroup/pids/pids.events under v1.
"""

from __future__ import annotations

import os

CGROUP_ROOT = "/sys/fs/cgroup"
# The folders that hold the container's pids controller files, cgroup v2 first.
PIDS_FOLDERS = ("", "pids")


def _read_text(path: str) -> str | None:
    try:
        with open(path, encoding="ascii", errors="replace") as stream:
            return stream.read()
    except OSError:
        return None


def _pids_folder(root: str) -> str | None:
    for name in PIDS_FOLDERS:
        folder = os.path.join(root, name) if name else root
        if os.path.isfile(os.path.join(folder, "pids.events")):
            return folder
    return None


def refused_forks(root: str = CGROUP_ROOT) -> int | None:
    """How many forks the container's process limit has refused so far; None without the counter."""
    folder = _pids_folder(root)
    text = _read_text(os.path.join(folder, "pids.events")) if folder else None
    if text is None:
        return None
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "max" and parts[1].isdigit():
            return int(parts[1])
    return None


def process_limit(root: str = CGROUP_ROOT) -> int | None:
    """The container's process limit (`pids.max`); None when there is none or it cannot be read."""
    folder = _pids_folder(root)
    text = (_read_text(os.path.join(folder, "pids.max")) or "").strip() if folder else ""
    return int(text) if text.isdigit() else None


def limit_hit(refused_before: int | None, root: str = CGROUP_ROOT) -> tuple[int, int | None] | None:
    """(forks refused since `refused_before`, the limit) when the limit refused any since, else None."""
    now = refused_forks(root)
    if now is None or now <= (refused_before or 0):
        return None
    return now - (refused_before or 0), process_limit(root)
