"""Which runnable jobs start now: a pure step function over requests and the host's capacity.

Jobs are taken by rank (higher first), then by age. A job whose instance type is larger than the
whole host is clamped to the host, so it still runs (alone). The head of the queue is never passed
over by smaller jobs behind it once it is the only thing waiting for room, so big jobs cannot starve.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Resources:
    """CPU cores, memory and GPUs: a job's request or the host's capacity."""

    cores: float
    memory_bytes: int
    gpus: int = 0

    def fits_in(self, free: Resources) -> bool:
        """Whether this request fits in `free`."""
        return self.cores <= free.cores and self.memory_bytes <= free.memory_bytes and self.gpus <= free.gpus

    def minus(self, other: Resources) -> Resources:
        """What is left of these resources once `other` is taken."""
        return Resources(self.cores - other.cores, self.memory_bytes - other.memory_bytes, self.gpus - other.gpus)

    def clamped_to(self, capacity: Resources) -> Resources:
        """This request, cut down to what the host has at most."""
        return Resources(min(self.cores, capacity.cores), min(self.memory_bytes, capacity.memory_bytes),
                         min(self.gpus, capacity.gpus))


@dataclass(frozen=True, slots=True)
class Candidate:
    """A job waiting for (or holding) resources."""

    job_id: str
    request: Resources
    rank: int = 0
    created: int = 0


def jobs_to_start(runnable: Iterable[Candidate], running: Iterable[Candidate], capacity: Resources) -> list[str]:
    """The IDs of the runnable jobs to start now, in start order."""
    free = capacity
    for job in running:
        free = free.minus(job.request.clamped_to(capacity))
    started: list[str] = []
    for job in sorted(runnable, key=lambda j: (-j.rank, j.created, j.job_id)):
        request = job.request.clamped_to(capacity)
        if not request.fits_in(free):
            break
        started.append(job.job_id)
        free = free.minus(request)
    return started
