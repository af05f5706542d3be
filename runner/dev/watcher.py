"""Changes under an applet folder, debounced: one save, an editor's write-and-rename or a burst gives one set.

watchfiles does the watching (inotify; with `poll` or WATCHFILES_FORCE_POLLING, `poller.py` looks instead)
with its default ignores (`.git`, `__pycache__`, editor swap files, ...) plus the `.gitignore` files of the folder
and its subfolders, read again when they change. Its `step` is the quiet time: changes are gathered until none came
for `quiet_ms`, so a burst of saves closer together than that is one set.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import watchfiles
from watchfiles import Change, DefaultFilter

from runner.dev import poller
from runner.dev.ignore import IgnoreTree

QUIET_MS = 150
# A stream of changes that never pauses is still reported this often.
LONGEST_MS = 3000
# Polling looks every POLL_MS; a quiet time of two looks keeps a save that spans two looks one set.
POLL_MS = 200
# How often the watcher comes back to look at its stop event (and says it is ready, the first time).
WAKE_MS = 200


class SourceFilter(DefaultFilter):
    """watchfiles' default ignores, plus what the `.gitignore` files of the folder and its subfolders ignore."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder.resolve()
        self.gitignore = IgnoreTree(self.folder)

    def __call__(self, change: Change, path: str) -> bool:
        """Whether a change to `path` counts."""
        if not super().__call__(change, path):
            return False
        relative = self.relative(path)
        if relative is None:
            return False
        if relative.rpartition("/")[2] == ".gitignore":
            self.gitignore.forget(relative)
        return not self.gitignore.ignored(relative, is_folder=os.path.isdir(path))

    def relative(self, path: str) -> str | None:
        """`path` relative to the folder, `/`-separated (None: outside it, or the folder itself)."""
        try:
            relative = Path(path).resolve().relative_to(self.folder)
        except ValueError:
            return None
        return relative.as_posix() if relative.parts else None


def changed_paths(source: SourceFilter, batch: set[tuple[Change, str]]) -> frozenset[str]:
    """The relative paths a batch changed, less those created and gone within it (an editor's temp file).

    A folder is left out: its own change (an entry added or removed) is told by the entries' changes.
    """
    kinds: dict[str, set[Change]] = {}
    for change, path in batch:
        kinds.setdefault(path, set()).add(change)
    kept = set()
    for path, seen in kinds.items():
        if Change.added in seen and not os.path.lexists(path) or os.path.isdir(path):
            continue
        relative = source.relative(path)
        if relative is not None:
            kept.add(relative)
    return frozenset(kept)


def watch_changes(folder: Path, stop: threading.Event, *, poll: bool = False, quiet_ms: int = QUIET_MS,
                  ready: Callable[[], None] = lambda: None) -> Iterator[frozenset[str]]:
    """Each debounced set of changed paths under `folder` until `stop` is set; `ready()` once watching."""
    source = SourceFilter(folder)
    for batch in _batches(folder, source, stop, poll=poll, quiet_ms=quiet_ms, ready=ready):
        paths = changed_paths(source, batch)
        if paths:
            yield paths


def _batches(folder: Path, source: SourceFilter, stop: threading.Event, *, poll: bool, quiet_ms: int,
             ready: Callable[[], None]) -> Iterator[set[tuple[Change, str]]]:
    if poll or os.environ.get("WATCHFILES_FORCE_POLLING", "").lower() not in ("", "0", "false", "no"):
        yield from poller.poll(folder, source, stop, every_ms=POLL_MS, quiet_ms=max(quiet_ms, 2 * POLL_MS),
                        longest_ms=LONGEST_MS, ready=ready)
        return
    announced = False
    for batch in watchfiles.watch(folder, watch_filter=source, debounce=LONGEST_MS, step=quiet_ms,
                                  stop_event=stop, rust_timeout=WAKE_MS, yield_on_timeout=True,
                                  force_polling=False, raise_interrupt=False):
        if not announced:
            announced = True
            ready()  # inotify's watches are in place once watching has begun
        yield batch
