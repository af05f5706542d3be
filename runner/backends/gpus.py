"""What the host can give jobs: NVIDIA GPUs (through NVML, else `nvidia-smi`), CPUs, memory and free disk.

The GPU inventory also says the host's driver version, which a job's `nvidiaDriver` (R470: CUDA 11.4, R535:
CUDA 12.2) is checked against at run time (`driver_problem`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psutil
import pynvml

MIB = 1024 * 1024
SMI_QUERY = ("--query-gpu=index,uuid,name,memory.total,driver_version", "--format=csv,noheader")
SMI_TIMEOUT_S = 20
# nvidiaDriver -> (the oldest host driver that supports it, the CUDA version it brings)
NVIDIA_DRIVERS = {"R470": (470, "11.4"), "R535": (535, "12.2")}


@dataclass(frozen=True, slots=True)
class GpuInfo:
    """One NVIDIA GPU as NVML reports it."""

    index: int
    name: str
    memory_mib: int
    uuid: str


@dataclass(frozen=True, slots=True)
class HostCapacity:
    """The CPUs this process may use, the host's memory, and the free disk under `disk_path`."""

    cpus: int
    memory_bytes: int
    disk_path: str
    disk_free_bytes: int


@dataclass(frozen=True, slots=True)
class GpuInventory:
    """The host's NVIDIA GPUs, its driver version, and where they were read (`nvml`, `nvidia-smi`, `none`)."""

    gpus: tuple[GpuInfo, ...] = ()
    driver_version: str | None = None
    source: str = "none"


def gpu_inventory(smi: str = "nvidia-smi") -> GpuInventory:
    """The GPUs through NVML; through `smi` (`nvidia-smi` on PATH) when NVML cannot be loaded; else none."""
    found = _nvml_inventory()
    return found if found is not None else smi_inventory(smi)


def host_gpus() -> list[GpuInfo]:
    """The host's NVIDIA GPUs; an empty list when there is no NVIDIA driver (neither NVML nor nvidia-smi)."""
    return list(gpu_inventory().gpus)


def _nvml_inventory() -> GpuInventory | None:
    """None when the NVML library does not load."""
    try:
        pynvml.nvmlInit()
    except (pynvml.NVMLError, OSError):
        return None
    try:
        gpus = tuple(_describe(index) for index in range(pynvml.nvmlDeviceGetCount()))
        return GpuInventory(gpus, _text(pynvml.nvmlSystemGetDriverVersion()), "nvml")
    except pynvml.NVMLError:
        # A driver that answers nvmlInit but fails per device (a GPU off the bus) offers nothing usable.
        return GpuInventory(source="nvml")
    finally:
        try:
            pynvml.nvmlShutdown()
        except pynvml.NVMLError:
            pass


def _describe(index: int) -> GpuInfo:
    handle = pynvml.nvmlDeviceGetHandleByIndex(index)
    memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
    return GpuInfo(
        index=index,
        name=_text(pynvml.nvmlDeviceGetName(handle)),
        memory_mib=int(memory.total) // MIB,
        uuid=_text(pynvml.nvmlDeviceGetUUID(handle)),
    )


def smi_inventory(smi: str = "nvidia-smi") -> GpuInventory:
    """The GPUs as `smi --query-gpu=...` lists them; none when it is missing or fails."""
    program = shutil.which(smi)
    if program is None:
        return GpuInventory()
    try:
        answer = subprocess.run([program, *SMI_QUERY], capture_output=True, text=True, timeout=SMI_TIMEOUT_S,
                                check=False)
    except (OSError, subprocess.TimeoutExpired):
        return GpuInventory()
    if answer.returncode != 0:
        return GpuInventory()
    return parse_smi(answer.stdout)


def parse_smi(text: str) -> GpuInventory:
    """The inventory in `nvidia-smi --query-gpu=index,uuid,name,memory.total,driver_version` CSV; bad rows skipped."""
    gpus: list[GpuInfo] = []
    driver: str | None = None
    for line in text.splitlines():
        fields = [f.strip() for f in line.split(",")]
        if len(fields) != 5 or not fields[0].isdigit():
            continue
        memory = re.match(r"(\d+)", fields[3])
        gpus.append(GpuInfo(int(fields[0]), fields[2], int(memory.group(1)) if memory else 0, fields[1]))
        driver = driver or fields[4]
    return GpuInventory(tuple(gpus), driver, "nvidia-smi" if gpus else "none")


def driver_problem(requested: str | None, host_version: str | None) -> str | None:
    """Why the host's NVIDIA driver cannot serve a job's `nvidiaDriver` (R470, R535); None when it can."""
    if requested is None or requested not in NVIDIA_DRIVERS or host_version is None:
        return None
    least, cuda = NVIDIA_DRIVERS[requested]
    major = re.match(r"(\d+)", host_version)
    if major is not None and int(major.group(1)) >= least:
        return None
    return (f"the job asks for nvidiaDriver {requested} (CUDA {cuda}), which needs an NVIDIA driver {least} or "
            f"newer; this host's driver is {host_version}")


def _text(value: object) -> str:
    # Older NVML bindings return bytes, newer ones str.
    return value.decode() if isinstance(value, bytes) else str(value)


def host_capacity(path: Path | None = None) -> HostCapacity:
    """CPUs this process may use, total memory, and free disk under `path` (default: the home folder)."""
    target = _existing_ancestor(path or Path.home())
    return HostCapacity(
        cpus=_usable_cpus(),
        memory_bytes=int(psutil.virtual_memory().total),
        disk_path=str(target),
        disk_free_bytes=int(psutil.disk_usage(str(target)).free),
    )


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS has no sched_getaffinity
        return psutil.cpu_count(logical=True) or os.cpu_count() or 1


def _existing_ancestor(path: Path) -> Path:
    # $RUNNER_HOME may not exist yet; its disk is the one of the nearest folder that does.
    candidate = path.expanduser().absolute()
    while not candidate.exists() and candidate != candidate.parent:
        candidate = candidate.parent
    return candidate
