"""The whole API (`all_routes()`) on a real store, with a real Engine whose backend is the in-process fake.

`build_world(home)` makes two projects and three job trees, each job with its token:

    project P:  tree A: root `job_a` (running) with subjobs `job_a1` (running) and `job_a_done` (done, its
                        token revoked), all sharing workspace WA
                tree B: root `job_b` (running), workspace WB
    project Q:  tree C: root `job_c` (running), workspace WC

and in them an applet and a closed file and record in P, an open file and record in WA, and a folder `/d`
in P and WA. The callers the tests try are the user's token, `job_a1`'s (same tree as A), `job_b`'s (another
tree of P), `job_c`'s (another project), `job_a_done`'s (an ended job) and no token at all.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest_asyncio
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestClient, TestServer

from runner.api._routes import Services
from runner.api.identity import KEY_FILE, IdentityKeys
from runner.api.routes import all_routes
from runner.api.server import make_app
from runner.backends.fake import FakeBackend
from runner.engine import Reachability
from runner.engine.driver import Engine
from runner.engine.scheduler import Resources
from runner.spec.ids import new_id
from runner.spec.job_states import JobState
from runner.store.db import Database
from runner.store.files import begin_close, finish_close
from runner.store.jobs import insert_job, transition
from runner.store.objects import create_container, create_object, new_folder
from runner.store.tokens import issue_job_token, issue_user_token, revoke_job_tokens

CALLERS = ("user", "tree", "other_tree", "other_project", "ended", "none")
_KEY_CACHE: dict[str, bytes] = {}


@dataclass
class World:
    """The store, its services and the objects and tokens of the module's docstring."""

    db: Database
    home: Path
    services: Services
    ids: dict[str, str]
    tokens: dict[str, str | None] = field(default_factory=dict)

    def __getattr__(self, name: str) -> str:
        try:
            return self.ids[name]
        except KeyError:
            raise AttributeError(name) from None


def applet_doc(access: dict[str, Any] | None = None) -> dict[str, Any]:
    """The stored fields of an applet the engine can place (no image is ever run: the backend is a fake)."""
    return {"outputSpec": None, "inputSpec": None, "access": access or {}, "title": "", "runSpec": {},
            "_runner": {"folder": "/nonexistent", "image": "img", "interpreter": "bash",
                        "systemRequirements": {"*": {"instanceType": "mem1_ssd1_v2_x2"}}, "timeoutPolicy": {},
                        "executionPolicy": {}}}


def add_job(db: Database, applet: str, project: str, workspace: str, *, parent: str | None = None,
            root: str | None = None, end: JobState | None = None) -> str:
    """A job of `applet` in `project`, running (or ended in `end`)."""
    job_id = new_id("job")
    insert_job(db, {"id": job_id, "rootExecution": root or job_id, "parentJob": parent, "workspace": workspace,
                    "project": project, "applet": applet, "try": 0, "name": "job", "function": "main",
                    "launchedBy": "user-local", "folder": "/", "originJob": root or job_id, "tags": [],
                    "properties": {}, "rank": 0, "allowSSH": []})
    for state in (JobState.RUNNABLE, JobState.RUNNING, *((end,) if end else ())):
        transition(db, job_id, state)
    return job_id


def _closed_file(db: Database, home: Path, project: str) -> str:
    file_id = create_object(db, "file", project, name="in.txt", folder="/", state="open",
                            doc={"media": "", "details": {}}, object_id=new_id("file"))["id"]
    begin_close(db, file_id)
    finish_close(db, home, file_id)
    return str(file_id)


def _identity_keys(home: Path) -> IdentityKeys:
    """The engine's signing key; made once per test session (RSA key generation is slow) and copied."""
    home.mkdir(parents=True, exist_ok=True)
    if "pem" not in _KEY_CACHE:
        IdentityKeys.load_or_create(home)
        _KEY_CACHE["pem"] = (home / KEY_FILE).read_bytes()
    else:
        (home / KEY_FILE).write_bytes(_KEY_CACHE["pem"])
        (home / KEY_FILE).chmod(0o600)
    return IdentityKeys.load_or_create(home)


def build_world(home: Path) -> World:
    """A fresh store under `home` holding the projects, trees, objects and tokens of the module's docstring."""
    db = Database(home / "runner.db")
    p, q = create_container(db, "project", "P"), create_container(db, "project", "Q")
    wa, wb, wc = (create_container(db, "container", f"workspace {n}") for n in "ABC")
    applet = create_object(db, "applet", p, name="demo", state="closed", doc=applet_doc(),
                           object_id=new_id("applet"))["id"]
    job_a = add_job(db, applet, p, wa)
    ids = {"P": p, "Q": q, "WA": wa, "WB": wb, "WC": wc, "applet": applet, "job_a": job_a,
           "job_a1": add_job(db, applet, p, wa, parent=job_a, root=job_a),
           "job_a_done": add_job(db, applet, p, wa, parent=job_a, root=job_a, end=JobState.DONE),
           "job_b": add_job(db, applet, p, wb), "job_c": add_job(db, applet, q, wc),
           "file_p": _closed_file(db, home, p),
           "file_w": create_object(db, "file", wa, name="out.txt", folder="/", state="open",
                                   doc={"media": "", "details": {}}, object_id=new_id("file"))["id"],
           "record_p": create_object(db, "record", p, name="r", folder="/", state="closed", doc={"details": {}},
                                     object_id=new_id("record"))["id"],
           "record_w": create_object(db, "record", wa, name="r", folder="/", state="open", doc={"details": {}},
                                     object_id=new_id("record"))["id"]}
    for container in (p, wa):
        new_folder(db, container, "/d")
    engine = Engine(db, FakeBackend(), home, Reachability(port=1, socket_dir=home),
                    Resources(cores=2, memory_bytes=8 << 30))
    services = Services(db=db, home=home, engine=engine, default_project=p,
                        extras={"docker_client": None, "identity_keys": _identity_keys(home),
                                "shutdown": asyncio.Event()})
    tokens: dict[str, str | None] = {
        "user": issue_user_token(db), "tree": issue_job_token(db, ids["job_a1"]),
        "other_tree": issue_job_token(db, ids["job_b"]), "other_project": issue_job_token(db, ids["job_c"]),
        "ended": issue_job_token(db, ids["job_a_done"]), "none": None}
    revoke_job_tokens(db, ids["job_a_done"])
    return World(db, home, services, ids, tokens)


def make_world_app(world: World) -> web.Application:
    """The API application over the world's services, with every route of the table."""
    return make_app(world.services, all_routes())


@dataclass
class Api:
    """A served world and the requests a caller makes of it."""

    client: TestClient[Any, Any]
    world: World

    def headers(self, caller: str) -> dict[str, str]:
        token = self.world.tokens[caller]
        return {"Authorization": f"Bearer {token}"} if token else {}

    async def post(self, path: str, body: Any, caller: str) -> tuple[int, Any]:
        async with self.client.post(path, json=body, headers=self.headers(caller)) as response:
            assert response.content_type == "application/json", await response.text()
            return response.status, await response.json()

    async def send(self, method: str, url: str, caller: str, data: bytes | None = None) -> tuple[int, Any]:
        target = url if url.startswith("http") else str(self.client.make_url(url))
        async with self.client.session.request(method, target, headers=self.headers(caller), data=data) as response:
            text = await response.text()
            if response.content_type == "application/x-ndjson":
                return response.status, [json.loads(line) for line in text.splitlines()]
            if response.content_type == "application/json":
                return response.status, json.loads(text)
            return response.status, text

    async def signed_url(self, route: str, file_id: str, body: dict[str, Any]) -> str:
        status, answer = await self.post(f"/{file_id}/{route}", body, "user")
        assert status == 200, answer
        return str(answer["url"])

    async def watch(self, job_id: str, caller: str) -> tuple[int, Any]:
        """The websocket log of a job: (200, messages) when streamed to a normal close, else (close code, reason)."""
        token = self.world.tokens[caller]
        opening = {"token_type": "Bearer", "tail": False, **({"access_token": token} if token else {})}
        messages = []
        async with self.client.ws_connect(f"/{job_id}/getLog/websocket") as ws:
            await ws.send_str(json.dumps(opening))
            while (received := await ws.receive()).type == WSMsgType.TEXT:
                messages.append(json.loads(received.data))
            if ws.close_code == 1000:
                return 200, messages
            return ws.close_code or 0, json.loads(received.extra or "{}")


@pytest_asyncio.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    """A fresh world, served."""
    world = build_world(tmp_path / "home")
    async with TestClient(TestServer(make_world_app(world))) as client:
        yield Api(client, world)
    world.db.close()


@dataclass
class Served:
    """A world served on a real TCP port by a server thread (for synchronous, hypothesis-driven tests)."""

    world: World
    url: str
    loop: asyncio.AbstractEventLoop


def serve_in_thread(world: World) -> Iterator[Served]:
    """Serve the world's API on 127.0.0.1 in a thread with its own event loop until the generator is closed."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder: dict[str, Any] = {}

    async def start() -> None:
        runner = web.AppRunner(make_world_app(world), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        holder["runner"] = runner
        holder["port"] = runner.addresses[0][1]

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        started.set()
        loop.run_forever()
        loop.run_until_complete(holder["runner"].cleanup())
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(30), "the API server thread did not start"
    try:
        yield Served(world, f"http://127.0.0.1:{holder['port']}", loop)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        world.db.close()
        shutil.rmtree(world.home / "blobs", ignore_errors=True)
