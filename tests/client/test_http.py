"""The client's own HTTP/1.1 against a real aiohttp server: bodies, chunked streams, keep-alive, broken answers."""

from __future__ import annotations

import asyncio
import gc
import socket
import threading
import warnings
from collections.abc import Iterator

import pytest
from aiohttp import web

from runner.client.api import EngineClient
from runner.errors import EnvironmentProblem
from tests.client._server import CannedServer


def client_of(server: CannedServer) -> EngineClient:
    return EngineClient(server.url, "token")


def test_a_large_body_and_an_empty_one_arrive_whole(server: CannedServer) -> None:
    big = {"text": "x" * 3_000_000, "unicode": "é∑"}

    @server.route("POST", "/big")
    async def answer_big(request: web.Request) -> web.Response:
        return web.json_response(big)

    @server.route("POST", "/null")
    async def answer_null(request: web.Request) -> web.Response:
        return web.Response(body=b"null", content_type="application/json")

    with client_of(server) as client:
        assert client.call("/big") == big
        assert client.call("/null") is None


def test_calls_reuse_one_connection_and_survive_the_engine_closing_it(server: CannedServer) -> None:
    peers: list[object] = []

    @server.route("POST", "/who")
    async def who(request: web.Request) -> web.Response:
        assert request.transport is not None
        peers.append(request.transport.get_extra_info("peername"))
        return web.json_response({})

    @server.route("POST", "/bye")
    async def bye(request: web.Request) -> web.Response:
        return web.json_response({}, headers={"Connection": "close"})

    with client_of(server) as client:
        for _ in range(3):
            client.call("/who")
        client.call("/bye")
        client.call("/who")
    assert peers[0] == peers[1] == peers[2]
    assert peers[3] != peers[0]


def test_a_chunked_stream_is_read_line_by_line_whatever_its_chunks(server: CannedServer) -> None:
    @server.route("GET", "/runner/logs")
    async def logs(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for piece in (b'{"kind": "log", "li', b'ne": "a"}\n{"kind": "log", "line": "b"}\n{"kin',
                      b'd": "end", "job": "job-1", "state": "done"}\n'):
            await response.write(piece)
            await asyncio.sleep(0.01)
        await response.write_eof()
        return response

    with client_of(server) as client:
        records = list(client.stream_logs("job-1"))
    assert records == [{"kind": "log", "line": "a"}, {"kind": "log", "line": "b"},
                       {"kind": "end", "job": "job-1", "state": "done"}]


def raw_server(answer: bytes) -> Iterator[str]:
    """A socket server that reads one request, writes `answer` and closes: answers aiohttp would not send."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    thread.join(10)
    listener.close()


@pytest.mark.parametrize("answer", [
    b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{\"cut\": ",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n20\r\n{\"cut\"",
    b"SMTP ready\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Le",
])
def test_an_answer_cut_short_or_not_http_is_an_environment_problem(answer: bytes) -> None:
    for url in raw_server(answer):
        with EngineClient(url, "token") as client, pytest.raises(EnvironmentProblem) as caught:
            client.call("/system/whoami")
        assert f"the engine at {url} does not answer (ProtocolError)" in str(caught.value)


def test_a_log_stream_cut_in_the_middle_of_a_line_says_it_broke_off() -> None:
    answer = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
              b"11\r\n{\"kind\": \"log\"}\n\r\n8\r\n{\"kind\":\r\n")
    for url in raw_server(answer):
        with EngineClient(url, "token") as client, pytest.raises(EnvironmentProblem, match="broke off the log "
                                                                 "stream of job-1") as caught:
            list(client.stream_logs("job-1"))
        assert caught.value.fix == "runner engine status"


def test_an_engine_url_that_is_not_http_is_refused_by_name() -> None:
    with pytest.raises(EnvironmentProblem, match="'ftp://127.0.0.1:1' is not http://HOST:PORT"):
        EngineClient("ftp://127.0.0.1:1", "token")


def test_a_client_dropped_unclosed_leaves_no_socket_open(server: CannedServer) -> None:
    @server.route("POST", "/x")
    async def answer(request: web.Request) -> web.Response:
        return web.json_response({})

    client = client_of(server)
    client.call("/x")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del client
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_the_engine_s_numeric_address_is_not_resolved_and_a_name_is(server: CannedServer,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    @server.route("POST", "/who")
    async def who(request: web.Request) -> web.Response:
        return web.json_response({"host": request.headers["Host"]})

    port = server.url.rsplit(":", 1)[1]
    with EngineClient(f"http://localhost:{port}", "token") as client:
        assert client.call("/who") == {"host": f"localhost:{port}"}

    def no_resolver(*args: object, **kwargs: object) -> object:
        raise socket.gaierror(socket.EAI_FAIL, "name resolution is off in this test")
    monkeypatch.setattr(socket, "getaddrinfo", no_resolver)
    # 127.0.0.1 (what engine.json gives) needs no resolver: a command does not pay for its first call.
    with client_of(server) as client:
        assert client.call("/who") == {"host": f"127.0.0.1:{port}"}
    with EngineClient(f"http://localhost:{port}", "token") as client, pytest.raises(EnvironmentProblem,
                                                                                     match="does not answer"):
        client.call("/who")
