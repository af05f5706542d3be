"""/job/new and /job-xxxx/{describe, addTags, removeTags, setProperties, terminate, update, getIdentityToken},
and /system/findExecutions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runner.api.core import checks as check
from runner.api.core.access import require_references
from runner.api.core.fields import select, wanted_fields
from runner.api.core.routing import Access, Call, Routes, once_per_nonce
from runner.api.jobs.identity import IdentityKeys, identity_token
from runner.engine.job_files import job_folder
from runner.engine.submit import SubjobRequest
from runner.engine.usage_record import usage_summary
from runner.errors import InvalidInput, InvalidState, NotFound, PermissionDenied, ResourceNotFound
from runner.https.describe import https_app_view
from runner.https.proxy import PROXY_KEY, HttpsProxy, https_app_of
from runner.spec.job_states import JobState
from runner.spec.run_input import link_problem
from runner.spec.run_options import RANK_RANGE, rank_in_range
from runner.spec.timeouts import parse_timeouts_by_executable
from runner.store.job_record import record_of
from runner.store.jobs import JobNotFound, find_jobs, get_job, update_job
from runner.store.objects import get_executable, get_object, object_containers

routes = Routes()

DEFAULT_FIELDS = (
    "id", "try", "class", "name", "executableName", "created", "tryCreated", "modified", "startedRunning",
    "stoppedRunning", "billTo", "project", "folder", "rootExecution", "parentJob", "parentJobTry", "originJob",
    "detachedFrom", "detachedFromTry", "parentAnalysis", "analysis", "stage", "state", "stateTransitions",
    "workspace", "launchedBy", "function", "tags", "properties", "priority", "finalPriority", "rank", "details",
    "systemRequirements", "executionPolicy", "timeout", "instanceType", "networkAccess",
    "delayWorkspaceDestruction", "dependsOn", "failureReason", "failureMessage", "failureFrom", "failureCounts",
    "runInput", "originalInput", "input", "output", "applet", "app", "resources", "projectCache",
    "runSystemRequirements", "runSystemRequirementsByExecutable", "mergedSystemRequirementsByExecutable",
    "isFree", "totalPrice", "currency", "costLimit", "region", "singleContext", "ignoreReuse", "treeTurnaroundTime",
    "runnerImage", "runnerResources", "runnerUsage", "runnerWaiting",
    "outputReusedFrom", "rerunOf", "httpsApp",
)
EXTRA_FIELDS = ("headJobOnDemand", "instanceTypeTransitions", "allowSSH", "debug", "sshHostKey")
FAILURE_FIELDS = ("failureReason", "failureMessage", "failureFrom")
FAILING_STATES = {"failed", "terminating", "terminated", "restartable", "debug_hold"}
# What totalPrice is counted in (always 0 here); dx's human describe formats the price with it.
CURRENCY = {"dxCode": 0, "code": "USD", "symbol": "$", "symbolPosition": "left", "decimalSymbol": ".",
            "groupingSymbol": ","}


def _job(call: Call, try_: int | None = None) -> dict[str, Any]:
    try:
        job = get_job(call.db, call.target)
    except JobNotFound:
        raise ResourceNotFound(f"the job {call.target} does not exist") from None
    if try_ is not None and try_ != job.get("try", 0):
        tries = {t.get("try", 0): t for t in record_of(job).tries}
        if try_ not in tries:
            raise ResourceNotFound(f"there is no try {try_} for {call.target}")
        job = dict(tries[try_])
    return job


def public_view(job: Mapping[str, Any]) -> dict[str, Any]:
    """A stored job as describe shows it: the engine's own fields hidden, failure fields only when failing."""
    view = {k: v for k, v in job.items() if not k.startswith("_")}
    view["stateTransitions"] = list(job.get("stateTransitions") or [])[record_of(job).transitions_before:]
    view.setdefault("tryCreated", job.get("created"))
    if "totalPrice" in view:
        view.setdefault("currency", dict(CURRENCY))
    if job.get("state") not in FAILING_STATES:
        for key in FAILURE_FIELDS:
            view.pop(key, None)
    for key in ("startedRunning", "stoppedRunning", *FAILURE_FIELDS):
        if view.get(key) is None:
            view.pop(key, None)
    if JobState(job["state"]).is_terminal:
        view["dependsOn"] = []
    return view


def describe_job(job: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
    """The answer of /job-xxxx/describe for `body`'s field selection."""
    if "fields" not in body and body.get("io") is False:
        body = {**body, "fields": {k: False for k in ("runInput", "originalInput", "input", "output")},
                "defaultFields": True}
    names = wanted_fields(body, (*DEFAULT_FIELDS, *EXTRA_FIELDS), DEFAULT_FIELDS)
    return select(public_view(job), names)


@routes.on("job", "describe", Access.ANY)
async def describe(call: Call) -> dict[str, Any]:
    """/job-xxxx/describe (with `runnerUsage`, the summary of the try's usage samples, once it has some, and
    for a runnable job `runnerWaiting`: why the scheduler has not started it yet)."""
    job = _job(call, check.try_number(call.body))
    summary = usage_summary(job_folder(call.services.home, job["id"]), int(job.get("try") or 0))
    if summary:
        job = {**job, "runnerUsage": summary}
    waiting = call.services.engine.waiting.get(job["id"])
    if waiting and job.get("state") == "runnable":
        job = {**job, "runnerWaiting": waiting}
    return describe_job(with_https_app(call, job), call.body)


def with_https_app(call: Call, job: dict[str, Any]) -> dict[str, Any]:
    """`job` with describe's `httpsApp` when its applet has one and the engine serves the proxy."""
    proxy = call.services.extras.get(PROXY_KEY)
    if not isinstance(proxy, HttpsProxy):
        return job
    https_app = https_app_of(call.db, job)
    if https_app is None:
        return job
    return {**job, "httpsApp": https_app_view(job, https_app, proxy.url)}


@routes.on("job", "addTags", Access.ANY)
async def add_tags(call: Call) -> dict[str, Any]:
    """/job-xxxx/addTags."""
    tags = check.string_list(call.body, "tags", required=True)
    job = _job(call, check.try_number(call.body))
    update_job(call.db, job["id"], {"tags": list(dict.fromkeys([*job.get("tags", []), *tags]))})
    return {"id": job["id"]}


@routes.on("job", "removeTags", Access.ANY)
async def remove_tags(call: Call) -> dict[str, Any]:
    """/job-xxxx/removeTags."""
    tags = set(check.string_list(call.body, "tags", required=True))
    job = _job(call, check.try_number(call.body))
    update_job(call.db, job["id"], {"tags": [t for t in job.get("tags", []) if t not in tags]})
    return {"id": job["id"]}


@routes.on("job", "setProperties", Access.ANY)
async def set_properties(call: Call) -> dict[str, Any]:
    """/job-xxxx/setProperties: null removes a property."""
    if "properties" not in call.body:
        raise InvalidInput("the key 'properties' is missing")
    changes = check.properties(call.body, allow_null=True)
    job = _job(call, check.try_number(call.body))
    merged = {**job.get("properties", {}), **changes}
    update_job(call.db, job["id"], {"properties": {k: v for k, v in merged.items() if v is not None}})
    return {"id": job["id"]}


@routes.on("job", "terminate", Access.ANY)
async def terminate(call: Call) -> dict[str, Any]:
    """/job-xxxx/terminate: the whole tree ends terminated; nothing happens to an ended job."""
    job = _job(call)
    if not JobState(job["state"]).is_terminal:
        call.services.engine.terminate(job["id"])
    return {"id": job["id"]}


@routes.on("job", "update", Access.ANY)
async def update(call: Call) -> dict[str, Any]:
    """/job-xxxx/update: `rank` (root executions only) and `allowSSH`."""
    job = _job(call)
    changes: dict[str, Any] = {}
    if "rank" in call.body:
        rank = call.body["rank"]
        if isinstance(rank, bool) or not isinstance(rank, int):
            raise InvalidInput("Expected key 'rank' of input to be an integer")
        if not rank_in_range(rank):
            raise InvalidInput(f"Expected key 'rank' of input to be in range {RANK_RANGE}")
        if job["rootExecution"] != job["id"]:
            raise InvalidInput("Not a root execution")
        if JobState(job["state"]).is_terminal:
            raise InvalidInput(f"rank cannot be changed for a job in state {job['state']}")
        for member in find_jobs(call.db, root=job["id"]):
            update_job(call.db, member["id"], {"rank": rank})
        call.services.engine.wake()
    if "allowSSH" in call.body:
        changes["allowSSH"] = check.string_list(call.body, "allowSSH")
    if changes:
        update_job(call.db, job["id"], changes)
    return {"id": job["id"]}


@routes.on("job", "getIdentityToken", Access.JOB_SELF)
async def get_identity_token(call: Call) -> dict[str, Any]:
    """/job-xxxx/getIdentityToken: a JWT for the calling job (Access.JOB_SELF), signed with the engine's key."""
    job = _job(call)
    if job["rootExecution"] != job["id"]:
        job = {**job, "root": get_job(call.db, job["rootExecution"])}
    keys: IdentityKeys = call.services.extras["identity_keys"]
    token = identity_token(keys, job, call.body, issuer=f"http://{call.request.host}",
                           worker_ip=call.request.remote or "127.0.0.1")
    return {"Token": token}


def _subjob_request(body: Mapping[str, Any]) -> SubjobRequest:
    function = body.get("function")
    if not isinstance(function, str) or not function:
        raise InvalidInput("the key 'function' is missing or is not a non-empty string")
    job_input = body.get("input")
    if not isinstance(job_input, Mapping):
        raise InvalidInput("`input` is missing or is not a hash")
    problem = link_problem(dict(job_input))
    if problem is not None:
        raise InvalidInput(f"an invalid link syntax appears in the input: expected {problem}")
    timeouts = body.get("timeoutPolicyByExecutable")
    if timeouts is not None:
        _, problems = parse_timeouts_by_executable(timeouts)
        if problems:
            raise InvalidInput(str(problems[0]))
    if "details" in body and not isinstance(body["details"], (Mapping, list)):
        raise InvalidInput("`details`, if given, must be a JSON object or array")
    return SubjobRequest(
        function=function, input=dict(job_input), name=check.optional_str(body, "name"),
        tags=tuple(check.string_list(body, "tags")), properties=check.properties(body),
        details=body.get("details"), depends_on=tuple(check.depends_on(body)),
        system_requirements=check.optional_mapping(body, "systemRequirements"),
        system_requirements_by_executable=check.optional_mapping(body, "systemRequirementsByExecutable"),
        timeout_policy_by_executable=timeouts,
    )


def check_dependencies(call: Call, ids: list[str]) -> None:
    """Every ID in dependsOn exists (ResourceNotFound), no job there has failed (InvalidState), and the caller
    has VIEW access to each object and to the project context of each job (PermissionDenied), as documented."""
    caller = call.caller
    for item in ids:
        try:
            if item.startswith("job-"):
                job = get_job(call.db, item)
                if not caller.may_read(job.get("project") or "") and not caller.may_act_on(call.db, job):
                    raise PermissionDenied(f"dependsOn: {caller.job_id} has no VIEW access to the project "
                                           f"context of {item}")
                if job["state"] in ("failed", "terminated"):
                    raise InvalidState(f"{item} in dependsOn has already {job['state']}")
            else:
                get_object(call.db, item)
                if not any(caller.may_read(c) for c in object_containers(call.db, item)):
                    raise PermissionDenied(f"dependsOn: {caller.job_id} has no VIEW access to {item}")
        except NotFound:
            raise ResourceNotFound(f"{item} in dependsOn does not exist") from None


@routes.static("job", "new", Access.JOB_SELF)
async def new_job(call: Call) -> dict[str, Any]:
    """/job/new: a subjob of the calling job (Access.JOB_SELF), running another entry point of the same applet."""
    parent_id = call.caller.job_id
    assert parent_id is not None

    async def create() -> str:
        request = _subjob_request(call.body)
        require_references(call.db, call.caller, request.input, "input")
        check_dependencies(call, list(request.depends_on))
        parent = get_job(call.db, parent_id)
        applet = get_executable(call.db, parent["applet"])
        return str(call.services.engine.new_subjob(applet, parent, request)["id"])

    return await once_per_nonce(call, create)


def _one_or_many(body: Mapping[str, Any], key: str) -> set[str] | None:
    """`body[key]`: a string or an array of strings (any of which matches); None when absent."""
    value = body.get(key)
    if value is None:
        return None
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise InvalidInput(f"Expected key {key!r} of input to be a string or an array of strings")
    return set(values)


def _execution_test(body: Mapping[str, Any]) -> Any:
    """Whether a job passes the filters of a findExecutions body (InvalidInput for a malformed one)."""
    filters = {field: _one_or_many(body, key) for key, field in (("originJob", "originJob"), ("executable", "applet"),
                                                                  ("project", "project"), ("id", "id"),
                                                                  ("state", "state"))}
    name = check.optional_str(body, "name")
    subjobs = check.optional_bool(body, "includeSubjobs", default=True)

    def test(job: Mapping[str, Any]) -> bool:
        return (all(wanted is None or job.get(field) in wanted for field, wanted in filters.items())
                and (name is None or job.get("name") == name) and (subjobs or not job.get("parentJob")))

    return test


@routes.static("system", "findExecutions", Access.ANY)
async def find_executions(call: Call) -> dict[str, Any]:
    """/system/findExecutions: jobs by tree, parent, origin, state, name, executable or project; newest first."""
    body = call.body
    jobs = find_jobs(call.db, root=check.optional_str(body, "rootExecution"),
                     parent=check.optional_str(body, "parentJob"))
    test = _execution_test(body)
    describe_option = body.get("describe", False)
    if not isinstance(describe_option, (bool, Mapping)):
        raise InvalidInput("Expected key 'describe' of input to be a boolean or a JSON object of describe options")
    limit = body.get("limit")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise InvalidInput("Expected key 'limit' of input to be a positive integer")
    results = []
    for job in reversed(jobs):
        if not test(job) or not call.caller.may_act_on(call.db, job):
            continue
        entry: dict[str, Any] = {"id": job["id"]}
        if describe_option is not False:
            entry["describe"] = describe_job(job, describe_option if isinstance(describe_option, Mapping) else {})
        results.append(entry)
    return {"results": results[:limit] if limit else results, "next": None}
