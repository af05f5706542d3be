"""After the job's process: output.json or error.json in the job folder, written atomically."""

from __future__ import annotations

import collections
import json
import os
import signal
import sys
import tempfile
from collections.abc import Iterable
from typing import Any

from . import ERROR, OUTPUT

TAIL_LINES = 20
MAX_LINE_CHARS = 2000


class LineTail:
    """The last lines of a byte stream, kept while it passes through; partial lines are joined."""

    def __init__(self, count: int = TAIL_LINES) -> None:
        self.lines: collections.deque[str] = collections.deque(maxlen=count)
        self._partial = b""

    def feed(self, data: bytes) -> None:
        """Take the next chunk of the stream."""
        pieces = (self._partial + data).split(b"\n")
        self._partial = pieces.pop()[-MAX_LINE_CHARS * 4:]
        for piece in pieces:
            self._keep(piece)

    def close(self) -> None:
        """Keep an unterminated last line."""
        if self._partial:
            self._keep(self._partial)
            self._partial = b""

    def _keep(self, piece: bytes) -> None:
        line = piece.decode("utf-8", errors="replace").rstrip("\r")
        self.lines.append(line[:MAX_LINE_CHARS])


def atomic_write(path: str, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder and a rename."""
    folder = os.path.dirname(path) or "."
    handle, temporary = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", dir=folder)
    try:
        with os.fdopen(handle, "wb") as stream:
            # No fsync: the engine reads the file as soon as the container exits (the page cache has it), and
            # after a power loss the job runs again anyway; the rename alone keeps readers from a torn file.
            stream.write(data)
            # Through the descriptor: the job's processes may have put a link at the temporary name by now.
            os.fchmod(handle, 0o644)
            _give_to_folder_owner(handle, folder)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def _give_to_folder_owner(fd: int, folder: str) -> None:
    # The job runs as root; the engine, which owns the job folder on the host, must be able to delete the file.
    owner = os.stat(folder)
    if owner.st_uid != os.geteuid():
        try:
            os.fchown(fd, owner.st_uid, owner.st_gid)
        except OSError:
            pass


def error_document(message: str, kind: str = "AppInternalError") -> dict[str, Any]:
    """A job error as DNAnexus writes it: `{"error": {"type", "message"}}`."""
    return {"error": {"type": kind, "message": message}}


def describe_exit(exit_code: int) -> str:
    """`exit code N`, naming the signal for codes above 128."""
    text = f"exit code {exit_code}"
    if exit_code > 128:
        try:
            text += f" (killed by {signal.Signals(exit_code - 128).name})"
        except ValueError:
            pass
    return text


def exit_error(exit_code: int, stderr_tail: Iterable[str]) -> dict[str, Any]:
    """The error of a job whose process failed without writing job_error.json."""
    lines = [line for line in stderr_tail if line.strip()]
    message = f"the job's process exited with {describe_exit(exit_code)} without writing job_error.json"
    if lines:
        message += "; last lines of stderr:\n" + "\n".join(lines)
    else:
        message += "; it wrote nothing to stderr"
    return error_document(message)


def _read_json(path: str) -> Any:
    """The JSON object at `path`, or None when there is no file; ValueError or TypeError when it is not one."""
    try:
        with open(path, "rb") as stream:
            data = stream.read()
    except FileNotFoundError:
        return None
    document = json.loads(data.decode("utf-8"))
    if not isinstance(document, dict):
        raise TypeError(f"expected a JSON object, found {type(document).__name__}")
    return document


def _encode(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode("utf-8")


def process_limit_note(pids: tuple[int, int | None]) -> str:
    """What to tell about a job that hit its process limit: (forks refused, the limit)."""
    refused, limit = pids
    limit_text = f"{limit} processes" if limit is not None else "its pids limit"
    return f"the job hit its process limit ({limit_text}): {refused} fork(s) refused"


def _with_pids_note(error: dict[str, Any], pids: tuple[int, int | None] | None) -> dict[str, Any]:
    body = error.get("error")
    if pids is None or not isinstance(body, dict) or body.get("type") == "AppError":
        return error  # an AppError is the job's own message to its user: left as it is
    return error_document(f"{process_limit_note(pids)}; {body.get('message', '')}")


def collect(home: str, job_dir: str, exit_code: int, stderr_tail: Iterable[str],
            pids: tuple[int, int | None] | None = None) -> dict[str, Any] | None:
    """Copy the job's output and error documents to `job_dir`; the error written there, if any.

    `pids` (forks refused, the limit) says that the job hit its process limit: a failure's message says so.
    """
    error: dict[str, Any] | None = None
    try:
        error = _read_json(os.path.join(home, "job_error.json"))
    except (ValueError, TypeError, OSError) as exc:
        error = error_document(f"job_error.json is not a valid error document: {exc}")
    output: dict[str, Any] | None = None
    try:
        output = _read_json(os.path.join(home, "job_output.json"))
    except (ValueError, TypeError, OSError) as exc:
        if error is None:
            error = error_document(f"job_output.json is not a valid JSON object: {exc}")
    if output is None and exit_code == 0 and error is None:
        output = {}
    if error is None and exit_code != 0:
        error = exit_error(exit_code, stderr_tail)
    if pids is not None:
        sys.stderr.write(f"[applet-runner] {process_limit_note(pids)}\n")
        sys.stderr.flush()
    if output is not None:
        atomic_write(os.path.join(job_dir, OUTPUT), _encode(output))
    if error is not None:
        error = _with_pids_note(error, pids)
        atomic_write(os.path.join(job_dir, ERROR), _encode(error))
    return error
