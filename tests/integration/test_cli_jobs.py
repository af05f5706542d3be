"""The job verbs of the real `runner` command against the shared engine: describe, find jobs, terminate, env,
watch --get-stdout."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from runner.client.api import EngineClient
from runner.client.engine_process import read_token
from tests.integration.helpers import (
    run_sample,
    run_test_applet,
    runner_cli,
    tree_jobs,
    wait_state,
    wait_terminal,
)

pytestmark = pytest.mark.docker



def rows(text: str) -> dict[str, str]:
    """The first line of each `Key   Value` row of `runner describe`, by key."""
    return {line[:22].strip(): line[22:] for line in text.splitlines() if line[:22].strip()}


@pytest.fixture(scope="module")
def hello_job(engine: EngineClient) -> str:
    """A done hello_bash job that greeted Ada."""
    job = run_sample(engine, "hello_bash", {"who": "Ada"})
    assert wait_terminal(engine, job)["state"] == "done"
    return job


def test_describe_a_done_job(engine: EngineClient, engine_home: Path, hello_job: str) -> None:
    result = runner_cli(engine_home, "describe", hello_job)
    assert result.returncode == 0, result.stderr
    shown = rows(result.stdout)
    assert shown["ID"] == hello_job and shown["Class"] == "job" and shown["State"] == "done"
    assert shown["Executable name"] == "hello_bash" and shown["Function"] == "main"
    assert shown["Project context"] == engine.project and shown["Root execution"] == hello_job
    assert shown["Output"] == 'greeting="Hello, Ada!"' and shown["Input"] == 'who="Ada"'
    assert shown["Created"][:2] == "20" and "(Runtime: " in shown["Stopped running"]

    result = runner_cli(engine_home, "describe", hello_job, "--json")
    assert result.returncode == 0, result.stderr
    described = json.loads(result.stdout)
    assert described["id"] == hello_job and described["state"] == "done"
    assert described["output"] == {"greeting": "Hello, Ada!"}

    applet = described["applet"]
    shown = rows(runner_cli(engine_home, "describe", applet).stdout)
    assert shown["Class"] == "applet" and shown["Name"] == "hello_bash" and shown["Interpreter"] == "bash"
    assert shown["Input Spec"].startswith("who: string (optional, default ")


def test_describe_errors(engine_home: Path, engine: EngineClient) -> None:
    missing = runner_cli(engine_home, "describe", "job-" + "0" * 24)
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    malformed = runner_cli(engine_home, "describe", "job-123")
    assert malformed.returncode == 3 and "is not the ID of" in malformed.stderr


def test_find_jobs_after_scatter_gather(engine: EngineClient, engine_home: Path) -> None:
    root = run_sample(engine, "scatter_gather_python", {"n": 3})
    assert wait_terminal(engine, root)["state"] == "done"
    jobs = tree_jobs(engine, root)
    assert len(jobs) >= 3

    result = runner_cli(engine_home, "find", "jobs", "--state", "done", "--root", root)
    assert result.returncode == 0, result.stderr
    headers = [line for line in result.stdout.splitlines() if line.startswith("* ")]
    assert sorted(line.rsplit(" ", 1)[1] for line in headers) == sorted(job["id"] for job in jobs)
    assert all(" (done) job-" in line for line in headers)

    result = runner_cli(engine_home, "find", "jobs", "--state", "done", "--root", root, "--tree")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"* {jobs[0]['name']} (done) {root}" and lines[1].startswith("│ user-local ")
    subjobs = [line for line in lines if line.startswith(("├── * ", "└── * "))]
    assert len(subjobs) == len(jobs) - 1 and subjobs[-1].startswith("└── * ")
    assert all("(runtime " in line for line in lines[1::2])

    result = runner_cli(engine_home, "find", "jobs", "--root", root, "--json")
    assert sorted(d["id"] for d in json.loads(result.stdout)) == sorted(job["id"] for job in jobs)


def test_terminate_a_running_job(engine: EngineClient, engine_home: Path) -> None:
    root = run_test_applet(engine, "sleepy_tree", {})
    try:
        wait_state(engine, root, ("running",))
        result = runner_cli(engine_home, "terminate", root)
        assert result.returncode == 0, result.stderr
        assert result.stdout == "" and result.stderr == ""
        assert wait_terminal(engine, root, 120)["state"] == "terminated"
    finally:
        engine.call(f"/{root}/terminate", {})
    missing = runner_cli(engine_home, "terminate", "job-" + "0" * 24)
    assert missing.returncode == 1 and missing.stderr.startswith("error: job-")


def test_env_evaluates_in_bash(engine: EngineClient, engine_home: Path) -> None:
    result = runner_cli(engine_home, "env")
    assert result.returncode == 0, result.stderr
    names = ("DX_APISERVER_PROTOCOL", "DX_APISERVER_HOST", "DX_APISERVER_PORT", "DX_SECURITY_CONTEXT",
             "DX_PROJECT_CONTEXT_ID", "DX_CLI_WD", "DX_USERNAME")
    script = result.stdout + "\n" + "".join(f'printf "%s\\0" "${name}"\n' for name in names)
    shown = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True,
                           env={"PATH": os.environ.get("PATH", "")}).stdout.split("\0")[:-1]
    values = dict(zip(names, shown, strict=True))
    url = urlsplit(engine.url)
    assert values["DX_APISERVER_PROTOCOL"] == "http" and values["DX_APISERVER_HOST"] == url.hostname
    assert values["DX_APISERVER_PORT"] == str(url.port)
    assert json.loads(values["DX_SECURITY_CONTEXT"]) == {"auth_token_type": "Bearer",
                                                         "auth_token": read_token(engine_home)}
    assert values["DX_PROJECT_CONTEXT_ID"] == engine.project
    assert values["DX_CLI_WD"] == "/" and values["DX_USERNAME"] == "user-local"


def test_watch_get_stdout_prints_the_job_stdout(engine: EngineClient, engine_home: Path,
                                                hello_job: str) -> None:
    result = runner_cli(engine_home, "watch", hello_job, "--get-stdout")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Greeting Ada\nHello, Ada!\n"
    logged = [r["line"] for r in engine.stream_logs(hello_job, tree=False, follow=False)
              if r.get("kind") == "log" and r.get("stream") == "stderr"]
    result = runner_cli(engine_home, "watch", hello_job, "--get-stderr", "--no-follow")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [line.rstrip("\n") for line in logged]


def test_building_a_folder_whose_dxapp_json_is_a_fifo_says_so(engine_home: Path, engine: EngineClient,
                                                               tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "dxapp.json")
    built = runner_cli(engine_home, "build", str(tmp_path))
    assert built.returncode == 3, built.stderr
    assert "dxapp.json: is a FIFO (named pipe); a build reads only regular files" in built.stderr
    assert "Traceback" not in built.stderr
