"""One job's (or its whole subtree's) log lines and state changes, as a filter of the engine's event stream.

What /runner/logs and the dx websocket send: the stored events of the tree first (or, when retention has
dropped the tree's beginning, what its job.log files and the store say now), then the live events, until
every job followed has ended. Children created while following are followed from their job.created event.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from runner.engine.events import EventFeed, Subscription
from runner.engine.logs import read_entries
from runner.spec.events import Event, Gap, JobCreated, JobStateChanged, LogLines
from runner.spec.job_states import JobState
from runner.store.events import PAGE, created_seq, last_seq
from runner.store.jobs import find_subtree, get_job

KINDS = frozenset({JobCreated.kind, JobStateChanged.kind, LogLines.kind})
WAKE_S = 5.0
TreeEvent = LogLines | JobStateChanged


@dataclass
class TreeStream:
    """Follows `top` (and its descendants when `recurse`); `jobs` holds the describe of each job followed."""

    feed: EventFeed
    top: str
    recurse: bool
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    stopped: bool = False
    _last: int = 0
    _root: str = ""
    _subscription: Subscription | None = None

    def _members(self) -> list[dict[str, Any]]:
        return find_subtree(self.feed.db, self.top) if self.recurse else [get_job(self.feed.db, self.top)]

    def _accept(self, event: Event) -> TreeEvent | None:
        """The event if it belongs to a job followed (a child's creation adds it); None otherwise."""
        if event.seq <= self._last:
            return None
        self._last = event.seq
        if isinstance(event, JobCreated):
            if self.recurse and event.parent in self.jobs:
                self.jobs[event.job] = get_job(self.feed.db, event.job)
            return None
        if isinstance(event, (LogLines, JobStateChanged)) and event.job in self.jobs:
            if isinstance(event, JobStateChanged):
                self.jobs[event.job] = {**self.jobs[event.job], "state": event.to_state, "try": event.try_}
            return event
        return None

    def ended(self) -> bool:
        """Whether every job followed has ended."""
        return all(JobState(job["state"]).is_terminal for job in self.jobs.values())

    async def events(self, *, follow: bool) -> AsyncIterator[TreeEvent]:
        """The tree's events in order; with `follow`, until all its jobs have ended."""
        try:
            for event in self.open():
                yield event
            if follow:
                async for event in self.live():
                    yield event
        finally:
            self.close()

    def open(self) -> list[TreeEvent]:
        """Start following: the tree's events so far (call `live()` for the rest, `close()` at the end)."""
        self._root = get_job(self.feed.db, self.top)["rootExecution"]
        self._subscription = self.feed.subscribe(self._root, KINDS)
        return self._backlog(self._root)

    async def live(self) -> AsyncIterator[TreeEvent]:
        """The tree's events after `open()`'s, until all its jobs have ended (or the engine stops)."""
        assert self._subscription is not None, "open() first"
        while not self.ended() and not self.stopped:
            async for event in self._live(self._subscription, self._root):
                yield event

    def close(self) -> None:
        """Stop following."""
        if self._subscription is not None:
            self.feed.unsubscribe(self._subscription)
            self._subscription = None

    def _backlog(self, root: str) -> list[TreeEvent]:
        start = created_seq(self.feed.db, self.top)
        if start is None:  # the tree's beginning is no longer stored: what its files say now
            return self._from_files()
        self.jobs = {self.top: get_job(self.feed.db, self.top)}
        self._last = start
        found: list[TreeEvent] = []
        while True:
            page = self.feed.read(self._last, root=root, kinds=KINDS, limit=PAGE)
            found.extend(e for e in (self._accept(event) for event in page) if e is not None)
            if len(page) < PAGE:
                break
        self.jobs.update({job["id"]: job for job in self._members()})  # the store is the truth on states
        return found

    def _from_files(self) -> list[TreeEvent]:
        self._last = last_seq(self.feed.db)
        members = self._members()
        self.jobs = {job["id"]: job for job in members}
        found: list[TreeEvent] = []
        for job in members:
            entries, _ = read_entries(self.feed.home / "jobs" / job["id"])
            found.extend(LogLines(seq=0, time=e.at_ms, job=job["id"], root=job["rootExecution"],
                                  stream=e.stream, text=e.text) for e in entries)
        found.sort(key=lambda event: event.time)
        return found

    async def _live(self, subscription: Subscription, root: str) -> AsyncIterator[TreeEvent]:
        batch = await subscription.next(WAKE_S)
        if batch is None:  # the engine stops: the stream ends here
            self.stopped = True
            return
        for event in batch:
            if isinstance(event, Gap):  # this reader fell behind: the events it missed are still stored
                missed = self.feed.read(self._last, root=root, kinds=KINDS, limit=event.last - self._last)
                for stored in missed:
                    if (accepted := self._accept(stored)) is not None:
                        yield accepted
                continue
            if (accepted := self._accept(event)) is not None:
                yield accepted

