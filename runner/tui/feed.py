"""The event feed: a reader thread takes the engine's events off the wire; the screen drains them in batches.

The reader is a daemon thread, not a Textual thread worker: a worker runs in the event loop's executor, which
Python joins at exit, and a read blocked on the stream can only end at the next heartbeat (seconds), so
quitting would hang. Events queue in a deque; `drain()` takes all of them at once, so however fast they come,
the screen applies one batch per tick.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable

from runner.errors import RunnerError
from runner.spec.events import Event

EventSource = Callable[[], Iterable[Event]]
"""Where events come from: the client's `follow_events`, or a fixed list in tests."""


class EventFeed:
    """Events read by a background thread, for the UI thread to drain."""

    def __init__(self, source: EventSource) -> None:
        self._source = source
        self._pending: deque[Event] = deque()
        self._stopping = threading.Event()
        self.error: str | None = None
        self.ended = False
        self._thread = threading.Thread(target=self._read, name="runner-tui-events", daemon=True)

    def start(self) -> None:
        """Start reading."""
        self._thread.start()

    def stop(self) -> None:
        """Stop taking events (the thread ends at its next event or heartbeat)."""
        self._stopping.set()

    def drain(self) -> list[Event]:
        """Every event read since the last drain, in order."""
        batch: list[Event] = []
        while self._pending:
            batch.append(self._pending.popleft())
        return batch

    def drain_pending(self) -> bool:
        """Whether events wait to be drained."""
        return bool(self._pending)

    def _read(self) -> None:
        try:
            for event in self._source():
                if self._stopping.is_set():
                    return
                self._pending.append(event)
        except RunnerError as exc:
            self.error = str(exc)
        except Exception as exc:  # noqa: BLE001 - the screen says why the stream ended instead of dying
            self.error = f"the event stream failed: {type(exc).__name__}: {exc}"
        finally:
            self.ended = True
