"""The event outbox: each event is a row written in the transaction of the change it reports.

`record()` is called by the store's own writers (jobs, log batches) with their open connection, so an event
exists exactly when its change does; once the transaction commits, the event (with its sequence number) is
handed to the database's listeners (the engine's live feed). A log event stores where its lines are in the
job's `job.log` (byte range), never the lines: `read_after()` returns it as a `LogRef` for the reader to
resolve. Retention: `prune()` keeps at most a number of events and none older than an age.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from runner.spec.events import EVENT_CLASSES, STORED_KINDS, Event, JobEvent, LogLines, event_from_json
from runner.store.db import Database, dumps, now_ms

log = logging.getLogger(__name__)
_COLUMNS = ("seq", "time", "kind", "job", "root")
PAGE = 1000


@dataclass(frozen=True, slots=True)
class LogRef:
    """A stored log event: the bytes `start`..`end` of the job's job.log hold its lines."""

    seq: int
    time: int
    job: str
    root: str
    stream: str
    start: int
    end: int

    def lines(self, text: str) -> LogLines:
        """The log event, given the text of its lines."""
        return LogLines(seq=self.seq, time=self.time, job=self.job, root=self.root, stream=self.stream,
                        text=text)


def record(db: Database, conn: sqlite3.Connection, event: Event) -> Event:
    """Store `event` (its `seq` is ignored) in the open transaction; the event with its sequence number."""
    document = event.to_json()
    job = document.pop("job", None)
    root = document.pop("root", None)
    for name in ("seq", "time", "kind"):
        document.pop(name)
    cursor = conn.execute("INSERT INTO events (time, kind, job, root, doc) VALUES (?, ?, ?, ?, ?)",
                          (event.time, event.kind, job, root, dumps(document)))
    stored = dataclasses.replace(event, seq=int(cursor.lastrowid or 0))
    db.publish_after_commit(stored)
    return stored


def record_log(db: Database, job: str, stream: str, at_ms: int, span: tuple[int, int], text: str) -> LogLines:
    """Record that `job` logged `text` on `stream`, written at bytes `span` of its job.log; the live event."""
    doc = dumps({"stream": stream, "start": span[0], "end": span[1]})
    with db.transaction() as conn:
        cursor = conn.execute(
            "INSERT INTO events (time, kind, job, root, doc) "
            "VALUES (?, 'log', ?, COALESCE((SELECT root FROM jobs WHERE id = ?), ?), ?) RETURNING seq, root",
            (at_ms, job, job, job, doc))
        seq, root = cursor.fetchone()
        event = LogLines(seq=int(seq), time=at_ms, job=job, root=str(root), stream=stream, text=text)
        db.publish_after_commit(event)
    return event


def record_now(db: Database, event: Event) -> Event:
    """Store an event that goes with no other change (engine started, applet built) in a transaction."""
    with db.transaction() as conn:
        return record(db, conn, event)


def record_if_possible(db: Database, event: Event) -> None:
    """`record_now()` for an event that must not turn what it reports into an error (a full disk): logged."""
    try:
        record_now(db, event)
    except Exception as exc:  # noqa: BLE001 - the change it reports stands; only the event is lost
        log.warning("cannot record the %s event: %s", event.kind, exc)


def read_after(db: Database, since: int, *, root: str | None = None, kinds: Iterable[str] | None = None,
               limit: int = PAGE) -> list[Event | LogRef]:
    """Up to `limit` stored events after `since`, oldest first, of the tree `root` and the `kinds` given."""
    clauses, params = ["seq > ?"], [since]  # type: tuple[list[str], list[Any]]
    if root is not None:
        clauses.append("root = ?")
        params.append(root)
    if kinds is not None:
        wanted = sorted(set(kinds) & STORED_KINDS)
        if not wanted:
            return []
        clauses.append(f"kind IN ({', '.join('?' for _ in wanted)})")
        params.extend(wanted)
    rows = db.query(f"SELECT * FROM events WHERE {' AND '.join(clauses)} ORDER BY seq LIMIT ?",
                    (*params, limit))
    return [_event(row) for row in rows]


def _event(row: sqlite3.Row) -> Event | LogRef:
    document: dict[str, Any] = json.loads(row["doc"])
    if row["kind"] == LogLines.kind:
        return LogRef(row["seq"], row["time"], row["job"], row["root"], document["stream"], document["start"],
                      document["end"])
    document.update({name: row[name] for name in _COLUMNS})
    if not issubclass(EVENT_CLASSES[row["kind"]], JobEvent):
        document.pop("job")
        document.pop("root")
    return event_from_json(document)


def created_seq(db: Database, job: str) -> int | None:
    """The sequence number of `job`'s job.created event (None once pruned, or for a job older than events)."""
    rows = db.query("SELECT seq FROM events WHERE job = ? AND kind = 'job.created'", (job,))
    return int(rows[0]["seq"]) if rows else None


def last_seq(db: Database) -> int:
    """The sequence number of the newest event ever stored (0 before the first), pruned or not."""
    rows = db.query("SELECT seq FROM sqlite_sequence WHERE name = 'events'")
    return int(rows[0]["seq"]) if rows else 0


def first_seq(db: Database) -> int | None:
    """The sequence number of the oldest event still stored (None when none is)."""
    value = db.query("SELECT MIN(seq) AS seq FROM events")[0]["seq"]
    return int(value) if value is not None else None


def prune(db: Database, *, max_count: int, max_age_ms: int) -> int:
    """Remove all but the newest `max_count` events and those older than `max_age_ms`; how many went."""
    with db.transaction() as conn:
        cursor = conn.execute("DELETE FROM events WHERE seq <= (SELECT MAX(seq) FROM events) - ? OR time < ?",
                              (max_count, now_ms() - max_age_ms))
        return int(cursor.rowcount)
