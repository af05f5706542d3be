"""HTTP/1.1 on the wire, as much as the proxy needs: a request head read and rewritten, one body copied exactly.

The proxy answers one request per connection (`Connection: close` both ways), so that every request a browser
sends is checked for its session and has the session cookie taken out before the app sees it; after a
websocket upgrade the connection is a plain byte pipe.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from runner.errors import RunnerError

MAX_HEAD = 64 * 1024
MAX_LINE = 8 * 1024
CHUNK = 64 * 1024
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "te", "upgrade", "proxy-authorization"})


class BadRequest(RunnerError):
    """The client sent something that is not an HTTP/1.x request the proxy can pass on."""


@dataclass(frozen=True, slots=True)
class RequestHead:
    """A request line and its header fields, in order."""

    method: str
    target: str
    version: str
    headers: tuple[tuple[str, str], ...]

    def header(self, name: str) -> str | None:
        """The first value of header `name` (any case), if any."""
        lowered = name.lower()
        return next((value for key, value in self.headers if key.lower() == lowered), None)

    @property
    def is_upgrade(self) -> bool:
        """Whether the client asks to switch protocols (a websocket)."""
        tokens = {t.strip().lower() for t in (self.header("connection") or "").split(",")}
        return "upgrade" in tokens and self.header("upgrade") is not None


async def read_head(reader: asyncio.StreamReader) -> RequestHead | None:
    """The next request head; None when the client closed before sending one."""
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial.strip():
            return None
        raise BadRequest("the request head ended early") from None
    except asyncio.LimitOverrunError:
        raise BadRequest(f"the request head is longer than {MAX_HEAD} bytes") from None
    lines = raw.decode("latin-1").split("\r\n")[:-2]
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1.") or not parts[1].startswith("/"):
        raise BadRequest(f"not an HTTP/1.x request line in origin form: {lines[0][:200]!r}")
    headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip() or " " in name:
            raise BadRequest(f"a malformed header line: {line[:200]!r}")
        headers.append((name, value.strip()))
    return RequestHead(parts[0], parts[1], parts[2], tuple(headers))


def cookie_value(head: RequestHead, name: str) -> str | None:
    """The value of cookie `name` among the request's Cookie headers."""
    for key, value in head.headers:
        if key.lower() == "cookie":
            for pair in value.split(";"):
                cookie, _, content = pair.strip().partition("=")
                if cookie == name:
                    return content
    return None


def upstream_head(head: RequestHead, cookie: str, extra: tuple[tuple[str, str], ...]) -> bytes:
    """The head to send the app: cookie `cookie` taken out, hop-by-hop fields replaced, `extra` added."""
    out = [f"{head.method} {head.target} {head.version}"]
    for key, value in head.headers:
        lowered = key.lower()
        if lowered == "cookie":
            kept = [p.strip() for p in value.split(";") if p.strip().partition("=")[0] != cookie and p.strip()]
            if kept:
                out.append(f"{key}: {'; '.join(kept)}")
        elif lowered in HOP_BY_HOP or lowered.startswith("x-forwarded-"):
            continue
        else:
            out.append(f"{key}: {value}")
    if head.is_upgrade:
        out += [f"Connection: {head.header('connection')}", f"Upgrade: {head.header('upgrade')}"]
    else:
        out.append("Connection: close")
    out += [f"{key}: {value}" for key, value in extra]
    return ("\r\n".join(out) + "\r\n\r\n").encode("latin-1")


async def copy_body(head: RequestHead, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy the request's body, exactly as long as its head says (Content-Length or chunked)."""
    encoding = (head.header("transfer-encoding") or "").strip().lower()
    if encoding == "chunked":
        await _copy_chunked(reader, writer)
    elif encoding:
        raise BadRequest(f"Transfer-Encoding {encoding!r} is not supported (only chunked)")
    else:
        length = head.header("content-length") or "0"
        if not length.isdigit():
            raise BadRequest(f"Content-Length is {length[:50]!r}, not a number")
        await _copy_exactly(int(length), reader, writer)


async def _copy_exactly(length: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while length:
        data = await reader.read(min(CHUNK, length))
        if not data:
            raise BadRequest("the request body ended early")
        length -= len(data)
        writer.write(data)
        await writer.drain()


async def _line(reader: asyncio.StreamReader) -> bytes:
    try:
        line = await reader.readline()
    except ValueError:  # longer than the reader's limit
        raise BadRequest("a chunked body's line is too long") from None
    if not line.endswith(b"\n") or len(line) > MAX_LINE:
        raise BadRequest("a chunked body's line ended early or is too long")
    return line


async def _copy_chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        line = await _line(reader)
        try:
            size = int(line.split(b";")[0].strip(), 16)
        except ValueError:
            raise BadRequest(f"a chunk size is not hexadecimal: {line[:50]!r}") from None
        writer.write(line)
        if size == 0:
            break
        await _copy_exactly(size + 2, reader, writer)  # the chunk and its CRLF
    while True:  # trailer fields, up to the empty line
        line = await _line(reader)
        writer.write(line)
        if not line.strip():
            break
    await writer.drain()


async def relay_response(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy the app's response: its head with `Connection: close` (the client must not send a next request on
    this connection: it would pass unchecked), then the rest byte for byte (a websocket's frames after a 101)."""
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, OSError):
        return  # no whole head: the client sees the connection close without an answer, as from the app
    lines = raw.decode("latin-1").split("\r\n")[:-2]
    switching = lines[0].split(" ")[1:2] == ["101"]
    kept = [line for line in lines[1:] if switching or
            line.partition(":")[0].strip().lower() not in ("connection", "keep-alive")]
    closing = [] if switching else ["Connection: close"]
    writer.write(("\r\n".join([lines[0], *kept, *closing]) + "\r\n\r\n").encode("latin-1"))
    await pump(reader, writer)


async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy bytes from `reader` to `writer` until `reader` ends or either side fails."""
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        return
    if writer.can_write_eof():
        try:
            writer.write_eof()
        except OSError:
            pass
