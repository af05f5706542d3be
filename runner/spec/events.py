"""The engine's events: one frozen dataclass per kind, and their JSON form (one object a line of the stream).

Every event has `seq` (its place in the engine's one sequence, increasing across restarts), `time` (ms since
the epoch) and `kind`; job events also carry `job` and `root`. The dataclasses live in `spec` because the
engine writes them and the client reads them, and the client may import `spec` but never the engine.

`to_json()` gives the wire object; `event_from_json()` reads one back (ValueError naming the field when the
object is not an event of a known kind). Field names are the JSON names, except `from_state`/`to_state`
(`from`, `to`) and `try_` (`try`), which are Python keywords.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from typing import Any, ClassVar

_JSON_NAMES = {"from_state": "from", "to_state": "to", "try_": "try"}


@dataclass(frozen=True, slots=True)
class Event:
    """What every event has: its sequence number, its time (ms since the epoch) and (per class) its kind."""

    kind: ClassVar[str] = ""
    seq: int
    time: int

    def to_json(self) -> dict[str, Any]:
        """The event as the stream sends it: `{"seq", "time", "kind", ...its fields}`."""
        document: dict[str, Any] = {"kind": self.kind}
        for spec in fields(self):
            document[_JSON_NAMES.get(spec.name, spec.name)] = getattr(self, spec.name)
        return document


@dataclass(frozen=True, slots=True)
class JobEvent(Event):
    """An event about one job: its ID and the ID of its tree's root."""

    job: str
    root: str


@dataclass(frozen=True, slots=True)
class JobCreated(JobEvent):
    """A job was created (a run's master job or a subjob), in state idle."""

    kind: ClassVar[str] = "job.created"
    parent: str | None
    name: str
    executable: str
    function: str
    instance_type: str
    resources: dict[str, Any]
    rank: int
    created: int
    # The effective timeout in ms (None: none applies), as describe's `timeout`.
    timeout: int | None = None
    # The job this root job re-runs (`runner rerun`, watch mode), as describe's `rerunOf`.
    rerun_of: str | None = None


@dataclass(frozen=True, slots=True)
class JobStateChanged(JobEvent):
    """A job moved between two states; `reason` and `message` are set when it failed."""

    kind: ClassVar[str] = "job.state"
    from_state: str
    to_state: str
    try_: int = 0
    reason: str | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class JobUpdated(JobEvent):
    """Fields describe shows changed without a state change: `changes` holds their new values."""

    kind: ClassVar[str] = "job.updated"
    FIELDS: ClassVar[frozenset[str]] = frozenset({"tags", "properties", "details", "rank", "dependsOn"})
    changes: dict[str, Any]


@dataclass(frozen=True, slots=True)
class JobOutput(JobEvent):
    """A job's output was set (it is done, or reused the output of an equal job)."""

    kind: ClassVar[str] = "job.output"
    output: dict[str, Any]


@dataclass(frozen=True, slots=True)
class JobUsage(JobEvent):
    """A sample of a running try's resource use (runner/engine/usage.py says when one is sent).

    `cpu_percent` is of one core, as `top` shows it (150 = one and a half cores busy), over the interval
    since the previous reading. `memory_bytes` is the memory in use now, reclaimable page cache left out;
    `memory_peak_bytes` the kernel's high-water mark of the try's memory (None when it keeps none). `gpus`
    holds one `{"index", "util_percent", "memory_bytes", "memory_total_bytes"}` per GPU the try was given.
    """

    kind: ClassVar[str] = "job.usage"
    cpu_percent: float
    memory_bytes: int
    memory_peak_bytes: int | None = None
    gpus: list[dict[str, Any]] = field(default_factory=list)
    try_: int = 0


@dataclass(frozen=True, slots=True)
class LogLines(JobEvent):
    """A batch of log lines of one job on one stream, as written to its job.log at `time`."""

    kind: ClassVar[str] = "log"
    stream: str
    text: str


@dataclass(frozen=True, slots=True)
class AppletBuildStarted(Event):
    """A build of the applet in a source folder began; `changed_files` are what its client says changed."""

    kind: ClassVar[str] = "applet.build_started"
    folder: str
    changed_files: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class AppletBuilt(Event):
    """An applet was built from a source folder and stored."""

    kind: ClassVar[str] = "applet.built"
    applet: str
    name: str
    project: str
    folder: str = ""
    changed_files: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class AppletFailed(Event):
    """Building the applet in a source folder failed."""

    kind: ClassVar[str] = "applet.failed"
    folder: str
    message: str
    changed_files: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class EngineStarted(Event):
    """The engine started (or started again) and serves."""

    kind: ClassVar[str] = "engine.started"
    pid: int
    version: str


@dataclass(frozen=True, slots=True)
class EngineStopping(Event):
    """The engine is stopping: its running jobs end terminated."""

    kind: ClassVar[str] = "engine.stopping"
    reason: str = ""


@dataclass(frozen=True, slots=True)
class BackendDown(Event):
    """The container backend (Docker) stopped answering."""

    kind: ClassVar[str] = "engine.backend_down"
    message: str = ""


@dataclass(frozen=True, slots=True)
class BackendUp(Event):
    """The container backend answers again."""

    kind: ClassVar[str] = "engine.backend_up"


@dataclass(frozen=True, slots=True)
class Gap(Event):
    """Events `first`..`last` were not sent: the client fell behind (`slow`) or they aged out (`retention`).

    Its `seq` is `last`, so resuming after a gap with `since=seq` goes on after it; the missed events, while
    the store keeps them, can be read again with `since=first - 1`.
    """

    kind: ClassVar[str] = "gap"
    first: int
    last: int
    reason: str


@dataclass(frozen=True, slots=True)
class Heartbeat(Event):
    """Sent while nothing happens; its `seq` is the last event sent (or the last that exists)."""

    kind: ClassVar[str] = "heartbeat"


EVENT_CLASSES: dict[str, type[Event]] = {cls.kind: cls for cls in (
    JobCreated, JobStateChanged, JobUpdated, JobOutput, JobUsage, LogLines, AppletBuildStarted, AppletBuilt,
    AppletFailed, EngineStarted, EngineStopping, BackendDown, BackendUp, Gap, Heartbeat)}
# What the store keeps (gaps and heartbeats exist only on the wire).
STORED_KINDS = frozenset(EVENT_CLASSES) - {Gap.kind, Heartbeat.kind}


def event_from_json(document: Any) -> Event:
    """The event a stream object stands for; ValueError naming what is wrong when it is not one."""
    if not isinstance(document, dict):
        raise ValueError(f"an event must be a JSON object, not {type(document).__name__}")
    kind = document.get("kind")
    cls = EVENT_CLASSES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ValueError(f"unknown event kind {kind!r} (known: {', '.join(sorted(EVENT_CLASSES))})")
    values: dict[str, Any] = {}
    for spec in fields(cls):
        name = _JSON_NAMES.get(spec.name, spec.name)
        if name in document:
            values[spec.name] = document[name]
        elif spec.default is MISSING and spec.default_factory is MISSING:
            raise ValueError(f"a {kind} event needs `{name}`")
    for name in ("seq", "time"):
        if isinstance(values[name], bool) or not isinstance(values[name], int):
            raise ValueError(f"`{name}` of a {kind} event must be an integer, not {values[name]!r}")
    return cls(**values)


def kind_matcher(patterns: tuple[str, ...]) -> frozenset[str]:
    """The kinds `patterns` name: exact kinds, or prefixes such as `job.*`; ValueError for one naming none."""
    chosen: set[str] = set()
    for pattern in patterns:
        if pattern.endswith("*"):
            matched = {k for k in EVENT_CLASSES if k.startswith(pattern[:-1])}
        else:
            matched = {pattern} & set(EVENT_CLASSES)
        if not matched:
            raise ValueError(f"{pattern!r} names no event kind (known: {', '.join(sorted(EVENT_CLASSES))}; "
                             "a prefix such as job.* names several)")
        chosen |= matched
    return frozenset(chosen)

