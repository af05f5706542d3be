"""Which Docker failures mean the engine stopped answering, with the SDK's own exceptions from real sockets.

A Docker that answers with an error (a 409 name conflict, a 500) answers: only a refused, reset, closed or
timed-out connection means it does not, and only that makes a job's failure name Docker's outage.
"""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import docker.errors
import pytest
import requests

from runner.backends._outage import STOPPED_ANSWERING, failure, unreachable
from runner.backends.base import LABEL_HOME, BackendError
from runner.backends.docker import DockerBackend, container_name
from tests.backends.test_docker_backend import job_spec, run

API_VERSION = "1.41"  # named, so that a client asks nothing of the socket until it is used
CONFLICT = 'Conflict. The container name "/runner-job-x" is already in use by container "0123abcd".'


def answered(status: int, message: str) -> requests.Response:
    """A real requests Response with `status` and Docker's JSON body saying `message`."""
    response = requests.Response()
    response.status_code = status
    response.reason = {409: "Conflict", 500: "Internal Server Error", 503: "Service Unavailable"}[status]
    response.url = "http+docker://localhost/v1.41/containers/create?name=runner-job-x"
    response._content = json.dumps({"message": message}).encode()
    return response


def api_error(status: int, message: str) -> docker.errors.APIError:
    """The APIError the SDK itself makes of an HTTP error status."""
    try:
        docker.errors.create_api_error_from_http_exception(requests.HTTPError(response=answered(status, message)))
    except docker.errors.APIError as exc:
        return exc
    raise AssertionError("the SDK raised no APIError")


def raised(call: Callable[[], object]) -> BaseException:
    """What `call` raised."""
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - the point is to look at whatever it raised
        return exc
    raise AssertionError("the call raised nothing")


class UnixListener:
    """A Unix socket that does one thing to every connection: closes it, holds it unanswered, or answers 500."""

    def __init__(self, path: Path, behaviour: str) -> None:
        self.path, self.behaviour = path, behaviour
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(str(path))
        self._listener.listen(8)
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return  # closed
            if self.behaviour == "hang":
                self._held.append(conn)
                continue
            conn.recv(65536)  # the request read, the close is a clean end of the stream, not a reset
            if self.behaviour == "answer-500":
                body = json.dumps({"message": "the daemon is in a bad way"}).encode()
                conn.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
            conn.close()

    def client(self, version: str | None = None, timeout: int = 5) -> docker.APIClient:
        """An SDK client of this socket (without `version`, it asks the socket for one at once)."""
        return docker.APIClient(base_url=f"unix://{self.path}", timeout=timeout, version=version)

    def close(self) -> None:
        """Stop listening and drop the held connections."""
        self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._thread.join()
        for conn in self._held:
            conn.close()


@pytest.fixture
def listen(tmp_path: Path) -> Iterator[Callable[[str], UnixListener]]:
    made: list[UnixListener] = []

    def make(behaviour: str) -> UnixListener:
        made.append(UnixListener(tmp_path / f"{behaviour}.sock", behaviour))
        return made[-1]

    yield make
    for listener in made:
        listener.close()


@pytest.mark.parametrize("status", [409, 500, 503])
def test_an_api_error_of_any_status_is_an_answer(status: int) -> None:
    exc = api_error(status, CONFLICT)
    assert exc.status_code == status
    assert not unreachable(exc)
    assert str(failure("creating the container of job-x", exc)) == f"creating the container of job-x failed: {CONFLICT}"


def test_a_plain_http_error_with_a_response_is_an_answer() -> None:
    exc = requests.HTTPError("503 Server Error", response=answered(503, "busy"))
    assert not unreachable(exc)
    assert STOPPED_ANSWERING not in str(failure("pinging Docker", exc))


def test_a_connection_closed_without_an_answer_is_no_answer(listen: Callable[[str], UnixListener]) -> None:
    client = listen("close").client(version=API_VERSION)
    exc = raised(client.ping)
    client.close()
    assert isinstance(exc, requests.ConnectionError)
    assert unreachable(exc)
    assert str(failure("starting container abc", exc)) == (
        f"{STOPPED_ANSWERING}: starting container abc failed (remote end closed connection without response)")


def test_a_connection_left_unanswered_past_the_timeout_is_no_answer(listen: Callable[[str], UnixListener]) -> None:
    client = listen("hang").client(version=API_VERSION, timeout=1)
    exc = raised(client.ping)
    client.close()
    assert isinstance(exc, (requests.Timeout, requests.ConnectionError))
    assert unreachable(exc)
    assert str(failure("waiting for container abc", exc)).startswith(f"{STOPPED_ANSWERING}: waiting for container abc")


def test_an_error_status_from_the_socket_is_an_answer(listen: Callable[[str], UnixListener]) -> None:
    client = listen("answer-500").client(version=API_VERSION)
    exc = raised(client.ping)
    client.close()
    assert isinstance(exc, docker.errors.APIError) and exc.status_code == 500
    assert not unreachable(exc)
    assert str(failure("pinging Docker", exc)) == "pinging Docker failed: the daemon is in a bad way"


def test_no_api_version_for_a_closed_connection_is_no_answer(listen: Callable[[str], UnixListener]) -> None:
    exc = raised(listen("close").client)
    assert isinstance(exc, docker.errors.DockerException) and "fetching server API version" in str(exc)
    assert unreachable(exc)


def test_no_api_version_for_an_error_status_is_an_answer(listen: Callable[[str], UnixListener]) -> None:
    exc = raised(listen("answer-500").client)
    assert isinstance(exc, docker.errors.DockerException) and "fetching server API version" in str(exc)
    assert not unreachable(exc)


def test_a_closed_raw_socket_is_no_answer_but_a_local_file_error_is_not_dockers(tmp_path: Path) -> None:
    closed = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    closed.close()
    assert unreachable(raised(lambda: closed.send(b"GET /_ping HTTP/1.0\r\n\r\n")))
    assert not unreachable(raised(lambda: (tmp_path / "missing.tar").read_bytes()))


@pytest.mark.docker
def test_the_engines_own_name_conflict_is_an_answer(client: docker.DockerClient, image: str, tmp_path: Path) -> None:
    name = f"runner-outage-test-{uuid.uuid4().hex[:12]}"
    labels = {LABEL_HOME: str(tmp_path / "home")}
    client.api.create_container(image, ["true"], name=name, labels=labels)
    try:
        exc = raised(lambda: client.api.create_container(image, ["true"], name=name, labels=labels))
    finally:
        client.api.remove_container(name, force=True)
    assert isinstance(exc, docker.errors.APIError) and exc.status_code == 409
    assert not unreachable(exc)
    message = str(failure("creating the container of job-x", exc))
    assert message.startswith("creating the container of job-x failed: Conflict.") and name in message


@pytest.mark.docker
@pytest.mark.asyncio
async def test_a_job_whose_name_another_home_holds_fails_on_the_conflict_and_docker_stays_answering(
        backend: DockerBackend, client: docker.DockerClient, image: str, tmp_path: Path) -> None:
    health: list[tuple[bool, str]] = []
    backend.on_health = lambda answering, detail: health.append((answering, detail))
    spec = job_spec(image, "true")
    other = client.api.create_container(image, ["true"], name=container_name(spec.job_id),
                                        labels={LABEL_HOME: str(tmp_path / "another-home")})
    try:
        with pytest.raises(BackendError) as failed:
            await run(backend, spec)
        assert client.api.inspect_container(other["Id"])["Id"] == other["Id"]  # not ours: left alone
    finally:
        client.api.remove_container(other["Id"], force=True)
    assert str(failed.value).startswith(f"creating the container of {spec.job_id} failed: Conflict.")
    assert STOPPED_ANSWERING not in str(failed.value)
    assert health == []
