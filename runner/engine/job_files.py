"""A job's folder on the host: the engine's own files, and the careful reading of what a job left in work/.

    $RUNNER_HOME/jobs/<job-id>/
        job.log                  the engine appends (logs.py); never mounted into a container
        job_input.json           the engine writes it; mounted read-only, as one file, into the container
        output.json | error.json the engine's copies of the documents it read from work/ and checked
        work/                    the only host path a job can write (mounted read-write at the launcher's
                                 job folder): the launcher leaves output.json or error.json there

Job code is not trusted, and it runs as root: it can leave anything in work/ (links to host files, FIFOs,
folders, huge or deeply nested JSON), even after it has moved the launcher's own view of the folder away.
So the engine never writes into work/ once the container exists (a new try gets a fresh work/, the old one
removed by `shutil.rmtree`, which follows no link), and it reads only output.json and error.json from it:
through a descriptor of the folder, with O_NOFOLLOW and O_NONBLOCK, a regular file of at most
`MAX_DOCUMENT_BYTES`, UTF-8 JSON nested at most `MAX_DEPTH` levels. Anything else is a `JobFileError` that
names the file and what is wrong with it, and the job fails with it.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
from pathlib import Path
from typing import Any

from runner import launcher
from runner.engine.logs import LOG_FILE, write_file
from runner.errors import RunnerError

WORK = "work"
JOB_INPUT = launcher.JOB_INPUT
OUTPUT = launcher.OUTPUT
ERROR = launcher.ERROR
# The largest output.json or error.json the engine reads, and the deepest nesting of arrays and objects in it.
MAX_DOCUMENT_BYTES = 16 * 2**20
MAX_DEPTH = 64
_READ_CHUNK = 1 << 20
_NO_LINKS = "the engine follows no link in the job folder"


class JobFileError(RunnerError):
    """A document a job left in work/ cannot be used; the message names the file and why."""


def job_folder(home: Path, job_id: str) -> Path:
    """The engine-owned folder of `job_id`."""
    return home / "jobs" / job_id


def work_folder(folder: Path) -> Path:
    """The folder of a job that its container may write."""
    return folder / WORK


def prepare_try(folder: Path, job_input: Any) -> None:
    """Before a try's container is created: no documents of an earlier try, a fresh work/, the input file."""
    folder.mkdir(parents=True, exist_ok=True)
    for stale in (OUTPUT, ERROR):
        (folder / stale).unlink(missing_ok=True)
    if (folder / LOG_FILE).is_symlink():  # left by a job when the whole folder was writable (an older layout)
        (folder / LOG_FILE).unlink()
    _fresh_folder(work_folder(folder))
    write_json(folder / JOB_INPUT, job_input)


def _fresh_folder(path: Path) -> None:
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        path.unlink()
    elif path.exists():
        try:
            shutil.rmtree(path)  # fd-based on Linux: it removes links, never what they point to
        except OSError:
            # A job running as root can leave what the engine's user cannot delete: keep it out of the way.
            path.rename(path.with_name(f"{WORK}.stale-{os.urandom(4).hex()}"))
    path.mkdir(mode=0o755)


def write_json(path: Path, value: Any) -> None:
    """Write `value` to the engine-owned `path` through a temporary file and a rename; no link is followed."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.unlink(missing_ok=True)
    data = (json.dumps(value, indent=2, sort_keys=True) + "\n").encode("utf-8")
    write_file(temporary, data, os.O_EXCL)
    temporary.replace(path)


def read_document(folder: Path, name: str) -> dict[str, Any] | None:
    """The JSON object the job left at work/`name`; None when there is none; JobFileError if unusable."""
    data = _read_bytes(work_folder(folder), name)
    if data is None:
        return None
    try:
        document = json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except RecursionError:
        raise _refused(name, f"it is nested deeper than {MAX_DEPTH} levels") from None
    except UnicodeDecodeError as exc:
        raise _refused(name, f"it is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except ValueError as exc:
        raise _refused(name, f"it is not valid JSON ({exc})") from None
    if not isinstance(document, dict):
        raise _refused(name, f"it holds a JSON {_json_kind(document)}, not an object")
    if _depth(document) > MAX_DEPTH:
        raise _refused(name, f"it is nested deeper than {MAX_DEPTH} levels")
    return document


def keep_document(folder: Path, name: str, document: dict[str, Any]) -> None:
    """Write the engine's own copy of a checked document next to work/."""
    write_json(folder / name, document)


def _refused(name: str, why: str) -> JobFileError:
    return JobFileError(f"the {name} the job left cannot be used: {why}")


def _no_constant(text: str) -> Any:
    raise ValueError(f"{text} is not a JSON value")


def _read_bytes(work: Path, name: str) -> bytes | None:
    try:
        folder_fd = os.open(work, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _refused(name, f"the job folder cannot be opened ({exc.strerror})") from None
    try:
        fd = _open_in(folder_fd, name)
        if fd is None:
            return None
        try:
            return _read_regular(fd, name)
        finally:
            os.close(fd)
    finally:
        os.close(folder_fd)


def _open_in(folder_fd: int, name: str) -> int | None:
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    try:
        return os.open(name, flags, dir_fd=folder_fd)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _refused(name, f"it is a symbolic link ({_NO_LINKS})") from None
        if exc.errno == errno.ENXIO:
            raise _refused(name, "it is a socket or device, not a regular file") from None
        raise _refused(name, f"it cannot be opened ({exc.strerror})") from None


def _read_regular(fd: int, name: str) -> bytes:
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        raise _refused(name, f"it is a {_file_kind(info.st_mode)}, not a regular file")
    if info.st_size > MAX_DOCUMENT_BYTES:
        raise _refused(name, f"it is {info.st_size} bytes, more than the limit of {MAX_DOCUMENT_BYTES} bytes")
    chunks: list[bytes] = []
    total = 0
    while total <= MAX_DOCUMENT_BYTES:  # the job may still be writing to it: the limit holds for what is read
        chunk = os.read(fd, _READ_CHUNK)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
    raise _refused(name, f"it grew past the limit of {MAX_DOCUMENT_BYTES} bytes while it was read")


def _file_kind(mode: int) -> str:
    kinds = ((stat.S_ISDIR, "directory"), (stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket"),
             (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"))
    return next((kind for test, kind in kinds if test(mode)), "special file")


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    return "boolean" if isinstance(value, bool) else "number"


def _depth(document: Any) -> int:
    """How deeply arrays and objects nest in `document` (1 for a flat object), without recursion."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            return depth
        pending.extend((child, depth + 1) for child in children)
    return deepest
