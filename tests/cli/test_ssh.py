"""`runner ssh JOB`: asks the engine for the shell command line and replaces itself with it."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from runner.cli import ssh as ssh_module
from runner.cli.main import cli
from runner.errors import InvalidState
from tests.cli._fake_client import FakeClient, use

JOB = "job-" + "J" * 24


def test_ssh_execs_the_engines_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    argv = ["docker", "exec", "-it", "-w", "/home/dnanexus", "abc123", "bash"]
    client = use(monkeypatch, FakeClient({"/runner/shell": {"argv": argv}}))
    execs: list[tuple[str, list[str]]] = []
    monkeypatch.setattr(ssh_module.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(ssh_module.os, "execvp", lambda file, args: execs.append((file, args)))
    result = CliRunner().invoke(cli, ["ssh", JOB])
    assert result.exit_code == 0, result.output
    assert client.calls == [("/runner/shell", {"job": JOB})]
    # CliRunner's stdin is not a terminal, so no terminal is asked for.
    assert execs == [("docker", ["docker", "exec", "-i", "-w", "/home/dnanexus", "abc123", "bash"])]


def test_without_a_terminal_only_the_tty_request_goes() -> None:
    assert ssh_module.without_terminal(["docker", "exec", "-it", "c", "bash"]) == ["docker", "exec", "-i", "c", "bash"]
    assert ssh_module.without_terminal(["docker", "exec", "-i", "-t", "c"]) == ["docker", "exec", "-i", "c"]


def test_ssh_into_a_job_that_is_not_running_exits_1(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(body: Any) -> Any:
        raise InvalidState(f"{JOB} is done: only a running job or one in debug_hold has a shell")

    use(monkeypatch, FakeClient({"/runner/shell": refuse}))
    result = CliRunner().invoke(cli, ["ssh", JOB])
    assert result.exit_code == 1
    assert "only a running job or one in debug_hold has a shell" in result.output
