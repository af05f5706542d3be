"""Malformed HTTP gets the documented error body from the API's runner (aiohttp alone answers in plain text)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web

from runner.api.core.protocol_errors import ApiRunner
from tests.api._full_env import build_world, make_world_app

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def port(tmp_path: Path) -> AsyncIterator[int]:
    """The whole API served by ApiRunner on a free port of 127.0.0.1."""
    world = build_world(tmp_path / "home")
    runner = ApiRunner(make_world_app(world), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield runner.addresses[0][1]
    await runner.cleanup()
    world.db.close()


async def _exchange(port: int, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes; (status, headers, body) of the answer, read until the server closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(raw)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 30)
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


@pytest.mark.parametrize("raw", [b"GARBAGE\r\n\r\n", b"GET /runner/ping HTTP/9.9\r\n\r\n",
                                 b"POST /file/new HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n",
                                 b"GET /runner/ping HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n"])
async def test_malformed_requests_get_the_documented_error_body(port: int, raw: bytes) -> None:
    status, headers, body = await _exchange(port, raw)
    assert 400 <= status < 500
    assert headers["content-type"].startswith("application/json")
    error = json.loads(body)["error"]
    assert error["type"] == "InvalidInput" and str(status) in error["message"] and error["details"] == {}


async def test_a_well_formed_request_after_is_answered_as_usual(port: int) -> None:
    await _exchange(port, b"GARBAGE\r\n\r\n")
    status, headers, body = await _exchange(port, b"GET /runner/jwks HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status == 200 and json.loads(body)["keys"][0]["kty"] == "RSA"
