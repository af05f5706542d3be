"""The engine daemon's process control, with a stand-in daemon (fake_daemon.py) and canned servers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from runner.client import engine_process
from runner.client.engine_process import EngineStatus, connect, engine_status, start_engine, stop_engine
from runner.errors import EnvironmentProblem
from runner.home_files import EXIT_ALREADY_RUNNING
from tests.client import fake_daemon
from tests.client._server import CannedServer

FAKE_DAEMON = Path(fake_daemon.__file__)
STUCK = "import time; print('stuck', flush=True); time.sleep(30)"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    return folder


@pytest.fixture
def fake_engine(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Make start_engine spawn the stand-in daemon; stop whatever it started afterwards."""
    extra: list[str] = []
    monkeypatch.setattr(engine_process, "daemon_command",
                        lambda h: [sys.executable, str(FAKE_DAEMON), "--home", str(h), *extra])
    yield extra
    stop_engine(home, timeout_s=5)


def dead_pid() -> int:
    process = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                             capture_output=True, text=True, check=True)
    return int(process.stdout)


def write_engine_json(home: Path, pid: int, url: str) -> None:
    (home / "engine.json").write_text(json.dumps({"pid": pid, "port": 1, "url": url, "socket": None,
                                                  "started": 1700000000000, "version": "9.9"}))


def test_no_engine_json_means_not_running(home: Path) -> None:
    assert engine_status(home) == EngineStatus(running=False)
    (home / "engine.json").write_text("{half")
    assert engine_status(home) == EngineStatus(running=False)


def test_stale_engine_json_with_a_dead_pid_is_not_running(home: Path, server: CannedServer) -> None:
    @server.route("GET", "/runner/ping")
    async def ping(request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "pid": int(request.query.get("pid", 0))})

    write_engine_json(home, dead_pid(), server.url)
    assert engine_status(home).running is False
    assert server.requests == []  # a dead pid needs no question
    assert stop_engine(home) is False


def test_running_only_when_the_ping_answers_with_that_pid(home: Path, server: CannedServer) -> None:
    answered_pid = {"pid": os.getpid()}

    @server.route("GET", "/runner/ping")
    async def ping(request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "version": "9.9", **answered_pid})

    write_engine_json(home, os.getpid(), server.url)
    assert engine_status(home) == EngineStatus(running=True, pid=os.getpid(), url=server.url,
                                               started=1700000000000, version="9.9")
    answered_pid["pid"] = os.getpid() + 1  # someone else's engine answers on that port
    assert engine_status(home).running is False


def test_start_failure_shows_the_tail_of_this_start(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (home / "engine.log").write_text("an old run's line\n")
    script = ("import sys; [print('line', i) for i in range(30)]; "
              "print('error: port in use', file=sys.stderr); sys.exit(1)")
    monkeypatch.setattr(engine_process, "daemon_command", lambda h: [sys.executable, "-c", script])
    with pytest.raises(EnvironmentProblem) as caught:
        start_engine(home, timeout_s=20)
    message = str(caught.value)
    assert "exited with code 1" in message
    assert "error: port in use" in message and "line 29" in message
    assert "line 10\n" not in message and "an old run's line" not in message  # the last 20 lines of this run
    assert caught.value.fix == f"see {home / 'engine.log'}; run `runner doctor`"


def test_start_timeout(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_process, "daemon_command",
                        lambda h: [sys.executable, "-c", STUCK])
    with pytest.raises(EnvironmentProblem, match="did not answer within 0.5 s") as caught:
        start_engine(home, timeout_s=0.5)
    assert "stuck" in str(caught.value) or "says nothing" in str(caught.value)
    pid = int(str(caught.value).split("(pid ")[1].split(")")[0])
    os.kill(pid, 9)
    os.waitpid(pid, 0)


def test_start_connect_stop_with_a_stand_in_daemon(home: Path, fake_engine: list[str]) -> None:
    status = start_engine(home, timeout_s=20)
    assert status.running and status.version == "0.0-fake" and status.url is not None
    assert start_engine(home) == status  # already running: the same engine
    assert "fake engine listening" in (home / "engine.log").read_text()
    with connect(home) as client:
        assert client.project == fake_daemon.PROJECT
        assert client.token == fake_daemon.TOKEN
    assert stop_engine(home, timeout_s=10) is True
    assert not (home / "engine.json").exists()
    assert engine_status(home).running is False
    assert stop_engine(home) is False


def test_stop_signals_an_engine_that_ignores_shutdown(home: Path, fake_engine: list[str]) -> None:
    fake_engine.append("--ignore-shutdown")
    status = start_engine(home, timeout_s=20)
    assert status.pid is not None
    assert stop_engine(home, timeout_s=0.5) is True
    assert engine_status(home).running is False


def test_exit_already_running_waits_for_the_engine_holding_the_lock(home: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    locked = [sys.executable, "-c", f"raise SystemExit({EXIT_ALREADY_RUNNING})"]
    monkeypatch.setattr(engine_process, "daemon_command", lambda h: locked)
    with subprocess.Popen([sys.executable, str(FAKE_DAEMON), "--home", str(home), "--delay", "1"]) as other:
        try:
            status = start_engine(home, timeout_s=20)
            assert status.running and status.pid == other.pid
        finally:
            stop_engine(home, timeout_s=10)
    assert other.returncode == 0


def test_connect_without_start_when_nothing_runs(home: Path) -> None:
    with pytest.raises(EnvironmentProblem, match="no engine is running") as caught:
        connect(home, start=False)
    assert caught.value.fix == "runner engine start"
