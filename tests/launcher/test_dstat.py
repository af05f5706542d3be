"""The launcher starts the worker's resource logger through dx-dstat when the image has it, and a logger
that cannot start never stops the job: it is said on stderr, and the job runs without it."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.launcher._dstat import start_resource_logger


def _program(folder: Path, body: str) -> Path:
    path = folder / "dx-dstat"
    path.write_text("#!/bin/bash\n" + body)
    path.chmod(0o755)
    return path


def test_dx_dstat_is_run_without_arguments_in_the_home_folder(tmp_path: Path) -> None:
    seen = tmp_path / "seen"
    program = _program(tmp_path, f'echo "$# $PWD $JOB_VALUE" > {seen}\n')
    assert start_resource_logger({"PATH": "/usr/bin:/bin", "JOB_VALUE": "x"}, str(tmp_path), str(program))
    assert seen.read_text() == f"0 {tmp_path} x\n"


def test_an_image_without_dx_dstat_runs_the_job_without_a_word(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    assert not start_resource_logger({}, str(tmp_path), str(tmp_path / "dx-dstat"))
    assert capfd.readouterr() == ("", "")


def test_a_failing_dx_dstat_is_reported_and_not_fatal(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    program = _program(tmp_path, "echo 'cannot fork' >&2\nexit 3\n")
    assert not start_resource_logger({"PATH": "/usr/bin:/bin"}, str(tmp_path), str(program))
    err = capfd.readouterr().err
    assert err == (f"[applet-runner] the resource logger did not start ({program} exit 3: cannot fork); "
                   "the job runs without it\n")
