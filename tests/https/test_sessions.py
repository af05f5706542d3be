"""Logging in to an HTTPS app: the 401 page, the one-time link, the cookie, the idle limit."""

from __future__ import annotations

import pytest

from tests.https.conftest import IDLE_S, ProxyEnv

pytestmark = pytest.mark.asyncio


async def test_without_a_session_the_proxy_answers_401_saying_how_to_get_one(env: ProxyEnv) -> None:
    status, headers, text = await env.get("/")
    assert status == 401
    assert headers["Content-Type"].startswith("text/html")
    assert f"runner open {env.job}" in text
    assert env.seen == []  # the app never saw the request


async def test_a_login_link_sets_a_host_only_http_only_lax_cookie_and_redirects_to_the_app(env: ProxyEnv) -> None:
    link = env.proxy.login_url(env.job, 443)
    assert link.startswith(f"http://{env.job.lower()}.localhost:{env.proxy.port}/_runner/login?code=")
    status, headers, _ = await env.get(link.split(str(env.proxy.port), 1)[1])
    assert status == 303 and headers["Location"] == "/"
    attributes = [part.strip() for part in headers["Set-Cookie"].split(";")]
    assert {"HttpOnly", "SameSite=Lax", "Path=/"} <= set(attributes)
    assert not any(part.lower().startswith("domain=") for part in attributes)
    status, _, text = await env.get("/notebook?x=1", cookie=attributes[0])
    assert status == 200 and text == "app page at /notebook?x=1"


async def test_a_login_link_works_once(env: ProxyEnv) -> None:
    path = env.proxy.login_url(env.job, 443).split(str(env.proxy.port), 1)[1]
    assert (await env.get(path))[0] == 303
    status, _, text = await env.get(path)
    assert status == 401 and "used already" in text and f"runner open {env.job}" in text


async def test_a_login_link_expires(env: ProxyEnv) -> None:
    path = env.proxy.login_url(env.job, 443).split(str(env.proxy.port), 1)[1]
    env.clock.now += env.proxy.sessions.login_ttl_s + 1
    assert (await env.get(path))[0] == 401


async def test_a_link_or_a_session_of_one_job_opens_no_other_jobs_app(env: ProxyEnv) -> None:
    other = env.new_job()
    path = env.proxy.login_url(env.job, 443).split(str(env.proxy.port), 1)[1]
    assert (await env.get(path, job=other))[0] == 401
    cookie = await env.log_in()
    assert (await env.get("/", job=other, cookie=cookie))[0] == 401


async def test_the_session_cookie_never_reaches_the_app_but_the_apps_own_cookies_do(env: ProxyEnv) -> None:
    cookie = await env.log_in()
    status, _, _ = await env.get("/", cookie=f"theme=dark; {cookie}; lang=en")
    assert status == 200
    assert env.seen[-1]["Cookie"] == "theme=dark; lang=en"
    await env.get("/", cookie=cookie)
    assert "Cookie" not in env.seen[-1]


async def test_a_session_ends_after_the_idle_time_without_requests(env: ProxyEnv) -> None:
    cookie = await env.log_in()
    for _ in range(3):  # each request counts as activity: three idle periods pass, none without a request
        env.clock.now += IDLE_S - 1
        assert (await env.get("/", cookie=cookie))[0] == 200
    env.clock.now += IDLE_S + 1
    status, _, text = await env.get("/", cookie=cookie)
    assert status == 401 and f"runner open {env.job}" in text


async def test_a_forged_session_is_refused(env: ProxyEnv) -> None:
    assert (await env.get("/", cookie="runner-https-session=" + "0" * 64))[0] == 401


async def test_the_host_finds_the_job_whatever_the_case_a_browser_sends(env: ProxyEnv) -> None:
    cookie = await env.log_in()
    headers = {"Host": env.host().upper().replace(".LOCALHOST", ".localhost"), "Cookie": cookie}
    async with env.http.get(env.url(), headers=headers) as response:
        assert response.status == 200
