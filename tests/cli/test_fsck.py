"""`runner fsck` against an engine of its own: a line per problem, a summary, exit 0 only when clean."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from runner.cli.main import cli
from runner.client.engine_process import read_token, start_engine, stop_engine
from runner.spec.ids import new_id
from runner.store.db import Database
from runner.store.jobs import insert_job
from runner.store.tokens import issue_job_token

pytestmark = pytest.mark.docker


@pytest.fixture
def home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The state folder of an engine started for this test (short: it holds a Unix socket)."""
    state = tmp_path_factory.mktemp("fsck")
    monkeypatch.setenv("RUNNER_HOME", str(state))
    start_engine(state)
    try:
        yield state
    finally:
        stop_engine(state)


def _fsck(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["fsck", *args])
    return result.exit_code, result.output


def _plant(home: Path) -> tuple[Path, Path]:
    sha = hashlib.sha256(b"nobody uses me").hexdigest()
    blob = home / "blobs" / sha[:2] / sha
    blob.parent.mkdir(parents=True)
    blob.write_bytes(b"nobody uses me")
    folder = home / "jobs" / new_id("job")
    folder.mkdir(parents=True)
    return blob, folder


def test_a_clean_store_exits_0_with_one_summary_line(home: Path) -> None:
    code, output = _fsck()
    assert code == 0
    assert output == "clean: no problems (0 files, 0 jobs, 0 blobs checked)\n"


def test_problems_are_listed_exit_1_and_repair_fixes_them(home: Path) -> None:
    blob, folder = _plant(home)
    code, output = _fsck()
    lines = output.splitlines()
    assert code == 1 and len(lines) == 3
    assert lines[0].startswith(f"job-folder-orphan {folder.name}: no job has this folder's ID ({folder}); ")
    assert lines[1].startswith(f"blob-unreferenced {blob.name}: no file or part uses this blob ({blob}); ")
    assert all("; repair: " in line for line in lines[:2])
    assert lines[2] == ("2 problem(s) found, 0 repaired, 2 remain (0 files, 0 jobs, 1 blobs checked); "
                        "`runner fsck --repair` repairs them")
    assert blob.exists() and folder.exists()

    code, output = _fsck("--repair")
    assert code == 0 and "; repaired: it is deleted" in output
    summary = "2 problem(s) found, 2 repaired, 0 remain (0 files, 0 jobs, 1 blobs checked)"
    assert output.splitlines()[-1] == summary
    assert not blob.exists() and not folder.exists()
    assert _fsck()[0] == 0


def test_json_prints_the_engines_report(home: Path) -> None:
    blob, _ = _plant(home)
    code, output = _fsck("--json")
    report = json.loads(output)
    assert code == 1 and report["clean"] is False and report["remaining"] == 2
    unused = next(p for p in report["problems"] if p["kind"] == "blob-unreferenced")
    assert unused == {"kind": "blob-unreferenced", "object": blob.name, "path": str(blob), "repaired": False,
                      "problem": "no file or part uses this blob", "repair": "it is deleted"}


def test_the_route_refuses_a_job_token_and_bad_input(home: Path) -> None:
    url = json.loads((home / "engine.json").read_text())["url"]
    db = Database(home / "runner.db")
    try:
        job_id = new_id("job")
        insert_job(db, {"id": job_id, "rootExecution": job_id})
        job_token = issue_job_token(db, job_id)
    finally:
        db.close()
    for token, body, status, kind in ((job_token, {}, 401, "PermissionDenied"),
                                      (read_token(home), {"repair": "yes"}, 422, "InvalidInput"),
                                      (read_token(home), {"fix": True}, 422, "InvalidInput")):
        answer = requests.post(f"{url}/runner/fsck", json=body, headers={"Authorization": f"Bearer {token}"},
                               timeout=30)
        assert (answer.status_code, answer.json()["error"]["type"]) == (status, kind)
