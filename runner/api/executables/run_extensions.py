"""The runner's extensions of a run request: `rerunOf` (the job a run re-runs) and `entryPoint` (where its
root job starts), used by `runner rerun` and watch mode; the platform has neither. And the platform's
`priority`, which the engine records for describe only (it schedules by rank)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runner.api.core.routing import Call
from runner.errors import InvalidInput, PermissionDenied, ResourceNotFound
from runner.spec.entry_points import MAIN, NAME, entry_points, unknown_entry_point
from runner.spec.ids import is_id
from runner.store.jobs import JobNotFound, get_job


def applet_entry_points(applet: Mapping[str, Any]) -> tuple[str, ...]:
    """The entry points of a stored applet's code (`main` first)."""
    code = (applet.get("runSpec") or {}).get("code") or ""
    interpreter = (applet.get("_runner") or {}).get("interpreter") or ""
    return entry_points(str(interpreter), str(code))


def entry_point_arg(body: Mapping[str, Any], applet: Mapping[str, Any]) -> str:
    """The run's `entryPoint` (default `main`); InvalidInput, listing the code's, for one it lacks."""
    entry = body.get("entryPoint", MAIN)
    if not isinstance(entry, str) or not NAME.match(entry):
        raise InvalidInput("Expected key 'entryPoint' of input to be the name of an entry point of the "
                           "applet (a function name)",
                           {"field": "entryPoint", "expected": "an entry point name"})
    known = applet_entry_points(applet)
    if entry not in known:
        raise InvalidInput(unknown_entry_point(entry, known),
                           {"field": "entryPoint", "expected": f"one of {', '.join(known)}"})
    return entry


def rerun_of_arg(call: Call) -> str | None:
    """The run's `rerunOf`: a job the caller may describe (None when not given)."""
    job_id = call.body.get("rerunOf")
    if job_id is None:
        return None
    if not is_id(job_id, "job"):
        raise InvalidInput("Expected key 'rerunOf' of input to be a job ID (job-xxxx)",
                           {"field": "rerunOf", "expected": "a job ID"})
    try:
        job = get_job(call.db, job_id)
    except JobNotFound:
        raise ResourceNotFound(f"rerunOf: the job {job_id} does not exist") from None
    if not call.caller.may_act_on(call.db, job):
        raise PermissionDenied(f"rerunOf: {call.caller.job_id} may not describe {job_id}: a job re-runs only "
                               "jobs that share its workspace or whose parent does")
    return str(job_id)


PRIORITIES = ("low", "normal", "high")


def priority_arg(body: Mapping[str, Any]) -> str | None:
    """The run's `priority` ("low", "normal" or "high"), None when not given."""
    priority = body.get("priority")
    if priority is not None and priority not in PRIORITIES:
        raise InvalidInput(f"Expected key 'priority' of input to be one of {', '.join(PRIORITIES)}",
                           {"field": "priority", "expected": " or ".join(PRIORITIES)})
    return priority if isinstance(priority, str) else None
