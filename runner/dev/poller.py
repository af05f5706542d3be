"""Changes found by looking: a stat of every file each `every_ms`, for file systems without change events.

watchfiles' own polling (notify's PollWatcher) compares modification times in whole seconds, so a second
save within the same second is never seen; this one compares each file's mtime in nanoseconds, size and
inode. Folders the filter ignores (watchfiles' defaults, the `.gitignore`) are not walked.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from watchfiles import Change

Stamp = tuple[int, int, int]
# Whether a change to a path counts (watcher.SourceFilter).
Wanted = Callable[[Change, str], bool]


def scan(folder: Path, source: Wanted) -> dict[str, Stamp]:
    """Every file under `folder` the filter does not rule out, with its (mtime ns, size, inode)."""
    found: dict[str, Stamp] = {}
    for top, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if source(Change.modified, os.path.join(top, d))]
        for name in files:
            path = os.path.join(top, name)
            try:
                stat = os.lstat(path)
            except OSError:
                continue  # gone between the listing and the look
            found[path] = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
    return found


def differences(before: dict[str, Stamp], after: dict[str, Stamp]) -> set[tuple[Change, str]]:
    """The changes from one scan to the next, as watchfiles reports them."""
    changes = {(Change.added, p) for p in after.keys() - before.keys()}
    changes |= {(Change.deleted, p) for p in before.keys() - after.keys()}
    changes |= {(Change.modified, p) for p in after.keys() & before.keys() if after[p] != before[p]}
    return changes


def poll(folder: Path, source: Wanted, stop: threading.Event, *, every_ms: int, quiet_ms: int,
         longest_ms: int, ready: Callable[[], None]) -> Iterator[set[tuple[Change, str]]]:
    """Batches of changes, each once none came for `quiet_ms` (or `longest_ms` after its first), until `stop`."""
    snapshot = scan(folder, source)
    ready()
    pending: set[tuple[Change, str]] = set()
    first = last = 0.0
    while not stop.wait(every_ms / 1000):
        current = scan(folder, source)
        changes = {(c, p) for c, p in differences(snapshot, current) if source(c, p)}
        snapshot, now = current, time.monotonic()
        if changes:
            first = first if pending else now
            pending |= changes
            last = now
        if pending and (now - last >= quiet_ms / 1000 or now - first >= longest_ms / 1000):
            yield pending
            pending = set()
