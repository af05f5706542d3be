"""The pool's pure parts: pool keys, the limits given by docker update, and the waiting launcher's FIFO."""

from __future__ import annotations

import dataclasses
import json
import os
import threading
from pathlib import Path

from runner.backends.base import ContainerSpec, Mount
from runner.backends.docker_limits import host_config_args, update_body
from runner.backends.docker_pool import pool_key
from runner.launcher._waiting import read_assignment


def _spec(tmp_path: Path, job: str = "job-1", **fields: object) -> ContainerSpec:
    folder = tmp_path / job
    (folder / "work").mkdir(parents=True, exist_ok=True)
    (folder / "job_input.json").write_text("{}")
    mounts = (Mount("/launcher", "/opt/applet-runner/launcher"), Mount("/applets/a", "/opt/applet-runner/applet"),
              Mount(str(folder / "job_input.json"), "/opt/applet-runner/input/job_input.json", per_job=True),
              Mount(str(folder / "work"), "/opt/applet-runner/job", read_only=False, per_job=True))
    base = ContainerSpec(job_id=job, tree_id=job, image="img", command=("launch",), mounts=mounts, cpus=1.0,
                         memory_bytes=2**30, cpu_ids=(1,), shm_bytes=2**29, waiting_command=("wait",),
                         waiting_fifo="/opt/applet-runner/pool/assign", env={"DX_JOB_ID": job})
    return dataclasses.replace(base, **fields)  # type: ignore[arg-type]


def test_the_update_gives_the_limits_a_create_would(tmp_path: Path) -> None:
    spec = _spec(tmp_path, cpus=2.0, cpu_ids=(0, 1), memory_bytes=3 * 2**30, pids_limit=5000)
    created = host_config_args(spec, host_cpus=2, disk_limit=False)
    body = update_body(spec, host_cpus=2)
    assert body == {"NanoCpus": created["nano_cpus"], "CpusetCpus": created["cpuset_cpus"],
                    "Memory": created["mem_limit"], "MemorySwap": created["memswap_limit"],
                    "PidsLimit": created["pids_limit"]}
    assert update_body(_spec(tmp_path, cpus=4.0, cpu_ids=(1,)), host_cpus=2)["NanoCpus"] == 1_000_000_000


def test_jobs_of_one_applet_and_shm_share_a_key_whatever_their_own_paths_cores_and_memory(tmp_path: Path) -> None:
    one = pool_key(_spec(tmp_path, "job-1"), swappiness=True, quota=False)
    other = pool_key(_spec(tmp_path, "job-2", cpus=2.0, cpu_ids=(0, 1), memory_bytes=2**31), swappiness=True,
                     quota=False)
    assert one is not None and one == other
    assert one.own == (("/opt/applet-runner/input/job_input.json", True, False), ("/opt/applet-runner/job", False, True))
    assert all(source != str(tmp_path / "job-1" / "work") for source, _, _ in one.shared)
    assert pool_key(_spec(tmp_path, shm_bytes=2**30), swappiness=True, quota=False) != one


def test_what_cannot_be_made_ahead_has_no_key(tmp_path: Path) -> None:
    assert pool_key(_spec(tmp_path, network_mode="runner-jobs"), swappiness=False, quota=False) is None
    assert pool_key(_spec(tmp_path, gpus=1), swappiness=False, quota=False) is None
    assert pool_key(_spec(tmp_path, disk_bytes=10**9), swappiness=False, quota=True) is None
    assert pool_key(_spec(tmp_path, disk_bytes=10**9), swappiness=False, quota=False) is not None
    assert pool_key(_spec(tmp_path, waiting_command=()), swappiness=False, quota=False) is None


def test_the_waiting_launcher_reads_its_environment_or_an_end_of_file(tmp_path: Path) -> None:
    fifo = tmp_path / "assign"
    os.mkfifo(fifo, 0o600)

    def write(data: bytes) -> None:
        with open(fifo, "wb") as stream:
            stream.write(data)

    writer = threading.Thread(target=write, args=(json.dumps({"env": {"DX_JOB_ID": "job-1"}}).encode(),))
    writer.start()
    assert read_assignment(str(fifo)) == {"DX_JOB_ID": "job-1"}
    writer.join()
    writer = threading.Thread(target=write, args=(b"",))  # the engine went away: its end closed, nothing written
    writer.start()
    assert read_assignment(str(fifo)) is None
    writer.join()
