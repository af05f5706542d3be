"""A failed try that the execution policy lets start again: restartable, then runnable as the next try."""

from __future__ import annotations

from typing import Any

from runner.engine._host import EngineHost
from runner.spec.job_states import JobState
from runner.store.db import now_ms
from runner.store.job_record import KEYS, record_of, stored
from runner.store.jobs import get_job

S = JobState


def restart_try(engine: EngineHost, job: dict[str, Any], reason: str, message: str, counts: dict[str, int]) -> None:
    """End the try of `job` restartable and make it runnable again as its next try (`failureCounts` counted).

    Describe keeps the earlier try (`/job-xxxx/describe {"try": N}`) and shows only the new try's transitions.
    """
    job_id = job["id"]
    engine.transition(job_id, S.RESTARTABLE, {"stoppedRunning": now_ms(), "failureReason": reason,
                                               "failureMessage": message})
    previous = get_job(engine.db, job_id)
    earlier = dict(previous)
    earlier.pop(KEYS["tries"], None)
    tries = [*record_of(job).tries, earlier]
    next_try = int(job.get("try") or 0) + 1
    engine.say(job_id, f"try {next_try - 1} failed ({reason}: {message}); restarting as try {next_try}")
    engine.transition(job_id, S.RUNNABLE, {
        "try": next_try, "tryCreated": now_ms(), "failureCounts": counts, "failureReason": None,
        "failureMessage": None, "startedRunning": None, "stoppedRunning": None,
        **stored(tries=tries, transitions_before=len(previous["stateTransitions"])),
    })
