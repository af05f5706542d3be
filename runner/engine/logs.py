"""Each job's log, `$RUNNER_HOME/jobs/<job-id>/job.log`, and the hub that records a log event for its lines.

The file has one line per log line, `<UTC time, ms, Z> <stream> <text>`:

    2026-11-21T10:00:00.123Z stdout Hello
    2026-11-21T10:00:00.124Z runner try 1 started

where the stream is stdout, stderr or runner (the runner's own messages about the job).
"""

from __future__ import annotations

import errno
import logging
import os
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Self

from runner.store.db import now_ms

log = logging.getLogger(__name__)
LOG_FILE = "job.log"
STREAMS = frozenset({"stdout", "stderr", "runner"})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One log line: when (ms since the epoch), which stream, and its text (no newline)."""

    at_ms: int
    stream: str
    text: str
    # Where the lines were written in job.log (start, end bytes); None when they were not.
    span: tuple[int, int] | None = field(default=None, compare=False)


def format_time(at_ms: int) -> str:
    """`2026-11-21T10:00:00.123Z` for a time in ms since the epoch."""
    return (_EPOCH + at_ms * _MS).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_time(text: str) -> int:
    """Milliseconds since the epoch of a `format_time` string; ValueError if it is not one."""
    if not text.endswith("Z"):
        raise ValueError(f"not a UTC time: {text!r}")
    moment = datetime.strptime(text[:-1], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MS


def _lines(text: str) -> list[str]:
    lines = text.split("\n")
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


class JobLog:
    """Appends timestamped lines to a job's `job.log`; safe to share between threads."""

    def __init__(self, job_dir: Path) -> None:
        self.path = job_dir / LOG_FILE
        self._lock = threading.Lock()
        self._closed = False
        self._write_failed = False
        job_dir.mkdir(parents=True, exist_ok=True)

    @classmethod
    def for_job(cls, home: Path, job_id: str) -> JobLog:
        """The log of `job_id` under the runner home `home`."""
        return cls(home / "jobs" / job_id)

    def append(self, stream: str, text: str, at_ms: int | None = None) -> LogEntry:
        """Write `text` (one line per line in it) on `stream` now; the entry's text joins the lines with \\n."""
        if stream not in STREAMS:
            raise ValueError(f"unknown log stream {stream!r}: expected one of {sorted(STREAMS)}")
        at = now_ms() if at_ms is None else at_ms
        lines = _lines(text)
        stamp = format_time(at)
        data = "".join(f"{stamp} {stream} {line}\n" for line in lines).encode("utf-8", "replace")
        with self._lock:
            if self._closed:
                raise ValueError(f"{self.path} is closed")
            end = self._write(data)
        return LogEntry(at, stream, "\n".join(lines), (end - len(data), end))

    def append_or_keep(self, stream: str, text: str) -> LogEntry:
        """`append()`; a line that cannot be written (disk full) still gives an entry for live followers."""
        try:
            return self.append(stream, text)
        except OSError as exc:
            if not self._write_failed:
                log.warning("cannot write %s: %s", self.path, exc)
            self._write_failed = True
            return LogEntry(now_ms(), stream, "\n".join(_lines(text)))

    def _write(self, data: bytes) -> int:
        # Opened per write with O_APPEND: several JobLog objects (or processes) may append to one file,
        # and one write() of whole lines keeps their lines from interleaving; nothing is left open.
        # O_NOFOLLOW: in a job folder of an older layout a job could have replaced job.log with a link.
        return write_file(self.path, data, os.O_APPEND)

    def close(self) -> None:
        """Refuse further appends."""
        with self._lock:
            self._closed = True

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _parse_line(raw: bytes) -> LogEntry | None:
    parts = raw.decode("utf-8", "replace").split(" ", 2)
    if len(parts) < 2:
        return None
    try:
        at = parse_time(parts[0])
    except ValueError:
        return None
    return LogEntry(at, parts[1], parts[2] if len(parts) == 3 else "")


def read_range(job_dir: Path, start: int, end: int) -> list[LogEntry]:
    """The log lines written at bytes `start`..`end` of the job's log (what a log event refers to)."""
    entries, _ = read_entries(job_dir, start, end - start)
    return entries


def read_entries(job_dir: Path, offset: int = 0, size: int = -1) -> tuple[list[LogEntry], int]:
    """The complete lines of the job's log after byte `offset`, and the offset to read from next.

    A last line still being written (no newline yet) is left for the next read; lines that are not
    in the log format are skipped.
    """
    try:
        fd = os.open(job_dir / LOG_FILE, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ELOOP):  # no log yet, or a link left by a job of an older layout
            return [], offset
        raise
    with os.fdopen(fd, "rb") as log:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return [], offset
        log.seek(offset)
        data = log.read(size)
    end = data.rfind(b"\n") + 1
    entries = [entry for raw in data[:end].split(b"\n")[:-1] if (entry := _parse_line(raw)) is not None]
    return entries, offset + end


class LogHub:
    """Where lines written to a job's job.log are announced: the recorder stores their log event.

    The event stream (`runner.engine.events`) fans the events out; the hub keeps no followers of its own.
    """

    def __init__(self, recorder: Callable[[str, LogEntry], None] | None = None) -> None:
        self.recorder = recorder

    def publish(self, job_id: str, entry: LogEntry) -> None:
        """Record the log event of `entry` (none for lines that were not written); from any thread."""
        if self.recorder is None or entry.span is None:
            return
        try:
            self.recorder(job_id, entry)
        except Exception as exc:  # noqa: BLE001 - a line the store cannot index is still in job.log
            log.warning("cannot record the log event of %s: %s", job_id, exc)


def write_file(path: Path, data: bytes, mode_flags: int) -> int:
    """Write all of `data` to `path`, opened with O_WRONLY|O_CREAT|O_NOFOLLOW and `mode_flags` (never via a link).

    Returns the file offset after the data (with O_APPEND: where the data ends in the file).
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | mode_flags, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        return os.lseek(fd, 0, os.SEEK_CUR)
    finally:
        os.close(fd)
