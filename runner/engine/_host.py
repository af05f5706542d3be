"""What the engine's helpers need of the engine: tree ending (`_tree`), a try (`_try`) and a restart (`_resume`)
depend on the `EngineHost` protocol, not on the driver, so that no module of the engine imports the driver back.

`RunningTry` is the engine's record of a try whose container it watches; `Restart` is what a starting engine knows
of the one before it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from runner.engine.scheduler import Assignment

if TYPE_CHECKING:
    from runner.backends.base import Backend, Found
    from runner.engine._container import Reachability
    from runner.engine._outcome import Outcome
    from runner.engine.logs import LogHub
    from runner.engine.scheduler import Host, Resources
    from runner.spec.job_states import JobState
    from runner.store.db import Database


@dataclass(slots=True)
class RunningTry:
    """A try whose container the engine watches: what it asked for, and how it is being ended."""

    job_id: str
    request: Resources
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    # Set once the container's process has ended: its resources are free while it is torn down.
    released: bool = False
    # held: the launcher holds the failed job for debugging (no timeout then); timed_out: the engine's timer fired.
    held: bool = False
    timed_out: bool = False
    # The CPUs and GPUs the scheduler gave the try, and the job's ancestors (parent first: who may lend to it).
    assignment: Assignment = field(default_factory=Assignment)
    ancestors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Restart:
    """What a starting engine knows of the one before it.

    `away_since_ms`: the previous engine's last heartbeat; `port_moved_from`: its port, when this engine
    could not listen on it again (networked jobs were told that port and cannot reach this engine).
    """

    away_since_ms: int | None = None
    port_moved_from: int | None = None


class EngineHost(Protocol):
    """The engine as its helpers see it: the store, where jobs run, and the moves they may ask of it."""

    db: Database
    home: Path
    hub: LogHub
    backend: Backend
    reach: Reachability
    capacity: Resources
    host: Host
    restart: Restart

    def transition(self, job_id: str, state: JobState, changes: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Move a job to `state` (the store's transition, published; an ended job's tokens revoked)."""

    def say(self, job_id: str, text: str) -> None:
        """Write one of the runner's own lines into a job's log."""

    def stop_container(self, job_id: str) -> None:
        """Ask the container of a running job to stop."""

    def has_try(self, job_id: str) -> bool:
        """Whether the engine watches a container for `job_id`."""

    def time_out(self, running: RunningTry) -> None:
        """The engine's own timer of a try ran out."""

    def release(self, running: RunningTry) -> None:
        """The try's process ended: its resources are free."""

    def finish_try(self, job_id: str, outcome: Outcome) -> None:
        """Record how a try ended."""

    def follow_again(self, job: dict[str, Any], found: Found) -> None:
        """Watch the container a previous engine left for `job` as its running try."""
