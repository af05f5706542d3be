"""Following one output stream of a container, line by line, without losing its last line.

Docker 20.10 can end a `logs --follow` stream before it has sent the container's last, unterminated line
(about one run in three for `printf partial; exit`). So the stream is followed with timestamps and, once
the container has exited, whatever was logged after the last timestamp seen is read once more.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime

import docker
import docker.errors
import requests

# A job printing without newlines (progress bars) still reaches the log in pieces of this size.
MAX_LINE_BYTES = 64 * 1024
DockerFailure = (docker.errors.DockerException, requests.RequestException, OSError)
_FRACTION = re.compile(r"\.(\d+)")
_STAMP = re.compile(rb"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$")

Push = Callable[[list[str]], None]


def stamp_key(stamp: bytes) -> tuple[bytes, int] | None:
    """A sortable form of a Docker log timestamp (RFC 3339 with up to 9 fraction digits, trailing zeros cut)."""
    match = _STAMP.match(stamp)
    if match is None:
        return None
    return match.group(1), int((match.group(2) or b"0").ljust(9, b"0"))


class LineSplitter:
    """Turns chunks of a byte stream into lines for `push`; an unterminated last line is kept until close.

    The first `skip` lines are dropped: an earlier engine delivered them already.
    """

    def __init__(self, push: Push, skip: int = 0) -> None:
        self._push = push
        self._pending = b""
        self._skip = skip

    def _send(self, lines: list[str]) -> None:
        if self._skip:
            dropped = min(self._skip, len(lines))
            self._skip -= dropped
            lines = lines[dropped:]
        if lines:
            self._push(lines)

    def feed(self, chunk: bytes) -> None:
        """Take the next chunk; complete lines go out at once."""
        pieces = (self._pending + chunk).split(b"\n")
        self._pending = pieces.pop()
        if len(self._pending) > MAX_LINE_BYTES:
            pieces.append(self._pending)
            self._pending = b""
        if pieces:
            self._send([piece.decode("utf-8", errors="replace") for piece in pieces])

    def close(self) -> None:
        """Send the unterminated last line, if any."""
        if self._pending:
            self._send([self._pending.decode("utf-8", errors="replace")])
            self._pending = b""


def _entries(frames: Iterable[bytes]) -> Iterable[tuple[tuple[bytes, int] | None, bytes, bytes]]:
    for frame in frames:
        stamp, _, text = frame.partition(b" ")
        yield stamp_key(stamp), stamp, text


def follow(api: docker.APIClient, container: str, stream: str, push: Push, skip: int = 0) -> None:
    """Send every line `stream` ('stdout' or 'stderr') of `container` prints to `push`, until it exits.

    The first `skip` lines are left out (a resumed container's log is read from its start: the job's log has
    the engine's times, not Docker's, so only a count of lines marks exactly where it stopped).
    """
    lines = LineSplitter(push, skip)
    last: tuple[bytes, int] | None = None
    last_stamp = b""
    wanted = {"stdout": stream == "stdout", "stderr": stream == "stderr", "timestamps": True}
    try:
        for key, stamp, text in _entries(api.logs(container, stream=True, follow=True, **wanted)):
            last, last_stamp = key or last, stamp if key else last_stamp
            lines.feed(text)
        api.wait(container, timeout=None)
        since = int(_epoch(last_stamp)) if last_stamp else None
        for key, _, text in _entries(api.logs(container, stream=True, follow=False, since=since, **wanted)):
            if last is None or (key is not None and key > last):
                lines.feed(text)
    except DockerFailure:
        # The container went away under us (`docker rm -f`), or Docker stopped answering:
        # what was read is delivered, and the thread ends.
        pass
    lines.close()


def docker_time(text: str | None) -> float | None:
    """Seconds since the epoch of a Docker timestamp (RFC 3339, nanoseconds); None for Docker's zero time."""
    if not text or text.startswith("0001-01-01"):
        return None
    text = _FRACTION.sub(lambda match: "." + match.group(1)[:6], text).replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def _epoch(stamp: bytes) -> float:
    return docker_time(stamp.decode("ascii", errors="replace")) or 0.0
