"""EngineClient against a real HTTP server: headers, error mapping, unreachable engines, NDJSON logs."""

from __future__ import annotations

import asyncio
import json
import socket
import threading

import pytest
from aiohttp import web

from runner.client.api import EngineClient
from runner.errors import ApiError, EnvironmentProblem, InvalidInput, ResourceNotFound
from tests.client._server import CannedServer

TOKEN = "secret-token"


def client_of(server: CannedServer) -> EngineClient:
    return EngineClient(server.url, TOKEN, project="project-" + "p" * 24)


def test_call_posts_json_with_the_dnanexus_headers(server: CannedServer) -> None:
    @server.route("POST", "/applet-xxxx/describe")
    async def describe(request: web.Request) -> web.Response:
        return web.json_response({"id": "applet-xxxx", "echo": await request.json()})

    with client_of(server) as client:
        assert client.call("/applet-xxxx/describe", {"fields": {"name": True}}) == {
            "id": "applet-xxxx", "echo": {"fields": {"name": True}}}
        assert client.call("applet-xxxx/describe") == {"id": "applet-xxxx", "echo": {}}
    headers = server.requests[0]["headers"]
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert headers["Content-Type"] == "application/json"
    assert headers["DNAnexus-API"] == "1.0.0"


def test_error_document_becomes_its_api_error_class_with_details(server: CannedServer) -> None:
    details = {"field": "n", "reason": "class", "expected": "int"}

    @server.route("POST", "/applet-xxxx/run")
    async def run(request: web.Request) -> web.Response:
        return web.json_response({"error": {"type": "InvalidInput", "message": "n must be an int",
                                            "details": details}}, status=422)

    with client_of(server) as client, pytest.raises(InvalidInput) as caught:
        client.call("/applet-xxxx/run", {"input": {"n": "four"}})
    assert caught.value.message == "n must be an int"
    assert caught.value.details == details
    assert caught.value.dx_type == "InvalidInput"


def test_unknown_routes_and_unknown_error_types(server: CannedServer) -> None:
    @server.route("POST", "/odd")
    async def odd(request: web.Request) -> web.Response:
        return web.json_response({"error": {"type": "SpendingLimitExceeded", "message": "no"}}, status=403)

    with client_of(server) as client:
        with pytest.raises(ResourceNotFound, match="no route /nowhere"):
            client.call("/nowhere")
        with pytest.raises(ApiError) as caught:
            client.call("/odd")
    assert type(caught.value) is ApiError
    assert caught.value.dx_type == "SpendingLimitExceeded" and caught.value.details == {}


def test_non_json_500_is_an_api_error_with_the_status(server: CannedServer) -> None:
    @server.route("POST", "/crash")
    async def crash(request: web.Request) -> web.Response:
        return web.Response(text="Internal Server Error\nstack trace here", status=500)

    with client_of(server) as client, pytest.raises(ApiError) as caught:
        client.call("/crash")
    assert type(caught.value) is ApiError
    assert caught.value.http_status == 500
    assert "HTTP 500" in str(caught.value) and "Internal Server Error" in str(caught.value)
    assert "stack trace" not in str(caught.value)


def test_success_that_is_not_json_is_an_api_error(server: CannedServer) -> None:
    @server.route("POST", "/html")
    async def html(request: web.Request) -> web.Response:
        return web.Response(text="<html>", status=200)

    with client_of(server) as client, pytest.raises(ApiError, match="not JSON"):
        client.call("/html")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_connection_refused_is_an_environment_problem() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with EngineClient(url, TOKEN) as client:
        with pytest.raises(EnvironmentProblem) as caught:
            client.call("/system/whoami")
        assert caught.value.fix == "runner engine start"
        assert f"the engine at {url} does not answer" in str(caught.value)
        with pytest.raises(EnvironmentProblem):
            client.ping()
        with pytest.raises(EnvironmentProblem):
            list(client.stream_logs("job-xxxx"))


def test_a_slow_answer_times_out_as_an_environment_problem(server: CannedServer) -> None:
    @server.route("POST", "/slow")
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(1)
        return web.json_response({})

    with client_of(server) as client, pytest.raises(EnvironmentProblem, match="does not answer"):
        client.call("/slow", timeout_s=0.2)


def test_ping(server: CannedServer) -> None:
    answer = {"ok": True, "pid": 42, "version": "0.1.0", "project": "project-x", "home": "/h",
              "url": server.url}

    @server.route("GET", "/runner/ping")
    async def ping(request: web.Request) -> web.Response:
        return web.json_response(answer)

    with client_of(server) as client:
        assert client.ping() == answer
    assert server.requests[0]["headers"]["Authorization"] == f"Bearer {TOKEN}"


RECORDS = [
    {"kind": "state", "job": "job-1", "name": "hello", "function": "main", "t": 1000, "state": "running"},
    {"kind": "log", "job": "job-1", "name": "hello", "function": "main", "t": 1001, "stream": "stdout",
     "line": "héllo {with} \"quotes\""},
    {"kind": "end", "job": "job-1", "state": "done"},
]


def test_stream_logs_yields_each_ndjson_line_even_across_chunks(server: CannedServer) -> None:
    @server.route("GET", "/runner/logs")
    async def logs(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)
        text = "".join(json.dumps(r) + "\n" for r in RECORDS).encode()
        for start in range(0, len(text), 7):  # chunks that cut lines (and a UTF-8 character) in pieces
            await response.write(text[start:start + 7])
        await response.write(b"\n")  # blank lines are skipped
        await response.write_eof()
        return response

    with client_of(server) as client:
        assert list(client.stream_logs("job-1")) == RECORDS
        assert list(client.stream_logs("job-1", tree=False, follow=False)) == RECORDS
    assert server.requests[0]["query"] == {"job": "job-1", "tree": "1", "follow": "1"}
    assert server.requests[1]["query"] == {"job": "job-1", "tree": "0", "follow": "0"}
    assert server.requests[0]["headers"]["Authorization"] == f"Bearer {TOKEN}"


def test_stream_logs_hands_over_each_record_as_it_arrives(server: CannedServer) -> None:
    released = threading.Event()
    waited: list[bool] = []

    @server.route("GET", "/runner/logs")
    async def logs(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(json.dumps(RECORDS[0]).encode() + b"\n")
        waited.append(await asyncio.to_thread(released.wait, 5))
        await response.write(json.dumps(RECORDS[2]).encode() + b"\n")
        await response.write_eof()
        return response

    with client_of(server) as client:
        stream = client.stream_logs("job-1")
        # A buffering client would see nothing until the server gave up waiting (waited == [False]).
        assert next(stream) == RECORDS[0]
        released.set()
        assert list(stream) == [RECORDS[2]]
    assert waited == [True]


def test_stream_logs_errors(server: CannedServer) -> None:
    @server.route("GET", "/runner/logs")
    async def logs(request: web.Request) -> web.StreamResponse:
        if request.query["job"] == "job-missing":
            return web.json_response({"error": {"type": "ResourceNotFound", "message": "no job-missing"}},
                                     status=404)
        return web.Response(text='{"kind": "log"}\nnot json\n')

    with client_of(server) as client:
        with pytest.raises(ResourceNotFound, match="no job-missing"):
            list(client.stream_logs("job-missing"))
        stream = client.stream_logs("job-1")
        assert next(stream) == {"kind": "log"}
        with pytest.raises(ApiError, match="not a JSON object"):
            next(stream)
