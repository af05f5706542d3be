"""Re-running one job alone: the input it ran with, and a new root job of its applet at its entry point.

`recorded_input()` reads what `runner rerun`, watch mode's focused loop (`runner dev --input-from`) and the
TUI's `R` start again; `start_rerun()` starts it, linked to the job it re-runs (`rerunOf`). `runner rerun` and
`R` also carry the job's run options over (`RecordedRun.carried()`: instance types, folder, tags...).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runner.client.api import EngineClient
from runner.client.rerun_options import EXTRA_DESCRIBE_FIELDS, carried_fields
from runner.errors import ApiError, InvalidState
from runner.spec.links import JobRef, job_ref


@dataclass(frozen=True, slots=True)
class RecordedRun:
    """What a job ran: its applet, entry point, input (references resolved) and the applet's source folder.

    `folder` is None when the engine does not say (an applet made by /applet/new has only a scratch folder,
    and a job's token is not shown host paths).
    """

    applet: str
    entry: str
    input: dict[str, Any]
    folder: str | None
    described: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    tree: list[dict[str, Any]] = field(default_factory=list, repr=False, compare=False)

    def carried(self, applet: str | None = None) -> dict[str, Any]:
        """The run options the job ran with, as run request fields for a re-run of `applet` (default its own)."""
        return carried_fields(self.described, applet or self.applet, self.tree)


def _describe(client: EngineClient, object_id: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
    answer = client.call(f"/{object_id}/describe", dict(body or {}))
    if not isinstance(answer, dict):
        raise ApiError(f"/{object_id}/describe answered {type(answer).__name__}, not a JSON object")
    return answer


def recorded_input(client: EngineClient, job_id: str) -> RecordedRun:
    """The run `job_id` made; InvalidState when a job-based reference in its input has not resolved yet."""
    job = _describe(client, job_id, {"defaultFields": True,
                                     "fields": {name: True for name in EXTRA_DESCRIBE_FIELDS}})
    applet = job.get("applet")
    if not isinstance(applet, str) or not applet:
        raise InvalidState(f"{job_id} ran no applet that can be run again (app and analysis jobs cannot)")
    # Once the job was runnable, describe's `input` is what it was given; before, references may remain.
    given = job.get("input")
    given = given if isinstance(given, dict) else dict(job.get("originalInput") or {})
    outputs: dict[str, dict[str, Any]] = {}
    value = _resolved(client, job_id, given, outputs)
    source = _describe(client, applet, {"sourceFolder": True}).get("sourceFolder")
    return RecordedRun(applet, str(job.get("function") or "main"), value,
                       source if isinstance(source, str) and source else None, job, _tree(client, job))


def _tree(client: EngineClient, job: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The entry point, executable and timeout of each job in `job`'s tree."""
    fields = {"function": True, "applet": True, "app": True, "timeout": True}
    answer = client.call("/system/findExecutions", {"rootExecution": job.get("rootExecution") or job["id"],
                                                    "describe": {"fields": fields}})
    results = answer.get("results") if isinstance(answer, dict) else None
    return [dict(each["describe"]) for each in results or [] if isinstance(each.get("describe"), dict)]


def _resolved(client: EngineClient, job_id: str, value: Any, outputs: dict[str, dict[str, Any]]) -> Any:
    """`value` with each job-based reference replaced by the field it names (the referenced job done)."""
    ref = job_ref(value)
    if ref is not None:
        return _field(client, job_id, ref, outputs)
    if isinstance(value, list):
        return [_resolved(client, job_id, item, outputs) for item in value]
    if isinstance(value, dict):
        return {key: _resolved(client, job_id, item, outputs) for key, item in value.items()}
    return value


def _field(client: EngineClient, job_id: str, ref: JobRef, outputs: dict[str, dict[str, Any]]) -> Any:
    if ref.job not in outputs:
        referenced = _describe(client, ref.job, {"fields": {"state": True, "output": True}})
        if referenced.get("state") != "done" or not isinstance(referenced.get("output"), dict):
            raise InvalidState(f"the input of {job_id} is not resolved yet: it refers to the output of "
                               f"{ref.job}, which is {referenced.get('state')}, not done")
        outputs[ref.job] = referenced["output"]
    output = outputs[ref.job]
    if ref.field not in output:
        raise InvalidState(f"the input of {job_id} refers to the output field {ref.field!r} of {ref.job}, "
                           "which it does not have")
    found = output[ref.field]
    if ref.index is None:
        return found
    if not isinstance(found, list) or ref.index >= len(found):
        raise InvalidState(f"the input of {job_id} refers to item {ref.index} of {ref.job}'s {ref.field!r}, "
                           "which does not exist")
    return found[ref.index]


def start_rerun(client: EngineClient, applet: str, *, entry: str, input: Mapping[str, Any],
                rerun_of: str | None, run_options: Mapping[str, Any] | None = None) -> str:
    """Start `applet` at entry point `entry` with `input` as a new root job; its ID.

    `run_options` are further fields of the run request (project, folder, name, instanceType requests...,
    as `runner run`'s flags make them); the project defaults to the client's.
    """
    body: dict[str, Any] = {"project": client.project, **dict(run_options or {})}
    if body.get("project") is None:
        raise InvalidState("no project to run the job in: the engine named no default project")
    body.update({"input": dict(input), "entryPoint": entry})
    if rerun_of is not None:
        body["rerunOf"] = rerun_of
    answer = client.call(f"/{applet}/run", body)
    if not isinstance(answer, dict) or not isinstance(answer.get("id"), str):
        raise ApiError(f"/{applet}/run answered without a job ID: {answer!r}")
    return str(answer["id"])
