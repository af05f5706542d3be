"""`EngineClient`: DNAnexus-style calls (`POST /<object>/<method>`) and the runner's own routes.

It speaks plain HTTP/1.1 through `runner.client._http` (keep-alive connections, one per thread at a time):
every command of the command line starts with it, and `requests` alone costs more to import than the whole
of `runner --help` (`http.client` a third of a command's start).
"""

from __future__ import annotations

import json
import select
import threading
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Self
from urllib.parse import urlencode, urlsplit

from runner.client._http import Connection, ProtocolError, Response
from runner.errors import ApiError, EnvironmentProblem, api_error

API_VERSION = "1.0.0"
CONNECT_TIMEOUT_S = 5.0
DEFAULT_TIMEOUT_S = 300.0
PING_TIMEOUT_S = 5.0
START_FIX = "runner engine start"
# What a connection that broke, was refused or timed out raises (TimeoutError, the refusals, ProtocolError).
TRANSPORT_ERRORS = (OSError,)


class EngineClient:
    """A user's client of one engine: `call` for API routes, `stream_logs` for a job tree's log records."""

    def __init__(self, url: str, token: str, project: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.project = project
        parts = urlsplit(self.url)
        if parts.scheme != "http" or not parts.hostname:
            raise EnvironmentProblem(f"the engine's URL {url!r} is not http://HOST:PORT", fix=START_FIX)
        self._address = (parts.hostname, parts.port or 80)
        self._prefix = parts.path
        self._headers = {"DNAnexus-API": API_VERSION, "Connection": "keep-alive"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._idle: list[Connection] = []
        self._lock = threading.Lock()
        # A client dropped unclosed closes its kept-alive connections when collected (as requests' pools do).
        weakref.finalize(self, _close_all, self._idle)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections this client keeps open."""
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    def call(self, route: str, body: Mapping[str, Any] | None = None, *,
             timeout_s: float | None = DEFAULT_TIMEOUT_S) -> Any:
        """POST a JSON body to `route` (e.g. `/applet-xxxx/run`) and return the decoded answer.

        `timeout_s` bounds the wait for the answer (None: wait as long as it takes, as a build may).
        """
        data = json.dumps(dict(body or {})).encode()
        status, content = self._exchange("POST", route, data, timeout_s)
        return _decode(status, content, route)

    def ping(self, *, timeout_s: float = PING_TIMEOUT_S) -> dict[str, Any]:
        """`GET /runner/ping`: `{"ok", "pid", "version", "project", "home", "url"}` of the engine."""
        status, content = self._exchange("GET", "/runner/ping", None, timeout_s)
        answer = _decode(status, content, "/runner/ping")
        if not isinstance(answer, dict):
            raise ApiError(f"/runner/ping answered {type(answer).__name__}, not a JSON object")
        return answer

    def stream_logs(self, job_id: str, *, tree: bool = True, follow: bool = True) -> Iterator[dict[str, Any]]:
        """The log and state records of a job (and its subjobs when `tree`), one dict per NDJSON line.

        With `follow` the stream stays open until the job ends, and its last record is
        `{"kind": "end", "job", "state"}`.
        """
        params = {"job": job_id, "tree": "1" if tree else "0", "follow": "1" if follow else "0"}
        answered = False
        try:
            with self.open_stream("/runner/logs", params, read_timeout_s=None) as lines:
                answered = True
                for line in lines:
                    if line.strip():
                        yield _record(line)
        except TRANSPORT_ERRORS as exc:
            if not answered:
                raise self._unreachable(exc) from exc
            raise EnvironmentProblem(
                f"the engine at {self.url} broke off the log stream of {job_id} ({type(exc).__name__})",
                fix="runner engine status",
            ) from exc

    @contextmanager
    def open_stream(self, route: str, params: Mapping[str, str], *,
                    read_timeout_s: float | None) -> Iterator[Iterator[bytes]]:
        """GET `route` on a connection of its own and give its body line by line (an error status raised).

        A connection refused, broken or timed out raises the transport's own error (one of TRANSPORT_ERRORS),
        for the caller to resume or report.
        """
        connection = self._new_connection()
        try:
            response = self._send(connection, "GET", f"{route}?{urlencode(params)}", None, read_timeout_s)
            if not 200 <= response.status < 300:
                _decode(response.status, response.read(), route)
            yield _lines(response)
        finally:
            connection.close()

    def _exchange(self, method: str, route: str, data: bytes | None,
                  timeout_s: float | None) -> tuple[int, bytes]:
        connection = self._idle_connection() or self._new_connection()
        try:
            response = self._send(connection, method, route, data, timeout_s)
            content = response.read()
        except TRANSPORT_ERRORS as exc:
            connection.close()
            raise self._unreachable(exc) from exc
        if response.will_close:
            connection.close()
        else:
            with self._lock:
                self._idle.append(connection)
        return response.status, content

    def _send(self, connection: Connection, method: str, route: str, data: bytes | None,
              timeout_s: float | None) -> Response:
        headers = dict(self._headers)
        if data is not None:
            headers["Content-Type"] = "application/json"
        return connection.request(method, self._prefix + (route if route.startswith("/") else "/" + route),
                                  headers, data, timeout_s)

    def _idle_connection(self) -> Connection | None:
        """A kept-alive connection the engine has not closed meanwhile (readable while idle means closed)."""
        while True:
            with self._lock:
                if not self._idle:
                    return None
                connection = self._idle.pop()
            sock = connection.sock
            if sock is not None and not select.select([sock], [], [], 0)[0]:
                return connection
            connection.close()

    def _new_connection(self) -> Connection:
        return Connection(*self._address, connect_timeout_s=CONNECT_TIMEOUT_S)

    def _unreachable(self, exc: BaseException) -> EnvironmentProblem:
        return EnvironmentProblem(f"the engine at {self.url} does not answer ({type(exc).__name__})",
                                  fix=START_FIX)


def _close_all(connections: list[Connection]) -> None:
    for connection in connections:
        connection.close()


def _decode(status: int, content: bytes, route: str) -> Any:
    """The JSON of a 2xx answer; for any other status, the ApiError it stands for."""
    try:
        document = json.loads(content)
    except ValueError:
        document = None
    if 200 <= status < 300:
        if document is None and content.strip() != b"null":
            raise ApiError(f"{route}: the engine's answer (HTTP {status}) is not JSON")
        return document
    error = document.get("error") if isinstance(document, dict) else None
    if isinstance(error, dict) and isinstance(error.get("type"), str):
        details = error.get("details")
        details = details if isinstance(details, dict) else None
        raise api_error(error["type"], str(error.get("message", "")), details)
    text = content.decode(errors="replace").strip()
    snippet = text.splitlines()[0][:200] if text else "(empty body)"
    failure = ApiError(f"{route}: HTTP {status} from the engine: {snippet}", {"status": status})
    failure.http_status = status
    raise failure


def _lines(response: Response) -> Iterator[bytes]:
    """The body's lines; the engine ends every line, so a last one cut short means the stream broke."""
    while line := response.readline():
        if not line.endswith(b"\n"):
            raise ProtocolError("the engine broke off its answer in the middle of a line")
        yield line


def _record(line: bytes) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except ValueError:
        record = None
    if not isinstance(record, dict):
        raise ApiError(f"/runner/logs: the engine sent a line that is not a JSON object: {line[:200]!r}")
    return record
