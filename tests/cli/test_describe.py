"""`runner describe`: the dx-describe layouts (pure functions of describe dicts) and its exit codes."""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

import pytest
from click.testing import CliRunner

from runner.cli.describe import (
    describe_body,
    format_describe,
    format_duration,
    format_io,
    format_rows,
    format_size,
    format_spec,
    format_time,
    format_value,
)
from runner.cli.main import cli
from runner.errors import ResourceNotFound
from tests.cli._fake_client import PROJECT, FakeClient, forbid_engine, use

JOB = "job-" + "J" * 24
ROOT = "job-" + "R" * 24
APPLET = "applet-" + "A" * 24
FILE = "file-" + "F" * 24
T = 1_700_000_000_123  # 2023-11-14 22:13:20.123 UTC


def rows(text: str) -> dict[str, str]:
    """The first line of each `Key   Value` row, by key (keys are split from values at the 22nd column)."""
    return {line[:22].strip(): line[22:] for line in text.splitlines() if line[:22].strip()}


def job(**fields: Any) -> dict[str, Any]:
    base = {"id": JOB, "class": "job", "name": "Hello (bash)", "executableName": "hello_bash",
            "applet": APPLET, "project": PROJECT, "workspace": "container-" + "W" * 24,
            "rootExecution": ROOT, "parentJob": ROOT,
            "originJob": ROOT, "function": "process", "instanceType": "mem1_ssd1_v2_x2", "state": "done",
            "try": 0, "launchedBy": "user-local", "created": T, "startedRunning": T + 1000,
            "stoppedRunning": T + 66_000, "timeout": 600_000, "folder": "/", "dependsOn": [],
            "tags": ["a", "b"],
            "properties": {"k": "v"}, "input": {"who": "World", "reads": {"$dnanexus_link": FILE}},
            "output": {"n": 3}}
    return {**base, **fields}


def test_small_formatters() -> None:
    assert format_time(T, UTC) == "2023-11-14 22:13:20"
    assert format_time(None) == "-"
    assert format_duration(65_999) == "0:01:05"
    assert format_duration(90_000_000) == "1 day, 1:00:00"
    assert format_size(6) == "6 bytes"
    assert format_size(1536) == "1.50 KB"
    assert format_size(5 * 1024**3) == "5.00 GB"
    assert format_value({"$dnanexus_link": {"job": JOB, "field": "out"}}) == f"{JOB}:out"
    assert format_value({"$dnanexus_link": {"project": PROJECT, "id": FILE}}) == f"{PROJECT}:{FILE}"
    assert format_value([{"$dnanexus_link": FILE}, 2]) == f"[{FILE}, 2]"
    assert format_io({}) == "-"
    assert format_io({"a": "x", "b": True}) == 'a="x"\nb=true'
    spec = [{"name": "n", "class": "int", "optional": True}, {"name": "s", "class": "string"}]
    assert format_spec(spec) == "n: int (optional)\ns: string"
    assert format_spec(None) == "-"


def test_rows_align_and_indent_later_lines() -> None:
    assert format_rows([("ID", "job-x"), ("Input", "a=1\nb=2"), ("Tags", "")]) == (
        "ID                    job-x\nInput                 a=1\n"
        "                      b=2\nTags                  -")


def test_job_layout() -> None:
    text = format_describe(job(), UTC)
    shown = rows(text)
    assert list(shown)[:4] == ["ID", "Class", "Job name", "Executable name"]
    assert shown["Job name"] == "Hello (bash)" and shown["Parent job"] == ROOT
    assert shown["Created"] == "2023-11-14 22:13:20"
    assert shown["Stopped running"] == "2023-11-14 22:14:26 (Runtime: 0:01:05)"
    assert shown["Timeout"] == "0:10:00" and shown["Tags"] == "a, b" and shown["Properties"] == "k=v"
    assert shown["Depends on"] == "-" and shown["Try"] == "0" and shown["Output"] == "n=3"
    assert f'Input                 who="World"\n                      reads={FILE}' in text
    assert "Failure reason" not in shown


def test_failed_job_shows_why() -> None:
    failed = job(state="failed", output=None, failureReason="AppError", failureMessage="boom",
                 failureFrom={"id": ROOT, "name": "root"}, stoppedRunning=None)
    shown = rows(format_describe(failed, UTC))
    assert shown["Failure reason"] == "AppError" and shown["Failure message"] == "boom"
    assert shown["Failure from"] == f"{ROOT} (root)"
    assert shown["Output"] == "-" and shown["Stopped running"] == "-"


def test_applet_layout() -> None:
    applet = {"id": APPLET, "class": "applet", "project": PROJECT, "folder": "/", "name": "hello",
              "state": "closed", "created": T, "modified": T,
              "inputSpec": [{"name": "who", "class": "string", "default": "World"},
                            {"name": "reads", "class": "array:file"},
                            {"name": "n", "class": "int", "optional": True}],
              "outputSpec": [{"name": "greeting", "class": "string"}],
              "runSpec": {"interpreter": "bash",
                          "systemRequirements": {"*": {"instanceType": "mem1_ssd1_v2_x2"}},
                          "timeoutPolicy": {"*": {"hours": 1, "minutes": 30}}}}
    text = format_describe(applet, UTC)
    shown = rows(text)
    assert [key for key in shown][:7] == ["ID", "Class", "Project", "Folder", "Name", "State", "Created"]
    assert shown["Input Spec"] == 'who: string (optional, default "World")'
    assert "                      reads: array:file\n                      n: int (optional)" in text
    assert shown["Output Spec"] == "greeting: string"
    assert shown["Interpreter"] == "bash" and shown["Instance type"] == "mem1_ssd1_v2_x2"
    assert shown["Timeout"] == "1:30:00"
    per_entry = {**applet, "inputSpec": [], "runSpec": {"systemRequirements": {"main": {"instanceType": "x"},
                                                              "gather": {"instanceType": "y"}}}}
    shown = rows(format_describe(per_entry, UTC))
    assert shown["Instance type"] == "main: x, gather: y" and shown["Timeout"] == "-"
    assert shown["Input Spec"] == "-"


def test_file_record_project_layouts() -> None:
    file = {"id": FILE, "class": "file", "project": PROJECT, "folder": "/d", "name": "a.txt",
            "state": "closed", "size": 2048, "created": T, "tags": [], "properties": {}}
    shown = rows(format_describe(file, UTC))
    assert shown["Size"] == "2.00 KB" and shown["Folder"] == "/d" and shown["Tags"] == "-"
    record = {"id": "record-" + "R" * 24, "class": "record", "types": ["T"], "details": {"a": 1}}
    assert rows(format_describe(record, UTC))["Details"] == '{"a": 1}'
    project = {"id": PROJECT, "class": "project", "name": "local", "billTo": "user-local",
               "level": "ADMINISTER"}
    shown = rows(format_describe(project, UTC))
    assert shown["Name"] == "local" and shown["Access level"] == "ADMINISTER"
    assert rows(format_describe({"class": "gizmo", "id": "gizmo-1", "n": 2}))["n"] == "2"


def test_describe_bodies() -> None:
    assert describe_body("job") == {}
    assert describe_body("file") == {"properties": True}
    assert describe_body("record") == {"properties": True, "details": True}


def test_describe_command(monkeypatch: pytest.MonkeyPatch) -> None:
    client = use(monkeypatch, FakeClient({f"/{JOB}/describe": job()}))
    result = CliRunner().invoke(cli, ["describe", JOB])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"ID                    {JOB}\n")
    result = CliRunner().invoke(cli, ["describe", JOB, "--json"])
    assert result.exit_code == 0 and json.loads(result.output) == job()
    assert client.calls == [(f"/{JOB}/describe", {})] * 2


def test_unknown_object_exits_1(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(body: Any) -> Any:
        raise ResourceNotFound(f"the file {FILE} does not exist")

    client = use(monkeypatch, FakeClient({f"/{FILE}/describe": missing}))
    result = CliRunner().invoke(cli, ["describe", FILE])
    assert result.exit_code == 1
    assert f"the file {FILE} does not exist" in result.output
    assert client.calls == [(f"/{FILE}/describe", {"properties": True})]


@pytest.mark.parametrize("bad", ["job-short", "hello", "workflow-" + "W" * 24])
def test_malformed_id_exits_3(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    forbid_engine(monkeypatch)
    result = CliRunner().invoke(cli, ["describe", bad])
    assert result.exit_code == 3 and "is not the ID of" in result.output
