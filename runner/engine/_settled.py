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

A settled job also keeps the count of what it still waits on (the dependencies not done or closed when it was
settled). A dependency that changes is read alone: done (a job) or closed (an object) counts it down, and the
waiter is examined again only once the count reaches zero; one still on its way (running, closing...) changes
nothing; any other state (failed, terminated, gone) makes the waiter examined at once. A parent waiting on N
children is so examined once when the last one ends, not at each child's end (O(N) over its wait, not O(N^2)).
Its `dependsOn` then lists what it waited on when last examined (never less; empty once it waits on nothing),
brought up to date by the full looks. The count lives in memory: an engine that restarts begins with a full look.
"""

from __future__ import annotations

from runner.spec.ids import id_class
from runner.spec.job_states import JobState
from runner.store.db import Database
from runner.store.events import first_seq, last_seq
from runner.store.jobs import JobHead, changed_jobs, dependency_states, job_heads

Fingerprint = tuple[str, str, tuple[str | None, ...]]
FULL_EVERY = 200
# What a dependency is once it no longer holds its waiter back (a job done, a data object closed).
FINISHED = frozenset({JobState.DONE.value, "closed"})
# The states of a dependency still on its way there: a change among them changes no waiter's verdict.
ON_ITS_WAY = frozenset({s.value for s in JobState if not s.is_terminal} | {"open", "closing"})


class SettledJobs:
    """The waiting jobs last found with nothing to do, their fingerprints and what they wait on."""

    def __init__(self) -> None:
        self._settled: dict[str, Fingerprint] = {}
        self._deps: dict[str, tuple[str, ...]] = {}
        self._waiters: dict[str, set[str]] = {}
        self._objects: dict[str, str | None] = {}  # data objects settled jobs wait on: their state then
        self._remaining: dict[str, set[str]] = {}  # settled job: its dependencies not yet finished
        self._pending: set[str] = set()  # given out, not settled since: looked at again until they are
        self._seq: int | None = None
        self._wakes = 0
        # The dependency states the last look read: a job examined then settled in the same (synchronous)
        # advance moved nothing, so they still hold when it is settled.
        self._known: dict[str, str] = {}

    def changed(self, db: Database, states: tuple[JobState, ...]) -> list[JobHead]:
        """The jobs in `states` to examine (not settled, or settled with what has changed since), oldest first."""
        self._wakes += 1
        upto = last_seq(db)  # read first: what changes while we read is read again next time
        if self._seq is None or self._wakes % FULL_EVERY == 0 or pruned_unread(db, self._seq):
            self._seq = upto
            return self._full_look(db, states)
        own, woken = self._suspects(db, changed_jobs(db, self._seq, upto))
        self._seq = upto
        heads = job_heads(db, states, own | woken)
        for job_id in ((own | woken) & set(self._settled)) - {head.id for head in heads}:
            self._forget(job_id)  # no longer waiting
        # A settled job whose own record is as it was is examined only when its count says so: the changes
        # of what it waits on were all counted (each one named by an event, or its object's state read).
        heads = [head for head in heads if head.id in woken or self._own(head) != self._own_print(head.id)]
        self._pending = {head.id for head in heads}
        self._known = dependency_states(db, [dep for head in heads for dep in head.depends_on])
        return heads

    def _full_look(self, db: Database, states: tuple[JobState, ...]) -> list[JobHead]:
        """Every job in `states` whose fingerprint, dependency states included, is not the settled one."""
        heads = job_heads(db, states)
        for job_id in set(self._settled) - {head.id for head in heads}:
            self._forget(job_id)
        known = self._known = dependency_states(db, [dep for head in heads for dep in head.depends_on])
        heads = [head for head in heads if self._settled.get(head.id) != self._fingerprint(head, known)]
        self._pending = {head.id for head in heads}
        return heads

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
        self._remaining[job_id] = {dep for dep in head.depends_on if known.get(dep) not in FINISHED}
        for dep in head.depends_on:
            self._waiters.setdefault(dep, set()).add(job_id)
            if id_class(dep) not in ("job", "analysis"):
                # Kept if tracked: the state seen then, so that a change since counts for the earlier waiters.
                self._objects.setdefault(dep, known.get(dep))
        self._pending.discard(job_id)

    def _suspects(self, db: Database, changed: set[str]) -> tuple[set[str], set[str]]:
        """The jobs changed or given out unsettled; and the settled waiters whose count says to examine them."""
        states = dependency_states(db, [*self._objects, *(dep for dep in changed if dep in self._waiters)])
        moved = {dep for dep, state in self._objects.items() if states.get(dep) != state}
        self._objects.update((dep, states.get(dep)) for dep in moved)
        woken: set[str] = set()
        for dep in (changed & self._waiters.keys()) | moved:
            woken |= self._count_down(dep, states.get(dep))
        return changed | self._pending, woken

    def _count_down(self, dep: str, state: str | None) -> set[str]:
        """The waiters on `dep` to examine again now that it is in `state`."""
        if state in ON_ITS_WAY:
            return set()
        waiters = self._waiters.get(dep, set())
        if state not in FINISHED:
            return set(waiters)  # failed, terminated, gone: the waiter's verdict is another one
        ready = set()
        for waiter in waiters:
            remaining = self._remaining.get(waiter)
            if remaining is not None and dep in remaining:
                remaining.discard(dep)
                if not remaining:
                    ready.add(waiter)
        return ready

    def _forget(self, job_id: str) -> None:
        self._settled.pop(job_id, None)
        self._remaining.pop(job_id, None)
        for dep in self._deps.pop(job_id, ()):
            waiters = self._waiters.get(dep)
            if waiters is not None:
                waiters.discard(job_id)
                if not waiters:
                    del self._waiters[dep]
                    self._objects.pop(dep, None)

    def _own_print(self, job_id: str) -> tuple[str, str] | None:
        settled = self._settled.get(job_id)
        return None if settled is None else (settled[0], settled[1])

    @staticmethod
    def _own(head: JobHead) -> tuple[str, str]:
        return head.state, head.doc

    @staticmethod
    def _fingerprint(head: JobHead, known: dict[str, str]) -> Fingerprint:
        return head.state, head.doc, tuple(known.get(dep) for dep in head.depends_on)


def pruned_unread(db: Database, seq: int) -> bool:
    """Whether events after `seq` were pruned before the loop read them."""
    oldest = first_seq(db)
    return oldest is not None and oldest > seq + 1

