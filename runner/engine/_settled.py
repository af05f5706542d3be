"""Which waiting jobs a wake-up of the loop examines: only those whose own record or dependencies changed.

A waiting job's verdict (`_readiness`) depends on its own document and on the jobs and data objects it
still waits on, which `_progress` keeps in its `dependsOn`: the unfinished children and referenced jobs of
a job waiting on output, the jobs and unclosed objects of one waiting on input. A job examined with nothing
to do is settled with its fingerprint (state, raw document, each dependency's state) and examined again only
once that changes. Which jobs changed comes from the event outbox, written in the same transaction as every
job change and numbered in commit order: a wake-up reads the events since the last one, the waiting jobs
they name and those settled on a job they name, and the states of the data objects settled jobs wait on.
Its cost follows what changed, not the size of the tree. Every FULL_EVERY wake-ups, on the first, and when
events were pruned before they were read, every waiting job is read again (a full look, as before).
"""

from __future__ import annotations

from runner.spec.ids import id_class
from runner.spec.job_states import JobState
from runner.store.db import Database
from runner.store.events import first_seq, last_seq
from runner.store.jobs import JobHead, changed_jobs, dependency_states, job_heads

Fingerprint = tuple[str, str, tuple[str | None, ...]]
FULL_EVERY = 200


class SettledJobs:
    """The waiting jobs last found with nothing to do, their fingerprints and what they wait on."""

    def __init__(self) -> None:
        self._settled: dict[str, Fingerprint] = {}
        self._deps: dict[str, tuple[str, ...]] = {}
        self._waiters: dict[str, set[str]] = {}
        self._objects: dict[str, str | None] = {}  # data objects settled jobs wait on: their state then
        self._pending: set[str] = set()  # given out, not settled since: looked at again until they are
        self._seq: int | None = None
        self._wakes = 0
        # The dependency states the last look read: a job examined then settled in the same (synchronous)
        # advance moved nothing, so they still hold when it is settled.
        self._known: dict[str, str] = {}

    def changed(self, db: Database, states: tuple[JobState, ...]) -> list[tuple[JobHead, Fingerprint]]:
        """The jobs in `states` not settled with their current fingerprint, oldest first, with that fingerprint."""
        self._wakes += 1
        upto = last_seq(db)  # read first: what changes while we read is read again next time
        if self._seq is None or self._wakes % FULL_EVERY == 0 or pruned_unread(db, self._seq):
            heads = job_heads(db, states)
            looked_at = set(self._settled)
        else:
            looked_at = self._suspects(db, changed_jobs(db, self._seq, upto))
            heads = job_heads(db, states, looked_at)
        self._seq = upto
        for job_id in (looked_at & set(self._settled)) - {head.id for head in heads}:
            self._forget(job_id)  # no longer waiting
        self._pending = {head.id for head in heads}
        known = self._known = dependency_states(db, [dep for head in heads for dep in head.depends_on])
        found = [(head, self._fingerprint(head, known)) for head in heads]
        return [(head, print_) for head, print_ in found if self._settled.get(head.id) != print_]

    def settle(self, db: Database, job_id: str) -> None:
        """`job_id` was examined and had nothing to do: skip it until its record or dependencies change."""
        self._forget(job_id)
        heads = job_heads(db, tuple(JobState), [job_id])
        if not heads:
            return
        head = heads[0]
        unread = [dep for dep in head.depends_on if dep not in self._known]
        known = {**self._known, **dependency_states(db, unread)} if unread else self._known
        self._settled[job_id] = self._fingerprint(head, known)
        self._deps[job_id] = head.depends_on
        for dep in head.depends_on:
            self._waiters.setdefault(dep, set()).add(job_id)
            if id_class(dep) not in ("job", "analysis"):
                self._objects[dep] = known.get(dep)
        self._pending.discard(job_id)

    def _suspects(self, db: Database, changed: set[str]) -> set[str]:
        objects = dependency_states(db, self._objects)
        moved = {dep for dep, state in self._objects.items() if objects.get(dep) != state}
        suspects = set(changed) | self._pending
        for dep in changed | moved:
            suspects |= self._waiters.get(dep, set())
        return suspects

    def _forget(self, job_id: str) -> None:
        self._settled.pop(job_id, None)
        for dep in self._deps.pop(job_id, ()):
            waiters = self._waiters.get(dep)
            if waiters is not None:
                waiters.discard(job_id)
                if not waiters:
                    del self._waiters[dep]
                    self._objects.pop(dep, None)

    @staticmethod
    def _fingerprint(head: JobHead, known: dict[str, str]) -> Fingerprint:
        return head.state, head.doc, tuple(known.get(dep) for dep in head.depends_on)


def pruned_unread(db: Database, seq: int) -> bool:
    """Whether events after `seq` were pruned before the loop read them."""
    oldest = first_seq(db)
    return oldest is not None and oldest > seq + 1

