"""The engine's live event feed: what the store's outbox commits, fanned out to bounded subscriptions.

The store records each event in the transaction of its change (`runner.store.events`); once committed, the
database hands it here, and every subscription whose filter accepts it gets it. A subscription holds at
most `maxsize` events and `QUEUE_TEXT_BYTES` of log text: when its reader falls behind, the events it
cannot hold are counted into one `Gap` (first..last) instead, so a slow reader costs a bounded amount of
memory and is told what it missed.
Readers join late and catch up from the store first (`read()`); log events are read back from job.log.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from runner.config import current_settings
from runner.engine.logs import LogEntry, read_range
from runner.spec.events import Event, Gap, JobEvent, LogLines
from runner.store.db import Database, now_ms
from runner.store.events import PAGE, LogRef, prune, read_after, record_log

log = logging.getLogger(__name__)
QUEUE_SIZE = 10_000
# What a subscription's queued log text may add up to: long log lines must not make 10,000 events large.
QUEUE_TEXT_BYTES = 16 << 20
PRUNE_EVERY_S = 600.0


class Subscription:
    """Events after subscribing that pass `root` and `kinds`, for one reader on one event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, root: str | None, kinds: frozenset[str] | None,
                 maxsize: int) -> None:
        self.loop, self.root, self.kinds, self.maxsize = loop, root, kinds, maxsize
        self._items: deque[Event | list[int]] = deque()  # a list is a gap being counted: [first, last]
        self._queued = 0
        self._text_bytes = 0
        self._news = asyncio.Event()
        self.seen = 0  # the newest sequence number offered, accepted or not
        self.closed = False

    def accepts(self, event: Event) -> bool:
        """Whether the filters let `event` through."""
        if self.kinds is not None and event.kind not in self.kinds:
            return False
        return self.root is None or (isinstance(event, JobEvent) and event.root == self.root)

    def offer(self, events: list[Event]) -> None:
        """Queue the accepted `events` (on the subscription's loop); those that do not fit become a gap."""
        for event in events:
            self.seen = max(self.seen, event.seq)
            if not self.accepts(event):
                continue
            size = len(event.text) if isinstance(event, LogLines) else 0
            if self._queued < self.maxsize and self._text_bytes + size <= QUEUE_TEXT_BYTES:
                self._items.append(event)
                self._queued += 1
                self._text_bytes += size
            elif self._items and isinstance(self._items[-1], list):
                self._items[-1][1] = event.seq
            else:
                self._items.append([event.seq, event.seq])
        self._news.set()

    def close(self) -> None:
        """End the subscription: `next()` returns None from now on (once what is queued was taken)."""
        self.closed = True
        self._news.set()

    async def next(self, timeout_s: float) -> list[Event] | None:
        """Everything queued (waiting up to `timeout_s` for something); None once closed and drained."""
        if not self._items and not self.closed:
            try:
                await asyncio.wait_for(self._news.wait(), timeout=timeout_s)
            except TimeoutError:
                return []
        self._news.clear()
        if not self._items and self.closed:
            return None
        taken: list[Event] = []
        while self._items:
            item = self._items.popleft()
            if isinstance(item, list):
                taken.append(Gap(seq=item[1], time=now_ms(), first=item[0], last=item[1], reason="slow"))
            else:
                taken.append(item)
                self._queued -= 1
        self._text_bytes = 0
        return taken


class EventFeed:
    """Fans the events the store commits out to subscriptions; reads older ones from the store."""

    def __init__(self, db: Database, home: Path, maxsize: int = QUEUE_SIZE) -> None:
        self.db, self.home, self.maxsize = db, home, maxsize
        self._subscriptions: list[Subscription] = []
        self._lock = threading.Lock()
        db.listeners.append(self._committed)

    def subscribe(self, root: str | None = None, kinds: frozenset[str] | None = None) -> Subscription:
        """A subscription to the events committed from now on (call it on the loop that reads it)."""
        subscription = Subscription(asyncio.get_running_loop(), root, kinds, self.maxsize)
        with self._lock:
            self._subscriptions.append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Stop feeding `subscription`."""
        with self._lock:
            self._subscriptions = [s for s in self._subscriptions if s is not subscription]

    def close(self) -> None:
        """End every subscription (the engine stops): their readers finish what is queued and end."""
        with self._lock:
            subscriptions, self._subscriptions = self._subscriptions, []
        for subscription in subscriptions:
            self._call(subscription, subscription.close)

    def _committed(self, items: list[object]) -> None:
        # Called by the database after each commit, under its lock, in sequence order; handing every batch to
        # the subscription's loop with call_soon_threadsafe (even from that loop) keeps that order.
        events = [item for item in items if isinstance(item, Event)]
        with self._lock:
            subscriptions = list(self._subscriptions)
        for subscription in subscriptions:
            self._call(subscription, subscription.offer, events)

    @staticmethod
    def _call(subscription: Subscription, callback: Callable[..., None], *args: Any) -> None:
        try:
            subscription.loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:
            pass  # that loop has closed: nobody reads the subscription any more

    def read(self, since: int, *, root: str | None = None, kinds: Iterable[str] | None = None,
             limit: int = PAGE) -> list[Event]:
        """Stored events after `since` (log events with their lines read back from job.log)."""
        stored = read_after(self.db, since, root=root, kinds=kinds, limit=limit)
        return [self._resolved(item) for item in stored]

    def _resolved(self, item: Event | LogRef) -> Event:
        if not isinstance(item, LogRef):
            return item
        entries = read_range(self.home / "jobs" / item.job, item.start, item.end)
        return item.lines("\n".join(entry.text for entry in entries))


def record_log_entry(db: Database, job_id: str, entry: LogEntry) -> None:
    """Record the log event of lines just written to `job_id`'s job.log (nothing for lines not written)."""
    if entry.span is not None:
        record_log(db, job_id, entry.stream, entry.at_ms, entry.span, entry.text)


def prune_now(db: Database, home: Path) -> int:
    """Apply the retention settings (`events_max_count`, `events_max_age_days`) once; how many events went."""
    settings = current_settings(home)
    return prune(db, max_count=settings.events_max_count,
                 max_age_ms=int(settings.events_max_age_days * 86_400_000))


async def prune_periodically(db: Database, home: Path, every_s: float = PRUNE_EVERY_S) -> None:
    """Prune the stored events now and every `every_s` seconds (settings read afresh each time)."""
    while True:
        try:
            removed = await asyncio.to_thread(prune_now, db, home)
            if removed:
                log.info("pruned %d event(s) past retention", removed)
        except Exception:  # noqa: BLE001 - retention must not stop the engine; the next round tries again
            log.exception("pruning events failed")
        await asyncio.sleep(every_s)
