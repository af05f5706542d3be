"""Moving file content to and from the engine: multi-part uploads, streamed downloads, whole-file reads.

These follow the DNAnexus protocol (`/file/new`, `/file-x/upload` and a PUT per part, `/file-x/close`;
`/file-x/download` and a GET), so they work with any client whose `call` speaks the engine's API.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

from runner.errors import ApiError, EnvironmentProblem, InvalidState, api_error

DEFAULT_PART_SIZE = 64 << 20
MAX_PART_SIZE = 5 << 30
MAX_PARTS = 10000
TRANSFER_TIMEOUT_S = 300.0
CONNECT_TIMEOUT_S = 5.0
CLOSE_TIMEOUT_S = 600.0
POLL_S = 0.1
CHUNK = 1 << 20

if TYPE_CHECKING:
    import requests


class Caller(Protocol):
    """What these functions need of a client: `call(route, body)` (an `EngineClient` is one)."""

    def call(self, route: str, body: Mapping[str, Any] | None = None, *,
             timeout_s: float | None = ...) -> Any:
        """POST `body` to `route` and return the decoded answer."""


def upload_file(client: Caller, path: Path, *, project: str, folder: str = "/", name: str | None = None,
                parents: bool = True, part_size: int = DEFAULT_PART_SIZE,
                close_timeout_s: float = CLOSE_TIMEOUT_S) -> str:
    """Upload the local file `path` into `project:folder` (named `name`, else its own name); its closed file ID."""
    if not 1 <= part_size <= MAX_PART_SIZE:
        raise ValueError(f"part_size must be from 1 to {MAX_PART_SIZE} bytes")
    size = path.stat().st_size
    part_size = max(part_size, -(-size // MAX_PARTS))
    body = {"project": project, "folder": folder, "name": name or path.name, "parents": parents,
            "nonce": os.urandom(16).hex()}
    file_id = str(client.call("/file/new", body)["id"])
    with path.open("rb") as stream:
        _upload_parts(client, file_id, stream, part_size)
    client.call(f"/{file_id}/close", {})
    wait_closed(client, file_id, timeout_s=close_timeout_s)
    return file_id


def _upload_parts(client: Caller, file_id: str, stream: BinaryIO, part_size: int) -> None:
    index = 1
    while data := stream.read(part_size):
        upload_part(client, file_id, index, data)
        index += 1


def upload_part(client: Caller, file_id: str, index: int, data: bytes) -> None:
    """Upload `data` as part `index` of the open file `file_id` (its size and MD5 declared, then checked)."""
    import requests  # here, not above: importing it costs more than the start of any command that moves no file

    target = client.call(f"/{file_id}/upload",
                         {"index": index, "size": len(data), "md5": hashlib.md5(data).hexdigest()})
    try:
        response = requests.put(target["url"], data=data, headers=target.get("headers") or {},
                                timeout=(CONNECT_TIMEOUT_S, TRANSFER_TIMEOUT_S))
    except requests.RequestException as exc:
        raise EnvironmentProblem(f"the upload of part {index} of {file_id} failed ({type(exc).__name__})",
                                 fix="runner engine status") from exc
    with response:
        _check(response, f"PUT part {index} of {file_id}")


def wait_closed(client: Caller, file_id: str, *, timeout_s: float = CLOSE_TIMEOUT_S) -> None:
    """Return once `file_id` is closed (InvalidState when it is still closing after `timeout_s`)."""
    deadline = time.monotonic() + timeout_s
    while True:
        state = client.call(f"/{file_id}/describe", {"fields": {"state": True}})["state"]
        if state == "closed":
            return
        if time.monotonic() > deadline:
            raise InvalidState(f"{file_id} is still {state} after {timeout_s:g} s")
        time.sleep(POLL_S)


def describe_file(client: Caller, file_id: str, *, project: str | None = None) -> dict[str, Any]:
    """The describe of a file (`name`, `size`, `state`, ...), seen from `project` when given."""
    body: dict[str, Any] = {"project": project} if project else {}
    answer: dict[str, Any] = client.call(f"/{file_id}/describe", body)
    return answer


def iter_content(client: Caller, file_id: str, *, project: str | None = None,
                 chunk_size: int = CHUNK) -> Iterator[bytes]:
    """The bytes of a closed file, streamed in chunks of at most `chunk_size`."""
    import requests  # here, not above: see upload_part

    body: dict[str, Any] = {"project": project} if project else {}
    target = client.call(f"/{file_id}/download", body)
    try:
        response = requests.get(target["url"], headers=target.get("headers") or {}, stream=True,
                                timeout=(CONNECT_TIMEOUT_S, TRANSFER_TIMEOUT_S))
    except requests.RequestException as exc:
        raise _broken(file_id, exc) from exc
    with response:
        _check(response, f"GET {file_id}")
        try:
            yield from response.iter_content(chunk_size=chunk_size)
        except requests.RequestException as exc:
            raise _broken(file_id, exc) from exc


def download_file(client: Caller, file_id: str, destination: Path, *, project: str | None = None) -> Path:
    """Write the content of `file_id` to `destination` (replaced only once complete); returns it.

    The size written is checked against the file's describe.
    """
    expected = describe_file(client, file_id, project=project).get("size")
    partial = destination.with_name(f".{destination.name}.{os.getpid()}.part")
    try:
        written = 0
        with partial.open("wb") as out:
            for chunk in iter_content(client, file_id, project=project):
                out.write(chunk)
                written += len(chunk)
        if isinstance(expected, int) and written != expected:
            raise ApiError(f"{file_id}: got {written} bytes, but the file has {expected}")
        os.replace(partial, destination)
    finally:
        partial.unlink(missing_ok=True)
    return destination


def read_file(client: Caller, file_id: str, *, project: str | None = None) -> bytes:
    """The whole content of a closed file, in memory."""
    return b"".join(iter_content(client, file_id, project=project))


def _broken(file_id: str, exc: requests.RequestException) -> EnvironmentProblem:
    return EnvironmentProblem(f"the download of {file_id} failed ({type(exc).__name__})",
                              fix="runner engine status")


def _check(response: requests.Response, what: str) -> None:
    """Nothing for a 2xx answer; else the engine's error, or an ApiError naming the status."""
    if response.ok:
        return
    try:
        document = response.json()
    except ValueError:
        document = None
    error = document.get("error") if isinstance(document, dict) else None
    if isinstance(error, dict) and isinstance(error.get("type"), str):
        details = error.get("details")
        raise api_error(error["type"], str(error.get("message", "")), details if isinstance(details, dict) else None)
    raise ApiError(f"{what}: HTTP {response.status_code} from the engine", {"status": response.status_code})
