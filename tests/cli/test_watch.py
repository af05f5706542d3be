"""`runner watch`: the dx-watch line format (a pure function) and the command's exit codes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from click.testing import CliRunner

from runner.cli.main import cli
from runner.cli.watch import exit_code, format_record, print_records, print_stream
from tests.cli._fake_client import FakeClient, forbid_engine, use

JOB = "job-" + "J" * 24
SUB = "job-" + "S" * 24
T = 1_700_000_000_123  # 2023-11-14 22:13:20.123 UTC


def log(line: str, stream: str = "stdout", job: str = JOB, name: str = "hello") -> dict[str, Any]:
    return {"kind": "log", "job": job, "name": name, "function": "main", "t": T, "stream": stream,
            "line": line}


def state(value: str, job: str = JOB, name: str = "hello", function: str = "main") -> dict[str, Any]:
    return {"kind": "state", "job": job, "name": name, "function": function, "t": T, "state": value}


def test_log_lines_in_utc_and_local_time() -> None:
    assert format_record(log("hi there"), UTC) == f"2023-11-14 22:13:20 hello ({JOB}) STDOUT hi there"
    assert format_record(log("oops\n", "stderr"), UTC) == f"2023-11-14 22:13:20 hello ({JOB}) STDERR oops"
    assert format_record(log("started", "runner"), UTC) == f"2023-11-14 22:13:20 hello ({JOB}) RUNNER started"
    local = datetime.fromtimestamp(T / 1000).strftime("%Y-%m-%d %H:%M:%S")
    assert format_record(log("x")) == f"{local} hello ({JOB}) STDOUT x"


def test_state_lines_and_other_records() -> None:
    assert format_record(state("running", SUB, "hello:process", "process")) == (
        f"* hello:process (process) (running) {SUB}")
    assert format_record({"kind": "end", "job": JOB, "state": "done"}) is None
    assert format_record({"kind": "progress"}) is None
    assert format_record({"kind": "log", "line": "x"}, UTC) == "????-??-?? ??:??:?? ? (?) ? x"


def test_print_records_stops_at_the_end_record() -> None:
    printed: list[str] = []
    records = [state("running"), log("a"), {"kind": "end", "job": JOB, "state": "failed"}, log("after")]
    assert print_records(records, printed.append) == "failed"
    assert len(printed) == 2 and printed[0].startswith("* hello (main) (running)")
    assert print_records([log("a")], printed.append) is None


def test_exit_codes() -> None:
    assert exit_code("done", followed=True) == 0
    assert exit_code("failed", followed=True) == 1
    assert exit_code("terminated", followed=False) == 1
    assert exit_code(None, followed=False) == 0
    assert exit_code(None, followed=True) == 1
    assert exit_code("running", followed=False) == 0  # --no-follow on a job still running
    assert exit_code("running", followed=True) == 1


def test_watch_command(monkeypatch: pytest.MonkeyPatch) -> None:
    client = use(monkeypatch, FakeClient(records=[state("running"), log("hello"), state("done"),
                                                   {"kind": "end", "job": JOB, "state": "done"}]))
    result = CliRunner().invoke(cli, ["watch", JOB])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"* hello (main) (running) {JOB}"
    assert lines[1].endswith(f"hello ({JOB}) STDOUT hello")
    assert lines[2] == f"* hello (main) (done) {JOB}"
    assert client.streams == [(JOB, True, True)]


def test_watch_failed_job_exits_1(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, FakeClient(records=[{"kind": "end", "job": JOB, "state": "failed"}]))
    assert CliRunner().invoke(cli, ["watch", JOB]).exit_code == 1


def test_watch_no_follow(monkeypatch: pytest.MonkeyPatch) -> None:
    client = use(monkeypatch, FakeClient(records=[log("so far")]))
    result = CliRunner().invoke(cli, ["watch", JOB, "--no-follow"])
    assert result.exit_code == 0 and "STDOUT so far" in result.output
    assert client.streams == [(JOB, True, False)]


def test_watch_stream_that_ends_early_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, FakeClient(records=[log("x")]))
    result = CliRunner().invoke(cli, ["watch", JOB])
    assert result.exit_code == 1
    assert "ended before the job did" in result.output


def test_ctrl_c_exits_130_without_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    client = use(monkeypatch, FakeClient(records=[log("one"), log("two")]))
    client.interrupt_after = 1
    result = CliRunner().invoke(cli, ["watch", JOB])
    assert result.exit_code == 130
    assert "STDOUT one" in result.output and "Traceback" not in result.output


def test_not_a_job_id(monkeypatch: pytest.MonkeyPatch) -> None:
    forbid_engine(monkeypatch)
    result = CliRunner().invoke(cli, ["watch", "applet-" + "A" * 24])
    assert result.exit_code == 3 and "is not a job ID" in result.output


def test_print_stream_prints_raw_lines_of_one_stream() -> None:
    printed: list[str] = []
    records = [state("running"), log("out 1\n"), log("err", "stderr"), log("sub", job=SUB),
               log("runner", "runner"), log("out 2"), {"kind": "end", "job": JOB, "state": "done"},
               log("after")]
    assert print_stream(records, frozenset({"stdout"}), printed.append, JOB) == "done"
    assert printed == ["out 1", "out 2"]
    printed.clear()
    assert print_stream(records[:-2], frozenset({"stdout", "stderr"}), printed.append) is None
    assert printed == ["out 1", "err", "sub", "out 2"]


@pytest.mark.parametrize(("flag", "expected"), [("--get-stdout", "hello\nbye\n"), ("--get-stderr", "oops\n")])
def test_watch_get_stream(monkeypatch: pytest.MonkeyPatch, flag: str, expected: str) -> None:
    records = [state("running"), log("hello"), log("oops", "stderr"), log("bye"), state("done"),
               {"kind": "end", "job": JOB, "state": "done"}]
    client = use(monkeypatch, FakeClient(records=records))
    result = CliRunner().invoke(cli, ["watch", JOB, flag])
    assert result.exit_code == 0 and result.output == expected
    assert client.streams == [(JOB, False, True)]
    result = CliRunner().invoke(cli, ["watch", JOB, flag, "--no-follow"])
    assert result.output == expected and client.streams[-1] == (JOB, False, False)
