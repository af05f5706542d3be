"""Creating jobs: a root (or run-from-a-job) master job for an applet, and subjobs from /job/new.

Each new job gets its describe fields worked out once, here: instance type and resources from the
five levels of system requirements, the effective timeout, the execution policy, the workspace and
project context. Fields starting with `_` are the engine's own and never shown by describe.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runner.engine._cloning import clone_into
from runner.engine._readiness import data_ids
from runner.engine.instance_policy import HostLimits, fit_to_host
from runner.errors import InvalidInput
from runner.spec.dxapp import DEFAULT_REGION
from runner.spec.execution_policy import effective_execution_policy
from runner.spec.ids import new_id
from runner.spec.instance_types import lookup, unknown_type_message
from runner.spec.system_requirements import described_requirements, effective_requirements, merge_tree
from runner.spec.timeouts import effective_timeout, merge_timeout_policies
from runner.store.apps import project_cache
from runner.store.db import Database
from runner.store.job_record import JobResources, record_of, stored
from runner.store.jobs import insert_job
from runner.store.objects import create_container

LAUNCHED_BY = "user-local"
BILL_TO = "user-local"
REGION = DEFAULT_REGION  # the projects' region: a job runs where its project is
# A subjob of an app's job is a job of the app too.
APP_FIELDS = ("app", "executableName", "resources", "projectCache")


@dataclass(frozen=True, slots=True)
class RunRequest:
    """What /applet-xxxx/run (or `runner run`) asks for, already checked for shape."""

    input: Mapping[str, Any]
    original_input: Mapping[str, Any]
    project: str
    folder: str = "/"
    name: str | None = None
    tags: tuple[str, ...] = ()
    properties: Mapping[str, str] = field(default_factory=dict)
    details: Any = None
    depends_on: tuple[str, ...] = ()
    system_requirements: Mapping[str, Any] | None = None
    system_requirements_by_executable: Mapping[str, Any] | None = None
    timeout_policy_by_executable: Mapping[str, Any] | None = None
    execution_policy: Mapping[str, Any] | None = None
    delay_workspace_destruction: bool = False
    rank: int = 0
    detach: bool = False
    # None: the engine's `reuse` setting decides; ignore_reuse (or the applet's ignoreReuse) wins over both.
    reuse: bool | None = None
    ignore_reuse: bool = False
    # Failure reasons (AppError, AppInternalError, ExecutionError) that hold a job's container for debugging.
    debug_on: tuple[str, ...] = ()
    allow_ssh: tuple[str, ...] = ()
    cost_limit: float | None = None
    # Runner extensions: the entry point the master job starts at, and the job this run re-runs.
    entry_point: str = "main"
    rerun_of: str | None = None
    # The app version this run is of (/app-xxxx/run); None for an applet's run.
    app: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class SubjobRequest:
    """What /job/new asks for."""

    function: str
    input: Mapping[str, Any]
    name: str | None = None
    tags: tuple[str, ...] = ()
    properties: Mapping[str, str] = field(default_factory=dict)
    details: Any = None
    depends_on: tuple[str, ...] = ()
    system_requirements: Mapping[str, Any] | None = None
    system_requirements_by_executable: Mapping[str, Any] | None = None
    timeout_policy_by_executable: Mapping[str, Any] | None = None


def _resources(instance_type: str) -> JobResources:
    kind = lookup(instance_type)
    if kind is None:
        raise InvalidInput(unknown_type_message(instance_type), {"field": "instanceType", "expected": "a known instance type"})
    return JobResources(float(kind.cores), kind.memory_bytes, kind.gpus, kind.storage_gb * 10**9)


def _placement(applet: Mapping[str, Any], function: str, *, merged_sr: Mapping[str, Any],
               master_run_sr: Mapping[str, Any] | None, job_new_sr: Mapping[str, Any] | None,
               merged_timeouts: Mapping[str, Any], host: HostLimits | None) -> dict[str, Any]:
    """systemRequirements, instanceType, resources and timeout of one job of `applet` running `function`.

    With `host`, the instance type is fitted to it (`runnerResources`), or the run refused by its policies.
    """
    info = applet["_runner"]
    levels: dict[str, Any] = {"merged_by_executable": merged_sr, "master_run_requirements": master_run_sr,
                              "job_new_requirements": job_new_sr, "run_spec_requirements": info["systemRequirements"]}
    requirements = effective_requirements(applet["id"], function, **levels)
    timeout = effective_timeout(applet["id"], function, merged_by_executable=merged_timeouts,
                                run_spec_policy=info["timeoutPolicy"])
    resources = _resources(requirements.instance_type)
    fields: dict[str, Any] = {
        "systemRequirements": described_requirements(applet["id"], function, **levels),
        "instanceType": requirements.instance_type,
        **stored(resources=resources, timeout_source=timeout.source),
    }
    if host is not None:
        fields["runnerResources"] = fit_to_host(requirements.instance_type, resources, host)
    if timeout.seconds is not None:
        fields["timeout"] = int(timeout.seconds * 1000)
    return fields


def _common(job_id: str, applet: Mapping[str, Any], function: str, name: str | None) -> dict[str, Any]:
    access = applet.get("access") or {}
    return {
        "id": job_id, "try": 0, "class": "job", "name": name or applet.get("title") or applet["name"],
        "executableName": applet["name"], "applet": applet["id"], "function": function,
        "launchedBy": LAUNCHED_BY, "billTo": BILL_TO, "region": REGION,
        "networkAccess": list(access.get("network") or []), "failureCounts": {}, "output": None,
        "finalPriority": "normal", "isFree": False, "totalPrice": 0, "costLimit": None,
        "runnerImage": applet["_runner"].get("imageNote"),
    }


def create_master_job(db: Database, applet: Mapping[str, Any], request: RunRequest,
                      invoker: Mapping[str, Any] | None = None, host: HostLimits | None = None) -> dict[str, Any]:
    """Store the master job of a run: a new root, or (from a job, not detached) a master in its tree.

    With `host`, an instance type that does not fit it is capped or refused (InvalidInput) by its policies.
    """
    job_id = new_id("job")
    in_tree = invoker is not None and not request.detach
    own_sr = dict(request.system_requirements_by_executable or {})
    merged_sr = merge_tree([invoker.get("mergedSystemRequirementsByExecutable") if in_tree and invoker else None,
                            own_sr])
    merged_timeouts = merge_timeout_policies(
        [record_of(invoker).timeout_policy_by_executable if in_tree and invoker else None,
         request.timeout_policy_by_executable])
    entry = request.entry_point
    # Placed before the workspace is made: a refused instance type leaves nothing behind.
    placement = _placement(applet, entry, merged_sr=merged_sr, master_run_sr=request.system_requirements,
                           job_new_sr=None, merged_timeouts=merged_timeouts, host=host)
    workspace = create_container(db, "container", f"workspace of {job_id}")
    job = _common(job_id, applet, entry, request.name or _entry_name(applet, entry))
    job.update({
        "project": request.project, "folder": request.folder, "workspace": workspace,
        "rootExecution": invoker["rootExecution"] if in_tree and invoker else job_id,
        "parentJob": invoker["id"] if in_tree and invoker else None,
        "parentJobTry": invoker.get("try") if in_tree and invoker else None,
        "originJob": job_id, "detachedFrom": invoker["id"] if invoker is not None and request.detach else None,
        "detachedFromTry": invoker.get("try") if invoker is not None and request.detach else None,
        "tags": list(request.tags), "properties": dict(request.properties),
        "details": request.details if request.details is not None else {},
        "dependsOn": list(request.depends_on), "rank": request.rank,
        "runInput": dict(request.input), "originalInput": dict(request.original_input),
        "input": dict(request.original_input),
        "executionPolicy": effective_execution_policy(applet["_runner"]["executionPolicy"], request.execution_policy),
        "delayWorkspaceDestruction": request.delay_workspace_destruction,
        "runSystemRequirements": request.system_requirements,
        "runSystemRequirementsByExecutable": request.system_requirements_by_executable,
        "mergedSystemRequirementsByExecutable": merged_sr,
        **stored(timeout_policy_by_executable=merged_timeouts, master_run_requirements=request.system_requirements,
                 master=True, output_destination=_output_destination(request, invoker, in_tree),
                 reuse=bool(request.reuse)),
        "ignoreReuse": request.ignore_reuse or applet.get("ignoreReuse") is True,
        "debug": {"debugOn": list(request.debug_on)} if request.debug_on else {},
        "allowSSH": list(request.allow_ssh), "costLimit": request.cost_limit,
        **({"rerunOf": request.rerun_of} if request.rerun_of else {}),
    })
    if request.app is not None:
        job.update(_app_fields(db, request.app, request.project))
    job.update(placement)
    # As on the platform, a master job finds its input objects in its own workspace.
    clone_into(db, data_ids(dict(request.original_input)), request.project, workspace)
    return insert_job(db, job)


def _app_fields(db: Database, app: Mapping[str, Any], project: str) -> dict[str, Any]:
    """What a job of an app shows: the app, its resources container and the app's cache in `project`."""
    return {"app": app["id"], "executableName": app["name"], "resources": app["resources"],
            "projectCache": project_cache(db, str(app["name"]), project)}


def _entry_name(applet: Mapping[str, Any], entry: str) -> str | None:
    """A master job's default name: None (the applet's) at main, else the applet's with the entry point."""
    if entry == "main":
        return None
    return f"{applet.get('title') or applet['name']}:{entry}"


def _output_destination(request: RunRequest, invoker: Mapping[str, Any] | None, in_tree: bool) -> dict[str, Any]:
    """Where the master job's output objects are cloned: the project context, or the invoking job's workspace."""
    if in_tree and invoker is not None:
        return {"container": invoker["workspace"], "folder": "/"}
    return {"container": request.project, "folder": request.folder}


def create_subjob(db: Database, applet: Mapping[str, Any], parent: Mapping[str, Any],
                  request: SubjobRequest, host: HostLimits | None = None) -> dict[str, Any]:
    """Store a job made by /job/new from `parent`: same applet, workspace and project context.

    With `host`, an instance type that does not fit it is capped or refused (InvalidInput) by its policies.
    """
    job_id = new_id("job")
    merged_sr = merge_tree([parent.get("mergedSystemRequirementsByExecutable"),
                            request.system_requirements_by_executable])
    inherited = record_of(parent)
    merged_timeouts = merge_timeout_policies([inherited.timeout_policy_by_executable,
                                              request.timeout_policy_by_executable])
    job = _common(job_id, applet, request.function, request.name or f"{parent['name']}:{request.function}")
    job.update({
        "project": parent["project"], "folder": parent["folder"], "workspace": parent["workspace"],
        "rootExecution": parent["rootExecution"], "parentJob": parent["id"], "parentJobTry": parent.get("try"),
        "originJob": parent["originJob"], "detachedFrom": None, "detachedFromTry": None,
        "tags": list(request.tags), "properties": dict(request.properties),
        "details": request.details if request.details is not None else {},
        "dependsOn": list(request.depends_on), "rank": parent.get("rank", 0),
        "runInput": dict(request.input), "originalInput": dict(request.input), "input": dict(request.input),
        "executionPolicy": parent.get("executionPolicy", {}),
        "runSystemRequirements": request.system_requirements,
        "runSystemRequirementsByExecutable": request.system_requirements_by_executable,
        "mergedSystemRequirementsByExecutable": merged_sr,
        **stored(timeout_policy_by_executable=merged_timeouts,
                 master_run_requirements=inherited.master_run_requirements, master=False, reuse=inherited.reuse),
        "ignoreReuse": bool(parent.get("ignoreReuse")),
        "debug": dict(parent.get("debug") or {}),
        **{key: parent[key] for key in APP_FIELDS if key in parent},
    })
    job.update(_placement(applet, request.function, merged_sr=merged_sr, master_run_sr=inherited.master_run_requirements,
                          job_new_sr=request.system_requirements, merged_timeouts=merged_timeouts, host=host))
    return insert_job(db, job)
