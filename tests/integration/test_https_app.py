"""sample_apps/https_dashboard end to end: a real job's web server behind the engine's proxy, in headless Chromium."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest

from runner.client.api import EngineClient
from runner.tui.https_app import app_login_url
from tests.integration.helpers import run_sample, runner_cli, wait_state, wait_terminal

pytestmark = pytest.mark.docker
APP_WAIT_S = 120.0
STREAM_APPLET = Path(__file__).resolve().parents[1] / "https" / "applets" / "https_stream"


@pytest.fixture(scope="module")
def dashboard(engine: EngineClient) -> Iterator[str]:
    """A running https_dashboard job, terminated at the end."""
    job = run_sample(engine, "https_dashboard", {})
    try:
        wait_state(engine, job, ("running",), timeout_s=300)
        yield job
    finally:
        engine.call(f"/{job}/terminate", {})
        wait_terminal(engine, job)


def login_link(engine_home: Path, job: str) -> str:
    """`runner open JOB --print-url`: the one-time login link it prints."""
    done = runner_cli(engine_home, "open", job, "--print-url")
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


async def fetch(url: str, cookie: str | None = None) -> tuple[int, dict[str, str], str]:
    """GET `url` (a `*.localhost` address) at 127.0.0.1 with its Host, as a browser does; redirects not followed."""
    parts = urlsplit(url)
    headers = {"Host": parts.netloc, **({"Cookie": cookie} if cookie else {})}
    async with aiohttp.ClientSession() as http:
        target = f"http://127.0.0.1:{parts.port}{parts.path}{'?' + parts.query if parts.query else ''}"
        async with http.get(target, headers=headers, allow_redirects=False) as response:
            return response.status, dict(response.headers), await response.text()


def session_of(engine_home: Path, job: str) -> str:
    """The Cookie header of a session opened with a fresh login link."""
    status, headers, _ = asyncio.run(fetch(login_link(engine_home, job)))
    assert status == 303, status
    return headers["Set-Cookie"].split(";")[0]


def app_page(url: str, cookie: str) -> tuple[int, str]:
    """The app's answer once it is not a 502 (the server inside starts after the job does)."""
    deadline = time.monotonic() + APP_WAIT_S
    while True:
        status, _, text = asyncio.run(fetch(url, cookie))
        if status != 502 or time.monotonic() > deadline:
            return status, text
        time.sleep(0.5)


def test_a_websocket_and_a_stream_pass_through_from_a_job_on_port_8080(engine: EngineClient,
                                                                       engine_home: Path) -> None:
    # Before the dashboard's tests: their job may take the whole host while it runs.
    applet = engine.call("/runner/build", {"folder": str(STREAM_APPLET)})["id"]
    job = engine.call(f"/{applet}/run", {"project": engine.project, "input": {}})["id"]
    try:
        wait_state(engine, job, ("running",), timeout_s=300)
        done = runner_cli(engine_home, "open", job, "--port", "8080", "--print-url")
        assert done.returncode == 0, done.stderr
        assert urlsplit(done.stdout).hostname == f"{job.lower()}-8080.localhost"
        status, headers, _ = asyncio.run(fetch(done.stdout.strip()))
        assert status == 303
        url = engine.call(f"/{job}/describe", {})["httpsApp"]["dns"]["url"]
        assert app_page(url, headers["Set-Cookie"].split(";")[0])[0] == 404  # the app's own answer: it listens
        asyncio.run(stream_and_echo(engine, job, url, headers["Set-Cookie"].split(";")[0]))
    finally:
        engine.call(f"/{job}/terminate", {})
        wait_terminal(engine, job)


async def stream_and_echo(engine: EngineClient, job: str, url: str, cookie: str) -> None:
    """A websocket echo, then an event stream whose second event the app sends only once told to."""
    parts = urlsplit(url)
    headers = {"Host": parts.netloc, "Cookie": cookie}
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(f"ws://127.0.0.1:{parts.port}/ws", headers=headers) as socket:
            await socket.send_str("hello from outside")
            assert await socket.receive_str() == "echo: hello from outside"
        async with http.get(f"http://127.0.0.1:{parts.port}/events", headers=headers) as response:
            assert response.status == 200 and response.headers["Content-Type"] == "text/event-stream"
            assert await response.content.readuntil(b"\n\n") == b"data: first\n\n"  # while the app holds
            await asyncio.to_thread(engine.call, f"/{job}/setProperties", {"properties": {"next": "yes"}})
            assert await response.content.read() == b"data: second\n\n"


def test_502_with_a_page_until_the_app_listens(engine: EngineClient, engine_home: Path) -> None:
    job = run_sample(engine, "https_dashboard", {"wait_for_go": True})
    try:
        described: dict[str, Any] = wait_state(engine, job, ("running",), timeout_s=300)
        url = engine.call(f"/{job}/describe", {})["httpsApp"]["dns"]["url"]
        assert described["state"] == "running"
        cookie = session_of(engine_home, job)
        status, _, text = asyncio.run(fetch(url, cookie))
        assert status == 502, text
        assert "502 Bad Gateway" in text and "does not answer on port 443" in text
        engine.call(f"/{job}/setProperties", {"properties": {"go": "yes"}})
        status, text = app_page(url, cookie)
        assert status == 200 and f'<span id="job">{job}</span>' in text
    finally:
        engine.call(f"/{job}/terminate", {})
        wait_terminal(engine, job)


def test_describe_gives_the_https_app_as_the_platform_does(engine: EngineClient, engine_home: Path,
                                                          dashboard: str) -> None:
    described = json.loads(runner_cli(engine_home, "describe", dashboard, "--json").stdout)
    app = described["httpsApp"]
    assert {key: app[key] for key in ("enabled", "ports", "shared_access")} == {
        "enabled": True, "ports": [443], "shared_access": "VIEW"}
    assert urlsplit(app["dns"]["url"]).hostname == f"{dashboard.lower()}.localhost"


def test_without_a_session_the_app_answers_401_saying_how_to_get_one(engine: EngineClient,
                                                                   dashboard: str) -> None:
    url = engine.call(f"/{dashboard}/describe", {})["httpsApp"]["dns"]["url"]
    status, _, text = asyncio.run(fetch(url))
    assert status == 401 and f"runner open {dashboard}" in text


def test_headless_chromium_opens_the_dashboard_with_a_login_link(engine: EngineClient, engine_home: Path,
                                                                 dashboard: str, tmp_path: Path) -> None:
    url = engine.call(f"/{dashboard}/describe", {})["httpsApp"]["dns"]["url"]
    assert app_page(url, session_of(engine_home, dashboard))[0] == 200  # the server inside listens now
    browser = shutil.which("chromium")
    assert browser is not None, "chromium is not installed: scripts/test installs it (apt-get install chromium)"
    dom = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                          f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", login_link(engine_home, dashboard)],
                         capture_output=True, text=True, timeout=120, check=False, stdin=subprocess.DEVNULL).stdout
    assert f'<span id="job">{dashboard}</span>' in dom, dom
    assert '<span id="state">running</span>' in dom, dom
    assert "rendered by the browser" in dom, dom  # the page's script ran: a browser rendered it


def test_runner_open_prints_the_link_where_no_browser_opens(engine_home: Path, dashboard: str,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER"):
        monkeypatch.delenv(variable, raising=False)
    done = runner_cli(engine_home, "open", dashboard)
    assert done.returncode == 0, done.stderr
    assert "no browser opens here" in done.stderr
    status, headers, _ = asyncio.run(fetch(done.stdout.strip()))
    assert status == 303 and "HttpOnly" in headers["Set-Cookie"]
    refused = runner_cli(engine_home, "open", "job-xxxx")
    assert refused.returncode == 3 and "not a job ID" in refused.stderr


def test_the_tuis_o_gets_a_login_link(engine: EngineClient, dashboard: str) -> None:
    link = app_login_url(engine, dashboard)
    assert link is not None
    assert asyncio.run(fetch(link))[0] == 303
    assert asyncio.run(fetch(link))[0] == 401  # once only
