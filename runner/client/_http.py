"""A small HTTP/1.1 client over a TCP socket: what the engine's client needs, and nothing it does not import.

`http.client` costs ~20 ms to import (it brings `email` and `ssl`), a third of a command's whole start; the
engine listens on loopback and speaks plain HTTP/1.1 (aiohttp): Content-Length bodies, chunked streams,
keep-alive. Every failure here is an OSError (a refusal, a timeout, or a `ProtocolError`), so that a caller
handles a broken connection as one thing.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from typing import BinaryIO

MAX_HEAD_LINE = 65536


class ProtocolError(OSError):
    """The answer is not HTTP as we read it, or the connection closed in the middle of it."""


class Connection:
    """One keep-alive connection to `host:port`; `request` sends a request and returns its `Response`."""

    def __init__(self, host: str, port: int, *, connect_timeout_s: float) -> None:
        self.host, self.port = host, port
        self.connect_timeout_s = connect_timeout_s
        self.sock: socket.socket | None = None
        self._reader: BinaryIO | None = None

    def close(self) -> None:
        """Close the socket (a later request connects again)."""
        if self._reader is not None:
            self._reader.close()
        if self.sock is not None:
            self.sock.close()
        self.sock, self._reader = None, None

    def request(self, method: str, target: str, headers: Mapping[str, str], body: bytes | None,
                timeout_s: float | None) -> Response:
        """Send `method target` with `headers` and `body`; the answer's head read, its body still to read."""
        if self.sock is None:
            sock = _connect(self.host, self.port, self.connect_timeout_s)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sock, self._reader = sock, sock.makefile("rb")
        assert self._reader is not None
        self.sock.settimeout(timeout_s)
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.host}:{self.port}",
                 *(f"{name}: {value}" for name, value in headers.items())]
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b""))
        return Response(self._reader, head_only=method == "HEAD")


class Response:
    """An answer: `status`, `headers` (lower-case names), its body by `read()` or line by line by `readline()`."""

    def __init__(self, reader: BinaryIO, *, head_only: bool = False) -> None:
        self._reader = reader
        version, status = _status_line(_head_line(reader))
        self.status = status
        self.headers: dict[str, str] = {}
        while line := _head_line(reader).rstrip(b"\r\n"):
            name, _, value = line.decode("latin-1").partition(":")
            self.headers[name.strip().lower()] = value.strip()
        self._chunked = "chunked" in self.headers.get("transfer-encoding", "").lower()
        length = self.headers.get("content-length")
        no_body = head_only or status in (204, 304) or 100 <= status < 200
        self._left: int | None = 0 if no_body else (int(length) if length and not self._chunked else None)
        self._done = self._left == 0
        self.will_close = (version == "HTTP/1.0" or self.headers.get("connection", "").lower() == "close"
                           or (self._left is None and not self._chunked))

    def read(self) -> bytes:
        """The whole (rest of the) body."""
        parts = []
        while piece := self.readline():
            parts.append(piece)
        return b"".join(parts)

    def readline(self) -> bytes:
        """The body up to and including the next newline (less at the body's end); b"" once it has ended."""
        parts: list[bytes] = []
        while not self._done:
            if self._chunked and not self._left:
                self._next_chunk()
                continue
            piece = self._reader.readline(self._left if self._left is not None else -1)
            if not piece:
                if self._left is None:
                    self._done = True  # a body that ends where the connection does
                    break
                raise ProtocolError("the engine closed the connection in the middle of its answer")
            parts.append(piece)
            if self._left is not None:
                self._left -= len(piece)
                if self._left == 0:
                    self._end_of_data()
            if piece.endswith(b"\n"):
                break
        return b"".join(parts)

    def _end_of_data(self) -> None:
        if not self._chunked:
            self._done = True
        elif self._reader.read(2) != b"\r\n":
            raise ProtocolError("a chunk of the engine's answer does not end with CRLF")

    def _next_chunk(self) -> None:
        line = _head_line(self._reader)
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise ProtocolError(f"not a chunk size: {line[:40]!r}") from None
        if size:
            self._left = size
            return
        while _head_line(self._reader).rstrip(b"\r\n"):
            pass  # trailers: none we use
        self._done = True


def _connect(host: str, port: int, timeout_s: float) -> socket.socket:
    """A socket connected to `host:port`; an address as numbers (the engine's 127.0.0.1) is not resolved."""
    family = _numeric_family(host)
    if family is None:
        return socket.create_connection((host, port), timeout=timeout_s)
    # create_connection asks getaddrinfo even for 127.0.0.1, whose first call (the resolver's set-up, its
    # files read) costs 1-3 ms: a command's connection pays that for nothing.
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout_s)
        sock.connect((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def _numeric_family(host: str) -> socket.AddressFamily | None:
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
        except OSError:
            continue
        return family
    return None


def _head_line(reader: BinaryIO) -> bytes:
    line = reader.readline(MAX_HEAD_LINE + 1)
    if not line.endswith(b"\n"):
        raise ProtocolError("the engine closed the connection in the middle of its answer" if len(line) <= MAX_HEAD_LINE
                            else "a line of the answer's head is too long")
    return line


def _status_line(line: bytes) -> tuple[str, int]:
    parts = line.decode("latin-1").split(None, 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise ProtocolError(f"not an HTTP status line: {line[:80]!r}")
    return parts[0], int(parts[1])
