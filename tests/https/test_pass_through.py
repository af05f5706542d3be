"""What notebook-like apps need through the proxy: websockets, streamed responses, streamed uploads."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp import web

from tests.https.conftest import ProxyEnv

pytestmark = pytest.mark.asyncio
GATE: web.AppKey[asyncio.Event] = web.AppKey("gate", asyncio.Event)


@pytest.fixture
def app(seen: list[dict[str, str]]) -> web.Application:
    """An app with a websocket echo, a server-sent event stream held at a gate, and an upload counter."""

    async def echo(request: web.Request) -> web.WebSocketResponse:
        seen.append(dict(request.headers))
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        async for message in socket:
            if message.type == aiohttp.WSMsgType.TEXT:
                await socket.send_str(f"echo: {message.data}")
            elif message.type == aiohttp.WSMsgType.BINARY:
                await socket.send_bytes(message.data[::-1])
        return socket

    async def events(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(b"data: first\n\n")
        await request.app[GATE].wait()  # the second event only once the client has read the first
        await response.write(b"data: second\n\n")
        await response.write_eof()
        return response

    async def upload(request: web.Request) -> web.Response:
        total = 0
        async for chunk in request.content.iter_any():
            total += len(chunk)
        return web.json_response({"bytes": total, "chunked": request.headers.get("Transfer-Encoding")})

    application = web.Application()
    application[GATE] = asyncio.Event()
    application.router.add_get("/ws", echo)
    application.router.add_get("/events", events)
    application.router.add_post("/upload", upload)
    return application


async def test_a_websocket_passes_through_both_ways(env: ProxyEnv, app: web.Application) -> None:
    cookie = await env.log_in()
    headers = {"Host": env.host(), "Cookie": cookie}
    async with env.http.ws_connect(env.url("/ws"), headers=headers) as socket:
        await socket.send_str("hello")
        assert await socket.receive_str() == "echo: hello"
        await socket.send_bytes(b"\x00\x01\x02" * 50_000)
        assert await socket.receive_bytes() == (b"\x00\x01\x02" * 50_000)[::-1]
    assert "Cookie" not in env.seen[-1]


async def test_a_websocket_without_a_session_is_refused(env: ProxyEnv) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        async with env.http.ws_connect(env.url("/ws"), headers={"Host": env.host()}):
            pass
    assert refused.value.status == 401


async def test_a_streamed_response_arrives_as_it_is_written(env: ProxyEnv, app: web.Application) -> None:
    cookie = await env.log_in()
    async with env.http.get(env.url("/events"), headers={"Host": env.host(), "Cookie": cookie}) as response:
        assert response.status == 200 and response.headers["Content-Type"] == "text/event-stream"
        assert await response.content.readuntil(b"\n\n") == b"data: first\n\n"  # while the app still holds
        app[GATE].set()
        assert await response.content.read() == b"data: second\n\n"


async def test_a_chunked_upload_passes_through_whole(env: ProxyEnv) -> None:
    cookie = await env.log_in()

    async def body() -> object:
        for _ in range(64):
            yield b"x" * 10_000

    async with env.http.post(env.url("/upload"), data=body(),
                             headers={"Host": env.host(), "Cookie": cookie}) as response:
        assert await response.json() == {"bytes": 640_000, "chunked": "chunked"}


async def test_a_sized_upload_passes_through_whole(env: ProxyEnv) -> None:
    cookie = await env.log_in()
    async with env.http.post(env.url("/upload"), data=b"y" * 300_000,
                             headers={"Host": env.host(), "Cookie": cookie}) as response:
        assert (await response.json())["bytes"] == 300_000


async def test_a_websocket_opened_by_another_origins_page_is_refused(env: ProxyEnv) -> None:
    cookie = await env.log_in()
    other = f"http://{env.host(env.new_job())}"  # another job's app: the same site to a browser
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        async with env.http.ws_connect(env.url("/ws"), headers={"Host": env.host(), "Cookie": cookie}, origin=other):
            pass
    assert refused.value.status == 403
    assert env.seen == []
    own = f"http://{env.host()}"
    async with env.http.ws_connect(env.url("/ws"), headers={"Host": env.host(), "Cookie": cookie}, origin=own) as ws:
        await ws.send_str("mine")
        assert await ws.receive_str() == "echo: mine"


async def test_a_post_from_another_origins_page_is_refused(env: ProxyEnv) -> None:
    cookie = await env.log_in()
    headers = {"Host": env.host(), "Cookie": cookie, "Origin": "http://evil.localhost:8000"}
    async with env.http.post(env.url("/upload"), data=b"z", headers=headers) as response:
        assert response.status == 403 and "sent by a page of http://evil.localhost:8000" in await response.text()


async def test_an_app_that_keeps_its_connection_open_still_answers_once(env: ProxyEnv) -> None:
    held: list[asyncio.StreamWriter] = []

    async def keep_alive_app(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\nKeep-Alive: timeout=99\r\n\r\nhi")
        held.append(writer)  # and never closes it: the proxy must not wait for the app's end

    server = await asyncio.start_server(keep_alive_app, "127.0.0.1", 0)
    job = env.new_job()
    env.relay(job, int(server.sockets[0].getsockname()[1]))
    cookie = await env.log_in(job)
    for _ in range(2):  # the client does not reuse the connection for its next request: each is checked
        status, headers, text = await env.get("/", job=job, cookie=cookie)
        assert (status, text, headers["Connection"]) == (200, "hi", "close") and "Keep-Alive" not in headers
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()
