"""The container settings DockerBackend derives from a ContainerSpec, without a Docker engine."""

from __future__ import annotations

from typing import Any

import pytest

from runner.backends._logs import LineSplitter, docker_time, stamp_key
from runner.backends.base import BackendError, ContainerSpec, Mount
from runner.backends.docker import CAP_DROP, host_config_args


def spec(**changes: Any) -> ContainerSpec:
    return ContainerSpec(**{"job_id": "job-1", "tree_id": "job-1", "image": "img", "command": ("true",), **changes})


def test_pids_limit_and_hardening_are_always_set() -> None:
    args = host_config_args(spec(), host_cpus=8, disk_limit=False)
    assert args["pids_limit"] == 4096
    assert args["privileged"] is False and args["init"] is True
    assert args["security_opt"] == ["no-new-privileges"] and args["cap_drop"] == list(CAP_DROP)
    assert args["network_mode"] == "none"
    assert "mem_limit" not in args and "device_requests" not in args and "storage_opt" not in args


def test_memory_has_no_swap_and_cpus_are_capped_at_the_host() -> None:
    args = host_config_args(spec(cpus=16, memory_bytes=1 << 30), host_cpus=2, disk_limit=False)
    assert args["mem_limit"] == args["memswap_limit"] == 1 << 30
    assert args["nano_cpus"] == 2_000_000_000
    assert host_config_args(spec(cpus=0.25), host_cpus=2, disk_limit=False)["nano_cpus"] == 250_000_000


def test_gpus_become_an_nvidia_device_request() -> None:
    (request,) = host_config_args(spec(gpus=2), host_cpus=2, disk_limit=False)["device_requests"]
    assert request["Driver"] == "nvidia" and request["Count"] == 2 and request["Capabilities"] == [["gpu"]]


def test_mounts_and_disk_limit() -> None:
    mounts = (Mount("/host/a", "/opt/a"), Mount("/host/b", "/opt/b", read_only=False))
    args = host_config_args(spec(mounts=mounts, disk_bytes=5 << 30), host_cpus=2, disk_limit=True)
    assert [(m["Source"], m["Target"], m["ReadOnly"]) for m in args["mounts"]] == [
        ("/host/a", "/opt/a", True), ("/host/b", "/opt/b", False)]
    assert args["storage_opt"] == {"size": str(5 << 30)}
    assert "storage_opt" not in host_config_args(spec(disk_bytes=5 << 30), host_cpus=2, disk_limit=False)


def test_a_pids_limit_below_one_is_refused() -> None:
    with pytest.raises(BackendError, match="pids_limit"):
        host_config_args(spec(pids_limit=0), host_cpus=2, disk_limit=False)


def test_docker_timestamps() -> None:
    assert docker_time("0001-01-01T00:00:00Z") is None
    assert docker_time("1970-01-01T00:00:01.500000000Z") == 1.5
    assert stamp_key(b"2024-01-01T00:00:00.5Z") == (b"2024-01-01T00:00:00", 500_000_000)
    later, earlier = stamp_key(b"2024-01-01T00:00:00.5Z"), stamp_key(b"2024-01-01T00:00:00.123456789Z")
    assert later is not None and earlier is not None and later > earlier
    assert stamp_key(b"garbage") is None


def test_line_splitter_joins_chunks_and_keeps_the_last_line() -> None:
    lines: list[str] = []
    splitter = LineSplitter(lines.extend)
    for chunk in (b"a\nb", b"c\n\n", b"tail"):
        splitter.feed(chunk)
    assert lines == ["a", "bc", ""]
    splitter.close()
    assert lines == ["a", "bc", "", "tail"]
