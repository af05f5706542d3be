"""Ending job trees: a failure fails the job and its ancestors and terminates the rest; terminate ends all.

A detached job is the root of its own tree, so neither reaches it. Jobs that are running are moved to
`terminating` and their containers are stopped; the driver moves them on to `terminated` once the
container is gone. Jobs that are not running end at once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from runner.engine._host import EngineHost
from runner.spec.job_states import JobState
from runner.store.db import now_ms
from runner.store.jobs import find_jobs, get_job

S = JobState
log = logging.getLogger(__name__)


def failure_from(job: Mapping[str, Any], reason: str, message: str) -> dict[str, Any]:
    """The `failureFrom` mapping naming the job try that caused a failure."""
    return {"id": job["id"], "try": job.get("try", 0), "name": job.get("name"), "executable": job.get("applet"),
            "executableName": job.get("executableName"), "function": job.get("function"),
            "failureReason": reason, "failureMessage": message}


def _fail_one(engine: EngineHost, job_id: str, fields: dict[str, Any]) -> None:
    state = JobState(get_job(engine.db, job_id)["state"])
    if state.is_terminal or state is S.TERMINATING:
        return
    if state in (S.RUNNING, S.DEBUG_HOLD):
        engine.stop_container(job_id)
        fields = {**fields, "stoppedRunning": now_ms()}
    engine.transition(job_id, S.FAILED, fields)


def fail(engine: EngineHost, job: Mapping[str, Any], reason: str, message: str) -> None:
    """Fail `job` and its ancestors (with failureFrom naming it); terminate the rest of its tree."""
    cause = failure_from(job, reason, message)
    fields = {"failureReason": reason, "failureMessage": message, "failureFrom": cause}
    _fail_one(engine, job["id"], fields)
    parent_id = job.get("parentJob")
    while parent_id:
        _fail_one(engine, parent_id, fields)
        parent_id = get_job(engine.db, parent_id).get("parentJob")
    end_tree(engine, job["rootExecution"], reason="JobTreeFailure",
             message=f"{job['id']} ({job.get('name')}) failed: {reason}: {message}")


def end_tree(engine: EngineHost, root_id: str, *, reason: str, message: str) -> None:
    """Terminate every job of the tree rooted at `root_id` that has not ended yet."""
    for job in find_jobs(engine.db, root=root_id, transitions=False):  # states only: no transitions read
        state = JobState(job["state"])
        if state.is_terminal or state is S.TERMINATING:
            continue
        fields = {"failureReason": reason, "failureMessage": message}
        engine.transition(job["id"], S.TERMINATING, fields)
        running = state in (S.RUNNING, S.DEBUG_HOLD)  # a held job's container is still up too
        if running and engine.has_try(job["id"]):
            engine.stop_container(job["id"])
        else:  # nothing to wait for, also when a running job has no try in this engine (no container)
            engine.transition(job["id"], S.TERMINATED, {"stoppedRunning": now_ms()} if running else None)


def end_after_error(engine: EngineHost, job_id: str, message: str) -> None:
    """The last resort when ending a try raised: the job still ends, failed (terminated if terminating).

    The tree fails as for any failure; if even that raises, this job alone is moved to its final state.
    """
    job = get_job(engine.db, job_id)
    state = JobState(job["state"])
    if state.is_terminal:
        return
    if state is S.TERMINATING:
        engine.transition(job_id, S.TERMINATED, {"stoppedRunning": now_ms()})
        return
    try:
        fail(engine, job, "AppInternalError", message)
        return
    except Exception:  # noqa: BLE001 - the job must still end
        log.exception("failing the tree of %s failed", job_id)
    state = JobState(get_job(engine.db, job_id)["state"])
    if state is S.TERMINATING:
        engine.transition(job_id, S.TERMINATED, {"stoppedRunning": now_ms()})
    elif not state.is_terminal:
        engine.transition(job_id, S.FAILED, {"failureReason": "AppInternalError", "failureMessage": message,
                                              "stoppedRunning": now_ms()})
