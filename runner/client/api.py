"""`EngineClient`: DNAnexus-style calls (`POST /<object>/<method>`) and the runner's own routes."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any, Self

import requests

from runner.errors import ApiError, EnvironmentProblem, api_error

API_VERSION = "1.0.0"
CONNECT_TIMEOUT_S = 5.0
DEFAULT_TIMEOUT_S = 300.0
PING_TIMEOUT_S = 5.0
START_FIX = "runner engine start"


class EngineClient:
    """A user's client of one engine: `call` for API routes, `stream_logs` for a job tree's log records."""

    def __init__(self, url: str, token: str, project: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.project = project
        self._session = requests.Session()
        self._session.headers["DNAnexus-API"] = API_VERSION
        if token:
            self._session.headers["Authorization"] = f"Bearer {token}"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections this client keeps open."""
        self._session.close()

    def call(self, route: str, body: Mapping[str, Any] | None = None, *,
             timeout_s: float | None = DEFAULT_TIMEOUT_S) -> Any:
        """POST a JSON body to `route` (e.g. `/applet-xxxx/run`) and return the decoded answer.

        `timeout_s` bounds the wait for the answer (None: wait as long as it takes, as a build may).
        """
        url = self._url(route)
        data = json.dumps(dict(body or {}))
        try:
            response = self._session.post(url, data=data, headers={"Content-Type": "application/json"},
                                          timeout=(CONNECT_TIMEOUT_S, timeout_s))
        except requests.RequestException as exc:
            raise self._unreachable(exc) from exc
        return _decode(response, route)

    def ping(self, *, timeout_s: float = PING_TIMEOUT_S) -> dict[str, Any]:
        """`GET /runner/ping`: `{"ok", "pid", "version", "project", "home", "url"}` of the engine."""
        try:
            response = self._session.get(self._url("/runner/ping"), timeout=(CONNECT_TIMEOUT_S, timeout_s))
        except requests.RequestException as exc:
            raise self._unreachable(exc) from exc
        answer = _decode(response, "/runner/ping")
        if not isinstance(answer, dict):
            raise ApiError(f"/runner/ping answered {type(answer).__name__}, not a JSON object")
        return answer

    def stream_logs(self, job_id: str, *, tree: bool = True, follow: bool = True) -> Iterator[dict[str, Any]]:
        """The log and state records of a job (and its subjobs when `tree`), one dict per NDJSON line.

        With `follow` the stream stays open until the job ends, and its last record is
        `{"kind": "end", "job", "state"}`.
        """
        params = {"job": job_id, "tree": "1" if tree else "0", "follow": "1" if follow else "0"}
        try:
            response = self._session.get(self._url("/runner/logs"), params=params, stream=True,
                                         timeout=(CONNECT_TIMEOUT_S, None))
        except requests.RequestException as exc:
            raise self._unreachable(exc) from exc
        with response:
            if not response.ok:
                _decode(response, "/runner/logs")
            try:
                yield from _ndjson(response)
            except requests.RequestException as exc:
                raise EnvironmentProblem(
                    f"the engine at {self.url} broke off the log stream of {job_id} ({exc})",
                    fix="runner engine status",
                ) from exc

    def _url(self, route: str) -> str:
        return self.url + (route if route.startswith("/") else "/" + route)

    def _unreachable(self, exc: requests.RequestException) -> EnvironmentProblem:
        return EnvironmentProblem(f"the engine at {self.url} does not answer ({type(exc).__name__})",
                                  fix=START_FIX)


def _decode(response: requests.Response, route: str) -> Any:
    """The JSON of a 2xx answer; for any other status, the ApiError it stands for."""
    try:
        document = response.json()
    except ValueError:
        document = None
    if response.ok:
        if document is None and response.content.strip() != b"null":
            raise ApiError(f"{route}: the engine's answer (HTTP {response.status_code}) is not JSON")
        return document
    error = document.get("error") if isinstance(document, dict) else None
    if isinstance(error, dict) and isinstance(error.get("type"), str):
        details = error.get("details")
        details = details if isinstance(details, dict) else None
        raise api_error(error["type"], str(error.get("message", "")), details)
    snippet = response.text.strip().splitlines()[0][:200] if response.text.strip() else "(empty body)"
    failure = ApiError(f"{route}: HTTP {response.status_code} from the engine: {snippet}",
                       {"status": response.status_code})
    failure.http_status = response.status_code
    raise failure


def _ndjson(response: requests.Response) -> Iterator[dict[str, Any]]:
    # The engine's HTTP chunks need not end at line ends: a record may arrive in pieces.
    pending = b""
    for chunk in response.iter_content(chunk_size=None):
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            if line.strip():
                yield _record(line)
    if pending.strip():
        yield _record(pending)


def _record(line: bytes) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except ValueError:
        record = None
    if not isinstance(record, dict):
        raise ApiError(f"/runner/logs: the engine sent a line that is not a JSON object: {line[:200]!r}")
    return record
