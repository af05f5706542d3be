"""A real proxy in front of a real app: the store, the launcher's relay and an aiohttp app, in-process."""

from __future__ import annotations

import shutil
import socket
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

from runner.engine.job_files import job_folder, work_folder
from runner.https.hosts import app_host
from runner.https.proxy import HttpsProxy
from runner.https.sessions import Sessions
from runner.launcher._https import serve_port
from runner.spec.ids import new_id
from runner.spec.job_states import JobState
from runner.store.db import Database
from runner.store.jobs import insert_job, transition
from runner.store.objects import create_container, create_object

IDLE_S = 900.0


@dataclass
class Clock:
    """Monotonic seconds that move only when a test says so."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class ProxyEnv:
    """A running job with an HTTPS app on port 443 behind the proxy."""

    db: Database
    home: Path
    proxy: HttpsProxy
    clock: Clock
    job: str
    project: str
    applet: str
    http: aiohttp.ClientSession
    seen: list[dict[str, str]] = field(default_factory=list)
    relays: list[socket.socket] = field(default_factory=list)

    def host(self, job: str | None = None, port: int = 443) -> str:
        """The Host header a browser sends for the job's app."""
        return f"{app_host(job or self.job, port)}:{self.proxy.port}"

    def url(self, path: str = "/") -> str:
        """The proxy's address (the Host header names the app)."""
        return f"http://127.0.0.1:{self.proxy.port}{path}"

    async def get(self, path: str = "/", *, job: str | None = None, cookie: str | None = None,
                  port: int = 443) -> tuple[int, dict[str, str], str]:
        """Status, headers and text of a GET through the proxy, redirects not followed."""
        headers = {"Host": self.host(job, port)}
        if cookie:
            headers["Cookie"] = cookie
        async with self.http.get(self.url(path), headers=headers, allow_redirects=False) as response:
            return response.status, dict(response.headers), await response.text()

    async def log_in(self, job: str | None = None) -> str:
        """The Cookie header value of a session opened with a fresh login link."""
        link = self.proxy.login_url(job or self.job, 443)
        status, headers, _ = await self.get(link.split(str(self.proxy.port), 1)[1], job=job)
        assert status == 303, status
        return headers["Set-Cookie"].split(";")[0]

    def new_job(self, state: JobState = JobState.RUNNING, applet: str | None = None) -> str:
        """Another job of the applet (or of `applet`), moved to `state`."""
        job_id = new_id("job")
        insert_job(self.db, {"id": job_id, "rootExecution": job_id, "workspace": self.project,
                             "project": self.project, "try": 0, "applet": applet or self.applet,
                             "launchedBy": "user-local"})
        path = {JobState.RUNNING: [JobState.RUNNABLE, JobState.RUNNING],
                JobState.RUNNABLE: [JobState.RUNNABLE],
                JobState.DONE: [JobState.RUNNABLE, JobState.RUNNING, JobState.DONE]}[state]
        for step in path:
            transition(self.db, job_id, step)
        work_folder(job_folder(self.home, job_id)).mkdir(parents=True)
        return job_id

    def relay(self, job: str, target: int, port: int = 443) -> None:
        """The launcher's relay of `job`'s port `port` to 127.0.0.1:`target`, as inside a container."""
        self.relays.append(serve_port(str(work_folder(job_folder(self.home, job))), port, target))


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _start_app(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, int(runner.addresses[0][1])


@pytest.fixture
def clock() -> Clock:
    """The sessions' clock."""
    return Clock()


@pytest_asyncio.fixture
async def env(clock: Clock, app: web.Application, seen: list[dict[str, str]]) -> AsyncIterator[ProxyEnv]:
    """The proxy, a running job of an httpsApp applet, and `app` served as its port 443."""
    # Short: the relay binds its socket under it here, where a container binds it at /opt/applet-runner/job.
    home = Path(tempfile.mkdtemp(prefix="https-"))
    db = Database(home / "runner.db")
    project = create_container(db, "project", "local")
    applet = create_object(db, "applet", project, name="web", state="closed",
                           doc={"httpsApp": {"ports": [443], "shared_access": "VIEW"}})["id"]
    proxy = HttpsProxy(db, home, Sessions(IDLE_S, clock))
    await proxy.start()
    runner, app_port = await _start_app(app)
    async with aiohttp.ClientSession() as http:
        state = ProxyEnv(db, home, proxy, clock, "", project, applet, http, seen)
        state.job = state.new_job()
        state.relay(state.job, app_port)
        try:
            yield state
        finally:
            for relay in state.relays:
                relay.close()
            await proxy.close()
            await runner.cleanup()
            db.close()
            shutil.rmtree(home)


def _echo_app(seen: list[dict[str, str]]) -> web.Application:
    async def index(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        return web.Response(text=f"app page at {request.path_qs}")

    app = web.Application()
    app.router.add_get("/{tail:.*}", index)
    return app


@pytest.fixture
def seen() -> list[dict[str, str]]:
    """The headers of each request the app received."""
    return []


@pytest.fixture
def app(seen: list[dict[str, str]]) -> web.Application:
    """The job's app: a page naming its path (tests override it)."""
    return _echo_app(seen)

