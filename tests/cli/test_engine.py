"""`runner engine start|status|stop`: nothing running, a stand-in daemon, and a daemon that fails to start."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from runner.cli.engine import describe
from runner.cli.main import cli
from runner.client import engine_process
from runner.client.engine_process import EngineStatus
from tests.client import fake_daemon

FAILING = "print('cannot open the store'); raise SystemExit(2)"


def test_status_when_nothing_runs(runner_home: Path) -> None:
    result = CliRunner().invoke(cli, ["engine", "status"])
    assert result.exit_code == 0
    assert result.output == "engine not running\n"
    result = CliRunner().invoke(cli, ["engine", "status", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.output) == {"running": False, "pid": None, "url": None, "started": None,
                                         "version": None}


def test_stop_when_nothing_runs(runner_home: Path) -> None:
    result = CliRunner().invoke(cli, ["engine", "stop"])
    assert result.exit_code == 0 and result.output == "engine not running\n"


def test_describe_a_running_engine() -> None:
    status = EngineStatus(running=True, pid=12, url="http://127.0.0.1:5000", started=1, version="0.1.0")
    assert describe(status) == "engine running at http://127.0.0.1:5000 (pid 12)"


def test_start_status_stop_with_a_stand_in_daemon(runner_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_process, "daemon_command",
                        lambda home: [sys.executable, fake_daemon.__file__, "--home", str(home)])
    runner = CliRunner()
    try:
        started = runner.invoke(cli, ["engine", "start"])
        assert started.exit_code == 0, started.output
        assert re.fullmatch(r"engine running at http://127\.0\.0\.1:\d+ \(pid \d+\)\n", started.output)
        assert runner.invoke(cli, ["engine", "status"]).output == started.output
        status = json.loads(runner.invoke(cli, ["engine", "status", "--json"]).output)
        assert status["running"] is True and status["version"] == "0.0-fake"
    finally:
        stopped = runner.invoke(cli, ["engine", "stop"])
    assert stopped.output == "engine stopped\n"
    assert runner.invoke(cli, ["engine", "status"]).output == "engine not running\n"


def test_start_failure_exits_1_with_the_log(runner_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_process, "daemon_command",
                        lambda home: [sys.executable, "-c", FAILING])
    result = CliRunner().invoke(cli, ["engine", "start"])
    assert result.exit_code == 1
    assert "exited with code 2" in result.output and "cannot open the store" in result.output
    assert "fix: see " in result.output and "Traceback" not in result.output
