"""GET /runner/events: the engine's event stream, one JSON object a line (the user's token only).

Parameters: `since=SEQ` (send the events after that one; default 0, everything kept), `root=JOB` (only that
tree's events), `kinds=a,b,job.*` (only those kinds; a prefix ending in `*` names several), `follow=false`
(send what exists and end; by default the stream stays open). While nothing happens a
`{"kind": "heartbeat", "seq": <last>}` goes out every few seconds. Events no longer kept (`since` older than
retention) and events a slow reader could not take are announced by one `gap` event with their range.
Besides describe fields a request changed, `job.updated` carries the scheduler's `runnerWaiting` when it changes
(null once the job starts).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from aiohttp import web

from runner.api.core.routing import SERVICES, Access, Routes
from runner.engine.events import EventFeed
from runner.errors import InvalidInput
from runner.spec.events import Event, Gap, Heartbeat, kind_matcher
from runner.spec.ids import is_id
from runner.store.db import now_ms
from runner.store.events import PAGE, first_seq, last_seq

routes = Routes()
HEARTBEAT_S = 5.0
_TRUE, _FALSE = ("1", "true", "yes"), ("0", "false", "no")


class _Query:
    """The stream's parameters, checked: every mistake is an InvalidInput naming the parameter."""

    def __init__(self, query: dict[str, str]) -> None:
        unknown = sorted(set(query) - {"since", "root", "kinds", "follow"})
        if unknown:
            raise InvalidInput(f"unknown parameter {unknown[0]!r} (known: since, root, kinds, follow)")
        raw = query.get("since", "0")
        if not raw.isascii() or not raw.isdigit():
            raise InvalidInput(f"since must be an event's sequence number (a whole number >= 0), not {raw!r}")
        self.since = int(raw)
        self.root = query.get("root")
        if self.root is not None and not is_id(self.root, "job"):
            raise InvalidInput(f"root must be a job ID (job-xxxx), not {self.root!r}")
        self.kinds: frozenset[str] | None = None
        if "kinds" in query:
            try:
                self.kinds = kind_matcher(tuple(k.strip() for k in query["kinds"].split(",") if k.strip()))
            except ValueError as exc:
                raise InvalidInput(f"kinds: {exc}") from None
        follow = query.get("follow", "true").lower()
        if follow not in _TRUE + _FALSE:
            raise InvalidInput(f"follow must be true or false, not {follow!r}")
        self.follow = follow in _TRUE


def _lines(events: Iterable[Event]) -> bytes:
    return b"".join(json.dumps(event.to_json(), separators=(",", ":")).encode() + b"\n" for event in events)


def _retention_gap(feed: EventFeed, since: int) -> Gap | None:
    """The gap between `since` and the oldest event still kept, if any were pruned."""
    newest = last_seq(feed.db)
    if since > newest:
        raise InvalidInput(f"since={since} is after the newest event ({newest}): it is not from this "
                           "engine's store")
    oldest = first_seq(feed.db)
    first_kept = oldest if oldest is not None else newest + 1
    if since + 1 < first_kept:
        return Gap(seq=first_kept - 1, time=now_ms(), first=since + 1, last=first_kept - 1,
                   reason="retention")
    return None


class _Sender:
    """Writes events in order, never one at or before the last sent (the store and the live feed overlap)."""

    def __init__(self, response: web.StreamResponse, since: int) -> None:
        self.response, self.last = response, since

    async def send(self, events: Iterable[Event]) -> None:
        fresh = [event for event in events if event.seq > self.last or isinstance(event, Heartbeat)]
        if fresh:
            self.last = max(self.last, *(event.seq for event in fresh))
            await self.response.write(_lines(fresh))


async def _catch_up(feed: EventFeed, query: _Query, sender: _Sender) -> None:
    """Send the stored events after the last sent, page by page."""
    while True:
        page = feed.read(sender.last, root=query.root, kinds=query.kinds, limit=PAGE)
        await sender.send(page)
        if len(page) < PAGE:
            return


@routes.raw("GET", "/runner/events", Access.USER)
async def events(request: web.Request) -> web.StreamResponse:
    """Stream the engine's events (see the module's docstring)."""
    query = _Query(dict(request.query))
    feed = request.app[SERVICES].engine.events
    gap = _retention_gap(feed, query.since)
    subscription = feed.subscribe(query.root, query.kinds)
    headers = {"Content-Type": "application/x-ndjson", "Cache-Control": "no-store"}
    response = web.StreamResponse(headers=headers)
    try:
        await response.prepare(request)
        sender = _Sender(response, query.since)
        if gap is not None:
            await sender.send([gap])
        await _catch_up(feed, query, sender)
        while query.follow:
            batch = await subscription.next(HEARTBEAT_S)
            if batch is None:
                break  # the engine stops
            if not batch:
                batch = [Heartbeat(seq=max(sender.last, subscription.seen), time=now_ms())]
            await sender.send(batch)
    except ConnectionResetError:
        pass  # the reader went away
    finally:
        feed.unsubscribe(subscription)
    return response

