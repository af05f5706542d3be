"""The engine's event stream as typed events: `follow_events(client)` resumes by itself after a restart.

It reads `GET /runner/events` and yields `runner.spec.events` dataclasses. When the connection is refused,
reset or ends while following (the engine stopped, crashed or restarts), it connects again with
`since=<the last seq it yielded>` for up to `reconnect_for_s` seconds, so no event is lost or repeated;
a `Gap` tells the caller of events the engine could not send (they aged out, or the caller fell behind).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from runner.client.api import TRANSPORT_ERRORS, EngineClient
from runner.errors import ApiError, EnvironmentProblem
from runner.spec.events import Event, Heartbeat, event_from_json

ROUTE = "/runner/events"
# The engine sends a heartbeat every few seconds: this much silence means the connection is dead.
READ_TIMEOUT_S = 30.0
RETRY_EVERY_S = 0.2
RECONNECT_FOR_S = 60.0


@dataclass(frozen=True, slots=True)
class EventQuery:
    """What to ask for: after `since`, one tree (`root`), some `kinds` (names or prefixes like `job.*`)."""

    since: int = 0
    root: str | None = None
    kinds: tuple[str, ...] = ()
    follow: bool = True

    def params(self, since: int) -> dict[str, str]:
        """The query parameters of a request resuming after `since`."""
        params = {"since": str(since), "follow": "true" if self.follow else "false"}
        if self.root is not None:
            params["root"] = self.root
        if self.kinds:
            params["kinds"] = ",".join(self.kinds)
        return params


def follow_events(client: EngineClient, query: EventQuery = EventQuery(), *, heartbeats: bool = False,
                  reconnect_for_s: float = RECONNECT_FOR_S,
                  locate: Callable[[], EngineClient] | None = None) -> Iterator[Event]:
    """The events `query` asks for, in order, each once; with `heartbeats`, the heartbeats too.

    `locate` gives the client to reconnect with (an engine that restarted may listen elsewhere); by default
    the same one. Raises the engine's ApiError for a refused request (bad parameters), EnvironmentProblem when
    the engine stays away longer than `reconnect_for_s`.
    """
    last = query.since
    away_since: float | None = None
    while True:
        try:
            for event in _one_connection(client, query, last):
                away_since = None
                if isinstance(event, Heartbeat):
                    if heartbeats:
                        yield event
                    continue
                if event.seq > last:
                    last = event.seq
                    yield event
            if not query.follow:
                return
        except TRANSPORT_ERRORS:
            if not query.follow:
                raise EnvironmentProblem(f"the engine at {client.url} broke off the event stream",
                                         fix="runner engine status") from None
        now = time.monotonic()
        away_since = now if away_since is None else away_since
        if now - away_since > reconnect_for_s:
            raise EnvironmentProblem(f"the engine at {client.url} has not answered for {reconnect_for_s:g} s "
                                     f"(last event {last})", fix="runner engine start")
        time.sleep(RETRY_EVERY_S)
        if locate is not None:
            try:
                client = locate()
            except EnvironmentProblem:
                pass  # not back yet: keep trying the old address until the deadline


def _one_connection(client: EngineClient, query: EventQuery, since: int) -> Iterator[Event]:
    with client.open_stream(ROUTE, query.params(since), read_timeout_s=READ_TIMEOUT_S) as lines:
        for line in lines:
            if line.strip():
                yield _event(line)


def _event(line: bytes) -> Event:
    try:
        return event_from_json(json.loads(line))
    except ValueError as exc:
        raise ApiError(f"{ROUTE}: the engine sent a line that is not an event ({exc}): {line[:200]!r}") \
            from None
