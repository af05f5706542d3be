"""The TUI's view model: job trees built from the engine's events alone, pure, with an injected clock.

`JobsModel.apply(event)` folds one event in and returns the IDs of the jobs whose row changed, and whether the
tree's shape changed (a job was created), so the screen can relabel rows in place and rebuild only when it must.
Times are ms since the epoch, as the events carry them; `clock()` gives the same.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from runner.spec.events import (
    Event,
    JobCreated,
    JobOutput,
    JobStateChanged,
    JobUpdated,
    JobUsage,
    LogLines,
)

Clock = Callable[[], int]
"""The time now, in ms since the epoch."""

WARN_FRACTION = 0.10
FAILURE_STATES = frozenset({"failed"})
ENDED_STATES = frozenset({"done", "failed", "terminated"})
TIMEOUT_REASON = "JobTimeoutExceeded"
LOG_LINES_KEPT = 2000
USAGE_SAMPLES_KEPT = 600
# The states in which a job's container runs, so its latest usage sample still says what it uses now.
SAMPLED_STATES = frozenset({"running", "debug_hold"})


@dataclass(frozen=True, slots=True)
class LogLine:
    """One log line as the engine sent it: its event's `seq` (arrival order), `time` (ms), stream and text."""

    seq: int
    time: int
    stream: str
    text: str


@dataclass(frozen=True, slots=True)
class UsageSample:
    """One job.usage sample: when, CPU %, memory in bytes (now, and the kernel's peak), and the job's GPUs.

    `gpu_percent` is the mean utilisation of the job's GPUs and `gpu_memory_bytes` their memory used in all
    (both None for a job without GPUs).
    """

    time: int
    cpu_percent: float
    memory_bytes: int
    memory_peak_bytes: int | None = None
    gpu_percent: float | None = None
    gpu_memory_bytes: int | None = None

    @classmethod
    def of(cls, event: JobUsage) -> UsageSample:
        """The sample a job.usage event carries."""
        gpus = [g for g in event.gpus if isinstance(g, dict)] if isinstance(event.gpus, list) else []
        utils = [float(g["util_percent"]) for g in gpus if isinstance(g.get("util_percent"), (int, float))]
        used = [int(g["memory_bytes"]) for g in gpus if isinstance(g.get("memory_bytes"), int)]
        return cls(event.time, event.cpu_percent, event.memory_bytes, event.memory_peak_bytes,
                   sum(utils) / len(utils) if utils else None, sum(used) if used else None)


def log_lines(event: LogLines) -> list[LogLine]:
    """The lines of a log event, each with the event's seq, time and stream."""
    return [LogLine(event.seq, event.time, event.stream, text) for text in event.text.splitlines()]


class TimeLevel(str, Enum):
    """How close a job is to its effective timeout."""

    NONE = "none"
    OK = "ok"
    WARNING = "warning"
    TIMED_OUT = "timed_out"


@dataclass(slots=True)
class JobView:
    """What the screen shows of one job."""

    id: str
    root: str
    parent: str | None
    name: str
    function: str
    executable: str
    instance_type: str
    resources: dict[str, Any]
    created: int
    state: str = "idle"
    try_: int = 0
    started: int | None = None
    ended: int | None = None
    timeout_ms: int | None = None
    depends_on: tuple[str, ...] = ()
    failure_reason: str | None = None
    failure_message: str | None = None
    output: dict[str, Any] | None = None
    cpu_percent: float | None = None
    memory_bytes: int | None = None
    engine_waiting: str | None = None  # the scheduler's reason a runnable job waits (job.updated runnerWaiting)
    children: list[str] = field(default_factory=list)
    log: deque[LogLine] = field(default_factory=lambda: deque(maxlen=LOG_LINES_KEPT))
    usage: deque[UsageSample] = field(default_factory=lambda: deque(maxlen=USAGE_SAMPLES_KEPT))

    def elapsed_ms(self, now: int) -> int | None:
        """How long the current try has run (until it ended), or None before it started."""
        if self.started is None:
            return None
        return max(0, (self.ended if self.ended is not None else now) - self.started)

    def time_left_ms(self, now: int) -> int | None:
        """The time left before the effective timeout (negative past it), or None without one or a start."""
        elapsed = self.elapsed_ms(now)
        if self.timeout_ms is None or elapsed is None:
            return None
        return self.timeout_ms - elapsed

    def time_level(self, now: int) -> TimeLevel:
        """OK, WARNING in the timeout's last 10 %, TIMED_OUT past it (or failed for it), NONE without one."""
        if self.failure_reason == TIMEOUT_REASON:
            return TimeLevel.TIMED_OUT
        left = self.time_left_ms(now)
        if left is None or self.timeout_ms is None:
            return TimeLevel.NONE
        if left <= 0:
            return TimeLevel.TIMED_OUT
        return TimeLevel.WARNING if left <= self.timeout_ms * WARN_FRACTION else TimeLevel.OK

    def waiting_for(self) -> str | None:
        """Why the job waits, as far as the events tell, or None when it does not wait."""
        if self.state == "waiting_on_input":
            return "waiting on " + ", ".join(self.depends_on) if self.depends_on else "waiting on its inputs"
        if self.state == "waiting_on_output":
            return "waiting on its subjobs" if self.children else "waiting on its outputs"
        if self.state == "runnable":  # our own reckoning only for an engine that does not say
            return self.engine_waiting or "waiting for " + _needs(self.resources)
        return None


def _needs(resources: dict[str, Any]) -> str:
    parts = []
    if resources.get("cores"):
        parts.append(f"{resources['cores']} core{'s' if resources['cores'] != 1 else ''}")
    if resources.get("memoryBytes"):
        parts.append(f"{resources['memoryBytes'] / 2**30:.1f} GiB")
    if resources.get("gpus"):
        parts.append(f"{resources['gpus']} GPUs")
    return " and ".join(parts) if parts else "a slot"


@dataclass(frozen=True, slots=True)
class Change:
    """What applying events changed: rows to relabel, and whether rows were added (the tree's shape)."""

    jobs: frozenset[str] = frozenset()
    shape: bool = False
    logs: frozenset[str] = frozenset()

    def __or__(self, other: Change) -> Change:
        return Change(self.jobs | other.jobs, self.shape or other.shape, self.logs | other.logs)


class JobsModel:
    """Jobs by ID in tree order (roots newest first, subjobs under their parent in creation order)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.jobs: dict[str, JobView] = {}
        self.roots: list[str] = []
        self.last_seq = 0

    def apply_all(self, events: Iterable[Event]) -> Change:
        """Apply events in order; the union of their changes."""
        change = Change()
        for event in events:
            change = change | self.apply(event)
        return change

    def apply(self, event: Event) -> Change:
        """Fold one event in (events of unknown jobs other than job.created are ignored)."""
        self.last_seq = max(self.last_seq, event.seq)
        if isinstance(event, JobCreated):
            return self._created(event)
        job = self.jobs.get(getattr(event, "job", ""))
        if job is None:
            return Change()
        if isinstance(event, JobStateChanged):
            _state(job, event)
            if job.state not in SAMPLED_STATES:  # the row's figures are of a container that no longer runs
                job.cpu_percent = job.memory_bytes = None
        elif isinstance(event, JobUpdated):
            if isinstance(event.changes.get("dependsOn"), list):
                job.depends_on = tuple(str(d) for d in event.changes["dependsOn"])
            if "runnerWaiting" in event.changes:
                reason = event.changes["runnerWaiting"]
                job.engine_waiting = reason if isinstance(reason, str) and reason else None
        elif isinstance(event, JobOutput):
            job.output = dict(event.output)
        elif isinstance(event, JobUsage):
            job.cpu_percent, job.memory_bytes = event.cpu_percent, event.memory_bytes
            job.usage.append(UsageSample.of(event))
        elif isinstance(event, LogLines):
            job.log.extend(log_lines(event))
            return Change(logs=frozenset({job.id}))
        else:
            return Change()
        return Change(jobs=frozenset({job.id}))

    def _created(self, event: JobCreated) -> Change:
        if event.job in self.jobs:
            return Change()
        self.jobs[event.job] = JobView(
            id=event.job, root=event.root, parent=event.parent, name=event.name, function=event.function,
            executable=event.executable, instance_type=event.instance_type, resources=dict(event.resources),
            created=event.created, timeout_ms=event.timeout)
        parent = self.jobs.get(event.parent) if event.parent else None
        if parent is not None:
            parent.children.append(event.job)
        else:
            self.roots.insert(0, event.job)
        return Change(jobs=frozenset({event.job}), shape=True)

    def set_timeout(self, job_id: str, timeout_ms: int | None) -> bool:
        """Record a job's effective timeout (describe's `timeout`, which no event carries); whether it changed."""
        job = self.jobs.get(job_id)
        if job is None or job.timeout_ms == timeout_ms:
            return False
        job.timeout_ms = timeout_ms
        return True

    def tree_order(self, roots: Iterable[str] | None = None) -> Iterator[tuple[int, JobView]]:
        """Every job (of `roots`, by default all) with its depth: each root, newest first, then its subtree."""
        stack = [(0, root) for root in reversed(list(self.roots if roots is None else roots))]
        while stack:
            depth, job_id = stack.pop()
            job = self.jobs[job_id]
            yield depth, job
            stack.extend((depth + 1, child) for child in reversed(job.children))

    def tree_of(self, job_id: str) -> list[JobView]:
        """The jobs of the tree `job_id` belongs to, root first."""
        root = self.jobs[job_id].root
        return [job for _, job in self.tree_order([root])] if root in self.jobs else [self.jobs[job_id]]

    def tree_log(self, job_id: str) -> list[tuple[JobView, LogLine]]:
        """The kept log lines of every job of `job_id`'s tree, in arrival order, each with its job."""
        per_job = [[(job, line) for line in job.log] for job in self.tree_of(job_id)]
        return list(heapq.merge(*per_job, key=lambda pair: pair[1].seq))

    def failed_roots(self) -> set[str]:
        """The roots of the trees with a failed job."""
        return {job.root for job in self.jobs.values() if job.state in FAILURE_STATES}

    def untimed_running(self) -> list[str]:
        """Running jobs whose timeout is not known yet (to ask describe for it once)."""
        return [j.id for j in self.jobs.values() if j.state == "running" and j.timeout_ms is None]


def _state(job: JobView, event: JobStateChanged) -> None:
    job.state = event.to_state
    if event.to_state != "runnable":  # a reason is of one stay in runnable: the next one gets its own
        job.engine_waiting = None
    if event.try_ != job.try_ or (event.to_state == "running" and job.ended is not None):
        job.started = job.ended = None
    job.try_ = event.try_
    if event.to_state == "running" and job.started is None:
        job.started = event.time
    if event.to_state in ENDED_STATES or event.to_state in ("debug_hold", "restartable"):
        job.ended = event.time if job.started is not None else None
    if event.to_state == "failed":
        job.failure_reason, job.failure_message = event.reason, event.message
