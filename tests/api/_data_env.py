"""The real API server (data routes) on a real store, with a user token and a job's token.

Test modules import the `env` fixture from here.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from runner.api.core.routing import Services
from runner.api.data.data_routes import data_routes
from runner.api.server import make_app
from runner.spec.ids import new_id
from runner.store.db import Database
from runner.store.jobs import insert_job
from runner.store.objects import create_container
from runner.store.tokens import issue_job_token, issue_user_token


@dataclass
class Env:
    """A served API: its client, store and state folder, a project, and a job with its workspace."""

    client: TestClient[Any, Any]
    db: Database
    home: Path
    project: str
    other_project: str
    workspace: str
    job_id: str
    user_token: str
    job_token: str

    async def call(self, route: str, body: Any = None, *, token: str | None = None,
                   headers: dict[str, str] | None = None) -> tuple[int, Any]:
        """POST a route; returns (status, JSON answer)."""
        sent = {"Authorization": f"Bearer {token or self.user_token}", **(headers or {})}
        async with self.client.post(route, json=body if body is not None else {}, headers=sent) as response:
            assert response.content_type == "application/json"
            return response.status, await response.json()

    async def ok(self, route: str, body: Any = None, *, token: str | None = None) -> Any:
        """POST a route that must succeed; returns its answer."""
        status, answer = await self.call(route, body, token=token)
        assert status == 200, answer
        return answer

    async def fails(self, route: str, body: Any = None, *, token: str | None = None) -> tuple[int, str]:
        """POST a route that must fail; returns (status, DNAnexus error type)."""
        status, answer = await self.call(route, body, token=token)
        assert status >= 400, answer
        return status, answer["error"]["type"]

    async def put(self, url: str, data: bytes) -> tuple[int, Any]:
        """PUT bytes to an absolute URL (as dxpy does with an upload URL: no Authorization header)."""
        async with self.client.session.put(url, data=data) as response:
            return response.status, await response.json()

    async def get(self, url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
        """GET an absolute URL; returns (status, body, headers)."""
        async with self.client.session.get(url, headers=headers or {}) as response:
            return response.status, await response.read(), dict(response.headers)

    async def upload(self, parts: list[bytes], *, project: str | None = None, name: str = "data.bin",
                     folder: str = "/", token: str | None = None, close: bool = True, **new: Any) -> str:
        """A file made through the API from `parts` (uploaded in reverse order, to show order comes from
        the index); closed unless asked not to."""
        created = await self.ok("/file/new", {"project": project or self.project, "name": name, "folder": folder,
                                              "parents": True, **new}, token=token)
        file_id: str = created["id"]
        for index, data in reversed(list(enumerate(parts, start=1))):
            target = await self.ok(f"/{file_id}/upload", {"index": index, "size": len(data),
                                                          "md5": hashlib.md5(data).hexdigest()}, token=token)
            status, answer = await self.put(target["url"], data)
            assert status == 200, answer
        if close:
            await self.ok(f"/{file_id}/close", {}, token=token)
        return file_id

    async def content(self, file_id: str, byte_range: str | None = None, **body: Any) -> tuple[int, bytes]:
        """The bytes a download URL of the file gives (optionally a `Range: bytes=a-b`)."""
        answer = await self.ok(f"/{file_id}/download", body)
        status, data, _ = await self.get(answer["url"], {"Range": byte_range} if byte_range else None)
        return status, data


@pytest_asyncio.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    """A fresh store and server for one test."""
    home = tmp_path / "home"
    db = Database(home / "runner.db")
    project = create_container(db, "project", "local")
    other = create_container(db, "project", "someone else's")
    workspace = create_container(db, "container", "workspace")
    job_id = new_id("job")
    insert_job(db, {"id": job_id, "rootExecution": job_id, "workspace": workspace, "project": project,
                    "applet": new_id("applet")})
    services = Services(db=db, home=home, engine=None, default_project=project)  # type: ignore[arg-type]
    async with TestClient(TestServer(make_app(services, data_routes))) as client:
        yield Env(client, db, home, project, other, workspace, job_id, issue_user_token(db),
                  issue_job_token(db, job_id))
    db.close()
