"""`runner wait`'s arguments: what it refuses (exit 3, one line) before it asks the engine anything.

What it does against a real engine (done, failed, terminated, Ctrl+C) is in tests/integration/test_cli_wait.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from runner.cli.main import cli
from runner.cli.wait import read_job_list
from runner.errors import UsageError
from tests.cli._fake_client import forbid_engine

JOB = "job-" + "J" * 24


def refused(*args: str) -> str:
    """The one error line of `runner wait ARGS`, which must exit 3."""
    result = CliRunner().invoke(cli, ["wait", *args])
    assert result.exit_code == 3, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_arguments_that_are_not_job_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    forbid_engine(monkeypatch)
    line = refused(JOB, "file-" + "F" * 24, "nope")
    assert line == f"error: not a job ID (job-xxxx): 'file-{'F' * 24}', 'nope'"


def test_no_job_at_all(monkeypatch: pytest.MonkeyPatch) -> None:
    forbid_engine(monkeypatch)
    result = CliRunner().invoke(cli, ["wait"])
    assert result.exit_code == 2 and "Missing argument 'JOB...'" in result.stderr


def test_from_file_reads_one_id_a_line(tmp_path: Path) -> None:
    listing = tmp_path / "jobs.txt"
    listing.write_text(f"{JOB}\n\n  job-{'K' * 24}  \n")
    assert read_job_list(str(listing)) == [JOB, f"job-{'K' * 24}"]


def test_from_file_refusals(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    forbid_engine(monkeypatch)
    assert refused("--from-file", "a", "b") == "error: --from-file: give one file, not 2 arguments"
    assert refused("--from-file", str(tmp_path / "missing")).startswith(
        f"error: --from-file: cannot read {tmp_path / 'missing'}: ")
    (tmp_path / "empty").write_text("\n \n")
    assert refused("--from-file", str(tmp_path / "empty")) == f"error: --from-file: {tmp_path / 'empty'} lists no job ID"
    (tmp_path / "bad").write_text(f"{JOB}\nrecord-{'R' * 24}\n")
    assert refused("--from-file", str(tmp_path / "bad")) == f"error: not a job ID (job-xxxx): 'record-{'R' * 24}'"


def test_read_job_list_of_a_folder(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read"):
        read_job_list(str(tmp_path))
