"""GPU inventory through NVML, and the host's CPUs, memory and disk."""

from __future__ import annotations

import ctypes
import os
import re
from pathlib import Path
from types import SimpleNamespace

import pynvml
import pytest

from runner.backends import gpus
from runner.backends.gpus import GpuInfo, driver_problem, gpu_inventory, host_capacity, host_gpus


def _driver_gpus() -> int:
    """How many GPUs the host's NVIDIA driver offers: its /dev/nvidiaN nodes, when its NVML library loads."""
    try:
        ctypes.CDLL("libnvidia-ml.so.1")  # the name pynvml loads
    except OSError:
        return 0
    return sum(1 for node in Path("/dev").iterdir() if re.fullmatch(r"nvidia[0-9]+", node.name))


def test_the_gpus_found_are_the_drivers() -> None:
    assert len(host_gpus()) == _driver_gpus()


def test_gpus_are_described_when_present() -> None:
    found = host_gpus()
    assert all(isinstance(gpu, GpuInfo) and gpu.memory_mib > 0 for gpu in found)
    assert [gpu.index for gpu in found] == list(range(len(found)))


def _no_nvml(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail() -> None:
        raise pynvml.NVMLError(pynvml.NVML_ERROR_LIBRARY_NOT_FOUND)

    monkeypatch.setattr(pynvml, "nvmlInit", fail)


def _fake_smi(folder: Path, body: str) -> None:
    """An `nvidia-smi` on PATH that answers the inventory query with `body`."""
    script = folder / "nvidia-smi"
    script.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    script.chmod(0o755)


def test_missing_library_and_no_nvidia_smi_means_no_gpus(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _no_nvml(monkeypatch)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert host_gpus() == []
    assert gpu_inventory().source == "none"


def test_without_nvml_the_gpus_are_read_from_nvidia_smi(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _no_nvml(monkeypatch)
    _fake_smi(tmp_path, """[ "$1 $2" = "--query-gpu=index,uuid,name,memory.total,driver_version --format=csv,noheader" ] \\
  || exit 9
echo '0, GPU-aa11, NVIDIA H200, 143771 MiB, 470.82.01'
echo '1, GPU-bb22, NVIDIA H200, 143771 MiB, 470.82.01'""")
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    inventory = gpu_inventory()
    assert inventory.source == "nvidia-smi"
    assert inventory.driver_version == "470.82.01"
    assert inventory.gpus == (GpuInfo(0, "NVIDIA H200", 143771, "GPU-aa11"), GpuInfo(1, "NVIDIA H200", 143771, "GPU-bb22"))


def test_a_failing_nvidia_smi_means_no_gpus(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _no_nvml(monkeypatch)
    _fake_smi(tmp_path, "echo 'NVIDIA-SMI has failed because it could not communicate with the driver'; exit 9")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert gpu_inventory().gpus == ()


def test_the_requested_nvidia_driver_is_checked_against_the_hosts() -> None:
    assert driver_problem("R535", "535.104.05") is None
    assert driver_problem("R470", "535.104.05") is None
    assert driver_problem("R535", None) is None
    assert driver_problem(None, "470.82.01") is None
    assert driver_problem("R535", "470.82.01") == (
        "the job asks for nvidiaDriver R535 (CUDA 12.2), which needs an NVIDIA driver 535 or newer; this host's "
        "driver is 470.82.01")
    assert "NVIDIA driver 470 or newer" in str(driver_problem("R470", "460.32.03"))


def test_devices_are_read_through_nvml(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    fake = {
        "nvmlInit": lambda: calls.append("init"),
        "nvmlShutdown": lambda: calls.append("shutdown"),
        "nvmlDeviceGetCount": lambda: 2,
        "nvmlDeviceGetHandleByIndex": lambda index: index,
        "nvmlDeviceGetName": lambda handle: b"Old Bytes GPU" if handle == 0 else "NVIDIA H100 80GB HBM3",
        "nvmlDeviceGetMemoryInfo": lambda handle: SimpleNamespace(total=(handle + 1) * 1024**3),
        "nvmlDeviceGetUUID": lambda handle: f"GPU-{handle}",
        "nvmlSystemGetDriverVersion": lambda: b"535.104.05",
    }
    for name, function in fake.items():
        monkeypatch.setattr(pynvml, name, function)
    assert host_gpus() == [
        GpuInfo(index=0, name="Old Bytes GPU", memory_mib=1024, uuid="GPU-0"),
        GpuInfo(index=1, name="NVIDIA H100 80GB HBM3", memory_mib=2048, uuid="GPU-1"),
    ]
    assert calls == ["init", "shutdown"]
    assert gpu_inventory().driver_version == "535.104.05"
    assert gpu_inventory().source == "nvml"


def test_a_failing_device_gives_no_gpus_and_still_shuts_nvml_down(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def broken(index: int) -> None:
        raise pynvml.NVMLError(pynvml.NVML_ERROR_GPU_IS_LOST)

    monkeypatch.setattr(pynvml, "nvmlInit", lambda: calls.append("init"))
    monkeypatch.setattr(pynvml, "nvmlShutdown", lambda: calls.append("shutdown"))
    monkeypatch.setattr(pynvml, "nvmlDeviceGetCount", lambda: 1)
    monkeypatch.setattr(pynvml, "nvmlDeviceGetHandleByIndex", broken)
    assert host_gpus() == []
    assert calls == ["init", "shutdown"]


def test_host_capacity_is_sane(tmp_path: Path) -> None:
    capacity = host_capacity(tmp_path)
    assert 1 <= capacity.cpus <= (os.cpu_count() or 1)
    assert capacity.memory_bytes > 256 * gpus.MIB
    assert capacity.disk_path == str(tmp_path)
    assert capacity.disk_free_bytes > 0


def test_host_capacity_of_a_folder_not_yet_made(tmp_path: Path) -> None:
    capacity = host_capacity(tmp_path / "not" / "yet")
    assert capacity.disk_path == str(tmp_path)
