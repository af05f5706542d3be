"""Which runnable jobs start now, on which CPUs and GPUs: a pure step over requests and the host.

Capacity. A job's cores, memory and GPUs (its instance type, cut down to the host when larger: `cap`)
must fit in what is free: the host's CPUs (the engine's affinity) and memory less the desktop's reserve
(`reserve_cores`, `reserve_memory_gib`), less what the running tries hold. A try holds its share until
its process ends (`released`); a parent waiting on output has no try and holds nothing. With
`max_parallel` set, at most that many tries hold host capacity at once.

Order. By rank (higher first; children carry the root's), then age (ties: the store's order). A job that does not fit is passed
by smaller jobs behind it at most `MAX_PASSES` times; then it keeps its place and nothing behind it
starts on the host until it fits, so big jobs cannot starve.

The deadlock rule: lending. A running job may block on its descendants (`dx wait`, polling), so a tree
whose children wait for room the parent holds would never end. A runnable job that does not fit on the
host therefore runs inside the reservation of its nearest running ancestor that still has room in it:
the ancestor lends its cores (and its memory, only when the host has not enough free; never its GPUs)
to its descendants. A borrower's CPUs are the lender's (oversubscribed: the lender's cpuset is shared
with those it lends to, so the host's CPUs are never exceeded, only the lender's share is split), and
it does not count against `max_parallel` (it runs in the lender's slot). Lending ignores the queue order: the
queue's head may be waiting for the very lender to end. A borrower whose lender's process ends counts
against the host again (nothing more starts until it fits).

CPUs and GPUs. A job on the host gets as many CPU IDs as its cores (rounded up), exclusive while free
ones remain; a capped job gets every CPU. GPUs are always exclusive: a GPU job waits while they are busy.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

GIB = 2**30
# How many times a job that does not fit may be passed by jobs behind it before it holds its place.
MAX_PASSES = 4


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
class Assignment:
    """The host CPU IDs and GPU indices a try runs on; `lender`: the ancestor whose reservation it borrows."""

    cpu_ids: tuple[int, ...] = ()
    gpu_ids: tuple[int, ...] = ()
    lender: str | None = None
    memory_lent: bool = False  # the borrower's memory is the lender's too (the host had not enough free)

    def document(self) -> dict[str, Any]:
        """The stored form (the job record's `assignment`)."""
        return {"cpuIds": list(self.cpu_ids), "gpuIds": list(self.gpu_ids), "lender": self.lender,
                "memoryLent": self.memory_lent}

    @classmethod
    def of(cls, stored: Mapping[str, Any] | None) -> Assignment:
        """From the stored form; an empty assignment for a job stored before assignments existed."""
        stored = stored or {}
        return cls(tuple(int(c) for c in stored.get("cpuIds") or ()), tuple(int(g) for g in stored.get("gpuIds") or ()),
                   stored.get("lender"), bool(stored.get("memoryLent")))


@dataclass(frozen=True, slots=True)
class Host:
    """What jobs are fitted into: the engine's CPU IDs, memory, GPU indices, the reserve and max_parallel."""

    cpu_ids: tuple[int, ...]
    memory_bytes: int
    gpu_ids: tuple[int, ...] = ()
    reserve: Resources = Resources(0, 0)
    max_parallel: int = 0  # 0: no limit
    nvidia_driver: str | None = None  # the host's NVIDIA driver version, when it has one

    @classmethod
    def sized(cls, capacity: Resources) -> Host:
        """A host of `capacity` with CPUs 0..n-1 and GPUs 0..g-1."""
        return cls(tuple(range(max(1, math.ceil(capacity.cores)))), capacity.memory_bytes, tuple(range(capacity.gpus)))

    @property
    def resources(self) -> Resources:
        """The whole host."""
        return Resources(float(len(self.cpu_ids)), self.memory_bytes, len(self.gpu_ids))

    @property
    def capacity(self) -> Resources:
        """What jobs may take: the host less the reserve, never below one core and 1 GiB (or the host)."""
        whole = self.resources
        cores = max(min(1.0, whole.cores), whole.cores - self.reserve.cores)
        memory = max(min(GIB, whole.memory_bytes), whole.memory_bytes - self.reserve.memory_bytes)
        return Resources(cores, memory, whole.gpus)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A job waiting for (or holding) resources; `ancestors`: its parent first, up to the root."""

    job_id: str
    request: Resources
    rank: int = 0
    created: int = 0
    ancestors: tuple[str, ...] = ()
    assignment: Assignment = Assignment()
    passed: int = 0


@dataclass(frozen=True, slots=True)
class Plan:
    """One step's answer: the tries to start, why the others wait, and how often each waiting job was passed."""

    starts: tuple[tuple[str, Assignment], ...] = ()
    waiting: Mapping[str, str] = field(default_factory=dict)
    passed: Mapping[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class _Room:
    """The mutable state of one step: free host room, lenders' room, CPUs and GPUs in use."""

    host: Host
    free: Resources
    slots_used: int = 0
    cpu_use: dict[int, int] = field(default_factory=dict)
    gpus_busy: set[int] = field(default_factory=set)
    lent: dict[str, Resources] = field(default_factory=dict)
    lender_cpus: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def take(self, job_id: str, request: Resources, assignment: Assignment) -> None:
        """Account for a try on `assignment` (from the host, or from its lender's room)."""
        lender = assignment.lender
        if lender is not None and lender in self.lent:
            lent_memory = request.memory_bytes if assignment.memory_lent else 0
            self.lent[lender] = self.lent[lender].minus(Resources(request.cores, lent_memory))
            self.free = self.free.minus(Resources(0, request.memory_bytes - lent_memory, request.gpus))
        else:
            self.free = self.free.minus(request)
            self.slots_used += 1
        for cpu in assignment.cpu_ids:
            self.cpu_use[cpu] = self.cpu_use.get(cpu, 0) + 1
        self.gpus_busy.update(assignment.gpu_ids)
        self.lent[job_id] = Resources(request.cores, request.memory_bytes)
        self.lender_cpus[job_id] = assignment.cpu_ids

    def pick_cpus(self, among: tuple[int, ...], count: int) -> tuple[int, ...]:
        """`count` of `among`, the least used first (exclusive while unused ones remain), in ID order."""
        ranked = sorted(among, key=lambda cpu: (self.cpu_use.get(cpu, 0), cpu))
        return tuple(sorted(ranked[:count]))

    def free_gpus(self) -> list[int]:
        """The GPU indices no try holds."""
        return [gpu for gpu in self.host.gpu_ids if gpu not in self.gpus_busy]


def plan(runnable: Iterable[Candidate], running: Iterable[Candidate], host: Host) -> Plan:
    """The tries to start now (in start order, with their CPUs and GPUs) and why every other runnable job waits."""
    capacity = host.capacity
    room = _Room(host, capacity)
    for job in sorted(running, key=lambda j: len(j.ancestors)):  # a lender before those it lends to
        room.take(job.job_id, job.request.clamped_to(capacity), job.assignment)
    starts: list[tuple[str, Assignment]] = []
    waiting: dict[str, str] = {}
    passed: dict[str, int] = {}
    holder: str | None = None  # a job that was passed over enough: it keeps its place
    # Why a job that cannot start waits, by (request, ancestors, holder): the room changes only when a job takes.
    refused: dict[tuple[Resources, tuple[str, ...], str | None], str] = {}
    for job in sorted(runnable, key=lambda j: (-j.rank, j.created)):  # stable: ties keep the store's order
        key = (job.request, job.ancestors, holder)
        assignment = None
        if key in refused:
            why = refused[key]
        else:
            request = job.request.clamped_to(capacity)
            if holder is None and _fits_host(room, request):
                assignment = _on_host(room, job, request, capacity)
                for ahead in waiting:
                    passed[ahead] = passed.get(ahead, 0) + 1
            if assignment is None:
                assignment = _borrowed(room, job, request)
            why = refused[key] = _why(room, request, holder) if assignment is None else ""
        if assignment is None:
            waiting[job.job_id] = why
            passed.setdefault(job.job_id, job.passed)
            if holder is None and job.passed >= MAX_PASSES:
                holder = job.job_id
            continue
        room.take(job.job_id, job.request.clamped_to(capacity), assignment)
        refused.clear()
        starts.append((job.job_id, assignment))
    return Plan(tuple(starts), waiting, {job_id: count for job_id, count in passed.items() if job_id in waiting})


def jobs_to_start(runnable: Iterable[Candidate], running: Iterable[Candidate], host: Host) -> list[tuple[str, Assignment]]:
    """The runnable jobs to start now, in start order, each with its CPUs and GPUs."""
    return list(plan(runnable, running, host).starts)


def _fits_host(room: _Room, request: Resources) -> bool:
    parallel_ok = room.host.max_parallel <= 0 or room.slots_used < room.host.max_parallel
    return parallel_ok and request.fits_in(room.free) and request.gpus <= len(room.free_gpus())


def _on_host(room: _Room, job: Candidate, request: Resources, capacity: Resources) -> Assignment:
    capped = job.request.cores > capacity.cores
    count = len(room.host.cpu_ids) if capped else max(1, math.ceil(request.cores))
    return Assignment(room.pick_cpus(room.host.cpu_ids, count), tuple(room.free_gpus()[:request.gpus]))


def _borrowed(room: _Room, job: Candidate, request: Resources) -> Assignment | None:
    """The assignment of `job` inside its nearest running ancestor's reservation, when one has room left."""
    if request.gpus > len(room.free_gpus()):
        return None
    memory_lent = request.memory_bytes > room.free.memory_bytes
    for ancestor in job.ancestors:
        left = room.lent.get(ancestor)
        if left is not None and Resources(request.cores, request.memory_bytes if memory_lent else 0).fits_in(left):
            cpus = room.lender_cpus[ancestor] or room.host.cpu_ids
            count = min(len(cpus), max(1, math.ceil(request.cores)))
            return Assignment(room.pick_cpus(cpus, count), tuple(room.free_gpus()[:request.gpus]), ancestor,
                              memory_lent)
    return None


def _why(room: _Room, request: Resources, holder: str | None) -> str:
    """Why a job that neither fits on the host nor in an ancestor's reservation waits, as describe says it."""
    host = room.host
    if host.max_parallel > 0 and room.slots_used >= host.max_parallel:
        return f"max-parallel {host.max_parallel} reached"
    short_cores, short_memory = request.cores > room.free.cores, request.memory_bytes > room.free.memory_bytes
    free_cores, free_gib = max(0.0, room.free.cores), max(0, room.free.memory_bytes) / GIB
    memory = f"{request.memory_bytes / GIB:.1f} GiB of memory"
    if short_cores and short_memory:
        return f"needs {_cores(request.cores)} and {memory}; {_cores(free_cores)} and {free_gib:.1f} GiB free"
    if short_cores:
        return f"needs {_cores(request.cores)}; {free_cores:g} free"
    if short_memory:
        return f"needs {memory}; {free_gib:.1f} GiB free"
    free_gpus = len(room.free_gpus())
    if request.gpus > free_gpus:
        return _gpu_text(request.gpus, len(host.gpu_ids), free_gpus)
    return f"waiting its turn: {holder} goes first" if holder else "waiting its turn"


def _cores(value: float) -> str:
    return f"{value:g} core{'' if value == 1 else 's'}"


def _gpu_text(wanted: int, total: int, free: int) -> str:
    if wanted == 1 and free == 0:
        busy = {1: "the only one is busy", 2: "both busy"}.get(total, f"all {total} busy")
        return f"waiting for a GPU: {busy}"
    return f"waiting for {wanted} GPUs: {free} of {total} free"
