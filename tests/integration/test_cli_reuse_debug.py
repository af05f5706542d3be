"""Reuse and debug hold through the command line: `runner config set reuse`, `--reuse`, `--debug-on`, `runner ssh`."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.client.api import EngineClient
from tests.integration.helpers import SAMPLE_APPS, TEST_APPLETS, runner_cli, wait_state, wait_terminal

pytestmark = pytest.mark.docker


def started(result: object) -> str:
    """The one job ID a `runner run --brief` printed."""
    assert getattr(result, "returncode") == 0, getattr(result, "stderr")
    return str(getattr(result, "stdout")).strip()


@pytest.fixture
def reuse_on(engine_home: Path) -> Iterator[None]:
    """Reuse switched on in the shared engine's config for one test, and off again after."""
    assert runner_cli(engine_home, "config", "set", "reuse", "true").returncode == 0
    try:
        yield
    finally:
        assert runner_cli(engine_home, "config", "set", "reuse", "false").returncode == 0


def test_config_reuse_makes_an_equal_second_run_take_the_first_runs_output(
    engine: EngineClient, engine_home: Path, reuse_on: None
) -> None:
    assert runner_cli(engine_home, "config", "get", "reuse").stdout.strip() == "true"
    who = f"reuse-{uuid.uuid4().hex[:8]}"
    hello = str(SAMPLE_APPS / "hello_bash")
    first = started(runner_cli(engine_home, "run", hello, "-i", f"who={who}", "--brief"))
    assert wait_terminal(engine, first)["state"] == "done"
    second = started(runner_cli(engine_home, "run", hello, "-i", f"who={who}", "--brief"))
    reused = wait_terminal(engine, second)
    assert reused["state"] == "done"
    assert reused["outputReusedFrom"] == first
    assert reused["output"] == {"greeting": f"Hello, {who}!"}
    again = started(runner_cli(engine_home, "run", hello, "-i", f"who={who}", "--ignore-reuse", "--brief"))
    ran_again = wait_terminal(engine, again)
    assert ran_again["state"] == "done" and ran_again.get("outputReusedFrom") is None


def test_the_reuse_flag_works_for_one_run(engine: EngineClient, engine_home: Path) -> None:
    who = f"flag-{uuid.uuid4().hex[:8]}"
    hello = str(SAMPLE_APPS / "hello_bash")
    first = started(runner_cli(engine_home, "run", hello, "-i", f"who={who}", "--brief"))
    assert wait_terminal(engine, first)["state"] == "done"
    second = started(runner_cli(engine_home, "run", hello, "-i", f"who={who}", "--reuse", "--brief"))
    assert wait_terminal(engine, second)["outputReusedFrom"] == first


def test_debug_on_holds_the_failed_job_for_runner_ssh_until_terminated(engine: EngineClient, engine_home: Path) -> None:
    job = started(runner_cli(engine_home, "run", str(TEST_APPLETS / "debug_fail"), "--debug-on", "AppError",
                             "--brief"))
    held = wait_state(engine, job, ("debug_hold", "done", "failed", "terminated"), timeout_s=180)
    assert held["state"] == "debug_hold", (held.get("failureReason"), held.get("failureMessage"))
    shell = runner_cli(engine_home, "ssh", job, stdin="cat marker.txt; pwd\n")
    assert shell.returncode == 0, shell.stderr
    assert shell.stdout.split("\n")[:2] == ["left for the debugger", "/home/dnanexus"]
    terminated = runner_cli(engine_home, "terminate", job)
    assert terminated.returncode == 0, terminated.stderr
    assert wait_terminal(engine, job, timeout_s=60)["state"] == "terminated"
    refused = runner_cli(engine_home, "ssh", job, stdin="true\n")
    assert refused.returncode == 1 and "terminated" in refused.stderr
