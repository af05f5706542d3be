"""What a job is given of its instance type on this host, decided when the job is created.

The `instance_policy` setting says what becomes of an instance type larger than the capacity jobs are fitted into
(the engine's, as `/runner/host` shows it): `cap` runs it with the cores and memory the host has, and says so in the
job's `runnerResources`; `strict` refuses the run with the platform's "The requested instance types are
unavailable". A GPU instance type on a host without a usable GPU is refused under both, unless `gpu_policy` is
`ignore`: it then runs without GPUs, and says so. Disk is the instance type's storage, never scaled to the host.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.config import current_settings
from runner.engine.scheduler import Resources
from runner.errors import InvalidInput
from runner.store.job_record import JobResources

UNAVAILABLE = "The requested instance types are unavailable"
GIB = 2**30


@dataclass(frozen=True, slots=True)
class HostLimits:
    """The capacity jobs are fitted into, and the policies for an instance type larger than it."""

    capacity: Resources
    instance_policy: str = "cap"
    gpu_policy: str = "refuse"


def host_limits(capacity: Resources, home: Path) -> HostLimits:
    """`capacity` with the policies in force now (read at each run: `runner config set` needs no restart)."""
    settings = current_settings(home)
    return HostLimits(capacity, settings.instance_policy, settings.gpu_policy)


def _amounts(cores: float, memory_bytes: int, gpus: int = 0) -> str:
    parts = [f"{cores:g} core{'' if cores == 1 else 's'}", f"{memory_bytes / GIB:.1f} GiB"]
    if gpus:
        parts.append(f"{gpus} GPU{'' if gpus == 1 else 's'}")
    return ", ".join(parts)


def _refusal(instance_type: str, requested: JobResources, host: HostLimits, why: str) -> InvalidInput:
    capacity = host.capacity
    return InvalidInput(
        f"{UNAVAILABLE}: {instance_type} needs {_amounts(requested.cores, requested.memory_bytes, requested.gpus)}; "
        f"this host gives jobs at most {_amounts(capacity.cores, capacity.memory_bytes, capacity.gpus)}. {why}",
        {"field": "instanceType", "instanceType": instance_type,
         "requested": {"cores": requested.cores, "memoryBytes": requested.memory_bytes, "gpus": requested.gpus},
         "host": {"cores": capacity.cores, "memoryBytes": capacity.memory_bytes, "gpus": capacity.gpus},
         "expected": "an instance type that fits this host"})


def _given_gpus(instance_type: str, requested: JobResources, host: HostLimits) -> tuple[int, str | None]:
    """The GPUs the job gets, and why they are fewer than asked (None when they are not)."""
    available = host.capacity.gpus
    if requested.gpus <= available:
        return requested.gpus, None
    if available == 0:
        if host.gpu_policy != "ignore":
            raise _refusal(instance_type, requested, host, "No usable GPU was found (`runner doctor` lists GPUs); "
                           "`runner config set gpu-policy ignore` runs GPU instance types without GPUs.")
        return 0, "no usable GPU on this host: runs without GPUs (gpu-policy ignore)"
    if host.instance_policy == "strict":
        raise _refusal(instance_type, requested, host, "instance-policy is strict; "
                       "`runner config set instance-policy cap` runs it with the GPUs there are.")
    return available, f"{available} of {requested.gpus} GPUs (instance-policy cap)"


def fit_to_host(instance_type: str, requested: JobResources, host: HostLimits) -> dict[str, Any]:
    """The job's `runnerResources`: what its instance type asks for, what it is given, and why (InvalidInput: refused).

    `capped` is true when the job gets less than its instance type asks for; `why` then says what and by which policy.
    """
    capacity = host.capacity
    gpus, gpu_note = _given_gpus(instance_type, requested, host)
    bigger = requested.cores > capacity.cores or requested.memory_bytes > capacity.memory_bytes
    if bigger and host.instance_policy == "strict":
        raise _refusal(instance_type, requested, host, "instance-policy is strict; "
                       "`runner config set instance-policy cap` runs it scaled down to the host.")
    given = JobResources(min(requested.cores, capacity.cores), min(requested.memory_bytes, capacity.memory_bytes),
                         gpus, requested.disk_bytes)
    notes = []
    if bigger:
        notes.append(f"{instance_type} asks for {_amounts(requested.cores, requested.memory_bytes)}, more than this "
                     f"host's {_amounts(capacity.cores, capacity.memory_bytes)}: runs with "
                     f"{_amounts(given.cores, given.memory_bytes)} (instance-policy cap)")
    if gpu_note is not None:
        notes.append(f"{instance_type} asks for {requested.gpus} GPU{'' if requested.gpus == 1 else 's'}: {gpu_note}")
    return {"requested": requested.document(), "given": given.document(), "capped": bool(notes),
            "why": "; ".join(notes) if notes else None}


def given_resources(job: Mapping[str, Any], fallback: JobResources) -> JobResources:
    """The resources a job was given (its `runnerResources.given`), `fallback` for a job created before them."""
    placed = job.get("runnerResources")
    if not isinstance(placed, dict) or not isinstance(placed.get("given"), dict):
        return fallback
    return JobResources.of(placed["given"])


def capped_note(job: Mapping[str, Any]) -> str | None:
    """The line a capped job's log says at the start of each try; None when the job got what it asked for."""
    placed = job.get("runnerResources")
    if isinstance(placed, dict) and placed.get("capped"):
        return f"capped: {placed.get('why')}"
    return None
