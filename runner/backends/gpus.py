"""What the host can give jobs: NVIDIA GPUs (through NVML), CPUs, memory and free disk."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import psutil
import pynvml

MIB = 1024 * 1024


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


def host_gpus() -> list[GpuInfo]:
    """The host's NVIDIA GPUs; an empty list when there is no NVIDIA driver or NVML library."""
    try:
        pynvml.nvmlInit()
    except (pynvml.NVMLError, OSError):
        return []
    try:
        return [_describe(index) for index in range(pynvml.nvmlDeviceGetCount())]
    except pynvml.NVMLError:
        # A driver that answers nvmlInit but fails per device (a GPU off the bus) offers nothing usable.
        return []
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
