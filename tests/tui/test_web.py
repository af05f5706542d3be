"""`runner tui --web`: the TUI served by textual-serve, seen in a real headless Chromium over DevTools."""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from runner.client.engine_process import connect
from tests.conftest import REPO_ROOT
from tests.integration.helpers import build_sample, engine_of_its_own, wait_terminal

STEPS = 1800
STEP_S = 0.1
JOB_NAME = "greeting seen in a browser"
# textual.js keeps its xterm.js Terminal to itself: catch it as it is stored (`this.terminal = new ...`).
CATCH_TERMINAL = """
Object.defineProperty(Object.prototype, "terminal", {configurable: true, set(value) {
  Object.defineProperty(this, "terminal", {value, writable: true, configurable: true, enumerable: true});
  if (value && value.buffer) { window.runnerTerminal = value; }
}});
"""
SCREEN_TEXT = """(() => {
  const terminal = window.runnerTerminal;
  if (!terminal) { return ""; }
  const buffer = terminal.buffer.active, rows = [];
  for (let i = 0; i < buffer.length; i++) { rows.push(buffer.getLine(i).translateToString(true)); }
  return rows.join("\\n");
})()"""


def free_port() -> int:
    """A port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def runner_env(home: Path) -> dict[str, str]:
    return {**os.environ, "RUNNER_HOME": str(home), "PYTHONPATH": str(REPO_ROOT)}


def stop_group(process: subprocess.Popen[Any]) -> None:
    """Kill what is left of a process's group (the server's per-tab TUIs, Chromium's helpers)."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def group_ends(group: int) -> bool:
    """Whether every process of a process group is gone (waiting a while for the last ones to exit)."""
    for _ in range(STEPS):
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        time.sleep(STEP_S)
    return False


@contextmanager
def served(home: Path, *args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`runner tui --web ARGS` in a process group of its own, and the URL it says it serves."""
    process = subprocess.Popen([sys.executable, "-m", "runner", "tui", "--web", *args], cwd=REPO_ROOT,
                               env=runner_env(home), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert process.stdout is not None and process.stderr is not None
        first = process.stdout.readline()
        assert first.startswith("serving the TUI at http://127.0.0.1:"), first + process.stderr.read()
        yield process, first.split()[4]
    finally:
        stop_group(process)


@contextmanager
def chromium(profile: Path) -> Iterator[str]:
    """A headless Chromium of its own profile; the DevTools websocket URL of the browser."""
    browser = shutil.which("chromium")
    if browser is None:
        missing = "chromium is not installed: scripts/test installs it (apt-get install chromium)"
        if os.environ.get("RUNNER_REQUIRE_DOCKER") == "1":
            pytest.fail(missing)
        pytest.skip(missing)
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--remote-debugging-port=0",
             f"--user-data-dir={profile}", "--window-size=1280,800"]
    process = subprocess.Popen([browser, *flags, "about:blank"], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        active = profile / "DevToolsActivePort"
        for _ in range(STEPS):
            if active.is_file() and len(active.read_text().split()) == 2:
                break
            assert process.poll() is None, f"chromium exited with {process.returncode}"
            time.sleep(STEP_S)
        port, path = active.read_text().split()
        yield f"ws://127.0.0.1:{port}{path}"
    finally:
        stop_group(process)


class DevTools:
    """Commands to one page over the Chrome DevTools protocol (a flat session on the browser's websocket)."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self.socket, self.session, self.last_id = socket, "", 0

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command; its result (events in between are dropped)."""
        self.last_id += 1
        message: dict[str, Any] = {"id": self.last_id, "method": method, "params": params}
        if self.session:
            message["sessionId"] = self.session
        await self.socket.send_json(message)
        while True:
            answer = await self.socket.receive_json()
            if answer.get("id") == self.last_id:
                assert "error" not in answer, f"{method}: {answer['error']}"
                result: dict[str, Any] = answer["result"]
                return result

    async def open_page(self) -> None:
        """A new tab, attached, with the terminal catcher installed before any script of the page runs."""
        target = await self.call("Target.createTarget", url="about:blank")
        attached = await self.call("Target.attachToTarget", targetId=target["targetId"], flatten=True)
        self.session = attached["sessionId"]
        await self.call("Page.enable")
        await self.call("Page.addScriptToEvaluateOnNewDocument", source=CATCH_TERMINAL)

    async def text(self) -> str:
        """The terminal's screen as text, row by row."""
        result = await self.call("Runtime.evaluate", expression=SCREEN_TEXT, returnByValue=True)
        return str(result["result"].get("value", ""))


async def screen_of(devtools_url: str, page_url: str, shows: list[str], screenshot: Path) -> str:
    """Open `page_url`, wait until its terminal shows all of `shows`, save a PNG; the screen's text."""
    async with aiohttp.ClientSession() as http, http.ws_connect(devtools_url, max_msg_size=0) as socket:
        devtools = DevTools(socket)
        await devtools.open_page()
        await devtools.call("Page.navigate", url=page_url)
        text = ""
        for _ in range(STEPS):
            text = await devtools.text()
            if all(what in text for what in shows):
                break
            await asyncio.sleep(STEP_S)
        shot = await devtools.call("Page.captureScreenshot", format="png")
        screenshot.write_bytes(base64.b64decode(shot["data"]))
        return text


@pytest.fixture(scope="module")
def web_home(tmp_path_factory: pytest.TempPathFactory, client: Any) -> Iterator[Path]:
    """The state folder of an engine daemon of its own (containers it left removed at the end)."""
    with engine_of_its_own(tmp_path_factory.mktemp("web"), client) as home:
        yield home


@pytest.mark.docker
def test_the_browser_shows_the_job_tree_and_ctrl_c_ends_it_all(web_home: Path, tmp_path: Path) -> None:
    engine = connect(web_home, start=False)
    body = {"project": engine.project, "input": {"who": "browser"}, "name": JOB_NAME}
    job = str(engine.call(f"/{build_sample(engine, 'hello_bash')}/run", body)["id"])
    assert wait_terminal(engine, job)["state"] == "done"
    # A path a shell would split or unquote: each tab's TUI must get it whole.
    apps = tmp_path / "my 'apps' $HOME"
    for name in ("hello_bash", "hello_python"):
        shutil.copytree(REPO_ROOT / "sample_apps" / name, apps / name)
    with served(web_home, str(apps), "--port", str(free_port())) as (server, url):
        with chromium(tmp_path / "profile") as devtools_url:
            text = asyncio.run(screen_of(devtools_url, url, ["Jobs", JOB_NAME, "hello_python"],
                                         tmp_path / "tui.png"))
            assert "Jobs" in text and "Applets" in text, text
            assert JOB_NAME in text and "done" in text, text
            assert "hello_bash" in text and "failing_subjob" not in text, text
            assert (tmp_path / "tui.png").read_bytes().startswith(b"\x89PNG")
            os.killpg(server.pid, signal.SIGINT)  # what Ctrl+C in its terminal sends, the tab still open
            assert server.wait() == 130
            assert group_ends(server.pid), "a tab's TUI outlived the server"
        assert server.stdout is not None and server.stderr is not None
        left = server.stdout.read() + server.stderr.read()  # a tab's TUI's stderr comes out on stdout
        assert "Traceback" not in left and "Error" not in left, left


async def handshake(url: str, origin: str) -> int:
    """The HTTP status of a websocket handshake to the TUI's /ws as a page of `origin` would make it."""
    async with aiohttp.ClientSession() as http:
        try:
            async with http.ws_connect(f"{url}/ws", origin=origin) as socket:
                await socket.close()
                return 101
        except aiohttp.WSServerHandshakeError as refused:
            return refused.status


@pytest.mark.docker
def test_a_page_of_another_site_cannot_drive_the_tui(web_home: Path) -> None:
    with served(web_home) as (server, url):
        assert asyncio.run(handshake(url, "http://evil.example")) == 403
        assert asyncio.run(handshake(url, "http://evil.example" + url[url.rindex(":"):])) == 403  # rebinding
        assert asyncio.run(handshake(url, "null")) == 403  # a sandboxed frame's page
        assert asyncio.run(handshake(url, url)) == 101
        assert asyncio.run(handshake(url, url.replace("127.0.0.1", "localhost"))) == 101
        server.send_signal(signal.SIGTERM)
        assert server.wait() == 130
        assert server.stderr is not None and "refused a session opened by a page of http://evil.example" \
            in server.stderr.read()


@pytest.mark.docker
def test_without_a_port_it_takes_the_next_free_one_from_8566(web_home: Path) -> None:
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past an earlier server's TIME_WAIT
        try:
            taken.bind(("127.0.0.1", 8566))
            taken.listen()
        except OSError:
            pass  # something else holds 8566 already: the server must step over it all the same
        with served(web_home) as (_, url):
            port = int(url.rsplit(":", 1)[1])
            assert 8566 < port < 8566 + 100


def runner(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "runner", "tui", *args], cwd=REPO_ROOT, env=runner_env(home),
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False)


def test_a_port_in_use_exits_3_naming_it(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = runner(tmp_path / "home", "--web", "--port", str(port))
    assert done.returncode == 3, done.stderr
    assert f"--port {port}: the port is already in use on 127.0.0.1" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert not (tmp_path / "home").exists(), "no engine may be started for a server that cannot serve"


def test_another_host_is_warned_about_and_one_not_of_this_machine_refused(tmp_path: Path) -> None:
    done = runner(tmp_path / "home", "--web", "--host", "192.0.2.1")  # TEST-NET-1: no machine's address
    assert done.returncode == 3, done.stderr
    assert "warning: --host 192.0.2.1 is not a loopback address: anyone who can reach it controls your jobs" \
        in done.stderr
    assert "error: --host 192.0.2.1: cannot listen there" in done.stderr and "Traceback" not in done.stderr


def test_port_and_host_need_web(tmp_path: Path) -> None:
    done = runner(tmp_path / "home", "--port", "9000")
    assert done.returncode == 3 and "--port and --host go with --web" in done.stderr
    done = runner(tmp_path / "home", "--web", "--port", "0")
    assert done.returncode != 0 and "'--port'" in done.stderr and "0 is not in the range" in done.stderr
