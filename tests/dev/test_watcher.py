"""The watcher on a real folder (inotify, and polling): one set per save, per write-and-rename, per burst."""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.dev.watcher import watch_changes
from tests.dev.conftest import GUARD_S


class Watcher:
    """watch_changes in a thread; each set it yields goes to `sets`."""

    def __init__(self, folder: Path, poll: bool) -> None:
        self.stop, ready = threading.Event(), threading.Event()
        self.sets: queue.Queue[frozenset[str]] = queue.Queue()
        self.thread = threading.Thread(target=self._run, args=(folder, poll, ready), daemon=True)
        self.thread.start()
        assert ready.wait(GUARD_S), "the watcher never began"

    def _run(self, folder: Path, poll: bool, ready: threading.Event) -> None:
        for paths in watch_changes(folder, self.stop, poll=poll, ready=ready.set):
            self.sets.put(paths)

    def next(self) -> frozenset[str]:
        """The next set of changed paths."""
        return self.sets.get(timeout=GUARD_S)


@pytest.fixture(params=[False, True], ids=["events", "polling"])
def watcher(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Path, Watcher]]:
    """A folder with a src/code.sh and a .gitignore, watched."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "code.sh").write_text("v0")
    (tmp_path / ".gitignore").write_text("*.log\nout/\n")
    watching = Watcher(tmp_path, poll=request.param)
    yield tmp_path, watching
    watching.stop.set()
    watching.thread.join(GUARD_S)


def test_each_save_rename_and_burst_is_one_set_and_ignored_files_are_none(watcher: tuple[Path, Watcher]) -> None:
    folder, watching = watcher
    code = folder / "src" / "code.sh"
    code.write_text("v1")
    assert watching.next() == {"src/code.sh"}
    temporary = folder / "src" / "code.sh.~tmp"
    temporary.write_text("v2")
    os.replace(temporary, code)
    assert watching.next() == {"src/code.sh"}, "the temporary file of a write-and-rename was reported"
    for step in range(5):
        code.write_text(f"v3.{step}")
    assert watching.next() == {"src/code.sh"}
    (folder / "debug.log").write_text("ignored by *.log")
    (folder / "out").mkdir()
    (folder / "out" / "result.txt").write_text("ignored by out/")
    (folder / "src" / ".code.sh.swp").write_text("ignored by watchfiles' defaults")
    (folder / "dxapp.json").write_text("{}")  # the sentinel: what came before it was a set of its own
    assert watching.next() == {"dxapp.json"}
    assert watching.sets.empty()


def test_a_changed_gitignore_is_read_again(watcher: tuple[Path, Watcher]) -> None:
    folder, watching = watcher
    (folder / ".gitignore").write_text("*.log\nout/\nsrc/\n")
    assert watching.next() == {".gitignore"}
    (folder / "src" / "code.sh").write_text("now ignored")
    (folder / "dxapp.json").write_text("{}")
    assert watching.next() == {"dxapp.json"}


def test_a_gitignore_in_a_subfolder_counts_for_that_folder(watcher: tuple[Path, Watcher]) -> None:
    folder, watching = watcher
    (folder / "src" / ".gitignore").write_text("scratch/\n*.tmp\n")
    assert watching.next() == {"src/.gitignore"}
    (folder / "src" / "notes.tmp").write_text("ignored by src/.gitignore")
    (folder / "src" / "scratch").mkdir()
    (folder / "src" / "scratch" / "x.sh").write_text("ignored by src/.gitignore")
    (folder / "other.tmp").write_text("not ignored: src/.gitignore does not reach up here")
    assert watching.next() == {"other.tmp"}
    assert watching.sets.empty()
