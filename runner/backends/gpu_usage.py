"""What a job's GPUs are doing now, read through NVML by GPU index (a job has its GPUs to itself).

`GpuReader` is what the engine's sampler asks; `NvmlGpuReader` is the real one (NVML initialised once, at
the first read, and never again when it failed: a host without an NVIDIA driver costs nothing); the
engine's tests give a scripted reader of their own.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import pynvml

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class GpuUsage:
    """One GPU now: utilisation (% of time a kernel ran, as nvidia-smi shows) and memory used of its total."""

    index: int
    util_percent: float
    memory_bytes: int
    memory_total_bytes: int


class GpuReader(Protocol):
    """Readings of the GPUs with these indices (those it cannot read left out)."""

    def read(self, indices: Sequence[int]) -> list[GpuUsage]:
        """One reading per readable GPU of `indices`."""


class NvmlGpuReader:
    """GPU readings through NVML; none at all on a host where NVML does not load."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ready: bool | None = None

    def read(self, indices: Sequence[int]) -> list[GpuUsage]:
        """One reading per GPU of `indices` that NVML can read."""
        if not indices or not self._loaded():
            return []
        readings = []
        for index in indices:
            try:
                handle = pynvml.nvmlDeviceGetHandleByIndex(index)
                rates = pynvml.nvmlDeviceGetUtilizationRates(handle)
                memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
            except pynvml.NVMLError as exc:
                log.debug("GPU %d cannot be read: %s", index, exc)
                continue
            readings.append(GpuUsage(index, float(rates.gpu), int(memory.used), int(memory.total)))
        return readings

    def _loaded(self) -> bool:
        with self._lock:
            if self._ready is None:
                try:
                    pynvml.nvmlInit()
                    self._ready = True
                except (pynvml.NVMLError, OSError):
                    self._ready = False
            return self._ready
