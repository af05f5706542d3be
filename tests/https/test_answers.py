"""The proxy's own answers: 502 while the app does not listen, 503 once the job ended, 404 for no app."""

from __future__ import annotations

import asyncio
import os

import pytest

from runner.engine.job_files import job_folder, work_folder
from runner.spec.job_states import JobState
from runner.store.objects import create_object
from tests.https.conftest import ProxyEnv, free_port

pytestmark = pytest.mark.asyncio


async def test_502_with_a_page_while_nothing_listens_on_the_apps_port(env: ProxyEnv) -> None:
    job = env.new_job()
    env.relay(job, free_port())
    cookie = await env.log_in(job)
    status, headers, text = await env.get("/", job=job, cookie=cookie)
    assert status == 502 and headers["Content-Type"].startswith("text/html")
    assert "502 Bad Gateway" in text and f"{job} is running, but its app does not answer on port 443" in text
    assert "still be starting" in text


async def test_502_while_the_container_has_not_started_its_relay(env: ProxyEnv) -> None:
    job = env.new_job()
    cookie = await env.log_in(job)
    status, _, text = await env.get("/", job=job, cookie=cookie)
    assert status == 502 and "still starting" in text


async def test_a_link_the_job_put_in_place_of_its_socket_is_not_followed(env: ProxyEnv) -> None:
    job = env.new_job()
    env.relay(env.job, free_port(), port=8080)  # a real socket elsewhere the link could lead to
    os.symlink(work_folder(job_folder(env.home, env.job)) / "https-8080.sock",
               work_folder(job_folder(env.home, job)) / "https-443.sock")
    cookie = await env.log_in(job)
    status, _, text = await env.get("/", job=job, cookie=cookie)
    assert status == 502 and "is not a socket" in text


async def test_503_once_the_job_has_ended(env: ProxyEnv) -> None:
    job = env.new_job(JobState.DONE)
    cookie = await env.log_in(job)
    status, _, text = await env.get("/", job=job, cookie=cookie)
    assert status == 503 and f"{job} is done" in text and "only while the job runs" in text


async def test_404_for_a_host_that_names_no_app(env: ProxyEnv) -> None:
    async with env.http.get(env.url(), headers={"Host": f"127.0.0.1:{env.proxy.port}"}) as response:
        assert response.status == 404 and "not the address of a job's app" in await response.text()
    plain = create_object(env.db, "applet", env.project, name="plain", state="closed", doc={})["id"]
    status, _, text = await env.get("/", job=env.new_job(applet=plain))
    assert status == 404 and "no such job has an HTTPS app" in text
    status, _, text = await env.get("/", port=8081)
    assert status == 404 and "the app opens no port 8081" in text


async def test_a_malformed_request_gets_400(env: ProxyEnv) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", env.proxy.port)
    writer.write(b"GET http://elsewhere/ HTTP/1.1\r\nHost: x\r\n\r\n")
    answer = await reader.read()
    writer.close()
    await writer.wait_closed()
    assert answer.startswith(b"HTTP/1.1 400 Bad Request") and b"origin form" in answer
