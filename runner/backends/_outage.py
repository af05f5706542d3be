"""A Docker engine that stopped answering, told apart from one that answered with an error.

When dockerd stops, its API closes every connection and refuses new ones: calls fail with connection
errors (or time out, if it hangs), not with an API error. Such failures name Docker, so that a job that
fails because of them says so. Containers that could not be removed then are removed once it is back.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from collections.abc import Callable

import docker
import docker.errors
import requests
import urllib3.exceptions

from runner.backends.base import BackendError

DockerFailure = (docker.errors.DockerException, requests.RequestException, OSError)
STOPPED_ANSWERING = "the Docker engine stopped answering"
RETRY_REMOVAL_S = 2.0
PROBE_TIMEOUT_S = 5.0
# What a container killed by a signal exits with: 128 + SIGKILL, 128 + SIGTERM.
SIGNAL_EXITS = (137, 143)
log = logging.getLogger(__name__)
# The SDK wraps the interesting part a few exceptions deep: "('Connection aborted.', ConnectionResetError(...))";
# the most specific first.
_CAUSES = ("connection reset by peer", "connection refused", "no such file or directory", "timed out",
           "remote end closed connection without response", "broken pipe", "connection aborted")


def reason(exc: BaseException) -> str:
    """What went wrong in a Docker call, in one line."""
    if isinstance(exc, docker.errors.APIError):
        return str(exc.explanation or exc)
    text = str(exc).strip()
    for cause in _CAUSES:
        if cause in text.lower():
            return cause
    return text.splitlines()[0][:300] if text else type(exc).__name__


# No answer: the connection refused, reset, aborted or closed mid-answer, or the answer late. (Every requests
# exception is an OSError, an HTTPError among them, and so is Docker's APIError: OSError alone names too much.)
_NO_ANSWER = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
              urllib3.exceptions.ProtocolError, urllib3.exceptions.TimeoutError, ConnectionError, TimeoutError)
# A raw socket that was closed under the call.
_CLOSED_SOCKET = (errno.EBADF, errno.ENOTCONN)


def unreachable(exc: BaseException) -> bool:
    """Whether `exc` means the engine did not answer at all (refused, reset, closed, timed out).

    An answer of any HTTP status (a 409 conflict, a 500) means that Docker answers.
    """
    if isinstance(exc, docker.errors.APIError) or getattr(exc, "response", None) is not None:
        return False
    if isinstance(exc, _NO_ANSWER):
        return True
    if isinstance(exc, docker.errors.DockerException) and "fetching server API version" in str(exc):
        # The SDK raises this in the handler of what went wrong: that says whether it was an answer.
        cause = exc.__cause__ or exc.__context__
        return cause is None or unreachable(cause)
    return type(exc) is OSError and exc.errno in _CLOSED_SOCKET


def failure(what: str, exc: BaseException) -> BackendError:
    """The BackendError for `what` (e.g. `starting container abc`) failing with `exc`; it names Docker."""
    if unreachable(exc):
        return BackendError(f"{STOPPED_ANSWERING}: {what} failed ({reason(exc)})")
    return BackendError(f"{what} failed: {reason(exc)}")


def fresh_ping_problem(socket_path: str) -> str | None:
    """Why a new connection to the engine's Unix socket gets no answer to `GET /_ping` (None: it answers).

    A stopping dockerd closes its listener first and only then stops the containers; calls already under
    way (a wait) still get their answer. So a container that Docker's shutdown killed looks like any other
    exit, except that a new connection then gets nowhere. (The SDK's connection pool may hold one that
    still works, so this is a raw connection of its own.)
    """
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(PROBE_TIMEOUT_S)
            probe.connect(socket_path)
            probe.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            status = probe.recv(64)
    except OSError as exc:
        return reason(exc)
    if not status.startswith(b"HTTP/"):
        return "the connection was closed without an answer"
    return None


class PendingRemovals:
    """Containers that could not be removed while Docker was away, removed once it answers again."""

    def __init__(self, remove: Callable[[str], None]) -> None:
        self._remove = remove
        self.handles: set[str] = set()
        self._task: asyncio.Task[None] | None = None

    def add(self, handle: str) -> None:
        """Remove `handle` later; a retry task runs on the current loop until every such container is gone."""
        self.handles.add(handle)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._retry())

    def discard(self, handle: str) -> None:
        """Forget `handle` (it was removed another way)."""
        self.handles.discard(handle)

    async def _retry(self) -> None:
        while self.handles:
            await asyncio.sleep(RETRY_REMOVAL_S)
            for handle in sorted(self.handles):
                try:
                    await asyncio.to_thread(self._remove, handle)
                except BackendError:
                    break  # still away: try again later
                self.handles.discard(handle)
                log.info("removed container %s now that Docker answers again", handle[:12])
