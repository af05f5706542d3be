"""`runner run` and `runner build` with a fake engine client: requests sent, what is printed, exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from runner.cli.main import cli
from runner.cli.run import outcome
from tests.cli._fake_client import PROJECT, FakeClient, forbid_engine, use
from tests.conftest import SAMPLE_APPS

APPLET = "applet-" + "A" * 24
JOB = "job-" + "J" * 24
SUB = "job-" + "S" * 24
SPEC = [{"name": "n", "class": "int"}, {"name": "words", "class": "array:string", "optional": True}]


def engine(**extra: Any) -> FakeClient:
    answers: dict[str, Any] = {
        f"/{APPLET}/describe": {"id": APPLET, "name": "counter", "inputSpec": SPEC},
        f"/{APPLET}/run": {"id": JOB},
    }
    answers.update(extra)
    return FakeClient(answers)


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def test_run_an_applet_id(monkeypatch: pytest.MonkeyPatch) -> None:
    client = use(monkeypatch, engine())
    result = invoke("run", APPLET, "-i", "n=4", "-i", "words=a", "--folder", "/out", "--name", "count it")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{JOB}\n"
    assert f"Started {JOB} (count it); follow it with: runner watch {JOB}" in result.stderr
    assert client.calls == [
        (f"/{APPLET}/describe", {}),
        (f"/{APPLET}/run", {"project": PROJECT, "input": {"n": 4, "words": ["a"]}, "folder": "/out",
                            "name": "count it"}),
    ]


def test_the_job_is_named_after_the_title_else_the_name(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, engine())
    assert f"Started {JOB} (counter);" in invoke("run", APPLET, "-i", "n=1").stderr
    titled = {"id": APPLET, "name": "counter", "title": "The Counter", "inputSpec": SPEC}
    use(monkeypatch, engine(**{f"/{APPLET}/describe": titled}))
    assert f"Started {JOB} (The Counter);" in invoke("run", APPLET, "-i", "n=1").stderr


def test_brief_prints_the_job_id_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    client = use(monkeypatch, engine())
    result = invoke("run", APPLET, "-j", '{"n": 1}', "--brief")
    assert result.exit_code == 0 and result.output == f"{JOB}\n"
    assert client.calls[1][1] == {"project": PROJECT, "input": {"n": 1}, "folder": "/"}


def test_bad_input_exits_3_and_starts_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    client = use(monkeypatch, engine())
    result = invoke("run", APPLET, "-i", "n=four")
    assert result.exit_code == 3
    assert result.output.strip() == "error: -i n: expected an int, got 'four'"
    assert [route for route, _ in client.calls] == [f"/{APPLET}/describe"]
    result = invoke("run", APPLET, "-i", "bogus=1")
    assert result.exit_code == 3
    assert "-i bogus: the applet has no input named 'bogus' (inputs: n, words)" in result.output


def test_malformed_pairs_and_targets_fail_before_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    forbid_engine(monkeypatch)
    for args in (["run", APPLET, "-i", "novalue"], ["run", APPLET, "-j", "[1]"], ["run", "no-such-folder"]):
        result = invoke(*args)
        assert result.exit_code == 3, result.output
        assert "Traceback" not in result.output
    assert "neither an applet ID" in invoke("run", "no-such-folder").output


def test_run_a_folder_builds_it_first(monkeypatch: pytest.MonkeyPatch) -> None:
    folder = SAMPLE_APPS / "hello_bash"
    client = use(monkeypatch, engine(**{"/runner/build": {"id": APPLET, "name": "hello_bash",
                                                          "imageBuilt": False, "notes": []}}))
    result = invoke("run", str(folder), "-i", "n=1", "--brief")
    assert result.exit_code == 0, result.output
    assert client.calls[0] == ("/runner/build", {"folder": str(folder.resolve())})
    assert [route for route, _ in client.calls[1:]] == [f"/{APPLET}/describe", f"/{APPLET}/run"]


def test_run_an_invalid_folder_exits_3(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    forbid_engine(monkeypatch)
    (tmp_path / "dxapp.json").write_text("[]")
    result = invoke("run", str(tmp_path))
    assert result.exit_code == 3 and "is invalid" in result.output


def records(end_state: str) -> list[dict[str, Any]]:
    return [{"kind": "state", "job": JOB, "name": "counter", "function": "main", "t": 0, "state": "running"},
            {"kind": "log", "job": JOB, "name": "counter", "function": "main", "t": 0, "stream": "stdout",
             "line": "counting"},
            {"kind": "end", "job": JOB, "state": end_state}]


def test_wait_prints_the_output_when_done(monkeypatch: pytest.MonkeyPatch) -> None:
    done = {"id": JOB, "state": "done", "output": {"total": 4}}
    client = use(monkeypatch, engine(**{f"/{JOB}/describe": done}))
    client.records = records("done")
    result = invoke("run", APPLET, "-i", "n=4", "--wait")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"total": 4}
    assert "STDOUT counting" in result.stderr and f"Started {JOB}" in result.stderr
    assert client.streams == [(JOB, True, True)]


def test_wait_brief_prints_no_log_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    client = use(monkeypatch, engine(**{f"/{JOB}/describe": {"id": JOB, "state": "done", "output": {}}}))
    client.records = records("done")
    result = invoke("run", APPLET, "-i", "n=4", "--wait", "--brief")
    assert result.exit_code == 0 and result.stderr == "" and json.loads(result.stdout) == {}


def test_wait_on_a_failed_tree_names_the_cause(monkeypatch: pytest.MonkeyPatch) -> None:
    failed = {"id": JOB, "state": "failed", "failureReason": "AppError", "failureMessage": "bad count",
              "failureFrom": {"id": SUB, "name": "counter:count"}}
    client = use(monkeypatch, engine(**{f"/{JOB}/describe": failed}))
    client.records = records("failed")
    result = invoke("run", APPLET, "-i", "n=4", "--wait")
    assert result.exit_code == 1
    assert f"{JOB} failed: AppError: bad count\n  caused by {SUB} (counter:count)" in result.stderr
    assert result.stdout == ""


def test_outcome_texts() -> None:
    assert outcome({"id": JOB, "state": "done", "output": {"a": 1}}) == (0, '{\n  "a": 1\n}')
    assert outcome({"id": JOB, "state": "terminated", "failureReason": "Terminated",
                    "failureMessage": "by the user", "failureFrom": {"id": JOB, "name": "x"}}) == (
        1, f"{JOB} terminated: Terminated: by the user")
    assert outcome({"id": JOB, "state": "failed"}) == (1, f"{JOB} failed")
    assert outcome({"id": JOB, "state": "running"})[0] == 1


def test_wait_interrupted_leaves_the_job_running(monkeypatch: pytest.MonkeyPatch) -> None:
    client = use(monkeypatch, engine())
    client.records = records("done")
    client.interrupt_after = 1
    result = invoke("run", APPLET, "-i", "n=4", "--wait")
    assert result.exit_code == 130
    assert f"{JOB} keeps running" in result.stderr and "Traceback" not in result.output


def test_build_prints_the_applet_id(monkeypatch: pytest.MonkeyPatch) -> None:
    answer = {"id": APPLET, "name": "hello_bash", "imageBuilt": True, "notes": ["built image x"]}
    client = use(monkeypatch, FakeClient({"/runner/build": answer}))
    folder = SAMPLE_APPS / "hello_bash"
    result = invoke("build", str(folder))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{APPLET}\n" and "note: built image x" in result.stderr
    assert client.calls == [("/runner/build", {"folder": str(folder.resolve())})]
    result = invoke("build", str(folder), "--json")
    assert json.loads(result.stdout) == answer


def test_build_of_an_invalid_folder_skips_the_engine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    forbid_engine(monkeypatch)
    (tmp_path / "dxapp.json").write_text("{not json")
    assert invoke("build", str(tmp_path)).exit_code == 3
    assert invoke("build", str(tmp_path / "missing")).exit_code == 3
