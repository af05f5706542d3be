"""Following a container's output, line by line per stream, without losing its last line.

Docker 20.10 can end a `logs --follow` stream before it has sent the container's last, unterminated line
(about one run in three for `printf partial; exit`). So the stream is followed with timestamps and, once
the container has exited, whatever was logged after the last timestamp seen is read once more.

Both streams come in one request to Docker's logs endpoint, demultiplexed here by each frame's stream byte:
our containers have no TTY, so the SDK's `logs()`, which inspects the container first to learn whether it
has one, would only add a call per request.
"""

from __future__ import annotations

import functools
import re
import struct
from collections.abc import Callable, Iterator, Mapping
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
StreamPush = Callable[[str, list[str]], None]


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


# The stream byte of a frame of Docker's multiplexed stream (8-byte header: stream, 3 zeros, length).
_STREAMS = {1: "stdout", 2: "stderr"}
_HEADER = struct.Struct(">BxxxL")
Entry = tuple[str, tuple[bytes, int] | None, bytes, bytes]


def _frames(response: requests.Response) -> Iterator[tuple[int, bytes]]:
    """The (stream byte, payload) frames of a multiplexed logs response, until it ends."""
    while True:
        header = response.raw.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return
        kind, length = _HEADER.unpack(header)
        if length:
            payload = response.raw.read(length)
            if not payload:
                return
            yield kind, payload


def _entries(api: docker.APIClient, container: str, follow: bool, since: int | None = None) -> Iterator[Entry]:
    """(stream, sortable stamp, stamp, text) of each frame of the container's log, both streams, stamped."""
    url = f"{api.base_url}/v{api.api_version}/containers/{container}/logs"
    query = {"stdout": 1, "stderr": 1, "timestamps": 1, "follow": int(follow)}
    if since is not None:
        query["since"] = since
    # A follow may wait for hours between two lines: no timeout on it; a plain read gets the client's.
    with api.get(url, params=query, stream=True, timeout=None if follow else api.timeout) as response:
        response.raise_for_status()
        for kind, frame in _frames(response):
            stream = _STREAMS.get(kind)
            if stream is not None:
                stamp, _, text = frame.partition(b" ")
                yield stream, stamp_key(stamp), stamp, text


def follow(api: docker.APIClient, container: str, push: StreamPush, skip: Mapping[str, int],
           exited: Callable[[], object]) -> None:
    """Send every line `container` prints to `push(stream, lines)`, until it exits; `exited()` waits for that.

    The first `skip[stream]` lines are left out (a resumed container's log is read from its start: the job's
    log has the engine's times, not Docker's, so only a count of lines marks exactly where it stopped).
    """
    splitters = {stream: LineSplitter(functools.partial(push, stream), skip.get(stream, 0))
                 for stream in _STREAMS.values()}
    # Per stream: the last stamp seen and how many frames had it (Docker stamps every piece of a line it
    # splits, over 16 KiB, with the line's time: a piece the follow missed has the stamp of one it sent).
    last: dict[str, tuple[tuple[bytes, int], int]] = {}
    last_stamp = b""
    try:
        for stream, key, stamp, text in _entries(api, container, follow=True):
            if key is not None:
                seen = last.get(stream)
                last[stream], last_stamp = (key, seen[1] + 1 if seen and seen[0] == key else 1), stamp
            splitters[stream].feed(text)
        exited()
        # What the stream missed is the log's end, after the last frame it sent; the other stream's copier may
        # have stamped its frames a moment before that frame was written, so the read starts a second earlier.
        since = max(0, int(_epoch(last_stamp)) - 1) if last_stamp else None
        again: dict[str, int] = {}
        for stream, key, _, text in _entries(api, container, follow=False, since=since):
            seen = last.get(stream)
            if seen is not None and key == seen[0]:
                again[stream] = again.get(stream, 0) + 1
            if seen is None or (key is not None and (key > seen[0] or (key == seen[0] and again[stream] > seen[1]))):
                splitters[stream].feed(text)
    except DockerFailure:
        # The container went away under us (`docker rm -f`), or Docker stopped answering:
        # what was read is delivered, and the thread ends.
        pass
    for splitter in splitters.values():
        splitter.close()


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
