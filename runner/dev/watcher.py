"""Changes under an applet folder, debounced: one save, an editor's write-and-rename or a burst gives one set.

watchfiles does the watching (inotify, or polling with `poll` / WATCHFILES_FORCE_POLLING) with its default
ignores (`.git`, `__pycache__`, editor swap files, ...) plus the folder's `.gitignore`, read again when it
changes. Its `step` is the quiet time: changes are gathered until none came for `quiet_ms`, so a burst of
saves closer together than that is one set.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import watchfiles
from watchfiles import Change, DefaultFilter

from runner.dev.ignore import GitIgnore

QUIET_MS = 200
# A stream of changes that never pauses is still reported this often.
LONGEST_MS = 3000
# Polling looks every POLL_MS; a quiet time of two looks keeps one save that spans two looks one set.
POLL_MS = 200
# How often the watcher comes back to look at its stop event (and says it is ready, the first time).
WAKE_MS = 200


class SourceFilter(DefaultFilter):
    """watchfiles' default ignores, plus what the folder's `.gitignore` ignores."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder.resolve()
        self.gitignore = GitIgnore.read(self.folder / ".gitignore")

    def __call__(self, change: Change, path: str) -> bool:
        """Whether a change to `path` counts."""
        if not super().__call__(change, path):
            return False
        relative = self.relative(path)
        if relative is None:
            return False
        if relative == ".gitignore":
            self.gitignore = GitIgnore.read(self.folder / ".gitignore")
            return True
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
    polling = poll or os.environ.get("WATCHFILES_FORCE_POLLING", "").lower() not in ("", "0", "false", "no")
    step = max(quiet_ms, 2 * POLL_MS + 50) if polling else quiet_ms
    # The poller takes its first look in its own thread: a change before it would be missed, so readiness
    # waits for a few wake-ups (inotify's watches are in place as soon as watching begins).
    wake_ups_to_ready = 1 + (2 * POLL_MS) // WAKE_MS + 1 if polling else 1
    for batch in watchfiles.watch(folder, watch_filter=source, debounce=LONGEST_MS, step=step,
                                  stop_event=stop, rust_timeout=WAKE_MS, yield_on_timeout=True,
                                  force_polling=True if polling else None, poll_delay_ms=POLL_MS,
                                  raise_interrupt=False):
        if not batch and wake_ups_to_ready > 0:
            wake_ups_to_ready -= 1
            if wake_ups_to_ready == 0:
                ready()
        paths = changed_paths(source, batch)
        if paths:
            yield paths
