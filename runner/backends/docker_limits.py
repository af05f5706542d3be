"""A job's limits as Docker host-config arguments, and the host features they lean on (cpuset view, lxcfs).

- CPUs: a CPU quota (nano_cpus) and a cpuset of the job's CPUs. `nproc` follows the cpuset; glibc's
  sysconf(_SC_NPROCESSORS_ONLN) (os.cpu_count(), multiprocessing.cpu_count()) reads /sys/devices/system/cpu/online,
  so a read-only file listing the job's CPUs is bind-mounted over it (one file per CPU list under
  `$RUNNER_HOME/cpu-online/`, named by its content).
- memory: a hard limit with no swap (memswap = memory; swappiness 0 where the cgroup has it: v1); with lxcfs
  running (its FUSE file system mounted at /var/lib/lxcfs) its /proc files are mounted over the container's, so
  /proc/meminfo shows the limit.
- disk: Docker's storage_opt size where the storage driver takes one; otherwise a watchdog (`_disk_watch`).
- pids, /dev/shm, GPUs by device ID (NVIDIA device requests), and the hardening every container gets.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors
from docker.types import DeviceRequest
from docker.types import Mount as DockerMount

from runner.backends._outage import reason
from runner.backends.base import LABEL_HOME, BackendError, ContainerSpec

# Kept: CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, SETGID, SETUID, SETFCAP (apt-get and dpkg need them,
# jobs run as root as on the platform) and NET_BIND_SERVICE (httpsApp jobs listen on 443).
CAP_DROP = ("AUDIT_WRITE", "MKNOD", "NET_RAW", "SETPCAP", "SYS_CHROOT")
SECURITY_OPT = ("no-new-privileges",)
LXCFS_DIR = Path("/var/lib/lxcfs")
LXCFS_PROC_FILES = ("meminfo", "cpuinfo", "stat", "uptime", "loadavg", "swaps", "diskstats")
CPU_ONLINE_PATH = "/sys/devices/system/cpu/online"
CPU_ONLINE_DIR = "cpu-online"


@dataclass(frozen=True, slots=True)
class HostFeatures:
    """What this Docker host offers beyond plain limits: lxcfs's folder, cgroup v1's swappiness, a CPU list file."""

    lxcfs_dir: str | None = None
    swappiness: bool = False
    cpu_online_file: str | None = None


def lxcfs_dir(root: Path = LXCFS_DIR) -> str | None:
    """lxcfs's mount point when lxcfs runs there and answers (its meminfo reads); None otherwise."""
    try:
        if not os.path.ismount(root):
            return None
        with (root / "proc" / "meminfo").open("rb") as stream:
            if not stream.readline().startswith(b"MemTotal:"):
                return None
    except OSError:  # not there, or lxcfs died under its mount ("Transport endpoint is not connected")
        return None
    return str(root)


def storage_quota_supported(client: docker.DockerClient, image: str, home: str) -> bool:
    """Whether the storage driver takes a size limit (overlay2 only on xfs with pquota): a probe container."""
    host_config = client.api.create_host_config(storage_opt={"size": "1G"})
    try:
        probe = client.api.create_container(image, ["true"], host_config=host_config,
                                            labels={LABEL_HOME: home, "runner.probe": "disk"})
    except docker.errors.APIError as exc:
        if "storage" in reason(exc).lower():
            return False
        raise
    client.api.remove_container(str(probe["Id"]), force=True, v=True)
    return True


def cpu_list(cpu_ids: tuple[int, ...]) -> str:
    """CPU IDs in the kernel's list format: (0, 1, 2, 5) is "0-2,5"."""
    ranges: list[str] = []
    ids = sorted(set(cpu_ids))
    start = previous = ids[0]
    for cpu in [*ids[1:], None]:
        if cpu is not None and cpu == previous + 1:
            previous = cpu
            continue
        ranges.append(str(start) if start == previous else f"{start}-{previous}")
        if cpu is not None:
            start = previous = cpu
    return ",".join(ranges)


def cpu_online_file(home: Path | str, cpu_ids: tuple[int, ...]) -> str:
    """The file listing `cpu_ids` as /sys/devices/system/cpu/online does, written once (atomically) under `home`."""
    text = cpu_list(cpu_ids)
    folder = Path(home) / CPU_ONLINE_DIR
    path = folder / text
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".online.", dir=folder)
        with os.fdopen(handle, "w") as stream:
            stream.write(text + "\n")
        os.chmod(temporary, 0o444)
        os.replace(temporary, path)
    return str(path)


def _nano_cpus(spec: ContainerSpec, host_cpus: int) -> int | None:
    """The CPU quota of `spec` in billionths of a CPU; None when it asks for no quota."""
    if spec.cpus <= 0:
        return None
    # Docker refuses a CPU quota above the host's count; a cpuset of N CPUs gives at most N.
    return round(min(spec.cpus, float(host_cpus), float(len(spec.cpu_ids) or host_cpus)) * 1e9)


def _pids_limit(spec: ContainerSpec) -> int:
    if spec.pids_limit < 1:
        raise BackendError(f"pids_limit must be at least 1, got {spec.pids_limit}")
    return spec.pids_limit


def _cpu_args(spec: ContainerSpec, host_cpus: int, features: HostFeatures, mounts: list[DockerMount]) -> dict[str, Any]:
    args: dict[str, Any] = {}
    if (nano_cpus := _nano_cpus(spec, host_cpus)) is not None:
        args["nano_cpus"] = nano_cpus
    if spec.cpu_ids:
        args["cpuset_cpus"] = cpu_list(spec.cpu_ids)
        if features.cpu_online_file:
            mounts.append(DockerMount(target=CPU_ONLINE_PATH, source=features.cpu_online_file, type="bind",
                                      read_only=True))
    return args


def _memory_args(spec: ContainerSpec, features: HostFeatures, mounts: list[DockerMount]) -> dict[str, Any]:
    args: dict[str, Any] = {}
    if spec.memory_bytes > 0:
        args["mem_limit"] = spec.memory_bytes
        args["memswap_limit"] = spec.memory_bytes
        if features.swappiness:
            args["mem_swappiness"] = 0
        if features.lxcfs_dir:
            mounts.extend(lxcfs_mounts(features.lxcfs_dir))
    if spec.shm_bytes > 0:
        args["shm_size"] = spec.shm_bytes
    return args


def lxcfs_mounts(folder: str) -> list[DockerMount]:
    """lxcfs's /proc files mounted over the container's, so that /proc/meminfo shows the memory limit."""
    return [DockerMount(target=f"/proc/{name}", source=f"{folder}/proc/{name}", type="bind", read_only=True)
            for name in LXCFS_PROC_FILES]


def hardening_args(network_mode: str, pids_limit: int) -> dict[str, Any]:
    """What every container gets: its network, a pids limit, dropped capabilities, no privileges, an init."""
    return {"network_mode": network_mode, "pids_limit": pids_limit, "cap_drop": list(CAP_DROP),
            "security_opt": list(SECURITY_OPT), "privileged": False, "init": True}


def update_body(spec: ContainerSpec, host_cpus: int) -> dict[str, Any]:
    """The limits of `spec` as the body of Docker's POST /containers/{id}/update (a pooled container's job).

    The same values as `host_config_args` gives at create: CPU quota and cpuset, memory with no swap, pids.
    """
    body: dict[str, Any] = {"PidsLimit": _pids_limit(spec)}
    if (nano_cpus := _nano_cpus(spec, host_cpus)) is not None:
        body["NanoCpus"] = nano_cpus
    if spec.cpu_ids:
        body["CpusetCpus"] = cpu_list(spec.cpu_ids)
    if spec.memory_bytes > 0:
        body["Memory"] = body["MemorySwap"] = spec.memory_bytes
    return body


def _gpu_args(spec: ContainerSpec) -> dict[str, Any]:
    if spec.gpu_ids:
        ids = [str(gpu) for gpu in spec.gpu_ids]
        return {"device_requests": [DeviceRequest(driver="nvidia", device_ids=ids, capabilities=[["gpu"]])]}
    if spec.gpus > 0:
        return {"device_requests": [DeviceRequest(driver="nvidia", count=spec.gpus, capabilities=[["gpu"]])]}
    return {}


def host_config_args(spec: ContainerSpec, host_cpus: int, disk_limit: bool,
                     features: HostFeatures = HostFeatures()) -> dict[str, Any]:
    """The arguments of `create_host_config` for `spec`: limits, mounts, network and hardening."""
    pids_limit = _pids_limit(spec)
    mounts = [DockerMount(target=m.container_path, source=m.host_path, type="bind", read_only=m.read_only)
              for m in spec.mounts]
    args = hardening_args(spec.network_mode, pids_limit)
    if spec.extra_hosts:
        args["extra_hosts"] = dict(spec.extra_hosts)
    args.update(_cpu_args(spec, host_cpus, features, mounts))
    args.update(_memory_args(spec, features, mounts))
    args.update(_gpu_args(spec))
    if disk_limit and spec.disk_bytes:
        args["storage_opt"] = {"size": str(spec.disk_bytes)}
    args["mounts"] = mounts
    return args
