"""What the launcher leaves in the job folder: output.json, error.json (synthesized when the job wrote none)."""

from __future__ import annotations

import json
from pathlib import Path

from runner.launcher._outcome import LineTail, atomic_write, collect, exit_error


def read(path: Path) -> object:
    return json.loads(path.read_text())


def folders(tmp_path: Path) -> tuple[Path, Path]:
    home, job = tmp_path / "home", tmp_path / "job"
    home.mkdir()
    job.mkdir()
    return home, job


def test_the_tail_keeps_the_last_lines_across_chunks() -> None:
    tail = LineTail(count=3)
    for chunk in (b"one\ntw", b"o\nthree\r\nfour\nfi", b"ve"):
        tail.feed(chunk)
    tail.close()
    assert list(tail.lines) == ["three", "four", "five"]


def test_exit_error_names_the_code_the_signal_and_the_last_stderr_lines() -> None:
    message = exit_error(137, ["", "Killed", "  "])["error"]["message"]
    assert "exit code 137 (killed by SIGKILL)" in message
    assert message.endswith("last lines of stderr:\nKilled")
    assert exit_error(2, [])["error"] == {
        "type": "AppInternalError",
        "message": "the job's process exited with exit code 2 without writing job_error.json; "
        "it wrote nothing to stderr",
    }


def test_output_is_copied_and_an_absent_one_is_empty_on_success(tmp_path: Path) -> None:
    home, job = folders(tmp_path)
    (home / "job_output.json").write_text('{"x": 1}')
    assert collect(str(home), str(job), 0, []) is None
    assert read(job / "output.json") == {"x": 1} and not (job / "error.json").exists()
    (home / "job_output.json").unlink()
    collect(str(home), str(job), 0, [])
    assert read(job / "output.json") == {}


def test_a_failure_without_job_error_gets_one(tmp_path: Path) -> None:
    home, job = folders(tmp_path)
    collect(str(home), str(job), 3, ["bad thing"])
    error = read(job / "error.json")
    assert isinstance(error, dict) and error["error"]["type"] == "AppInternalError"
    assert "exit code 3" in error["error"]["message"] and "bad thing" in error["error"]["message"]
    assert not (job / "output.json").exists()


def test_the_job_error_is_copied(tmp_path: Path) -> None:
    home, job = folders(tmp_path)
    document = {"error": {"type": "AppError", "message": "bad input"}}
    (home / "job_error.json").write_text(json.dumps(document))
    assert collect(str(home), str(job), 1, ["ignored"]) == document
    assert read(job / "error.json") == document


def test_documents_that_are_not_json_objects_become_errors(tmp_path: Path) -> None:
    home, job = folders(tmp_path)
    (home / "job_output.json").write_text("[1, 2")
    error = collect(str(home), str(job), 0, [])
    assert error is not None and "job_output.json is not a valid JSON object" in error["error"]["message"]
    (home / "job_output.json").unlink()
    (home / "job_error.json").write_text('"just a string"')
    error = collect(str(home), str(job), 1, [])
    assert error is not None and "job_error.json is not a valid error document" in error["error"]["message"]


def test_atomic_write_leaves_no_temporary_files(tmp_path: Path) -> None:
    atomic_write(str(tmp_path / "a.json"), b"{}")
    atomic_write(str(tmp_path / "a.json"), b'{"b": 1}')
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]
    assert (tmp_path / "a.json").read_bytes() == b'{"b": 1}'
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o644
