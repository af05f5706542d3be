"""Instance types as real limits, seen from inside real job containers, on an engine of this module's own.

One probe applet (python3, real dxpy), built for Ubuntu 24.04 (Python 3.13) and 20.04 (Python 3.9), reports what
the job sees: nproc, os.cpu_count(), multiprocessing.cpu_count(), sysconf's online CPUs, the cgroup's memory and
swap limits, /proc/meminfo's MemTotal, /dev/shm's size and the pids limit. Its other modes run out of memory,
write past the instance's storage, and ask /job/new for an instance type the strict policy refuses.
The engine runs with RUNNER_TEST_DISK_SCALE=0.001 (test-only): a 50 GB instance type may write 50 MB.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runner.backends.docker_limits import lxcfs_dir
from runner.client.api import EngineClient
from runner.client.engine_process import connect, start_engine, stop_engine
from runner.config import write_setting
from runner.engine._container import pids_limit
from runner.errors import InvalidInput
from runner.spec.instance_types import lookup
from runner.tui.capacity import Capacity
from tests.integration.helpers import wait_terminal

pytestmark = pytest.mark.docker
DISK_SCALE = 0.001
GIB = 2**30
PROBE_PY = '''
import multiprocessing, os, subprocess, time
import dxpy


def _read(*paths):
    for path in paths:
        try:
            with open(path) as stream:
                return stream.read().strip()
        except OSError:
            pass
    return None


def _report():
    shm = os.statvfs("/dev/shm")
    with open("/proc/meminfo") as stream:
        memtotal = next(int(line.split()[1]) for line in stream if line.startswith("MemTotal:"))
    return {
        "nproc": int(subprocess.check_output(["nproc"])), "cpu_count": os.cpu_count(),
        "mp_cpu_count": multiprocessing.cpu_count(), "sysconf_online": os.sysconf("SC_NPROCESSORS_ONLN"),
        "memory_limit": _read("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory.max"),
        "memsw_limit": _read("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"),
        "swap_max": _read("/sys/fs/cgroup/memory.swap.max"),
        "pids_max": _read("/sys/fs/cgroup/pids/pids.max", "/sys/fs/cgroup/pids.max"),
        "shm_bytes": shm.f_blocks * shm.f_frsize, "memtotal_kb": memtotal,
    }


@dxpy.entry_point("main")
def main(mode="report", mb=0):
    if mode == "oom":
        chunks = []
        while True:
            chunks.append(b"x" * (128 << 20))
    if mode == "disk":
        for target in ("/tmp/filler", "/home/dnanexus/filler"):
            with open(target, "wb") as stream:
                for _ in range(mb):
                    stream.write(os.urandom(1 << 20))
        time.sleep(600)
    if mode == "subjob":
        try:
            dxpy.new_dxjob({}, "main", instance_type="mem1_ssd1_v2_x4")
        except dxpy.exceptions.DXAPIError as exc:
            return {"report": {"error": exc.name, "message": exc.msg}}
        return {"report": {"error": None}}
    return {"report": _report()}


dxpy.run()
'''


def _write_probe(folder: Path, release: str) -> Path:
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "probe.py").write_text(PROBE_PY)
    (folder / "dxapp.json").write_text(json.dumps({
        "name": f"limits_probe_{release.replace('.', '')}", "dxapi": "1.0.0", "version": "1.0.0",
        "inputSpec": [{"name": "mode", "class": "string", "optional": True},
                      {"name": "mb", "class": "int", "optional": True}],
        "outputSpec": [{"name": "report", "class": "hash"}],
        "runSpec": {"interpreter": "python3", "file": "src/probe.py", "distribution": "Ubuntu", "release": release,
                    "version": "0", "timeoutPolicy": {"*": {"minutes": 10}},
                    "systemRequirements": {"*": {"instanceType": "mem2_hdd2_x1"}}},
        "access": {},
    }))
    return folder


@pytest.fixture(scope="module")
def limits_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The state folder of this module's engine (short: it holds a Unix socket)."""
    return tmp_path_factory.mktemp("lim")


@pytest.fixture(scope="module")
def limits_engine(limits_home: Path) -> Iterator[EngineClient]:
    """An engine whose instance storage is scaled down (the variable is set for its start only)."""
    before = os.environ.get("RUNNER_TEST_DISK_SCALE")
    os.environ["RUNNER_TEST_DISK_SCALE"] = str(DISK_SCALE)
    try:
        start_engine(limits_home)
    finally:
        if before is None:
            del os.environ["RUNNER_TEST_DISK_SCALE"]
        else:
            os.environ["RUNNER_TEST_DISK_SCALE"] = before
    try:
        yield connect(limits_home, start=False)
    finally:
        stop_engine(limits_home)


@pytest.fixture(scope="module")
def probes(limits_engine: EngineClient, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The probe applet's ID per release."""
    root = tmp_path_factory.mktemp("probes")
    return {release: str(limits_engine.call("/runner/build", {"folder": str(_write_probe(root / release, release))})["id"])
            for release in ("24.04", "20.04")}


def _run(engine: EngineClient, applet: str, instance_type: str | None, **job_input: Any) -> str:
    """Run `applet`; `instance_type` None: the applet's own (a run's would override a subjob's)."""
    body: dict[str, Any] = {"project": engine.project, "input": job_input}
    if instance_type is not None:
        body["systemRequirements"] = {"*": {"instanceType": instance_type}}
    return str(engine.call(f"/{applet}/run", body)["id"])


def _check_report(report: dict[str, Any], cores: int, memory: int) -> None:
    assert (report["nproc"], report["cpu_count"], report["mp_cpu_count"], report["sysconf_online"]) == (cores,) * 4
    assert int(report["memory_limit"]) == memory
    # No swap: on cgroup v1 memory+swap is capped at the memory limit itself; on v2 swap.max is 0.
    assert report["memsw_limit"] is None or int(report["memsw_limit"]) == memory
    assert report["swap_max"] in (None, "0")
    assert report["shm_bytes"] == memory // 2 // 4096 * 4096
    assert int(report["pids_max"]) == pids_limit(cores)
    if os.environ.get("RUNNER_REQUIRE_LXCFS") == "1":
        assert lxcfs_dir() is not None, "scripts/test started lxcfs, but it no longer serves"
    if lxcfs_dir() is not None:
        assert report["memtotal_kb"] * 1024 == memory


def test_jobs_see_their_cores_memory_shm_and_pids(limits_engine: EngineClient, limits_home: Path,
                                                  probes: dict[str, str]) -> None:
    host = Capacity.of_answer(limits_engine.call("/runner/host", {}))
    cases = [("24.04", "mem2_hdd2_x1"), ("24.04", "mem1_ssd1_v2_x2"), ("20.04", "mem2_hdd2_x1"),
             ("20.04", "mem1_ssd1_v2_x2"), ("24.04", "mem1_ssd1_v2_x4")]
    jobs = [(release, kind, _run(limits_engine, probes[release], kind)) for release, kind in cases]
    for release, kind, job_id in jobs:
        described = wait_terminal(limits_engine, job_id)
        assert described["state"] == "done", (release, kind, described.get("failureMessage"))
        wanted = lookup(kind)
        assert wanted is not None
        cores = int(min(wanted.cores, host.cores))
        memory = min(wanted.memory_bytes, host.memory_bytes)
        # The kernel keeps the limit in whole 4 KiB pages, and so does the engine.
        _check_report(described["output"]["report"], cores, memory // 4096 * 4096)
        placed = described["runnerResources"]
        assert placed["given"]["cores"] == cores and placed["given"]["memoryBytes"] == memory
        # The TUI marks a row capped (↓) from the same two facts the engine capped it by.
        assert placed["capped"] is Capacity(wanted.cores, wanted.memory_bytes).exceeds(host)
    (_, kind, capped_job) = jobs[-1]
    placed = limits_engine.call(f"/{capped_job}/describe", {})["runnerResources"]
    assert placed["capped"] is True and placed["requested"]["cores"] == 4
    assert f"{kind} asks for 4 cores, 8.0 GiB" in placed["why"] and "instance-policy cap" in placed["why"]
    log = (limits_home / "jobs" / capped_job / "job.log").read_text()
    assert f"capped: {placed['why']}" in log
    assert "try 0 started: 2 cores, 8.0 GiB (mem1_ssd1_v2_x4)" in log


def test_a_job_past_its_memory_fails_with_insufficient_resources(limits_engine: EngineClient,
                                                                  probes: dict[str, str]) -> None:
    described = wait_terminal(limits_engine, _run(limits_engine, probes["24.04"], "mem2_hdd2_x1", mode="oom"))
    assert described["state"] == "failed"
    assert described["failureReason"] == "AppInsufficientResourceError"
    assert "ran out of memory" in described["failureMessage"] and "mem2_hdd2_x1" in described["failureMessage"]


def test_a_job_writing_past_its_storage_fails_with_insufficient_resources(limits_engine: EngineClient,
                                                                          probes: dict[str, str]) -> None:
    # mem1_ssd1_v2_x2 has 50 GB, 50 MB here: 30 MB in the container's layer and 30 MB in its home (work/)
    # pass it only together, so both are counted.
    described = wait_terminal(limits_engine, _run(limits_engine, probes["24.04"], "mem1_ssd1_v2_x2", mode="disk",
                                                  mb=30))
    assert described["state"] == "failed"
    assert described["failureReason"] == "AppInsufficientResourceError"
    assert "more than the 0.05 GB of storage of its instance type mem1_ssd1_v2_x2" in described["failureMessage"]


def test_strict_refuses_runs_and_subjobs_bigger_than_the_host(limits_engine: EngineClient, limits_home: Path,
                                                              probes: dict[str, str]) -> None:
    home = limits_home
    write_setting("instance_policy", "strict", home)
    try:
        with pytest.raises(InvalidInput) as refused:
            _run(limits_engine, probes["24.04"], "mem1_ssd1_v2_x4")
        assert refused.value.message.startswith("The requested instance types are unavailable: mem1_ssd1_v2_x4 "
                                                "needs 4 cores, 8.0 GiB; this host gives jobs at most")
        assert refused.value.details["instanceType"] == "mem1_ssd1_v2_x4"
        assert refused.value.details["host"]["cores"] == limits_engine.call("/runner/host", {})["cpus"]
        described = wait_terminal(limits_engine, _run(limits_engine, probes["24.04"], None, mode="subjob"))
        assert described["state"] == "done", described.get("failureMessage")
        report = described["output"]["report"]
        assert report["error"] == "InvalidInput"
        assert report["message"].startswith("The requested instance types are unavailable: mem1_ssd1_v2_x4")
    finally:
        write_setting("instance_policy", "cap", home)


def test_gpu_types_are_refused_without_a_gpu_unless_ignored(limits_engine: EngineClient, limits_home: Path,
                                                            probes: dict[str, str]) -> None:
    home = limits_home
    host_gpus = limits_engine.call("/runner/host", {})["gpus"]
    kind = "mem1_ssd1_gpu2_x32"  # 4 GPUs: more than this host has
    if host_gpus == 0:
        with pytest.raises(InvalidInput) as refused:
            _run(limits_engine, probes["24.04"], kind)
        assert "No usable GPU was found" in refused.value.message
        assert "runner config set gpu-policy ignore" in refused.value.message
    write_setting("gpu_policy", "ignore", home)
    try:
        described = wait_terminal(limits_engine, _run(limits_engine, probes["24.04"], kind))
    finally:
        write_setting("gpu_policy", "refuse", home)
    assert described["state"] == "done", described.get("failureMessage")
    placed = described["runnerResources"]
    assert placed["capped"] is True and placed["given"]["gpus"] == min(host_gpus, 4)
    assert f"{kind} asks for 4 GPUs" in placed["why"]
