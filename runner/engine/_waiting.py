"""Why each runnable job waits (describe's `runnerWaiting`), told to the event stream only when it changes.

Admission plans at every wake-up, and most plans say of most jobs what the last one said: a 500-job tree must
not send 500 events a wake-up. So a job gets a `job.updated` event (`changes: {"runnerWaiting": reason}`) only
when its reason differs from the one last told, and `{"runnerWaiting": null}` when it starts (just before its
`job.state`). A job that leaves runnable another way (terminated) gets none: its state event says it no
longer waits. The reasons live in the engine's memory only, so an engine that starts again tells them anew.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from runner.engine.scheduler import Candidate
from runner.spec.events import JobUpdated
from runner.store.db import Database, now_ms
from runner.store.events import record

log = logging.getLogger(__name__)
FIELD = "runnerWaiting"


def waiting_changes(before: Mapping[str, str], after: Mapping[str, str],
                    seen: Iterable[Candidate]) -> list[JobUpdated]:
    """The events for the jobs admission weighed (`seen`) whose reason went from `before` to something else."""
    at = now_ms()
    events = []
    for candidate in seen:
        old, new = before.get(candidate.job_id), after.get(candidate.job_id)
        if old != new:
            root = candidate.ancestors[-1] if candidate.ancestors else candidate.job_id
            events.append(JobUpdated(seq=0, time=at, job=candidate.job_id, root=root, changes={FIELD: new}))
    return events


def record_waiting(db: Database, events: list[JobUpdated]) -> None:
    """Store the events in one transaction; a store that refuses (a full disk) loses them, logged, not the plan."""
    if not events:
        return
    try:
        with db.transaction() as conn:
            for event in events:
                record(db, conn, event)
    except Exception as exc:  # noqa: BLE001 - the jobs wait all the same; only the news of why is lost
        log.warning("cannot record why %d jobs wait: %s", len(events), exc)
