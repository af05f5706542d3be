"""`runner wait` and `runner run --brief --wait` as scripts use them, against the real engine (real containers).

`dx wait`'s contract: exit 0 when every job is done; non-zero, with why, when one failed or was terminated.
`dx run --brief --wait`'s: the job ID alone on stdout. And an input the applet does not have exits 3 naming it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from runner.client.api import EngineClient
from tests.integration.helpers import (
    REPO,
    build_sample,
    build_test_applet,
    run_sample,
    runner_cli,
    wait_state,
    wait_terminal,
)

pytestmark = pytest.mark.docker


def test_wait_for_done_jobs_exits_0_and_prints_nothing_on_stdout(engine: EngineClient, engine_home: Path,
                                                                 tmp_path: Path) -> None:
    first = run_sample(engine, "hello_bash", {"who": "wait 1"})
    second = run_sample(engine, "hello_python", {"who": "wait 2"})
    result = runner_cli(engine_home, "wait", first, second, first)
    assert (result.returncode, result.stdout) == (0, ""), result.stderr
    for job in (first, second):
        assert engine.call(f"/{job}/describe", {})["state"] == "done"
    listing = tmp_path / "jobs.txt"
    listing.write_text(f"{first}\n\n{second}\n")
    again = runner_cli(engine_home, "wait", "--from-file", str(listing))
    assert (again.returncode, again.stdout, again.stderr) == (0, "", "")  # both ended: nothing to wait for


def test_wait_says_why_each_job_failed_and_exits_1(engine: EngineClient, engine_home: Path) -> None:
    done = run_sample(engine, "hello_bash", {"who": "fine"})
    failing = run_sample(engine, "failing_subjob", {})
    result = runner_cli(engine_home, "wait", failing, done, "job-" + "0" * 24)
    assert result.returncode == 1 and result.stdout == ""
    described = engine.call(f"/{failing}/describe", {})
    assert described["state"] == "failed"
    cause = described["failureFrom"]
    assert (f"{failing} failed: {described['failureReason']}: {described['failureMessage']}\n"
            f"  caused by {cause['id']} ({cause['name']})") in result.stderr
    assert f"error: job-{'0' * 24}: the job job-{'0' * 24} does not exist" in result.stderr
    assert engine.call(f"/{done}/describe", {})["state"] == "done"  # waited for too, though after a failure


def _waiting(engine_home: Path, job: str) -> subprocess.Popen[str]:
    """`runner wait JOB` started, once it says it is waiting (its first stderr line)."""
    env = {**os.environ, "RUNNER_HOME": str(engine_home)}
    process = subprocess.Popen([sys.executable, "-m", "runner", "wait", job], cwd=REPO, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stderr is not None
    line = process.stderr.readline()
    assert line.startswith(f"waiting for {job} (Sleepy tree (test), "), line
    return process


def test_wait_on_a_terminated_tree_exits_1(engine: EngineClient, engine_home: Path) -> None:
    applet = build_test_applet(engine, "sleepy_tree")
    root = str(engine.call(f"/{applet}/run", {"project": engine.project, "input": {}})["id"])
    try:
        wait_state(engine, root, ("running",))
        process = _waiting(engine_home, root)
        engine.call(f"/{root}/terminate", {})
        out, err = process.communicate(timeout=180)
    finally:
        engine.call(f"/{root}/terminate", {})
    assert (process.returncode, out) == (1, "")
    assert f"{root} terminated: Terminated" in err


def test_ctrl_c_stops_waiting_with_130_and_the_job_keeps_running(engine: EngineClient,
                                                                 engine_home: Path) -> None:
    applet = build_test_applet(engine, "sleepy_tree")
    root = str(engine.call(f"/{applet}/run", {"project": engine.project, "input": {}})["id"])
    try:
        wait_state(engine, root, ("running",))
        process = _waiting(engine_home, root)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
        assert (process.returncode, out) == (130, "")
        assert "stopped waiting; the jobs keep running" in err and "Traceback" not in err
        assert engine.call(f"/{root}/describe", {})["state"] == "running"
    finally:
        engine.call(f"/{root}/terminate", {})
    assert wait_terminal(engine, root)["state"] == "terminated"


def test_run_brief_wait_prints_the_job_id_alone(engine: EngineClient, engine_home: Path) -> None:
    applet = build_sample(engine, "hello_bash")
    result = runner_cli(engine_home, "run", applet, "-i", "who=brief", "--brief", "--wait")
    assert result.returncode == 0, result.stderr
    job = result.stdout.strip()
    assert result.stdout == f"{job}\n" and job.startswith("job-")
    assert engine.call(f"/{job}/describe", {})["output"] == {"greeting": "Hello, brief!"}
    shown = runner_cli(engine_home, "run", applet, "-i", "who=full", "--wait")
    assert json.loads(shown.stdout) == {"greeting": "Hello, full!"}  # without --brief: the output JSON


def test_run_brief_wait_on_a_failure_prints_the_id_and_exits_1(engine: EngineClient, engine_home: Path) -> None:
    applet = build_sample(engine, "failing_subjob")
    result = runner_cli(engine_home, "run", applet, "--brief", "--wait", "-y")
    assert result.returncode == 1
    job = result.stdout.strip()
    assert result.stdout == f"{job}\n"
    assert result.stderr.startswith(f"{job} failed: AppError: ")


@pytest.mark.parametrize("given", [("-i", "nope=1"), ("-j", '{"who": "x", "nope": 1}'), ("-f", "-")])
def test_an_input_the_applet_does_not_have_exits_3_naming_it(engine: EngineClient, engine_home: Path,
                                                              given: tuple[str, str]) -> None:
    applet = build_sample(engine, "hello_bash")
    before = len(engine.call("/system/findExecutions", {"executable": applet, "limit": 1000})["results"])
    result = runner_cli(engine_home, "run", applet, *given, "--brief", stdin='{"nope": 1}')
    assert result.returncode == 3 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "'nope'" in lines[0] and "inputs: who" in lines[0], result.stderr
    after = len(engine.call("/system/findExecutions", {"executable": applet, "limit": 1000})["results"])
    assert after == before  # no job was started
