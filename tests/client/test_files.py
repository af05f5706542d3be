"""runner.client.files against a canned file service over real HTTP: parts, MD5s, close, downloads."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from runner.client.api import EngineClient
from runner.client.files import download_file, read_file, upload_file
from runner.errors import ApiError, InvalidInput
from tests.client._server import CannedServer

FILE_ID = "file-" + "f" * 24
PROJECT = "project-" + "p" * 24


class FileService:
    """One file's life on a CannedServer: /file/new, /upload + PUT, /close, /describe, /download + GET."""

    def __init__(self, server: CannedServer, content: bytes | None = None) -> None:
        self.server = server
        self.new_body: dict[str, Any] = {}
        self.parts: dict[int, bytes] = {}
        self.declared: dict[int, dict[str, Any]] = {}
        self.state = "closed" if content is not None else "open"
        self.content = content or b""
        self.describes_while_closing = 2
        self.served: bytes | None = None
        for method, path, handler in (
            ("POST", "/file/new", self.new), ("POST", f"/{FILE_ID}/upload", self.upload),
            ("PUT", "/put", self.put), ("POST", f"/{FILE_ID}/close", self.close),
            ("POST", f"/{FILE_ID}/describe", self.describe), ("POST", f"/{FILE_ID}/download", self.download),
            ("GET", "/get", self.get),
        ):
            server.route(method, path)(handler)

    async def new(self, request: web.Request) -> web.Response:
        self.new_body = await request.json()
        return web.json_response({"id": FILE_ID})

    async def upload(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.declared[body["index"]] = body
        return web.json_response({"url": f"{self.server.url}/put?index={body['index']}", "headers": {"X-Part": "1"}})

    async def put(self, request: web.Request) -> web.Response:
        index = int(request.query["index"])
        data = await request.read()
        if hashlib.md5(data).hexdigest() != self.declared[index]["md5"]:
            return web.json_response({"error": {"type": "InvalidInput", "message": "bad md5"}}, status=422)
        self.parts[index] = data
        return web.json_response({})

    async def close(self, request: web.Request) -> web.Response:
        self.content = b"".join(self.parts[i] for i in sorted(self.parts))
        self.state = "closing"
        return web.json_response({"id": FILE_ID})

    async def describe(self, request: web.Request) -> web.Response:
        if self.state == "closing":
            self.describes_while_closing -= 1
            if self.describes_while_closing <= 0:
                self.state = "closed"
        return web.json_response({"id": FILE_ID, "name": "x", "state": self.state, "size": len(self.content)})

    async def download(self, request: web.Request) -> web.Response:
        return web.json_response({"url": f"{self.server.url}/get", "headers": {}})

    async def get(self, request: web.Request) -> web.Response:
        return web.Response(body=self.content if self.served is None else self.served)


def client_of(server: CannedServer) -> EngineClient:
    return EngineClient(server.url, "token", project=PROJECT)


def test_upload_sends_parts_of_the_given_size_with_md5s_then_waits_until_closed(
        server: CannedServer, tmp_path: Path) -> None:
    service = FileService(server)
    source = tmp_path / "reads.bin"
    source.write_bytes(bytes(range(256)) * 10)  # 2560 bytes: parts of 1000, 1000, 560
    with client_of(server) as client:
        assert upload_file(client, source, project=PROJECT, folder="/a", part_size=1000) == FILE_ID
    assert service.new_body["name"] == "reads.bin" and service.new_body["folder"] == "/a"
    assert service.new_body["parents"] is True and service.new_body["project"] == PROJECT
    assert [len(service.parts[i]) for i in sorted(service.parts)] == [1000, 1000, 560]
    assert service.declared[3]["size"] == 560
    assert service.content == source.read_bytes() and service.state == "closed"
    puts = [r for r in server.requests if r["method"] == "PUT"]
    assert all("Authorization" not in r["headers"] and r["headers"]["X-Part"] == "1" for r in puts)


def test_upload_of_an_empty_file_sends_no_part(server: CannedServer, tmp_path: Path) -> None:
    service = FileService(server)
    source = tmp_path / "empty"
    source.write_bytes(b"")
    with client_of(server) as client:
        upload_file(client, source, project=PROJECT, name="renamed")
    assert service.parts == {} and service.new_body["name"] == "renamed"


def test_a_refused_part_raises_the_engines_error(server: CannedServer, tmp_path: Path) -> None:
    service = FileService(server)

    async def refuse(request: web.Request) -> web.Response:
        return web.json_response({"error": {"type": "InvalidInput", "message": "too big"}}, status=422)

    server.route("PUT", "/put")(refuse)
    source = tmp_path / "f"
    source.write_bytes(b"abc")
    with client_of(server) as client, pytest.raises(InvalidInput, match="too big"):
        upload_file(client, source, project=PROJECT)
    assert service.state == "open"


def test_download_writes_the_content_and_read_file_returns_it(server: CannedServer, tmp_path: Path) -> None:
    content = b"\x00\x01binary\xff" * 1000
    FileService(server, content)
    target = tmp_path / "out.bin"
    with client_of(server) as client:
        assert download_file(client, FILE_ID, target) == target
        assert read_file(client, FILE_ID) == content
    assert target.read_bytes() == content
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_a_short_download_fails_and_leaves_nothing_behind(server: CannedServer, tmp_path: Path) -> None:
    service = FileService(server, b"0123456789")
    service.served = b"01234"
    target = tmp_path / "out.bin"
    with client_of(server) as client, pytest.raises(ApiError, match="5 bytes"):
        download_file(client, FILE_ID, target)
    assert list(tmp_path.iterdir()) == []
