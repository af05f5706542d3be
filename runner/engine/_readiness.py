"""Whether a waiting job can move on: its inputs (before running) and its outputs (after running).

A job waits on input until every job-based reference in its input resolves, every job in its
`dependsOn` is done and every data object it names is closed. A job waits on output until all its
children have ended and the references in its output resolve. A reference to a failed job, or to a
field the job did not output, is a failure: InputError before running, OutputError after.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from runner.engine.references import ReferencedJob, references_in, resolve
from runner.spec.ids import id_class
from runner.spec.io_spec import IOParam, value_matches_class
from runner.spec.job_states import JobState
from runner.spec.links import data_link_id, job_ref
from runner.store.db import Database
from runner.store.job_record import record_of
from runner.store.jobs import child_states, job_outcomes
from runner.store.objects import ObjectNotFound, get_object


@dataclass(slots=True)
class Readiness:
    """The verdict on a waiting job: the resolved value, what it still waits on, or why it fails."""

    value: Any = None
    waiting_on: list[str] = field(default_factory=list)
    failure: str | None = None


def referenced_jobs(db: Database, job_ids: Iterable[str]) -> dict[str, ReferencedJob]:
    """The jobs among `job_ids` that exist, as reference resolution needs them, read in one query."""
    return {job_id: ReferencedJob(JobState(state), output)
            for job_id, (state, output) in job_outcomes(db, job_ids).items()}


def _lookup(db: Database, value: Any) -> Callable[[str], ReferencedJob | None]:
    """A lookup for `resolve` that read every job referenced in `value` at once."""
    jobs = referenced_jobs(db, [ref.job for ref in references_in(value)])
    return jobs.get


def data_ids(value: Any) -> list[str]:
    """The IDs of every data object linked in a JSON value."""
    object_id = data_link_id(value)
    if object_id is not None:
        return [object_id]
    if job_ref(value) is not None:
        return []
    if isinstance(value, list):
        return [i for item in value for i in data_ids(item)]
    if isinstance(value, Mapping):
        return [i for item in value.values() for i in data_ids(item)]
    return []


def _object_waits(db: Database, ids: Iterable[str], what: str) -> tuple[list[str], str | None]:
    waiting = []
    for object_id in ids:
        try:
            state = get_object(db, object_id)["state"]
        except ObjectNotFound:
            return [], f"{what} {object_id} does not exist"
        if state != "closed":
            waiting.append(object_id)
    return waiting, None


def _job_waits(db: Database, ids: list[str]) -> tuple[list[str], str | None]:
    waiting = []
    jobs = referenced_jobs(db, ids)
    for job_id in ids:
        job = jobs.get(job_id)
        if job is None:
            return [], f"the job {job_id} in dependsOn does not exist"
        if job.state in (JobState.FAILED, JobState.TERMINATED):
            return [], f"{job_id} was a job dependency but {job.state.value}"
        if job.state is not JobState.DONE:
            waiting.append(job_id)
    return waiting, None


def input_readiness(db: Database, job: Mapping[str, Any]) -> Readiness:
    """Whether `job` can become runnable, and its input with references resolved."""
    given = job.get("dependsOn") or []
    job_ids = [d for d in given if id_class(d) in ("job", "analysis")]
    jobs_waiting, failure = _job_waits(db, job_ids)
    if failure:
        return Readiness(failure=failure)
    objects = [d for d in given if d not in job_ids] + data_ids(job.get("originalInput") or {})
    objects_waiting, failure = _object_waits(db, dict.fromkeys(objects), "the input object")
    if failure:
        return Readiness(failure=failure)
    original = job.get("originalInput") or {}
    resolution = resolve(original, _lookup(db, original))
    if resolution.failures:
        return Readiness(failure="; ".join(resolution.failures))
    waiting = list(dict.fromkeys([*jobs_waiting, *objects_waiting, *sorted(resolution.waiting_on)]))
    return Readiness(value=resolution.value, waiting_on=waiting)


def output_readiness(db: Database, job: Mapping[str, Any]) -> Readiness:
    """Whether `job`, back from running, can be done: children ended, output references resolved."""
    unfinished = [child for child, state in child_states(db, job["id"]).items() if not JobState(state).is_terminal]
    raw = record_of(job).raw_output or {}
    resolution = resolve(raw, _lookup(db, raw))
    if resolution.failures:
        return Readiness(failure="; ".join(resolution.failures))
    closing = [] if resolution.waiting_on else [i for i in data_ids(resolution.value) if _state(db, i) == "closing"]
    waiting = list(dict.fromkeys([*unfinished, *sorted(resolution.waiting_on), *closing]))
    return Readiness(value=resolution.value, waiting_on=waiting)


def _state(db: Database, object_id: str) -> str | None:
    try:
        return str(get_object(db, object_id)["state"])
    except ObjectNotFound:
        return None


def output_problem(db: Database, spec: tuple[IOParam, ...] | None, output: Mapping[str, Any]) -> str | None:
    """Why a master job's resolved output does not satisfy its outputSpec (None when it does)."""
    if spec is None:
        return None
    for param in spec:
        if param.name not in output or output[param.name] is None:
            if not param.optional:
                return f"the required output {param.name!r} ({param.klass}) is missing"
            continue
        value = output[param.name]
        items = value if param.is_array else [value]
        if param.is_array and not isinstance(value, list):
            return f"output {param.name!r} must be an array ({param.klass}), got {type(value).__name__}"
        for item in items:
            if not value_matches_class(item, param.item_class):
                return f"output {param.name!r} must be of class {param.klass}, got {item!r}"
        waiting, failure = _object_waits(db, data_ids(value), f"output {param.name!r} names")
        if failure:
            return failure
        if waiting:
            return f"output {param.name!r} names objects that are not closed: {', '.join(waiting)}"
    return None
