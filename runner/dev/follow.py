"""One run followed to its end through the event stream, in a thread: its root's last state, and log tails."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from runner.client.api import EngineClient
from runner.client.events import EventQuery, follow_events
from runner.errors import RunnerError
from runner.spec.events import JobStateChanged, LogLines
from runner.spec.job_states import TERMINAL_STATES

TAIL_LINES = 12
FINAL = frozenset(state.value for state in TERMINAL_STATES)


@dataclass(frozen=True, slots=True)
class Ended:
    """The root job of a run ended: its state, and the last log lines of each job of its tree."""

    job: str
    state: str
    tails: dict[str, list[str]] = field(default_factory=dict)
    error: str | None = None


def follow_run(client: EngineClient, job: str, stop: threading.Event, ended: Callable[[Ended], None]) -> None:
    """Follow `job`'s tree until its root ends (or `stop` is set); `ended()` is told how it ended."""
    # A client of its own: a requests session is not shared between threads.
    own = EngineClient(client.url, client.token, client.project)
    tails: dict[str, deque[str]] = {}
    try:
        query = EventQuery(root=job, kinds=("job.state", "log"))
        for event in follow_events(own, query, heartbeats=True):
            if stop.is_set():
                return
            if isinstance(event, LogLines):
                tails.setdefault(event.job, deque(maxlen=TAIL_LINES)).extend(event.text.splitlines())
            elif isinstance(event, JobStateChanged) and event.job == job and event.to_state in FINAL:
                ended(Ended(job, event.to_state, {k: list(v) for k, v in tails.items()}))
                return
    except RunnerError as exc:
        ended(Ended(job, "unknown", error=f"lost the event stream of {job}: {exc}"))
    finally:
        own.close()


def start_following(client: EngineClient, job: str, stop: threading.Event,
                    ended: Callable[[Ended], None]) -> threading.Thread:
    """`follow_run` in a daemon thread (it never keeps the process alive)."""
    thread = threading.Thread(target=follow_run, args=(client, job, stop, ended), name=f"follow {job}",
                              daemon=True)
    thread.start()
    return thread
