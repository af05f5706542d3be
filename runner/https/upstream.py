"""Reaching a job's app: the launcher's socket `work/https-PORT.sock` in the job folder, opened safely.

The job can write its work/ folder, so it could put a link there in place of the socket (say, to the Docker
socket). The socket is therefore opened with O_PATH|O_NOFOLLOW, checked to be a socket, and connected to
through `/proc/self/fd/N` (which also keeps the path short of the 107-byte limit whatever $RUNNER_HOME is).
"""

from __future__ import annotations

import asyncio
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from runner.engine.job_files import job_folder, work_folder
from runner.errors import RunnerError
from runner.launcher import https_socket_name

HANDSHAKE_LIMIT = 512
READY = b"ok\n"


@dataclass(frozen=True, slots=True)
class Unreachable(RunnerError):
    """The app cannot be reached now; `reason` says why (the 502 page quotes it)."""

    reason: str

    def __str__(self) -> str:
        return self.reason


def socket_path(home: Path, job_id: str, port: int) -> Path:
    """Where the launcher serves `job_id`'s app port `port`."""
    return work_folder(job_folder(home, job_id)) / https_socket_name(port)


async def connect(home: Path, job_id: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A stream to 127.0.0.1:`port` inside the job's container, past the launcher's `ok` line."""
    path = socket_path(home, job_id, port)
    try:
        fd = os.open(path, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        raise Unreachable("the job's container is still starting") from None
    except OSError as exc:
        raise Unreachable(f"the job folder's socket cannot be opened: {exc.strerror}") from None
    try:
        if not stat.S_ISSOCK(os.fstat(fd).st_mode):
            raise Unreachable(f"{path.name} in the job folder is not a socket (the job replaced it)")
        reader, writer = await asyncio.open_unix_connection(f"/proc/self/fd/{fd}")
    except OSError as exc:
        raise Unreachable(f"the launcher does not answer: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    try:
        line = await reader.readline()
    except (OSError, ValueError) as exc:
        writer.close()
        raise Unreachable(f"the launcher's answer was cut: {exc}") from None
    if line != READY:
        writer.close()
        said = line.decode("utf-8", "replace").strip().removeprefix("refused ").strip()
        raise Unreachable(said or "the launcher closed the connection")
    return reader, writer
