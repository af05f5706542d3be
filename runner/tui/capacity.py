"""The host's capacity as the engine gives it (`/runner/host`), and what the TUI says with it: which jobs are capped
to the host, how much room the jobs it sees running leave, and what a runnable job needs of it.

The engine fits jobs into that capacity the same way (`runner.engine.scheduler`): a job asking for more than the
host has is cut down to the host's size and runs alone, and a try holds its resources while its container is up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GiB = 2**30
HOLDING_STATES = frozenset({"running", "terminating", "debug_hold"})
"""The states in which a job's container is up, holding its cores and memory."""


@dataclass(frozen=True, slots=True)
class Capacity:
    """CPU cores, memory and GPUs: the host's, what is free, or what a job asks for."""

    cores: float
    memory_bytes: int
    gpus: int = 0

    @classmethod
    def of_answer(cls, answer: Mapping[str, Any]) -> Capacity:
        """What jobs may take as `/runner/host` answers: its `available` part (the host less the desktop's
        reserve) when it has one, else {cpus, memoryBytes, gpus}; ValueError naming a bad field."""
        available = answer.get("available")
        if isinstance(available, Mapping):
            answer = available
        return cls(_number(answer, "cpus"), int(_number(answer, "memoryBytes")), int(_number(answer, "gpus")))

    @classmethod
    def of_resources(cls, resources: Mapping[str, Any]) -> Capacity:
        """A job's request as job.created carries it: {cores, memoryBytes, gpus}, missing keys 0."""
        return cls(float(resources.get("cores") or 0), int(resources.get("memoryBytes") or 0),
                   int(resources.get("gpus") or 0))

    def capped_to(self, host: Capacity) -> Capacity:
        """This request, cut down to what the host has at most (as the scheduler does)."""
        return Capacity(min(self.cores, host.cores), min(self.memory_bytes, host.memory_bytes),
                        min(self.gpus, host.gpus))

    def exceeds(self, host: Capacity) -> bool:
        """Whether this request asks for more cores, memory or GPUs than the host has: it is capped."""
        return self.cores > host.cores or self.memory_bytes > host.memory_bytes or self.gpus > host.gpus


def _number(answer: Mapping[str, Any], key: str) -> float:
    value = answer.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"/runner/host: `{key}` is {value!r}; expected a number of at least 0")
    return float(value)


def free_room(host: Capacity, jobs: Iterable[tuple[str, Mapping[str, Any]]]) -> Capacity:
    """The host minus what the holding jobs (state, resources) take, each capped to the host; never below 0."""
    cores, memory, gpus = host.cores, host.memory_bytes, host.gpus
    for state, resources in jobs:
        if state in HOLDING_STATES:
            taken = Capacity.of_resources(resources).capped_to(host)
            cores, memory, gpus = cores - taken.cores, memory - taken.memory_bytes, gpus - taken.gpus
    return Capacity(max(0.0, cores), max(0, memory), max(0, gpus))


def _cores(value: float) -> str:
    number = f"{value:g}"
    return f"{number} core{'' if value == 1 else 's'}"


def needs_text(request: Capacity, host: Capacity, free: Capacity) -> str:
    """Why a runnable job waits: "needs 4 cores, 2 free" for each resource short now, else that it waits its turn."""
    wanted = request.capped_to(host)
    parts: list[tuple[str, str]] = []
    if wanted.cores > free.cores:
        parts.append((_cores(wanted.cores), f"{free.cores:g}"))
    if wanted.memory_bytes > free.memory_bytes:
        parts.append((f"{wanted.memory_bytes / GiB:.1f} GiB", f"{free.memory_bytes / GiB:.1f} GiB"))
    if wanted.gpus > free.gpus:
        parts.append((f"{wanted.gpus} GPU{'' if wanted.gpus == 1 else 's'}", f"{free.gpus}"))
    if not parts:
        return "fits, waiting its turn"
    return "needs " + "; ".join(f"{need}, {room} free" for need, room in parts)
