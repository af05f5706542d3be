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


def test_wait_brief_prints_the_job_id_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    # As dx run --brief --wait: the ID on stdout, no log lines and no output JSON (that is runner describe's).
    done = {"id": JOB, "state": "done", "output": {"total": 4}}
    client = use(monkeypatch, engine(**{f"/{JOB}/describe": done}))
    client.records = records("done")
    result = invoke("run", APPLET, "-i", "n=4", "--wait", "--brief")
    assert (result.exit_code, result.stdout, result.stderr) == (0, f"{JOB}\n", "")
    assert client.streams == [(JOB, True, True)]


def test_wait_brief_on_a_failure_prints_the_id_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    failed = {"id": JOB, "state": "failed", "failureReason": "AppError", "failureMessage": "bad count"}
    client = use(monkeypatch, engine(**{f"/{JOB}/describe": failed}))
    client.records = records("failed")
    result = invoke("run", APPLET, "-i", "n=4", "--wait", "--brief")
    assert (result.exit_code, result.stdout) == (1, f"{JOB}\n")
    assert result.stderr == f"{JOB} failed: AppError: bad count\n"


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


# -- dx run flags -------------------------------------------------------------------------------------

FILE = "file-" + "F" * 24
OTHER = "project-" + "O" * 24
BATCH_SPEC = [{"name": "n", "class": "int"}, {"name": "reads", "class": "file", "optional": True},
              {"name": "words", "class": "array:string", "optional": True}]


def test_every_flag_reaches_the_run_request(monkeypatch: pytest.MonkeyPatch) -> None:
    client = use(monkeypatch, engine())
    result = invoke("run", APPLET, "-i", "n=1", "--instance-type", "mem2_ssd1_v2_x2", "--destination",
                    f"{OTHER}:/out", "--tag", "t1", "--tag", "t2", "--property", "k=v", "--details", "[1]",
                    "--depends-on", SUB, "--delay-workspace-destruction", "--debug-on", "AppError",
                    "--allow-ssh", "--allow-ssh", "10.1.0.0/16", "--ignore-reuse", "--rank", "-3",
                    "--cost-limit", "9", "--extra-args", '{"executionPolicy": {"maxRestarts": 2}}', "-y",
                    "--brief")
    assert result.exit_code == 0, result.output
    assert result.output == f"{JOB}\n"
    assert client.calls[1] == (f"/{APPLET}/run", {
        "project": OTHER, "folder": "/out", "input": {"n": 1},
        "systemRequirements": {"*": {"instanceType": "mem2_ssd1_v2_x2"}}, "tags": ["t1", "t2"],
        "properties": {"k": "v"}, "details": [1], "dependsOn": [SUB], "delayWorkspaceDestruction": True,
        "debug": {"debugOn": ["AppError"]}, "allowSSH": ["*", "10.1.0.0/16"], "ignoreReuse": True, "rank": -3,
        "costLimit": 9.0, "executionPolicy": {"maxRestarts": 2}})


@pytest.mark.parametrize(("args", "flag"), [
    (["--rank", "2000"], "--rank"), (["--debug-on", "Never"], "--debug-on"), (["--property", "x"], "--property"),
    (["--instance-type", "{"], "--instance-type"), (["--extra-args", "1"], "--extra-args"),
    (["--cost-limit", "0"], "--cost-limit"), (["--folder", "rel"], "--folder"), (["--details", "x"], "--details"),
    (["--reuse", "--ignore-reuse"], "--reuse"), (["-j", "{}", "-f", "x.json"], "-f"),
])
def test_bad_flag_values_exit_3_before_the_engine(monkeypatch: pytest.MonkeyPatch, args: list[str],
                                                  flag: str) -> None:
    forbid_engine(monkeypatch)
    result = invoke("run", APPLET, *args)
    assert result.exit_code == 3, result.output
    assert result.output.startswith(f"error: {flag}:") and result.output.count("\n") == 1


def test_reuse_is_sent_for_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    client = use(monkeypatch, engine())
    assert invoke("run", APPLET, "-i", "n=1", "--reuse", "--debug-on", "All").exit_code == 0
    body = client.calls[1][1]
    assert body["reuse"] is True and body["debug"] == {"debugOn": ["AppError", "AppInternalError", "ExecutionError"]}


def test_input_json_file_and_stdin(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    client = use(monkeypatch, engine())
    (tmp_path / "in.json").write_text('{"n": 5}')
    assert invoke("run", APPLET, "-f", str(tmp_path / "in.json"), "-i", "words=x").exit_code == 0
    assert client.calls[1][1]["input"] == {"n": 5, "words": ["x"]}
    result = CliRunner().invoke(cli, ["run", APPLET, "-f", "-"], input='{"n": 6}')
    assert result.exit_code == 0 and client.calls[3][1]["input"] == {"n": 6}
    result = CliRunner().invoke(cli, ["run", APPLET, "-f", "-"], input="[1]")
    assert result.exit_code == 3 and "-f: expected a JSON object" in result.output


def test_a_local_file_is_uploaded_first(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from runner.client import files

    spec = {"id": APPLET, "name": "counter", "inputSpec": BATCH_SPEC}
    client = use(monkeypatch, engine(**{f"/{APPLET}/describe": spec}))
    uploads: list[tuple[Path, str, str | None]] = []

    def fake_upload(_client: Any, path: Path, *, project: str, folder: str = "/", name: str | None = None,
                    parents: bool = True) -> str:
        uploads.append((path, project, name))
        return FILE
    monkeypatch.setattr(files, "upload_file", fake_upload)  # run imports it when a file is to go up
    local = tmp_path / "reads.fq"
    local.write_text("ACGT")
    result = invoke("run", APPLET, "-i", "n=1", "-i", f"reads={local}")
    assert result.exit_code == 0, result.output
    assert uploads == [(local, PROJECT, "reads.fq")]
    assert client.calls[1][1]["input"] == {"n": 1, "reads": {"$dnanexus_link": FILE}}


def test_watch_prints_the_logs_and_exits_like_watch(monkeypatch: pytest.MonkeyPatch) -> None:
    client = use(monkeypatch, engine())
    client.records = records("failed")
    result = invoke("run", APPLET, "-i", "n=1", "--watch")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == JOB and any("STDOUT counting" in line for line in lines[1:])


def batch_engine(**extra: Any) -> FakeClient:
    jobs = iter(f"job-{c * 24}" for c in "KLMN")
    return engine(**{
        f"/{APPLET}/describe": {"id": APPLET, "name": "counter", "inputSpec": BATCH_SPEC},
        f"/{APPLET}/validateBatch": lambda body: {"expandedBatch": [
            {**body["commonInput"], **{k: v[i] for k, v in body["batchInput"].items()}}
            for i in range(len(body["batchInput"]["n"]))]},
        f"/{APPLET}/run": lambda body: {"id": next(jobs)},
        **extra})


def test_batch_tsv_starts_one_job_per_row(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    client = use(monkeypatch, batch_engine())
    tsv = tmp_path / "batch.tsv"
    tsv.write_text("batch ID\tn\treads\treads ID\n"
                   f"first\t1\tr1.fq\t{FILE}\n"
                   "second\t2\t\t\n")
    result = invoke("run", APPLET, "--batch-tsv", str(tsv), "-i", "words=a", "-i", "words=b", "--property",
                    "k=v", "--brief")
    assert result.exit_code == 0, result.output
    assert result.output == f"job-{'K' * 24}\njob-{'L' * 24}\n"
    routes = [route for route, _ in client.calls]
    assert routes == [f"/{APPLET}/describe", f"/{APPLET}/validateBatch", f"/{APPLET}/run", f"/{APPLET}/run"]
    assert client.calls[1][1] == {
        "batchInput": {"n": [1, 2], "reads": [{"$dnanexus_link": FILE}, None]},
        "commonInput": {"words": ["a", "b"]}, "files": [{"$dnanexus_link": FILE}]}
    first, second = client.calls[2][1], client.calls[3][1]
    assert first["input"] == {"n": 1, "reads": {"$dnanexus_link": FILE}, "words": ["a", "b"]}
    assert second["input"] == {"n": 2, "words": ["a", "b"]}
    assert first["properties"] == {"k": "v", "batch-id": "first"} and first["name"] == "counter-first"
    assert second["properties"]["batch-id"] == "second"


def test_batch_tsv_array_cells_and_name_only_columns(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    client = use(monkeypatch, batch_engine())
    tsv = tmp_path / "batch.tsv"
    tsv.write_text(f"batch ID\tn\twords\treads\nb1\t3\t[x, y]\t{FILE}\n")
    assert invoke("run", APPLET, "--batch-tsv", str(tsv)).exit_code == 0
    assert client.calls[1][1]["batchInput"] == {"n": [3], "words": [["x", "y"]], "reads": [{"$dnanexus_link": FILE}]}


@pytest.mark.parametrize(("text", "message"), [
    ("n\n1\n", "the first column of the header row must be 'batch ID'"),
    ("batch ID\tbogus\nb\t1\n", "names no input"),
    ("batch ID\tn\nb\tfour\n", "line 2 (b): -i n: expected an int"),
    ("batch ID\tn\nb\t1\t2\n", "line 2 has 3 columns"),
    ("batch ID\tn\n", "no rows"),
])
def test_bad_batch_files_exit_3(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, text: str, message: str) -> None:
    client = use(monkeypatch, batch_engine())
    tsv = tmp_path / "batch.tsv"
    tsv.write_text(text)
    result = invoke("run", APPLET, "--batch-tsv", str(tsv))
    assert result.exit_code == 3 and message in result.output, result.output
    assert f"/{APPLET}/run" not in [route for route, _ in client.calls]


def test_batch_does_not_wait(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    forbid_engine(monkeypatch)
    tsv = tmp_path / "batch.tsv"
    tsv.write_text("batch ID\tn\nb\t1\n")
    assert invoke("run", APPLET, "--batch-tsv", str(tsv), "--wait").exit_code == 3
