"""Carrying on after an engine restart: the jobs a previous engine left running, held or terminating.

Each such job's container is looked up by its labels. A container that still runs is watched again as
its try (the rest of its timeout, terminate, its resources in the scheduler) and its log resumes where
`job.log` stopped; one that exited meanwhile is collected from what the job wrote; a terminating job's
container is stopped. A job whose container is gone fails with AppInternalError saying so.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runner.backends.base import Found
from runner.engine._host import EngineHost, Restart, RunningTry
from runner.engine._outcome import Outcome, seconds_text
from runner.engine._try import watched_outcome
from runner.engine.logs import read_entries
from runner.spec.job_states import JobState
from runner.store.db import now_ms
from runner.store.jobs import find_jobs
from runner.store.tokens import revoke_job_tokens

log = logging.getLogger(__name__)
S = JobState
LIVE_STATES = (S.RUNNING, S.DEBUG_HOLD, S.TERMINATING)
JOB_STREAMS = ("stdout", "stderr")


def live_jobs(engine: EngineHost) -> list[dict[str, Any]]:
    """The jobs the store says have a container: running, held for debugging, or terminating."""
    return find_jobs(engine.db, states=LIVE_STATES)


def lines_logged(job_dir: Path, since_ms: int) -> dict[str, int]:
    """How many stdout and stderr lines of the try that started at `since_ms` are in the job's log."""
    entries, _ = read_entries(job_dir)
    counts = dict.fromkeys(JOB_STREAMS, 0)
    for entry in entries:
        if entry.stream in counts and entry.at_ms >= since_ms:
            counts[entry.stream] += 1
    return counts


def time_left_s(job: Mapping[str, Any], found: Found, at_ms: int) -> float | None:
    """What is left of the job's timeout (None: no timeout applies); 0 when it ran out during the outage."""
    if found.state == "exited" or job["state"] != S.RUNNING.value or not job.get("timeout"):
        return None
    spent = at_ms - int(job.get("startedRunning") or at_ms)
    return max(0.0, (int(job["timeout"]) - spent) / 1000)


def away_text(restart: Restart, at_ms: int) -> str:
    """` (the engine was away for about 12s)`, or nothing when the previous engine's last sign is unknown."""
    if restart.away_since_ms is None:
        return ""
    return f" (the engine was away for about {seconds_text(max(0, at_ms - restart.away_since_ms) / 1000)})"


async def resume_jobs(engine: EngineHost, restart: Restart) -> None:
    """Re-attach, collect or end every live job of the store; a re-attached try runs as its own task."""
    for job in live_jobs(engine):
        found = await engine.backend.find_job(job["id"])
        if found is not None:
            engine.follow_again(job, found)
        elif job["state"] == S.TERMINATING.value:
            engine.transition(job["id"], S.TERMINATED, {"stoppedRunning": now_ms()})
            engine.say(job["id"], "terminated (its container was gone after the engine restarted)")
        else:
            message = f"its container was gone after the engine restarted{away_text(restart, now_ms())}"
            engine.say(job["id"], message)
            revoke_job_tokens(engine.db, job["id"])
            engine.finish_try(job["id"], Outcome(failure_reason="AppInternalError", failure_message=message))


async def resumed_outcome(engine: EngineHost, job: dict[str, Any], running: RunningTry, found: Found) -> Outcome:
    """How the try of `job` that a previous engine started ends, watched from now on."""
    job_dir = engine.home / "jobs" / job["id"]
    already = lines_logged(job_dir, int(job.get("startedRunning") or 0))
    left_s = time_left_s(job, found, now_ms())
    engine.say(job["id"], f"the engine restarted: its container is {found.state}; following it again"
                           + (f", {seconds_text(left_s)} of its timeout left" if left_s is not None else ""))
    outcome = await watched_outcome(engine, job, running, left_s, lambda timeout, on_log: engine.backend.resume(
        found, timeout_s=timeout, on_log=on_log, stop_event=running.stop, on_exit=lambda: engine.release(running),
        already=already, job_id=job["id"]))
    moved = engine.restart.port_moved_from
    if moved is not None and job.get("networkAccess") and outcome.failure_reason is not None:
        outcome = dataclasses.replace(outcome, failure_message=(
            f"{outcome.failure_message} (this job was told the engine is at port {moved}, which another "
            f"program had taken when the engine restarted; the engine now listens on port {engine.reach.port})"))
    return outcome
