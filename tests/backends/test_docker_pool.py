"""The warm container pool, end to end: real engine daemons, real Docker, real dxpy in the jobs.

A probe applet (bash) reports what its job sees: the container it runs in (its hostname, the first 12
characters of the container's ID), DX_JOB_ID, nproc, os.cpu_count(), /proc/meminfo's MemTotal (lxcfs) and
its cgroup's memory limit. A job of an applet whose pool is ready must run in the container that was started
before the job was submitted, with the job's own limits and environment; every job gets a container of its own.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import pytest
import requests

from runner.backends._logs import docker_time
from runner.backends.base import LABEL_HOME
from runner.backends.docker_limits import lxcfs_dir
from runner.backends.docker_pool import LABEL_POOL, POOL_DIR, READY
from runner.client.engine_process import connect, engine_status, start_engine
from runner.config import write_setting
from tests.integration.helpers import engine_of_its_own, wait_terminal

pytestmark = pytest.mark.docker
PAGE = 4096
GIB = 2**30
PROBE_SH = """
main() {
    echo "container $(hostname)"
    if [ "$mode" = oom ]; then
        python3 -c 'chunks = []
while True: chunks.append(b"x" * (128 << 20))'
    fi
    if [ "$mode" = sleep ]; then
        echo "sleeping"
        sleep "$seconds"
    fi
    limit=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max)
    dx-jobutil-add-output report --class=hash "{\\"container\\": \\"$(hostname)\\", \\"job\\": \\"$DX_JOB_ID\\",
        \\"nproc\\": $(nproc), \\"cpu_count\\": $(python3 -c 'import os; print(os.cpu_count())'),
        \\"memtotal_kb\\": $(awk '/^MemTotal:/ {print $2}' /proc/meminfo), \\"memory_limit\\": \\"$limit\\"}"
}
"""
DXAPP = {
    "name": "pool_probe", "dxapi": "1.0.0", "version": "1.0.0",
    "inputSpec": [{"name": "mode", "class": "string", "default": "report"},
                  {"name": "seconds", "class": "int", "default": 0}],
    "outputSpec": [{"name": "report", "class": "hash"}],
    "runSpec": {"interpreter": "bash", "file": "src/code.sh", "distribution": "Ubuntu", "release": "24.04",
                "version": "0", "systemRequirements": {"*": {"instanceType": "mem2_hdd2_x1"}}},
    "access": {},
}


def _probe_folder(parent: Path) -> Path:
    folder = parent / "pool_probe"
    (folder / "src").mkdir(parents=True)
    (folder / "dxapp.json").write_text(json.dumps(DXAPP))
    (folder / "src" / "code.sh").write_text(PROBE_SH)
    return folder


@pytest.fixture(scope="module")
def pooled(tmp_path_factory: pytest.TempPathFactory, client: docker.DockerClient) -> Iterator[tuple[Path, str]]:
    """An engine of its own (pool size 1) and the probe applet built there."""
    with engine_of_its_own(tmp_path_factory.mktemp("pool"), client) as home:
        engine = connect(home, start=False)
        folder = _probe_folder(tmp_path_factory.mktemp("probe"))
        applet = str(engine.call("/runner/build", {"folder": str(folder)})["id"])
        seed = _report(home, _run(home, applet))  # the applet's first job makes its own container, seeds the pool
        assert seed["nproc"] == 1 and int(seed["memory_limit"]) == _expected_memory(3.8)
        yield home, applet


def _run(home: Path, applet: str, instance_type: str | None = None, **job_input: Any) -> str:
    engine = connect(home, start=False)
    body: dict[str, Any] = {"project": engine.project, "input": job_input}
    if instance_type is not None:
        body["systemRequirements"] = {"*": {"instanceType": instance_type}}
    return str(engine.call(f"/{applet}/run", body)["id"])


def _report(home: Path, job_id: str) -> dict[str, Any]:
    job = wait_terminal(connect(home, start=False), job_id)
    assert job["state"] == "done", (job.get("failureReason"), job.get("failureMessage"))
    report: dict[str, Any] = job["output"]["report"]
    return report


@dataclass(frozen=True)
class Slot:
    """A pool container as Docker lists it."""

    id: str
    slot_id: str
    started_at: float | None


def _pool_containers(client: docker.DockerClient, home: Path) -> list[str]:
    """The IDs of the home's pool containers."""
    rows = client.api.containers(all=True, filters={"label": [f"{LABEL_HOME}={home}", LABEL_POOL]})
    return [str(row["Id"]) for row in rows]


def _ready_slot(client: docker.DockerClient, home: Path, timeout_s: float = 120) -> Slot:
    """The home's pool container whose launcher waits for a job (its slot's `ready` file is there)."""
    deadline = time.monotonic() + timeout_s
    while True:
        for row in client.api.containers(all=True, filters={"label": [f"{LABEL_HOME}={home}", LABEL_POOL]}):
            slot_id = row["Labels"][LABEL_POOL]
            if (home / POOL_DIR / slot_id / READY).exists():
                started = client.api.inspect_container(row["Id"])["State"]["StartedAt"]
                return Slot(str(row["Id"]), slot_id, docker_time(started))
        assert time.monotonic() < deadline, f"no pooled container was ready within {timeout_s} s"
        time.sleep(0.1)


def _sleeping(home: Path, job_id: str, timeout_s: float = 120) -> None:
    """Wait until the probe job says it sleeps (its container runs its code)."""
    log = home / "jobs" / job_id / "job.log"
    deadline = time.monotonic() + timeout_s
    while not (log.exists() and "sleeping" in log.read_text()):
        assert time.monotonic() < deadline, f"{job_id} did not start sleeping within {timeout_s} s"
        time.sleep(0.1)


def _expected_memory(instance_gib: float) -> int:
    return int(instance_gib * GIB) // PAGE * PAGE


def test_a_later_job_runs_in_a_container_started_before_it_with_its_own_limits(
        pooled: tuple[Path, str], client: docker.DockerClient) -> None:
    home, applet = pooled
    # Two instance types of one memory (so one /dev/shm size, which is fixed at create: one pool key).
    for instance_type, cores, gib in (("mem2_hdd2_x1", 1, 3.8), ("mem1_ssd1_x2", 2, 3.8)):
        slot = _ready_slot(client, home)
        job_id = _run(home, applet, instance_type)
        report = _report(home, job_id)
        assert report["container"] == slot.id[:12], "the job ran in the container that waited for it"
        created_s = wait_terminal(connect(home, start=False), job_id)["created"] / 1000
        assert slot.started_at is not None and slot.started_at < created_s
        assert report["job"] == job_id
        assert (report["nproc"], report["cpu_count"]) == (cores, cores)
        assert int(report["memory_limit"]) == _expected_memory(gib)
        if lxcfs_dir() is not None:
            assert report["memtotal_kb"] * 1024 == _expected_memory(gib)


def test_each_job_of_a_four_job_run_gets_a_container_of_its_own(pooled: tuple[Path, str],
                                                                client: docker.DockerClient) -> None:
    home, applet = pooled
    _ready_slot(client, home)
    jobs = [_run(home, applet) for _ in range(4)]
    reports = [_report(home, job_id) for job_id in jobs]
    assert [r["job"] for r in reports] == jobs
    assert len({r["container"] for r in reports}) == 4


def test_a_pooled_job_past_its_memory_fails_with_insufficient_resources(pooled: tuple[Path, str],
                                                                       client: docker.DockerClient) -> None:
    home, applet = pooled
    slot = _ready_slot(client, home)
    job_id = _run(home, applet, mode="oom")
    job = wait_terminal(connect(home, start=False), job_id)
    assert job["state"] == "failed" and job["failureReason"] == "AppInsufficientResourceError", job
    assert f"container {slot.id[:12]}" in (home / "jobs" / job_id / "job.log").read_text()


def test_runner_ssh_into_a_pooled_job_gets_the_job_environment_and_its_usage_is_sampled(pooled: tuple[Path, str],
                                                               client: docker.DockerClient) -> None:
    home, applet = pooled
    slot = _ready_slot(client, home)
    engine = connect(home, start=False)
    job_id = _run(home, applet, mode="sleep", seconds=30)
    _sleeping(home, job_id)
    response = requests.get(f"{engine.url}/runner/shell", params={"job": job_id},
                            headers={"Authorization": f"Bearer {engine.token}"}, timeout=30)
    response.raise_for_status()
    argv: list[str] = response.json()["argv"]
    assert slot.id in argv
    command = [arg for arg in argv[:-1] if arg != "-it"] + ["printenv", "DX_JOB_ID"]
    printed = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    assert printed.stdout.strip() == job_id
    deadline = time.monotonic() + 120  # the usage sampler reads the pooled container's cgroup every 2 s
    while (engine.call(f"/{job_id}/describe", {}).get("runnerUsage") or {}).get("samples", 0) < 2:
        assert time.monotonic() < deadline, "the pooled job's usage was never sampled"
        time.sleep(0.5)
    engine.call(f"/{job_id}/terminate", {})
    assert wait_terminal(engine, job_id)["state"] == "terminated"


def test_a_pooled_job_lives_through_a_kill_9_of_the_engine_and_no_pool_container_is_left(
        tmp_path_factory: pytest.TempPathFactory, client: docker.DockerClient) -> None:
    folder = _probe_folder(tmp_path_factory.mktemp("probe"))
    with engine_of_its_own(tmp_path_factory.mktemp("poolkill"), client) as home:
        engine = connect(home, start=False)
        applet = str(engine.call("/runner/build", {"folder": str(folder)})["id"])
        _report(home, _run(home, applet))
        slot = _ready_slot(client, home)
        job_id = _run(home, applet, mode="sleep", seconds=8)
        _sleeping(home, job_id)
        idle = _ready_slot(client, home)  # the refill after the job took `slot`
        assert idle.id != slot.id
        status = engine_status(home)
        assert status.pid is not None
        os.kill(status.pid, signal.SIGKILL)
        os.waitpid(status.pid, 0)
        start_engine(home)
        report = _report(home, job_id)
        assert (report["job"], report["container"]) == (job_id, slot.id[:12])
        assert idle.id not in _pool_containers(client, home), "the previous engine's idle pool container was reaped"
        assert not (home / POOL_DIR / idle.slot_id).exists()
    assert _pool_containers(client, home) == []
    assert list((home / POOL_DIR).iterdir()) == []


def test_container_pool_0_turns_the_pool_off(tmp_path_factory: pytest.TempPathFactory,
                                             client: docker.DockerClient) -> None:
    folder = _probe_folder(tmp_path_factory.mktemp("probe"))
    home = tmp_path_factory.mktemp("nopool")
    write_setting("container_pool", "0", home)
    with engine_of_its_own(home, client):
        engine = connect(home, start=False)
        applet = str(engine.call("/runner/build", {"folder": str(folder)})["id"])
        jobs = [_run(home, applet) for _ in range(2)]
        reports = [_report(home, job_id) for job_id in jobs]
        assert [r["job"] for r in reports] == jobs
        assert _pool_containers(client, home) == []
        assert not (home / POOL_DIR).exists()


def _exec(container_id: str, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", "exec", container_id, *command], capture_output=True, text=True, timeout=60,
                          check=False)


def test_a_waiting_container_holds_nothing_of_any_job_and_its_job_cannot_write_the_slot(
        pooled: tuple[Path, str], client: docker.DockerClient) -> None:
    home, applet = pooled
    slot = _ready_slot(client, home)
    assert not [line for line in _exec(slot.id, "printenv").stdout.splitlines() if line.startswith("DX_")]
    assert _exec(slot.id, "ls", "-A", "/opt/applet-runner/job").stdout == ""
    assert _exec(slot.id, "cat", "/opt/applet-runner/input/job_input.json").stdout == ""
    assert _exec(slot.id, "ls", "/opt/applet-runner/pool").stdout.split() == ["assign"]
    job_id = _run(home, applet, mode="sleep", seconds=30)
    _sleeping(home, job_id)
    for path in ("/opt/applet-runner/input/job_input.json", "/opt/applet-runner/pool/planted",
                 "/sys/devices/system/cpu/online"):
        tried = _exec(slot.id, "sh", "-c", f"echo planted > {path}")
        assert tried.returncode != 0 and "Read-only file system" in tried.stderr, (path, tried.stderr)
    assert _exec(slot.id, "cat", "/sys/devices/system/cpu/online").stdout.strip() in {"0", "1"}
    engine = connect(home, start=False)
    engine.call(f"/{job_id}/terminate", {})
    assert wait_terminal(engine, job_id)["state"] == "terminated"
