"""GET /job-xxxx/getLog/websocket (what `dx watch` reads) and the `currency` of /job-xxxx/describe, on a
real server and store."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient, TestServer

from runner.api.core.routing import Services
from runner.api.jobs import job_log_socket, jobs
from runner.api.server import make_app
from runner.engine.events import EventFeed, record_log_entry
from runner.engine.logs import JobLog, LogHub
from runner.spec.ids import new_id
from runner.spec.job_states import JobState
from runner.store.db import Database
from runner.store.jobs import insert_job, transition
from runner.store.objects import create_container
from runner.store.tokens import issue_job_token, issue_user_token

pytestmark = pytest.mark.asyncio


@dataclass
class LogEnv:
    client: TestClient[Any, Any]
    db: Database
    home: Path
    root: str
    child: str
    user_token: str
    hub: LogHub

    def log(self, job_id: str, stream: str, text: str) -> None:
        self.hub.publish(job_id, JobLog.for_job(self.home, job_id).append(stream, text))

    async def watch(self, job_id: str, token: str | None = None, **options: Any) -> tuple[list[dict[str, Any]],
                                                                                         int | None, str]:
        """The messages of one websocket session, its close code and close reason."""
        messages: list[dict[str, Any]] = []
        async with self.client.ws_connect(f"/{job_id}/getLog/websocket") as ws:
            await ws.send_str(json.dumps({"access_token": token or self.user_token, "token_type": "Bearer",
                                          **options}))
            while (received := await ws.receive()).type == WSMsgType.TEXT:
                messages.append(json.loads(received.data))
            assert received.type in (WSMsgType.CLOSE, WSMsgType.CLOSED), received
            return messages, ws.close_code, received.extra or ""


def _run(db: Database, job_id: str, *ends: JobState) -> None:
    for state in (JobState.RUNNABLE, JobState.RUNNING, *ends):
        transition(db, job_id, state)


@pytest_asyncio.fixture
async def log_env(tmp_path: Path) -> AsyncIterator[LogEnv]:
    """A running root job with a running child, each with a log line."""
    home = tmp_path / "home"
    db = Database(home / "runner.db")
    project = create_container(db, "project", "local")
    workspace = create_container(db, "container", "workspace")
    root, child = new_id("job"), new_id("job")
    insert_job(db, {"id": root, "rootExecution": root, "workspace": workspace, "project": project, "try": 0,
                    "name": "root", "totalPrice": 0})
    insert_job(db, {"id": child, "rootExecution": root, "parentJob": root, "workspace": workspace,
                    "project": project, "try": 0, "name": "child"})
    _run(db, root)
    _run(db, child)
    hub = LogHub()
    hub.recorder = lambda job_id, entry: record_log_entry(db, job_id, entry)
    engine = SimpleNamespace(hub=hub, events=EventFeed(db, home), waiting={})
    services = Services(db=db, home=home, engine=engine, default_project=project)  # type: ignore[arg-type]
    async with TestClient(TestServer(make_app(services, jobs.routes.merge(job_log_socket.routes)))) as client:
        env = LogEnv(client, db, home, root, child, issue_user_token(db), hub)
        env.log(root, "stdout", "root says hi")
        env.log(child, "stderr", "child warns")
        yield env
    db.close()


def _lines(messages: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    return [(m["job"], m["source"], m["level"], m["msg"]) for m in messages]


async def test_without_tail_it_sends_what_is_there_then_end_log(log_env: LogEnv) -> None:
    messages, code, _ = await log_env.watch(log_env.root, tail=False)
    assert _lines(messages) == [(log_env.root, "APP", "STDOUT", "root says hi"),
                                (log_env.root, "SYSTEM", "INFO", "END_LOG")]
    assert code == 1000
    assert messages[0]["jobTry"] == 0 and messages[0]["line"] == 1 and isinstance(messages[0]["timestamp"], int)


async def test_recurse_jobs_levels_and_recent_messages(log_env: LogEnv) -> None:
    messages, _, _ = await log_env.watch(log_env.root, recurseJobs=True)
    assert [m["msg"] for m in messages] == ["root says hi", "child warns", "END_LOG"]
    assert messages[1]["level"] == "STDERR"
    messages, _, _ = await log_env.watch(log_env.root, recurseJobs=True, levels=["STDERR"])
    assert [m["msg"] for m in messages] == ["child warns", "END_LOG"]
    messages, _, _ = await log_env.watch(log_env.root, recurseJobs=True, numRecentMessages=1)
    assert [m["msg"] for m in messages] == ["child warns", "END_LOG"]


async def test_with_tail_it_follows_until_the_job_ends(log_env: LogEnv) -> None:
    watching = asyncio.create_task(log_env.watch(log_env.child, tail=True))
    await asyncio.sleep(0.3)
    assert not watching.done()
    log_env.log(log_env.child, "stdout", "later")
    log_env.log(log_env.child, "runner", "done")
    transition(log_env.db, log_env.child, JobState.DONE)
    messages, code, _ = await asyncio.wait_for(watching, 10)
    assert [m["msg"] for m in messages] == ["child warns", "later", "done", "END_LOG"]
    assert messages[2]["source"] == "SYSTEM"
    assert code == 1000


async def test_errors_close_with_a_dnanexus_error(log_env: LogEnv) -> None:
    _, code, reason = await log_env.watch("job-" + "0" * 24)
    assert code == 1008 and json.loads(reason)["type"] == "ResourceNotFound"
    _, code, reason = await log_env.watch(log_env.root, token="not-a-token")
    assert code == 1008 and json.loads(reason)["type"] == "InvalidAuthentication"
    _, code, reason = await log_env.watch(log_env.root, numRecentMessages=-1)
    assert code == 1008 and json.loads(reason)["type"] == "InvalidInput"


async def test_a_job_token_watches_only_jobs_it_may_act_on(log_env: LogEnv) -> None:
    workspace = create_container(log_env.db, "container", "other workspace")
    stranger = new_id("job")
    insert_job(log_env.db, {"id": stranger, "rootExecution": stranger, "workspace": workspace})
    _, code, reason = await log_env.watch(log_env.root, token=issue_job_token(log_env.db, stranger))
    assert code == 1008 and json.loads(reason)["type"] == "PermissionDenied"
    messages, code, _ = await log_env.watch(log_env.child, token=issue_job_token(log_env.db, log_env.root))
    assert code == 1000 and messages[-1]["msg"] == "END_LOG"


async def test_describe_gives_the_currency_of_total_price(log_env: LogEnv) -> None:
    headers = {"Authorization": f"Bearer {log_env.user_token}"}
    async with log_env.client.post(f"/{log_env.root}/describe", json={}, headers=headers) as response:
        described = await response.json()
    assert described["totalPrice"] == 0
    assert described["currency"]["code"] == "USD" and described["currency"]["dxCode"] == 0
    async with log_env.client.post(f"/{log_env.root}/describe", json={"fields": {"id": True}},
                                   headers=headers) as response:
        assert await response.json() == {"id": log_env.root}
