"""`runner terminate`: silent on success, an error line per job refused, exit 3 for a non-job ID."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from runner.cli.main import cli
from runner.errors import ResourceNotFound
from tests.cli._fake_client import FakeClient, forbid_engine, use

JOB = "job-" + "J" * 24
OTHER = "job-" + "O" * 24


def test_terminate_is_silent_on_success(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = {f"/{JOB}/terminate": {"id": JOB}, f"/{OTHER}/terminate": {"id": OTHER}}
    client = use(monkeypatch, FakeClient(answers))
    result = CliRunner().invoke(cli, ["terminate", JOB, OTHER])
    assert result.exit_code == 0 and result.output == ""
    assert client.calls == [(f"/{JOB}/terminate", {}), (f"/{OTHER}/terminate", {})]


def test_each_refusal_is_reported_and_the_rest_still_terminated(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(body: Any) -> Any:
        raise ResourceNotFound(f"the job {JOB} does not exist")

    answers = {f"/{JOB}/terminate": missing, f"/{OTHER}/terminate": {"id": OTHER}}
    client = use(monkeypatch, FakeClient(answers))
    result = CliRunner().invoke(cli, ["terminate", JOB, OTHER])
    assert result.exit_code == 1
    assert result.output == f"error: {JOB}: the job {JOB} does not exist\n"
    assert len(client.calls) == 2


@pytest.mark.parametrize("args", [["applet-" + "A" * 24], [JOB, "job-1"]])
def test_not_a_job_id_exits_3(monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    forbid_engine(monkeypatch)
    result = CliRunner().invoke(cli, ["terminate", *args])
    assert result.exit_code == 3 and "not a job ID" in result.output
