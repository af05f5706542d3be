"""A job's limits as Docker host-config arguments: cpuset and its CPU list file, memory, lxcfs, shm, GPUs by ID."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runner.backends.base import ContainerSpec
from runner.backends.docker_limits import (
    CPU_ONLINE_PATH,
    HostFeatures,
    cpu_list,
    cpu_online_file,
    host_config_args,
)


def spec(**limits: Any) -> ContainerSpec:
    return ContainerSpec(job_id="job-1", tree_id="job-1", image="img", command=("true",), **limits)


def _targets(args: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    return {m["Target"]: (m["Source"], m["ReadOnly"]) for m in args["mounts"]}


def test_cpu_lists_are_written_as_the_kernel_writes_them() -> None:
    assert cpu_list((0,)) == "0"
    assert cpu_list((0, 1)) == "0-1"
    assert cpu_list((5, 0, 1, 2, 7, 8)) == "0-2,5,7-8"


def test_the_cpu_list_file_is_written_once_read_only(tmp_path: Path) -> None:
    path = Path(cpu_online_file(tmp_path, (2, 3)))
    assert path == tmp_path / "cpu-online" / "2-3"
    assert path.read_text() == "2-3\n"
    assert path.stat().st_mode & 0o777 == 0o444
    assert cpu_online_file(tmp_path, (3, 2)) == str(path)


def test_a_cpuset_pins_the_job_and_its_cpu_list_is_mounted_over_the_online_file() -> None:
    features = HostFeatures(cpu_online_file="/home/r/cpu-online/1")
    args = host_config_args(spec(cpus=4, cpu_ids=(1,)), host_cpus=2, disk_limit=False, features=features)
    assert args["cpuset_cpus"] == "1"
    assert args["nano_cpus"] == 1_000_000_000  # a cpuset of one CPU gives one core at most
    assert _targets(args)[CPU_ONLINE_PATH] == ("/home/r/cpu-online/1", True)
    unpinned = host_config_args(spec(cpus=2), host_cpus=2, disk_limit=False)
    assert "cpuset_cpus" not in unpinned and CPU_ONLINE_PATH not in _targets(unpinned)


def test_memory_without_swap_with_lxcfs_and_shm() -> None:
    features = HostFeatures(lxcfs_dir="/var/lib/lxcfs", swappiness=True)
    args = host_config_args(spec(memory_bytes=1 << 30, shm_bytes=1 << 29), host_cpus=2, disk_limit=False,
                            features=features)
    assert (args["mem_limit"], args["memswap_limit"], args["mem_swappiness"]) == (1 << 30, 1 << 30, 0)
    assert args["shm_size"] == 1 << 29
    assert _targets(args)["/proc/meminfo"] == ("/var/lib/lxcfs/proc/meminfo", True)
    plain = host_config_args(spec(memory_bytes=1 << 30), host_cpus=2, disk_limit=False)
    assert "mem_swappiness" not in plain and "/proc/meminfo" not in _targets(plain)


@pytest.mark.parametrize(("gpus", "gpu_ids", "count", "device_ids"), [(2, (), 2, []), (1, (3,), 0, ["3"])])
def test_gpus_are_requested_by_count_or_by_device_id(gpus: int, gpu_ids: tuple[int, ...], count: int,
                                                      device_ids: list[str]) -> None:
    (request,) = host_config_args(spec(gpus=gpus, gpu_ids=gpu_ids), host_cpus=2, disk_limit=False)["device_requests"]
    assert (request["Driver"], request["Count"], request["Capabilities"]) == ("nvidia", count, [["gpu"]])
    assert request["DeviceIDs"] == device_ids
