"""`runner tui --web`: the TUI served by textual-serve, seen in a real headless Chromium driven over DevTools."""

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
from contextlib import contextmanager
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
# textual.js keeps its xterm.js Terminal to itself: catch it as it is stored (`this.terminal = new Terminal()`).
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
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()


@contextmanager
def served(home: Path, *args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`runner tui --web ARGS` in a process group of its own, and the URL it says it serves."""
    process = subprocess.Popen([sys.executable, "-m", "runner", "tui", "--web", *args], cwd=REPO_ROOT,
                               env=runner_env(home), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("serving the TUI at http://127.0.0.1:"), first + process.stderr.read()  # type: ignore[union-attr]
        yield process, first.split()[4]
    finally:
        stop_group(process)


@contextmanager
def chromium(profile: Path) -> Iterator[str]:
    """A headless Chromium of its own profile; the DevTools websocket URL of the browser."""
    browser = shutil.which("chromium")
    assert browser is not None, "chromium is missing: scripts/test installs it (apt-get install chromium)"
    process = subprocess.Popen([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                                "--remote-debugging-port=0", f"--user-data-dir={profile}", "--window-size=1280,800",
                                "about:blank"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
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
        self.session = (await self.call("Target.attachToTarget", targetId=target["targetId"], flatten=True))["sessionId"]
        await self.call("Page.enable")
        await self.call("Page.addScriptToEvaluateOnNewDocument", source=CATCH_TERMINAL)

    async def text(self) -> str:
        """The terminal's screen as text, row by row."""
        result = await self.call("Runtime.evaluate", expression=SCREEN_TEXT, returnByValue=True)
        return str(result["result"].get("value", ""))


async def screen_of(devtools_url: str, page_url: str, shows: list[str], screenshot: Path) -> str:
    """Open `page_url`, wait until its terminal shows every string of `shows`, save a PNG; the screen's text."""
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
    with served(web_home, "sample_apps", "--port", str(free_port())) as (server, url):
        with chromium(tmp_path / "profile") as devtools_url:
            text = asyncio.run(screen_of(devtools_url, url, ["Jobs", JOB_NAME, "hello_bash"],
                                         tmp_path / "tui.png"))
            assert "Jobs" in text and "Applets" in text, text
            assert JOB_NAME in text and "done" in text, text
            assert (tmp_path / "tui.png").read_bytes().startswith(b"\x89PNG")
            os.killpg(server.pid, signal.SIGINT)  # what Ctrl+C in its terminal sends, the tab still open
            assert server.wait() == 130
        assert server.stdout is not None and server.stderr is not None
        left = server.stdout.read() + server.stderr.read()  # a tab's TUI's stderr comes out on stdout
        assert "Traceback" not in left and "Error" not in left, left
