"""A full disk under $RUNNER_HOME (a 48 MiB tmpfs as the state folder of an engine of this module's own).

Uploads that hit ENOSPC, and store writes that hit SQLITE_FULL, fail with one clear DiskFull error; nothing
partial is left in blobs/; the store stays consistent; once space is freed, uploads and jobs work again.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from runner.cli.main import cli
from runner.client.api import EngineClient
from runner.client.engine_process import connect, start_engine, stop_engine
from runner.client.files import read_file, upload_file
from runner.errors import ApiError
from tests.integration.helpers import job_containers, wait_terminal

pytestmark = pytest.mark.docker
MIB = 1 << 20
CHATTY = {
    "name": "chatty", "dxapi": "1.0.0", "version": "1.0.0",
    "inputSpec": [{"name": "lines", "class": "int"}], "outputSpec": [{"name": "said", "class": "int"}],
    "runSpec": {"interpreter": "bash", "file": "src/chatty.sh", "distribution": "Ubuntu", "release": "24.04",
                "version": "0", "timeoutPolicy": {"*": {"minutes": 5}},
                "systemRequirements": {"*": {"instanceType": "mem1_ssd1_v2_x2"}}},
    "access": {},
}
CHATTY_SH = """#!/bin/bash
main() {
    for i in $(seq 1 "${lines}"); do echo "line ${i} of a chatty job"; sleep 0.2; done
    dx-jobutil-add-output said "${lines}" --class=int
}
"""


@pytest.fixture(scope="module")
def disk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A 48 MiB tmpfs, unmounted at the end."""
    mount = tmp_path_factory.mktemp("disk")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        if subprocess.run(["umount", str(mount)], check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(mount)], check=True)


@pytest.fixture(scope="module")
def home(disk: Path) -> Iterator[Path]:
    """The state folder, on the small disk, of an engine started for this module."""
    state = disk / "home"
    start_engine(state)
    try:
        yield state
    finally:
        stop_engine(state)


@pytest.fixture
def engine_client(home: Path) -> Iterator[EngineClient]:
    with connect(home, start=False) as client:
        yield client


@pytest.fixture
def filler(disk: Path) -> Iterator[Path]:
    """The file that takes the disk's space; removed after each test."""
    path = disk / "filler"
    yield path
    path.unlink(missing_ok=True)


def _fill(path: Path, leave: int) -> None:
    """Grow `path` until only `leave` bytes are free on its disk (none at all for 0)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        free = os.statvfs(path.parent).f_bavail * os.statvfs(path.parent).f_frsize
        chunk = b"\1" * MIB
        for _ in range(max(0, free - leave) // MIB):
            os.write(fd, chunk)
        while leave == 0:
            os.write(fd, b"\1" * 4096)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)


def _disk_full(error: ApiError, home: Path) -> None:
    assert error.dx_type == "DiskFull"
    assert f"the engine's disk under $RUNNER_HOME ({home}) is full" in error.message


def _scratch(home: Path) -> list[str]:
    return os.listdir(home / "blobs" / "tmp") if (home / "blobs" / "tmp").is_dir() else []


def _blob_files(home: Path) -> set[str]:
    return {p.name for p in (home / "blobs").glob("??/*")}


def _consistent(client: EngineClient, home: Path) -> None:
    with sqlite3.connect(f"file:{home / 'runner.db'}?mode=ro", uri=True) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    conn.close()
    report = client.call("/runner/fsck", {})
    assert report["problems"] == [] and report["clean"] is True


def test_a_part_that_does_not_fit_fails_clearly_and_leaves_nothing(engine_client: EngineClient, home: Path,
                                                                  filler: Path) -> None:
    project = engine_client.project
    _fill(filler, leave=MIB)
    blobs_before = _blob_files(home)
    file_id = engine_client.call("/file/new", {"project": project, "name": "too-big.bin"})["id"]
    target = engine_client.call(f"/{file_id}/upload", {"index": 1})
    answer = requests.put(target["url"], data=os.urandom(3 * MIB), timeout=60)
    error = answer.json()["error"]
    assert (answer.status_code, error["type"]) == (422, "DiskFull")
    assert f"the engine's disk under $RUNNER_HOME ({home}) is full" in error["message"]
    assert _scratch(home) == [] and _blob_files(home) == blobs_before
    assert engine_client.call(f"/{file_id}/describe", {"fields": {"parts": True}})["parts"] == {}
    filler.unlink()
    _consistent(engine_client, home)


def test_a_close_that_does_not_fit_fails_clearly_and_the_file_stays_open(
        engine_client: EngineClient, home: Path, filler: Path, tmp_path: Path) -> None:
    source = tmp_path / "three.bin"
    source.write_bytes(os.urandom(3 * MIB))
    _fill(filler, leave=4 * MIB)  # the three parts fit; joining them into one blob does not
    with pytest.raises(ApiError) as failed:
        upload_file(engine_client, source, project=str(engine_client.project), part_size=MIB)
    _disk_full(failed.value, home)
    assert _scratch(home) == []
    found = engine_client.call("/system/findDataObjects", {"scope": {"project": engine_client.project},
                                                          "name": "three.bin", "describe": True})["results"]
    assert [r["describe"]["state"] for r in found] == ["open"]
    filler.unlink()
    _consistent(engine_client, home)


def test_store_writes_on_a_full_disk_fail_clearly_then_uploads_work_again(
        engine_client: EngineClient, home: Path, filler: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "again.bin"
    source.write_bytes(os.urandom(2 * MIB + 5))
    _fill(filler, leave=0)
    failures: list[ApiError] = []
    for attempt in range(200):  # the store's write-ahead log may hold a few small writes before it is full
        try:
            engine_client.call("/file/new", {"project": engine_client.project, "name": f"n{attempt}",
                                             "details": {"padding": "x" * 16384}})
        except ApiError as exc:
            failures.append(exc)
            break
    assert failures, "no store write failed on a full disk"
    _disk_full(failures[0], home)
    assert "database or disk is full" in failures[0].message

    monkeypatch.setenv("RUNNER_HOME", str(home))
    result = CliRunner().invoke(cli, ["upload", str(source)])
    assert result.exit_code == 1
    assert result.output.startswith(f"error: the engine's disk under $RUNNER_HOME ({home}) is full")

    filler.unlink()
    _consistent(engine_client, home)
    file_id = upload_file(engine_client, source, project=str(engine_client.project), part_size=MIB)
    back = read_file(engine_client, file_id)
    assert hashlib.sha256(back).hexdigest() == hashlib.sha256(source.read_bytes()).hexdigest()


def _containers(client: Any, home: Path, job_id: str) -> list[Any]:
    return job_containers(client, home, job_id=job_id)


def test_a_job_running_into_a_full_disk_does_not_bring_the_engine_down(
        engine_client: EngineClient, home: Path, filler: Path, tmp_path: Path, client: Any) -> None:
    app = tmp_path / "chatty"
    (app / "src").mkdir(parents=True)
    (app / "dxapp.json").write_text(json.dumps(CHATTY))
    (app / "src" / "chatty.sh").write_text(CHATTY_SH)
    applet = engine_client.call("/runner/build", {"folder": str(app)}, timeout_s=None)["id"]
    project = engine_client.project
    job_id = engine_client.call(f"/{applet}/run", {"project": project, "input": {"lines": 25}})["id"]
    log = home / "jobs" / job_id / "job.log"
    deadline = time.monotonic() + 120
    while not (log.exists() and b"line 3 " in log.read_bytes()):
        assert time.monotonic() < deadline, "the job never started printing"
        time.sleep(0.1)
    _fill(filler, leave=0)  # its log lines, its output.json and its state changes now hit ENOSPC
    while _containers(client, home, job_id):
        assert time.monotonic() < deadline + 120, "the job's container never ended"
        time.sleep(0.2)
    assert engine_client.ping()["ok"] is True

    filler.unlink()
    # The end of its try, refused by the full store, is recorded once there is room: it does not stay running.
    ended = wait_terminal(engine_client, job_id)
    assert ended["state"] in ("done", "failed"), ended
    again = engine_client.call(f"/{applet}/run", {"project": project, "input": {"lines": 2}})["id"]
    assert wait_terminal(engine_client, again)["output"] == {"said": 2}
    _consistent(engine_client, home)
