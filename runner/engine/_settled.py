"""Which waiting jobs a wake-up of the loop examines: only those whose own record or dependencies changed.

A waiting job's verdict (`_readiness`) depends on its own document and on the jobs and data objects it
still waits on, which `_progress` keeps in its `dependsOn`: the unfinished children and referenced jobs of
a job waiting on output, the jobs and unclosed objects of one waiting on input. A job examined with nothing
to do is settled with that fingerprint (its state and raw document, and each dependency's state); it is
examined again only once the fingerprint changes. Each wake-up so reads the waiting jobs' rows and their
dependencies' states (no document decoded), not every waiting job with its readiness queries: a wake-up
costs the same in a 500-job tree as in a 50-job tree, less the jobs that did change.
"""

from __future__ import annotations

from runner.spec.job_states import JobState
from runner.store.db import Database
from runner.store.jobs import JobHead, dependency_states, job_heads

Fingerprint = tuple[str, str, tuple[str | None, ...]]


class SettledJobs:
    """The fingerprints of the waiting jobs last found with nothing to do."""

    def __init__(self) -> None:
        self._settled: dict[str, Fingerprint] = {}

    def changed(self, db: Database, states: tuple[JobState, ...]) -> list[tuple[JobHead, Fingerprint]]:
        """The jobs in `states` not settled with their current fingerprint, oldest first, with that fingerprint."""
        heads = job_heads(db, states)
        known = dependency_states(db, [i for head in heads for i in head.depends_on])
        current = {head.id: (head.state, head.doc, tuple(known.get(i) for i in head.depends_on)) for head in heads}
        # Jobs that left the waiting states are forgotten: the table never outgrows the jobs waiting now.
        self._settled = {job_id: print_ for job_id, print_ in self._settled.items() if job_id in current}
        return [(head, current[head.id]) for head in heads if self._settled.get(head.id) != current[head.id]]

    def settle(self, job_id: str, fingerprint: Fingerprint) -> None:
        """`job_id` was examined with this fingerprint and had nothing to do: skip it until it changes."""
        self._settled[job_id] = fingerprint
