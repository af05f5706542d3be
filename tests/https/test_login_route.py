"""/runner/httpsLogin and describe's httpsApp through the real API server, with the proxy it mints for."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from runner.api.core.routing import Services
from runner.api.jobs import jobs
from runner.api.runner import https_login
from runner.api.server import make_app
from runner.https.proxy import PROXY_KEY
from runner.spec.job_states import JobState
from runner.store.jobs import update_job
from runner.store.objects import create_object
from runner.store.tokens import issue_job_token, issue_user_token
from tests.https.conftest import ProxyEnv

pytestmark = pytest.mark.asyncio


class Api:
    """POSTs to the API as the user (or as a job, given its token)."""

    def __init__(self, client: TestClient[Any, Any], token: str) -> None:
        self.client, self.token = client, token

    async def post(self, route: str, body: dict[str, Any], token: str | None = None) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        async with self.client.post(route, json=body, headers=headers) as response:
            return response.status, await response.json()


@pytest_asyncio.fixture
async def api(env: ProxyEnv) -> AsyncIterator[Api]:
    """The API (job and login routes) of `env`'s store, its proxy in the services."""
    services = Services(db=env.db, home=env.home, engine=SimpleNamespace(waiting={}),  # type: ignore[arg-type]
                        default_project=env.project, extras={PROXY_KEY: env.proxy})
    app = make_app(services, jobs.routes.merge(https_login.routes))
    async with TestClient(TestServer(app)) as client:
        yield Api(client, issue_user_token(env.db))


async def test_a_login_link_from_the_api_opens_the_app(api: Api, env: ProxyEnv) -> None:
    status, answer = await api.post("/runner/httpsLogin", {"job": env.job})
    assert status == 200 and answer["appUrl"] == f"http://{env.job.lower()}.localhost:{env.proxy.port}/"
    assert answer["expiresIn"] == 120 and answer["state"] == "running"
    status, headers, _ = await env.get(answer["url"].split(str(env.proxy.port), 1)[1])
    assert status == 303 and headers["Set-Cookie"].startswith("runner-https-session=")


async def test_describe_gives_https_app_as_the_platform_does(api: Api, env: ProxyEnv) -> None:
    status, described = await api.post(f"/{env.job}/describe", {})
    assert status == 200
    assert described["httpsApp"] == {"enabled": True, "ports": [443], "shared_access": "VIEW", "access": "VIEW",
                                      "dns": {"url": f"http://{env.job.lower()}.localhost:{env.proxy.port}/"}}
    waiting = env.new_job(JobState.RUNNABLE)
    assert (await api.post(f"/{waiting}/describe", {"fields": {"httpsApp": True}}))[1]["httpsApp"]["enabled"] is False
    plain = create_object(env.db, "applet", env.project, name="plain", state="closed", doc={})["id"]
    assert "httpsApp" not in (await api.post(f"/{env.new_job(applet=plain)}/describe", {}))[1]


async def test_bad_requests_name_their_field(api: Api, env: ProxyEnv) -> None:
    status, answer = await api.post("/runner/httpsLogin", {"job": "nope"})
    assert status == 422 and answer["error"]["type"] == "InvalidInput"
    assert answer["error"]["details"]["field"] == "job"
    status, answer = await api.post("/runner/httpsLogin", {"job": env.job, "port": 8080})
    assert status == 422 and answer["error"]["details"] == {"field": "port", "expected": "one of [443]"}
    status, answer = await api.post("/runner/httpsLogin", {"job": "job-" + "x" * 24})
    assert status == 404 and answer["error"]["type"] == "ResourceNotFound"


async def test_no_link_for_a_job_without_an_app_or_one_that_ended(api: Api, env: ProxyEnv) -> None:
    plain = create_object(env.db, "applet", env.project, name="plain", state="closed", doc={})["id"]
    status, answer = await api.post("/runner/httpsLogin", {"job": env.new_job(applet=plain)})
    assert status == 422 and answer["error"]["type"] == "InvalidState" and "no HTTPS app" in answer["error"]["message"]
    status, answer = await api.post("/runner/httpsLogin", {"job": env.new_job(JobState.DONE)})
    assert status == 422 and "is done" in answer["error"]["message"]


async def test_a_job_token_mints_no_link(api: Api, env: ProxyEnv) -> None:
    status, answer = await api.post("/runner/httpsLogin", {"job": env.job}, token=issue_job_token(env.db, env.job))
    assert status in (401, 403) and answer["error"]["type"] in ("PermissionDenied", "InvalidAuthentication")


async def test_shared_access_none_admits_only_the_launching_user(api: Api, env: ProxyEnv) -> None:
    private = create_object(env.db, "applet", env.project, name="private", state="closed",
                            doc={"httpsApp": {"ports": [8081], "shared_access": "NONE"}})["id"]
    mine = env.new_job(applet=private)
    status, answer = await api.post("/runner/httpsLogin", {"job": mine})
    assert status == 200 and answer["appUrl"].startswith(f"http://{mine.lower()}-8081.localhost:")
    theirs = env.new_job(applet=private)
    update_job(env.db, theirs, {"launchedBy": "user-someone-else"})  # as a job a platform user shared would be
    status, answer = await api.post("/runner/httpsLogin", {"job": theirs})
    assert status == 401 and answer["error"]["type"] == "PermissionDenied"
    assert "only its launching user" in answer["error"]["message"]
