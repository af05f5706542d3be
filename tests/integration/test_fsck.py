"""An engine killed -9 in the middle of a multi-part upload cleans up after itself when started again; a real
job's folder passes `runner fsck`, and a link planted in it is removed without touching what it points to."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from runner.client.api import EngineClient
from runner.client.engine_process import connect, start_engine, stop_engine
from runner.client.files import read_file, upload_file, upload_part
from runner.errors import ResourceNotFound
from tests.integration.helpers import run_sample, wait_terminal

pytestmark = pytest.mark.docker
MIB = 1 << 20
TTL_HOURS = 0.0005  # 1.8 s: the cut upload is idle past it by the time the engine is back


@pytest.fixture
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The state folder of an engine of this test's own, with a short open-file TTL."""
    state = tmp_path_factory.mktemp("crash")
    (state / "config.toml").write_text(f"open_file_ttl_hours = {TTL_HOURS}\n")
    try:
        yield state
    finally:
        stop_engine(state)


def _cut_put(url: str, declared: int, sent: bytes) -> socket.socket:
    """Start a PUT of `declared` bytes to `url` and send only `sent`: the connection stays open."""
    parts = urlsplit(url)
    conn = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80))
    head = (f"PUT {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Content-Length: {declared}\r\nContent-Type: application/octet-stream\r\n\r\n")
    conn.sendall(head.encode() + sent)
    return conn


def _wait_for(condition: object, what: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def _scratch(home: Path) -> list[Path]:
    folder = home / "blobs" / "tmp"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def _blob(home: Path, data: bytes) -> Path:
    sha = hashlib.sha256(data).hexdigest()
    return home / "blobs" / sha[:2] / sha


def test_kill_9_mid_upload_then_restart_removes_the_cut_upload(home: Path, tmp_path: Path) -> None:
    start_engine(home)
    client = connect(home, start=False)
    assert client.project is not None
    kept = tmp_path / "kept.bin"
    kept.write_bytes(os.urandom(2 * MIB + 17))
    kept_id = upload_file(client, kept, project=client.project, part_size=MIB)
    cut_id = client.call("/file/new", {"project": client.project, "name": "cut.bin"})["id"]
    parts = [os.urandom(MIB), os.urandom(MIB)]
    for index, data in enumerate(parts, start=1):
        upload_part(client, cut_id, index, data)
    last_activity = client.call(f"/{cut_id}/describe", {})["modified"] / 1000
    target = client.call(f"/{cut_id}/upload", {"index": 3})
    conn = _cut_put(target["url"], MIB, os.urandom(MIB // 4))
    _wait_for(lambda: any(p.stat().st_size > 0 for p in _scratch(home)), "the third part's bytes on disk")

    pid = json.loads((home / "engine.json").read_text())["pid"]
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    conn.close()
    assert _scratch(home) and all(_blob(home, p).exists() for p in parts)  # what the crash left behind
    time.sleep(max(0.0, last_activity + TTL_HOURS * 3600 + 0.2 - time.time()))  # idle past the TTL now

    start_engine(home)
    client = connect(home, start=False)
    assert _scratch(home) == []
    with pytest.raises(ResourceNotFound):
        client.call(f"/{cut_id}/describe", {})
    assert not any(_blob(home, p).exists() for p in parts)
    assert read_file(client, kept_id) == kept.read_bytes()
    report = client.call("/runner/fsck", {})
    assert (report["clean"], report["checked"]["files"]) == (True, 1)


def test_a_real_jobs_folder_is_clean_and_a_planted_link_is_removed(engine: EngineClient,
                                                                   tmp_path: Path) -> None:
    job_id = run_sample(engine, "hello_bash", {"who": "fsck"})
    assert wait_terminal(engine, job_id)["state"] == "done"
    report = engine.call("/runner/fsck", {})
    assert [p for p in report["problems"] if p["object"] == job_id] == []
    home = Path(engine.ping()["home"])
    precious = tmp_path / "precious"
    precious.write_text("a host file\n")
    (home / "jobs" / job_id / "output.json").unlink(missing_ok=True)
    (home / "jobs" / job_id / "output.json").symlink_to(precious)

    report = engine.call("/runner/fsck", {"repair": True})
    planted = [p for p in report["problems"] if p["object"] == job_id]
    assert [(p["kind"], p["repaired"]) for p in planted] == [("job-file-special", True)]
    assert "a symbolic link, not a regular file" in planted[0]["problem"]
    assert precious.read_text() == "a host file\n"
    assert not (home / "jobs" / job_id / "output.json").is_symlink()
    assert (home / "jobs" / job_id / "job.log").is_file()
