"""The launcher tells a job that hit its process limit from one that failed otherwise (cgroup v1 and v2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner.launcher._outcome import collect
from runner.launcher._pids import limit_hit, process_limit, refused_forks


def cgroup(root: Path, layout: str, refused: int, limit: str = "4096") -> Path:
    """The container's pids controller files as cgroup v2 (`/sys/fs/cgroup`) or v1 (`.../pids`) shows them."""
    folder = root if layout == "v2" else root / "pids"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pids.events").write_text(f"max {refused}\n")
    (folder / "pids.max").write_text(f"{limit}\n")
    return root


@pytest.mark.parametrize("layout", ["v2", "v1"])
def test_refused_forks_and_the_limit_are_read_from_either_layout(tmp_path: Path, layout: str) -> None:
    root = cgroup(tmp_path, layout, refused=7)
    assert (refused_forks(str(root)), process_limit(str(root))) == (7, 4096)
    assert limit_hit(2, str(root)) == (5, 4096)
    assert limit_hit(7, str(root)) is None


def test_no_controller_and_no_limit_are_told_apart(tmp_path: Path) -> None:
    assert refused_forks(str(tmp_path)) is None and limit_hit(None, str(tmp_path)) is None
    root = cgroup(tmp_path, "v2", refused=1, limit="max")
    assert limit_hit(None, str(root)) == (1, None)


def test_a_failure_at_the_process_limit_says_so_first(tmp_path: Path) -> None:
    home, job = tmp_path / "home", tmp_path / "job"
    home.mkdir()
    job.mkdir()
    error = collect(str(home), str(job), 1, ["BlockingIOError: [Errno 11] Resource temporarily unavailable"],
                    pids=(3, 4096))
    written = json.loads((job / "error.json").read_text())
    assert written == error
    message = written["error"]["message"]
    assert written["error"]["type"] == "AppInternalError"
    assert message.startswith("the job hit its process limit (4096 processes): 3 fork(s) refused; the job's "
                              "process exited with exit code 1")
    assert message.endswith("BlockingIOError: [Errno 11] Resource temporarily unavailable")


def test_an_app_error_keeps_its_own_message_and_a_success_stays_one(tmp_path: Path) -> None:
    home, job = tmp_path / "home", tmp_path / "job"
    home.mkdir()
    job.mkdir()
    (home / "job_error.json").write_text(json.dumps({"error": {"type": "AppError", "message": "bad input"}}))
    error = collect(str(home), str(job), 1, [], pids=(1, 64))
    assert error == {"error": {"type": "AppError", "message": "bad input"}}
    (home / "job_error.json").unlink()
    (job / "error.json").unlink()
    assert collect(str(home), str(job), 0, [], pids=(1, 64)) is None
    assert json.loads((job / "output.json").read_text()) == {}
