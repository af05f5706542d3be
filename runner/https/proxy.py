"""The engine's HTTPS app proxy: one loopback listener, one origin per job and app port.

Every request is matched to its job by `Host`, needs a live session (else 401) and, when a page sent it, a page
of the app's own origin (else 403), and is passed to the app through the launcher's socket (502 while nothing
listens), with the session cookie taken out. Responses, chunked or streamed, and websockets after their upgrade
are copied byte for byte, the response head saying `Connection: close`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from runner.errors import NotFound
from runner.https import pages
from runner.https._wire import (
    MAX_HEAD,
    BadRequest,
    RequestHead,
    cookie_value,
    copy_body,
    pump,
    read_head,
    relay_response,
    upstream_head,
)
from runner.https.hosts import Origin, app_url, parse_host
from runner.https.sessions import Sessions
from runner.https.upstream import Unreachable, connect
from runner.store.db import Database
from runner.store.jobs import JobNotFound, get_job
from runner.store.objects import get_executable

log = logging.getLogger("runner.https")
COOKIE = "runner-https-session"
LOGIN_PATH = "/_runner/login"
SERVED_STATES = ("running",)
# The key of the engine's proxy in the API services' extras.
PROXY_KEY = "https_proxy"
PORT_FILE = "https.port"


@dataclass(frozen=True, slots=True)
class AppJob:
    """A job with an HTTPS app: its ID, state, who launched it, and its applet's `httpsApp`."""

    job_id: str
    state: str
    launched_by: str
    https_app: dict[str, Any]


def https_app_of(db: Database, job: dict[str, Any]) -> dict[str, Any] | None:
    """The `httpsApp` of the job's executable, if it has one."""
    try:
        executable = get_executable(db, str(job.get("applet") or job.get("app") or ""))
    except NotFound:  # an executable gone from the store has no app to serve
        return None
    found = executable.get("httpsApp")
    return dict(found) if isinstance(found, dict) and found.get("ports") else None


class HttpsProxy:
    """The proxy of one engine: `start()` it, mint login links with `login_url()`, `close()` it."""

    def __init__(self, db: Database, home: Path, sessions: Sessions) -> None:
        self.db, self.home, self.sessions = db, home, sessions
        self.port = 0
        self._server: asyncio.Server | None = None
        self._ids: dict[str, str] = {}
        self._open: set[asyncio.StreamWriter] = set()

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen on `host`:`port` (0: any free one); the port."""
        self._server = await asyncio.start_server(self._serve, host, port, limit=MAX_HEAD)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    async def start_kept(self) -> int:
        """Listen on loopback, on the previous engine's port (`home/https.port`) when it is free; the port.

        Describe's URLs of running jobs then stay what they were across an engine restart.
        """
        kept = self.home / PORT_FILE
        try:
            previous = int(kept.read_text().strip())
            await self.start("127.0.0.1", previous if 0 < previous < 65536 else 0)
        except (OSError, ValueError):
            await self.start("127.0.0.1", 0)
        kept.write_text(f"{self.port}\n", encoding="utf-8")
        return self.port

    async def close(self) -> None:
        """Stop listening and drop every connection."""
        if self._server is not None:
            self._server.close()
            for writer in list(self._open):  # a websocket or a stream would otherwise outlive the server
                writer.close()
            await self._server.wait_closed()

    def url(self, job_id: str, port: int) -> str:
        """The address of `job_id`'s app port `port`."""
        return app_url(job_id, port, self.port)

    def login_url(self, job_id: str, port: int) -> str:
        """A one-time login link to `job_id`'s app port `port`."""
        self._ids[job_id.lower()] = job_id
        code = self.sessions.mint(Origin(job_id.lower(), port))
        return f"{self.url(job_id, port).rstrip('/')}{LOGIN_PATH}?code={code}"

    def find(self, origin: Origin) -> AppJob | None:
        """The job `origin` names, if it has an HTTPS app (browsers lower-case host names: IDs match any case)."""
        job_id = self._ids.get(origin.job_key)
        if job_id is None:
            rows = self.db.query("SELECT id FROM jobs WHERE id = ? COLLATE NOCASE", (origin.job_key,))
            if len(rows) != 1:
                return None
            job_id = self._ids[origin.job_key] = str(rows[0]["id"])
        try:
            job = get_job(self.db, job_id)
        except JobNotFound:
            return None
        https_app = https_app_of(self.db, job)
        if https_app is None:
            return None
        return AppJob(job_id, str(job["state"]), str(job.get("launchedBy") or ""), https_app)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._open.add(writer)
        try:
            try:
                head = await read_head(reader)
            except BadRequest as exc:
                writer.write(pages.bad_request(str(exc)))
                return
            if head is not None:
                await self._answer(head, reader, writer)
        except (ConnectionError, OSError):
            pass
        except Exception:
            log.exception("the HTTPS proxy failed on a request")
        finally:
            with contextlib.suppress(ConnectionError, OSError):
                await writer.drain()
            writer.close()
            self._open.discard(writer)

    async def _answer(self, head: RequestHead, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host = head.header("host") or ""
        origin = parse_host(host)
        if origin is None:
            writer.write(pages.unknown_app(host or "(no Host header)", "this is not the address of a job's app"))
            return
        app = self.find(origin)
        if app is None or origin.port not in app.https_app["ports"]:
            why = "no such job has an HTTPS app" if app is None else f"the app opens no port {origin.port}"
            writer.write(pages.unknown_app(host, why))
            return
        if urlsplit(head.target).path == LOGIN_PATH:
            writer.write(self._log_in(head, origin, app))
            return
        session = cookie_value(head, COOKIE)
        if session is None or not self.sessions.touch(session, origin):
            writer.write(pages.login_needed(app.job_id))
            return
        # Every job's host is under `localhost`, one site to a browser: SameSite does not keep one app's pages
        # from calling another's (a websocket above all), so a request sent by another origin's page is refused.
        sender = head.header("origin")
        if sender is not None and sender.lower() != f"http://{host.strip().lower()}":
            writer.write(pages.foreign_origin(app.job_id, sender))
            return
        if app.state not in SERVED_STATES:
            writer.write(pages.not_running(app.job_id, app.state))
            return
        await self._forward(head, origin, app, reader, writer)

    def _log_in(self, head: RequestHead, origin: Origin, app: AppJob) -> bytes:
        code = (parse_qs(urlsplit(head.target).query).get("code") or [""])[0]
        session = self.sessions.redeem(code, origin)
        if session is None:
            return pages.link_spent(app.job_id)
        # Host-only (no Domain): the cookie goes back to this job's origin alone, never to another job's app.
        cookie = f"{COOKIE}={session}; Path=/; HttpOnly; SameSite=Lax"
        return pages.response(303, b"", "text/plain", (("Location", "/"), ("Set-Cookie", cookie)))

    async def _forward(self, head: RequestHead, origin: Origin, app: AppJob, reader: asyncio.StreamReader,
                       writer: asyncio.StreamWriter) -> None:
        try:
            app_reader, app_writer = await connect(self.home, app.job_id, origin.port)
        except Unreachable as exc:
            writer.write(pages.not_listening(app.job_id, origin.port, exc.reason))
            return
        forwarded = (("X-Forwarded-Proto", "http"), ("X-Forwarded-Host", head.header("host") or ""),
                     ("X-Forwarded-For", "127.0.0.1"))
        try:
            app_writer.write(upstream_head(head, COOKIE, forwarded))
            if head.is_upgrade:
                await asyncio.gather(pump(reader, app_writer), relay_response(app_reader, writer))
                return
            back = asyncio.create_task(relay_response(app_reader, writer))
            try:
                await copy_body(head, reader, app_writer)
            except BadRequest:  # a body cut or malformed: the app gets no more of it, the client no answer
                back.cancel()
                return
            # The client sends nothing more; its end (a closed page, a stopped stream) ends the relay.
            gone = asyncio.create_task(reader.read(1))
            await asyncio.wait({back, gone}, return_when=asyncio.FIRST_COMPLETED)
            for task in (back, gone):
                task.cancel()
            await asyncio.gather(back, gone, return_exceptions=True)
        finally:
            app_writer.close()
