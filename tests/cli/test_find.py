"""`runner find jobs`: the dx-find-jobs lines and trees (pure functions) and the request the command sends."""

from __future__ import annotations

import json
import sys
from datetime import UTC
from typing import Any

import pytest
from click.testing import CliRunner

from runner.cli.find import build_forest, find_body, format_jobs, job_lines, runtime_ms
from runner.cli.main import cli, main
from tests.cli._fake_client import PROJECT, FakeClient, forbid_engine, use

T = 1_700_000_000_000  # 2023-11-14 22:13:20 UTC
NOW = T + 3_600_000


def jid(letter: str) -> str:
    return "job-" + letter * 24


def job(letter: str, parent: str | None = None, created: int = T, state: str = "done",
        started: int | None = T + 1000, stopped: int | None = T + 6000) -> dict[str, Any]:
    described: dict[str, Any] = {"id": jid(letter), "name": f"job {letter}", "state": state,
                                 "parentJob": parent, "launchedBy": "user-local", "created": created}
    if started is not None:
        described["startedRunning"] = started
    if stopped is not None:
        described["stoppedRunning"] = stopped
    return described


def test_job_lines_and_runtime() -> None:
    assert job_lines(job("A"), NOW, UTC) == [f"* job A (done) {jid('A')}",
                                             "  user-local 2023-11-14 22:13:20 (runtime 0:00:05)"]
    running = job("B", state="running", stopped=None)
    assert runtime_ms(running, NOW) == NOW - T - 1000
    assert job_lines(running, NOW, UTC)[1].endswith("(runtime 0:59:59)")
    waiting = job("C", state="runnable", started=None, stopped=None)
    assert runtime_ms(waiting, NOW) is None
    assert job_lines(waiting, NOW, UTC)[1] == "  user-local 2023-11-14 22:13:20"


def test_build_forest_by_parent() -> None:
    # Newest first, as findExecutions answers; a subjob whose parent was not found stands on its own.
    jobs = [job("D", jid("R"), T + 3), job("C", jid("B"), T + 2), job("B", jid("R"), T + 1), job("R"),
            job("O", jid("X"))]
    roots = build_forest(jobs)
    assert [r.job["id"] for r in roots] == [jid("R"), jid("O")]
    assert [c.job["id"] for c in roots[0].children] == [jid("B"), jid("D")]
    assert [c.job["id"] for c in roots[0].children[0].children] == [jid("C")]


def test_tree_lines() -> None:
    jobs = [job("D", jid("R"), T + 3), job("C", jid("B"), T + 2), job("B", jid("R"), T + 1), job("R")]
    detail = "user-local 2023-11-14 22:13:20 (runtime 0:00:05)"
    assert format_jobs(jobs, NOW, tree=True, tz=UTC) == [
        f"* job R (done) {jid('R')}",
        f"│ {detail}",
        f"├── * job B (done) {jid('B')}",
        f"│   │ {detail}",
        f"│   └── * job C (done) {jid('C')}",
        f"│         {detail}",
        f"└── * job D (done) {jid('D')}",
        f"      {detail}",
    ]
    flat = format_jobs(jobs, NOW, tz=UTC)
    assert len(flat) == 8 and flat[0] == f"* job D (done) {jid('D')}" and flat[1] == f"  {detail}"


def test_find_body() -> None:
    assert find_body((), None, None, None, None) == {"describe": True}
    assert find_body(("done", "failed"), "n", PROJECT, jid("R"), 5) == {
        "describe": True, "state": ["done", "failed"], "name": "n", "project": PROJECT,
        "rootExecution": jid("R"), "limit": 5}


def test_find_jobs_command(monkeypatch: pytest.MonkeyPatch) -> None:
    found = {"results": [{"id": jid("B"), "describe": job("B", jid("R"))},
                         {"id": jid("R"), "describe": job("R")}], "next": None}
    client = use(monkeypatch, FakeClient({"/system/findExecutions": found}))
    result = CliRunner().invoke(cli, ["find", "jobs", "--state", "done", "--root", jid("R"), "--tree"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"* job R (done) {jid('R')}" and lines[2] == f"└── * job B (done) {jid('B')}"
    assert client.calls[-1] == ("/system/findExecutions", {
        "describe": True, "state": ["done"], "project": PROJECT, "rootExecution": jid("R")})
    result = CliRunner().invoke(cli, ["find", "jobs", "--json", "--all-projects", "--limit", "2"])
    assert result.exit_code == 0 and json.loads(result.output) == [job("B", jid("R")), job("R")]
    assert client.calls[-1] == ("/system/findExecutions", {"describe": True, "limit": 2})


@pytest.mark.parametrize("args", [["--state", "sleeping"], ["--root", "applet-" + "A" * 24],
                                  ["--project", "nope"], ["--limit", "0"],
                                  ["--project", PROJECT, "--all-projects"]])
def test_bad_options_exit_3(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                            args: list[str]) -> None:
    forbid_engine(monkeypatch)
    monkeypatch.setattr(sys, "argv", ["runner", "find", "jobs", *args])
    with pytest.raises(SystemExit) as exited:
        main()  # the console-script entry point, which turns click's usage errors into exit 3 too
    assert exited.value.code == 3
    assert "Traceback" not in capsys.readouterr().err
