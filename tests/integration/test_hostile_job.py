"""A hostile job (root in its container, code the user did not write) against a real engine and real Docker.

It plants links to host files, FIFOs, folders, hard links and oversized or deeply nested documents at every
path the engine reads or once wrote, after moving the launcher's view of its folder away so that what it
planted stays. Whatever it does: the linked host files are byte-identical with the same mtime, nothing outside
its own job folder changes, the job ends with an AppInternalError naming the file and what was wrong (or done
where the planted thing is harmless), and the engine goes on serving. Also across a `kill -9` of the engine.
"""

from __future__ import annotations

import hashlib
import os
import signal
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from runner.client.api import EngineClient
from runner.engine.job_files import MAX_DEPTH, MAX_DOCUMENT_BYTES
from tests.integration.helpers import build_test_applet, run_sample, run_test_applet, wait_terminal

pytestmark = pytest.mark.docker

Snapshot = dict[str, tuple[Any, ...]]
# What the engine itself changes in its state folder while jobs run (besides the jobs' own folders).
ENGINE_CHANGES = ("runner.db", "runner.db-wal", "runner.db-shm", "runner.db-journal", "engine.log",
                  "engine.json", "engine.lock", "engine.port", "https.port", "engine.alive", "api",
                  # the CPU list files mounted read-only over jobs' /sys/devices/system/cpu/online
                  "cpu-online",
                  # the warm pool's slots, made and removed by the engine (a job mounts its own slot's read-only)
                  "pool")
REFUSED = "the {} the job left cannot be used: "
LINK = "it is a symbolic link (the engine follows no link in the job folder)"
EXPECTED: dict[str, tuple[str, str | None]] = {
    "output_link_canary": ("failed", REFUSED.format("output.json") + LINK),
    "output_link_passwd": ("failed", REFUSED.format("output.json") + LINK),
    "error_link_canary": ("failed", REFUSED.format("error.json") + LINK),
    "output_fifo": ("failed", REFUSED.format("output.json") + "it is a FIFO, not a regular file"),
    "output_directory": ("failed", REFUSED.format("output.json") + "it is a directory, not a regular file"),
    "output_huge": ("failed", REFUSED.format("output.json") + f"it is {MAX_DOCUMENT_BYTES + 1} bytes, more "
                    f"than the limit of {MAX_DOCUMENT_BYTES} bytes"),
    "output_deep": ("failed", REFUSED.format("output.json") + f"it is nested deeper than {MAX_DEPTH} levels"),
    "home_output_link": ("failed", "job_output.json is not a valid JSON object"),
    "fork_bomb": ("failed", "the job hit its process limit (4096 processes): "),
    "hard_links": ("done", None),
    "old_names": ("done", None),
}
OUTPUTS = {"hard_links": {"outside": "EXDEV"}, "old_names": {"planted": "old names"}}


@dataclass(frozen=True)
class Canaries:
    """Host files a job would like to read or overwrite: one file and its folder, outside every job folder."""

    folder: Path
    file: Path


def snapshot(roots: list[Path], skip: set[Path]) -> Snapshot:
    """Every file, link and folder under `roots` (not under `skip`): hash, mode, size, mtime, link target."""
    seen: Snapshot = {}
    for root in roots:
        for folder, names, files in os.walk(root):
            names[:] = [n for n in names if Path(folder, n) not in skip]
            for name in files + [n for n in names if Path(folder, n).is_symlink()]:
                path = Path(folder, name)
                if path in skip:
                    continue
                info = path.lstat()
                if path.is_symlink():
                    seen[str(path)] = ("link", os.readlink(path))
                elif path.is_file():
                    digest = hashlib.sha256(path.read_bytes()).hexdigest()
                    seen[str(path)] = ("file", digest, info.st_mode, info.st_size, info.st_mtime_ns)
                else:
                    seen[str(path)] = ("other", info.st_mode)
    return seen


def home_snapshot(home: Path, canaries: Canaries, own_jobs: list[str]) -> Snapshot:
    """The host files a job could reach through the engine: the canaries, /etc/passwd and the state folder."""
    skip = {home / name for name in ENGINE_CHANGES} | {home / "jobs" / job for job in own_jobs}
    passwd = Path("/etc/passwd")
    return {**snapshot([canaries.folder, home], skip),
            "/etc/passwd": (hashlib.sha256(passwd.read_bytes()).hexdigest(), passwd.stat().st_mtime_ns)}


def make_canaries(folder: Path) -> Canaries:
    (folder / "inner").mkdir()
    (folder / "inner" / "keep.txt").write_text("keep me\n")
    canary = folder / "canary.json"
    canary.write_text('{"host": "secret"}\n')
    return Canaries(folder, canary)


def hostile_input(canaries: Canaries, scenario: str) -> dict[str, str]:
    return {"scenario": scenario, "canary": str(canaries.file), "canary_dir": str(canaries.folder)}


@dataclass(frozen=True)
class Runs:
    """The hostile jobs of one batch, as they ended, and the host before and after."""

    jobs: dict[str, dict[str, Any]]
    before: Snapshot
    after: Snapshot


@pytest.fixture(scope="module")
def runs(engine: EngineClient, engine_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    canaries = make_canaries(tmp_path_factory.mktemp("canaries"))
    build_test_applet(engine, "hostile")  # before the snapshot: a build adds the applet to the state folder
    before = home_snapshot(engine_home, canaries, [])
    started = {scenario: run_test_applet(engine, "hostile", hostile_input(canaries, scenario))
               for scenario in EXPECTED}
    jobs = {scenario: wait_terminal(engine, job_id, timeout_s=600) for scenario, job_id in started.items()}
    after = home_snapshot(engine_home, canaries, list(started.values()))
    return Runs(jobs, before, after)


@pytest.mark.parametrize("scenario", sorted(EXPECTED))
def test_a_planted_file_fails_the_job_naming_it_or_is_harmless(runs: Runs, scenario: str) -> None:
    job = runs.jobs[scenario]
    state, message = EXPECTED[scenario]
    assert job["state"] == state, (job.get("failureReason"), job.get("failureMessage"))
    if state == "failed":
        assert job["failureReason"] == "AppInternalError"
        assert message is not None and message in job["failureMessage"], job["failureMessage"]
    else:
        assert job["output"] == OUTPUTS[scenario]


def test_no_host_file_outside_the_jobs_own_folders_changed(runs: Runs) -> None:
    assert runs.after == runs.before


def test_the_engines_own_files_in_each_job_folder_are_regular_files(runs: Runs, engine_home: Path) -> None:
    for scenario, job in runs.jobs.items():
        folder = engine_home / "jobs" / job["id"]
        own = {p.name: p for p in folder.iterdir() if p.name != "work"}
        assert {"job.log", "job_input.json"} <= set(own), scenario
        assert all(p.is_file() and not p.is_symlink() for p in own.values()), (scenario, sorted(own))
        assert ("output.json" in own) == (job["state"] == "done"), (scenario, sorted(own))


def test_the_engine_keeps_serving_after_the_hostile_jobs(runs: Runs, engine: EngineClient) -> None:
    who = f"after-{uuid.uuid4().hex[:8]}"
    job = wait_terminal(engine, run_sample(engine, "hello_bash", {"who": who}))
    assert (job["state"], job["output"]) == ("done", {"greeting": f"Hello, {who}!"})


@pytest.fixture
def own_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The state folder of an engine daemon of this test alone (it is killed and started again)."""
    from runner.client.engine_process import start_engine, stop_engine

    home = tmp_path_factory.mktemp("hj")
    start_engine(home)
    try:
        yield home
    finally:
        stop_engine(home)


def kill_engine(home: Path) -> None:
    from runner.client.engine_process import engine_status

    pid = engine_status(home).pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    while True:  # our child: reap it, so that it is gone rather than a zombie
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            return
        time.sleep(0.1)


def wait_for_file(path: Path, log: Path, timeout_s: float = 300) -> None:
    """Wait until the job has written `path` in its work folder."""
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        assert time.monotonic() < deadline, f"the job wrote no {path.name}; its log:\n{log.read_text()}"
        time.sleep(0.2)


def test_a_job_that_plants_while_the_engine_is_down_achieves_nothing(own_engine: Path,
                                                                      tmp_path: Path) -> None:
    from runner.client.engine_process import connect, start_engine

    canaries = make_canaries(tmp_path)
    engine = connect(own_engine, start=False)
    build_test_applet(engine, "hostile")
    job_id = run_test_applet(engine, "hostile", hostile_input(canaries, "after_restart"))
    work = own_engine / "jobs" / job_id / "work"
    wait_for_file(work / "watching", own_engine / "jobs" / job_id / "job.log")
    before = home_snapshot(own_engine, canaries, [job_id])
    kill_engine(own_engine)
    wait_for_file(work / "planted", own_engine / "jobs" / job_id / "job.log")
    start_engine(own_engine)
    engine = connect(own_engine, start=False)
    job = wait_terminal(engine, job_id, timeout_s=300)
    # The restarted engine carries on with the running container and refuses what it planted (error.json is
    # read first).
    assert (job["state"], job["failureReason"]) == ("failed", "AppInternalError"), job
    assert job["failureMessage"] == REFUSED.format("error.json") + LINK
    assert home_snapshot(own_engine, canaries, [job_id]) == before
    assert canaries.file.read_text() == '{"host": "secret"}\n'
    who = f"restart-{uuid.uuid4().hex[:8]}"
    after = wait_terminal(engine, run_sample(engine, "hello_bash", {"who": who}))
    assert (after["state"], after["output"]) == ("done", {"greeting": f"Hello, {who}!"})
