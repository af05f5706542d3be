"""The job folders `runner fsck` checks: one per job and no other, and the engine's own files in them regular.

A job folder `$RUNNER_HOME/jobs/<job-id>/` holds the engine's files (`job.log`, `job_input.json`,
`output.json`, `error.json`, `input/job_input.json`) and the folders `input/` and `work/`; what is inside
`work/` is the job's own and is not looked at. Every look and every removal goes through directory file
descriptors opened with O_NOFOLLOW, so a link planted in a job folder is seen as a link and removed as one,
and nothing outside the job folder is ever touched.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from runner.store._fsck_model import Finding
from runner.store.db import Database, now_ms

JOBS = "jobs"
ENGINE_DIRS = ("input", "work")
ENGINE_FILES = ("job.log", "job_input.json", "output.json", "error.json")
INPUT_FILES = ("job_input.json",)
JOB_KINDS = ("job-folder-orphan", "job-folder-not-a-folder", "job-folder-missing", "job-file-special")
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW


def _what(mode: int) -> str:
    for test, name in ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a folder"),
                       (stat.S_ISREG, "a regular file")):
        if test(mode):
            return name
    return "a special file"


@contextmanager
def _opened_dir(name: str, dir_fd: int | None = None) -> Iterator[int]:
    fd = os.open(name, DIR_FLAGS, dir_fd=dir_fd)
    try:
        yield fd
    finally:
        os.close(fd)


def _mode(name: str, dir_fd: int) -> int | None:
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode
    except FileNotFoundError:
        return None


def _special(job_id: str, folder: Path, dir_fd: int, name: str, want_dir: bool) -> Finding | None:
    mode = _mode(name, dir_fd)
    if mode is None or (stat.S_ISDIR(mode) if want_dir else stat.S_ISREG(mode)):
        return None
    wanted = "a folder" if want_dir else "a regular file"
    return Finding("job-file-special", job_id, str(folder / name),
                   f"the engine's {name} is {_what(mode)}, not {wanted}",
                   "it is removed (a link itself, never what it points to)")


def _folder_problems(job_id: str, folder: Path) -> list[Finding]:
    found: list[Finding] = []
    with _opened_dir(str(folder)) as fd:
        found += [f for name in ENGINE_FILES if (f := _special(job_id, folder, fd, name, False))]
        found += [f for name in ENGINE_DIRS if (f := _special(job_id, folder, fd, name, True))]
        inputs = _mode("input", fd)
        if inputs is not None and stat.S_ISDIR(inputs):
            with _opened_dir("input", fd) as inner:
                found += [f for name in INPUT_FILES
                          if (f := _special(job_id, folder / "input", inner, name, False))]
    return found


def check(db: Database, home: Path, findings: list[Finding]) -> int:
    """Append the job-folder problems of `home` to `findings`; the number of jobs checked."""
    root = home / JOBS
    # Listed before the jobs are read, as a job's folder is made just after its row: no new job's folder
    # looks orphaned, and a job created after the listing is not taken for one without a folder.
    listed_at = now_ms()
    names = sorted(os.listdir(root)) if root.is_dir() else []
    created = {r["id"]: r["created"] for r in db.query("SELECT id, created FROM jobs")}
    for name in names:
        folder = root / name
        try:
            mode = os.lstat(folder).st_mode
        except FileNotFoundError:
            continue
        if name not in created:
            findings.append(Finding("job-folder-orphan", name, str(folder), "no job has this folder's ID",
                                    "the folder is deleted (nothing can show it any more)"))
        elif not stat.S_ISDIR(mode):
            findings.append(Finding("job-folder-not-a-folder", name, str(folder),
                                    f"the job's folder is {_what(mode)}",
                                    "it is removed and an empty folder made"))
        else:
            findings.extend(_folder_problems(name, folder))
    for job_id in sorted(set(created) - set(names)):
        if created[job_id] <= listed_at:
            findings.append(Finding("job-folder-missing", job_id, str(root / job_id), "the job has no folder",
                                    "an empty folder is made (the job's log is lost)"))
    return len(created)


def _remove(name: str, dir_fd: int) -> None:
    mode = _mode(name, dir_fd)
    if mode is not None and stat.S_ISDIR(mode):
        shutil.rmtree(name, dir_fd=dir_fd)
    elif mode is not None:
        os.unlink(name, dir_fd=dir_fd)


def _remove_special(home: Path, finding: Finding) -> None:
    relative = Path(finding.path).relative_to(home / JOBS / finding.object)
    with _opened_dir(str(home / JOBS / finding.object)) as fd:
        if len(relative.parts) == 1:
            _remove(relative.name, fd)
        else:
            with _opened_dir(relative.parts[0], fd) as inner:
                _remove(relative.name, inner)


def repair(home: Path, findings: list[Finding]) -> None:
    """Repair the job-folder problems among `findings` (each marked repaired once done)."""
    root = home / JOBS
    root.mkdir(parents=True, exist_ok=True)
    with _opened_dir(str(root)) as fd:
        for finding in (f for f in findings if f.kind in JOB_KINDS and not f.repaired):
            if finding.kind in ("job-folder-orphan", "job-folder-not-a-folder"):
                _remove(finding.object, fd)
            if finding.kind in ("job-folder-not-a-folder", "job-folder-missing"):
                os.mkdir(finding.object, mode=0o755, dir_fd=fd)
            if finding.kind == "job-file-special":
                _remove_special(home, finding)
            finding.repaired = True
