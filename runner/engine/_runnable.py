"""The runnable jobs as admission reads them at each wake-up, kept up to date from the event outbox.

Admission (`Engine._admit`) looks at every runnable job on every wake-up; reading them all from the store
each time made a wake-up cost more the bigger the tree. This keeps them in memory and reads again only the
jobs the events since the last wake-up name (created, moved, changed): a job that became runnable is added,
one that left is dropped, one whose rank changed is read again. A full read on the first wake-up, every
FULL_EVERY, and after events were pruned unread, as `_settled` does. What admission derives from a job's
record (its resource request) is derived once, when the job is read, under `_derived`; the order is sorted
again only when the set changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from runner.engine._settled import FULL_EVERY, pruned_unread
from runner.spec.job_states import JobState
from runner.store.db import Database
from runner.store.events import last_seq
from runner.store.jobs import admission_view, changed_jobs

RUNNABLE = (JobState.RUNNABLE,)


class RunnableJobs:
    """The runnable jobs (`admission_view`'s form), oldest first."""

    def __init__(self, derive: Callable[[Mapping[str, Any]], Any] = lambda job: None) -> None:
        self._jobs: dict[str, dict[str, Any]] = {}
        self._order: list[dict[str, Any]] | None = None
        self._derive = derive
        self._seq: int | None = None
        self._reads = 0

    def current(self, db: Database) -> Sequence[dict[str, Any]]:
        """Every runnable job, oldest first (not to be changed: it is kept for the next wake-up)."""
        self._reads += 1
        upto = last_seq(db)  # read first: what changes while we read is read again next time
        if self._seq is None or self._reads % FULL_EVERY == 0 or pruned_unread(db, self._seq):
            self._jobs = {job["id"]: self._derived(job) for job in admission_view(db, RUNNABLE)}
            self._order = None
        else:
            changed = changed_jobs(db, self._seq, upto)
            left = [self._jobs.pop(job_id) for job_id in changed if job_id in self._jobs]
            read = admission_view(db, RUNNABLE, changed) if changed else []
            self._jobs.update((job["id"], self._derived(job)) for job in read)
            if left or read:
                self._order = None
        self._seq = upto
        if self._order is None:
            self._order = sorted(self._jobs.values(), key=lambda job: job["_order"])
        return self._order

    def _derived(self, job: dict[str, Any]) -> dict[str, Any]:
        job["_derived"] = self._derive(job)
        return job
