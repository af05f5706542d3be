"""Applets: stored builds as data objects, /applet/new, /applet-xxxx/{describe, get, run, validateBatch}."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runner.api.core import checks as check
from runner.api.core.access import require_references
from runner.api.core.fields import select, wanted_fields
from runner.api.core.routing import Access, Call, Routes, once_per_nonce
from runner.api.data.describers import register
from runner.api.data.metadata import METADATA_ROUTES
from runner.api.data.objects import container_arg, folder_arg, readable_object
from runner.api.executables.asset_catalog import StoreCatalog
from runner.api.executables.new_applet import InstallProblem, NewApplet, new_applet_request
from runner.api.executables.run_extensions import entry_point_arg, priority_arg, rerun_of_arg
from runner.api.jobs.jobs import check_dependencies
from runner.build.applet import BuiltApplet, build_applet
from runner.build.images import stand_in_suite
from runner.engine.submit import RunRequest
from runner.errors import (
    ImageBuildError,
    InvalidInput,
    InvalidState,
    PermissionDenied,
    ResourceNotFound,
    RunnerError,
    SpecError,
)
from runner.spec.entry_points import MAIN
from runner.spec.events import AppletBuildStarted, AppletBuilt, AppletFailed
from runner.spec.ids import is_id
from runner.spec.io_spec import stored_io_spec
from runner.spec.links import data_link_id
from runner.spec.run_input import check_run_input, link_problem
from runner.spec.run_options import DEBUG_ON_CHOICES, RANK_RANGE, rank_in_range
from runner.spec.timeouts import parse_timeouts_by_executable
from runner.store.db import Database, now_ms
from runner.store.events import record_if_possible
from runner.store.jobs import get_job, update_job
from runner.store.kept import is_kept, runs_in_tree
from runner.store.objects import (
    ObjectNotFound,
    clone_objects,
    create_object,
    get_executable,
    get_object,
    update_object,
)

routes = Routes()
# What a closed applet's metadata allows, as on the platform (`dx build -a` renames and sets properties).
APPLET_METADATA = ("addTags", "removeTags", "rename", "setProperties", "setVisibility", "getDetails")
for _method in APPLET_METADATA:
    routes.on("applet", _method, Access.ANY)(METADATA_ROUTES[_method])

DESCRIBE_DEFAULTS = (
    "id", "project", "class", "types", "created", "state", "hidden", "links", "name", "folder", "sponsored",
    "tags", "modified", "createdBy", "runSpec", "dxapi", "access", "title", "summary", "description",
    "developerNotes", "ignoreReuse", "inputSpec", "outputSpec", "httpsApp", "treeTurnaroundTimeThreshold",
)
# sourceFolder: a runner extension, the applet's source folder on this machine (for the user, never a job).
DESCRIBE_EXTRA = ("properties", "details", "sourceFolder")
GET_FIELDS = ("project", "folder", "name", "types", "tags", "properties", "details", "hidden", "title", "summary",
              "description", "developerNotes", "dxapi", "inputSpec", "outputSpec", "runSpec", "access",
              "ignoreReuse", "httpsApp", "treeTurnaroundTimeThreshold")


def image_note(built: BuiltApplet, suite: str | None) -> dict[str, Any]:
    """What describe says of the image a job runs in: its tag, and whether its base is a Debian stand-in."""
    release = built.dxapp.run_spec.release
    note: dict[str, Any] = {"image": built.image_tag, "standIn": suite is not None}
    if suite is not None:
        note["note"] = (f"Ubuntu {release} was not available: the image is built on a Debian {suite} stand-in "
                        "(python3 and system libraries differ from Ubuntu's)")
    if built.dxapp.run_spec.release_note is not None:
        note["releaseNote"] = built.dxapp.run_spec.release_note
    return note


def applet_document(built: BuiltApplet, suite: str | None = None,
                    source: str | None = None) -> dict[str, Any]:
    """The stored fields of a built applet: its describe fields and the engine's `_runner` record (`source`:
    the folder on this machine it was built from, None for /applet/new's)."""
    dxapp, raw = built.dxapp, built.dxapp.raw
    run_spec = {k: v for k, v in dict(raw.get("runSpec") or {}).items() if k != "file"}
    run_spec["code"] = dxapp.run_spec.code
    if built.bundled_depends:
        run_spec["bundledDepends"] = list(built.bundled_depends)  # with the assets' archives, as dx build does
    return {
        "title": dxapp.title, "summary": dxapp.summary, "description": dxapp.description,
        "developerNotes": dxapp.developer_notes, "dxapi": dxapp.dxapi, "inputSpec": raw.get("inputSpec"),
        "outputSpec": raw.get("outputSpec"), "runSpec": run_spec, "access": dict(raw.get("access") or {}),
        "ignoreReuse": dxapp.ignore_reuse, "httpsApp": raw.get("httpsApp"),
        "treeTurnaroundTimeThreshold": dxapp.tree_turnaround_time_threshold,
        "details": dxapp.details if dxapp.details is not None else {}, "types": [], "tags": [], "properties": {},
        "hidden": False, "sponsored": False, "createdBy": {"user": "user-local"},
        "links": [entry["id"]["$dnanexus_link"] for entry in built.bundled_depends],
        "_runner": {
            "folder": str(built.folder), "image": built.image_tag, "imageId": built.image_id,
            "interpreter": dxapp.run_spec.interpreter, "release": dxapp.run_spec.release,
            "systemRequirements": dict(dxapp.run_spec.system_requirements),
            "timeoutPolicy": dict(dxapp.run_spec.timeout_policy),
            "executionPolicy": dict(dxapp.run_spec.execution_policy),
            "imageNote": image_note(built, suite), "sourceFolder": source,
        },
    }


def register_applet(db: Database, built: BuiltApplet, project: str, folder: str = "/",
                    name: str | None = None, suite: str | None = None,
                    source: str | None = None) -> dict[str, Any]:
    """The applet object of a build in `project` (created once: the ID is the content)."""
    try:
        existing = get_object(db, built.applet_id)
    except ObjectNotFound:
        return create_object(db, "applet", project, name=name or built.dxapp.name, folder=folder, state="closed",
                             parents=True, doc=applet_document(built, suite, source),
                             object_id=built.applet_id)
    # Same content, same describe; but the image it runs in may have been rebuilt since, and the source
    # folder is the one it was last built from.
    source = source or (existing.get("_runner") or {}).get("sourceFolder")
    update_object(db, built.applet_id, changes={"_runner": applet_document(built, suite, source)["_runner"]})
    if existing["project"] != project:
        clone_objects(db, [built.applet_id], source=existing["project"], destination=project, folder=folder,
                      parents=True)
    return get_object(db, built.applet_id, project_hint=project)


async def build_folder(call: Call, folder: Path, project: str, name: str | None = None,
                       changed_files: tuple[str, ...] = (), *,
                       new: NewApplet | None = None) -> tuple[BuiltApplet, dict[str, Any]]:
    """Build the applet in `folder` (in a worker thread: Docker) and store it in `project`.

    `changed_files` (what a watching client saw change) travel on the build's events, for its other clients;
    with `new` (/applet/new's scratch folder, not recorded as a source folder) the applet is a new object.
    """
    client = call.services.extras["docker_client"]
    notes: list[str] = []
    changed = list(changed_files)
    record_if_possible(call.db, AppletBuildStarted(seq=0, time=now_ms(), folder=str(folder),
                                                   changed_files=changed))
    try:
        built = await asyncio.to_thread(build_applet, folder, call.services.home, client, notes.append,
                                        StoreCatalog(call.db, call.services.home))
    except RunnerError as exc:
        record_if_possible(call.db, AppletFailed(seq=0, time=now_ms(), folder=str(folder), message=str(exc),
                                                 changed_files=changed))
        if isinstance(exc, SpecError) and new is not None and isinstance(exc.__cause__, ImageBuildError):
            # Installing an execDepends failed (not its spec): /applet/new accepts the applet, as the platform.
            raise InstallProblem("; ".join(str(p) for p in exc.problems), exc) from exc
        if isinstance(exc, SpecError):
            problems = [str(p) for p in exc.problems]
            # /applet/new's folder is our scratch copy: name the request, not a path the caller never saw.
            message = str(exc) if new is None else "the applet specification is invalid: " + "; ".join(problems)
            raise InvalidInput(message, {"problems": problems}) from None
        raise
    suite = await asyncio.to_thread(stand_in_suite, client, built.image_id)
    if new is not None:
        applet = new.create(call.db, applet_document(built, suite), project)
    else:
        applet = register_applet(call.db, built, project, name=name, suite=suite, source=str(folder))
    record_if_possible(call.db, AppletBuilt(seq=0, time=now_ms(), applet=applet["id"], name=applet["name"],
                                            project=project, folder=str(folder), changed_files=changed))
    return built, applet


def _applet(call: Call) -> dict[str, Any]:
    """The applet of the path, as seen in `project` when given, once the caller may read it; to a job of a
    tree that runs it, also while it is kept for its jobs (removed from its project: runner.store.kept)."""
    caller = call.caller
    if caller.is_job and caller.job_id and is_kept(call.db, call.target) and runs_in_tree(
            call.db, call.target, str(get_job(call.db, caller.job_id)["rootExecution"])):
        return get_executable(call.db, call.target)
    return readable_object(call, call.target, check.optional_str(call.body, "project"))


@register("applet")
def describe_applet(call: Call, applet: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
    """An applet's describe, honouring fields / defaultFields."""
    names = wanted_fields(body, (*DESCRIBE_DEFAULTS, *DESCRIBE_EXTRA), DESCRIBE_DEFAULTS)
    if "fields" not in body:
        names |= {key for key in DESCRIBE_EXTRA if body.get(key) is True}
    view = {k: v for k, v in applet.items() if not k.startswith("_")}
    # An applet made without an inputSpec (or outputSpec) has none in its describe, as on the platform: dx run
    # then takes any input rather than iterating over a null spec.
    for spec in ("inputSpec", "outputSpec"):
        if view.get(spec) is None:
            view.pop(spec, None)
    if not call.caller.is_job:
        view["sourceFolder"] = (applet.get("_runner") or {}).get("sourceFolder")
    return select(view, names)


@routes.on("applet", "describe", Access.ANY)
async def describe(call: Call) -> dict[str, Any]:
    """/applet-xxxx/describe."""
    applet = _applet(call)
    return describe_applet(call, applet, call.body)


@routes.on("applet", "get", Access.ANY)
async def get(call: Call) -> dict[str, Any]:
    """/applet-xxxx/get: the full specification the applet was created with."""
    applet = _applet(call)
    return {k: applet.get(k) for k in GET_FIELDS}


@routes.static("applet", "new", Access.ANY)
async def new_applet(call: Call) -> dict[str, Any]:
    """/applet/new: a new applet object from the request (runSpec.code inline), built as a source folder is."""
    project = container_arg(call)
    call.caller.require_write(project)
    new = new_applet_request(call.body)
    for file_id in new.bundled_files:
        try:
            readable_object(call, file_id, project)
        except (ResourceNotFound, PermissionDenied) as exc:
            raise type(exc)(f"runSpec.bundledDepends: {exc.message}", {"field": "runSpec.bundledDepends"}) from None

    async def create() -> str:
        scratch = Path(tempfile.mkdtemp(prefix="applet-new-", dir=call.services.home))
        try:
            new.write_folder(scratch)
            try:
                _, applet = await build_folder(call, scratch, project, new.name, new=new)
            except InstallProblem as problem:
                lazy = new.without_exec_depends(f"the applet's execDepends could not be installed: {problem}")
                shutil.rmtree(scratch)
                scratch.mkdir()
                lazy.write_folder(scratch)
                _, applet = await build_folder(call, scratch, project, lazy.name, new=lazy)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return str(applet["id"])

    return await once_per_nonce(call, create)


def _types_of(db: Database) -> Any:
    def types_of(object_id: str) -> list[str] | None:
        try:
            return list(get_object(db, object_id).get("types") or [])
        except ObjectNotFound:
            return None
    return types_of


def _check_closed(db: Database, value: Any) -> None:
    items = value if isinstance(value, list) else [value]
    for item in items:
        object_id = data_link_id(item)
        if object_id is None:
            continue
        try:
            state = get_object(db, object_id)["state"]
        except ObjectNotFound:
            raise ResourceNotFound(f"the input object {object_id} does not exist") from None
        if state != "closed":
            raise InvalidState(f"Some specified input is not in the closed state: {object_id} is {state}")


def run_request(call: Call, applet: Mapping[str, Any], invoker: Mapping[str, Any] | None) -> RunRequest:
    """The checked RunRequest of a run of `applet` (`/applet-x/run`, and `/app-x/run` for an app's applet)."""
    body = call.body
    given = body.get("input")
    if not isinstance(given, Mapping):
        raise InvalidInput("the key 'input' is missing or is not a JSON object")
    detach = check.optional_bool(body, "detach")
    project = container_arg(call) if body.get("project") is not None else None
    if invoker is None and project is None:
        raise InvalidInput("If invoked by a user, then `project` must be specified")
    if invoker is not None and project is not None and not detach:
        raise InvalidInput("If invoked by a job, then `project` must not be specified (unless detach is true)")
    project = project or (invoker["project"] if invoker else None)
    assert project is not None
    entry = entry_point_arg(body, applet)
    rerun_of = rerun_of_arg(call)
    require_references(call.db, call.caller, given, "input")
    original = _checked_input(call.db, applet, given, entry)
    timeouts = body.get("timeoutPolicyByExecutable")
    if timeouts is not None:
        _, problems = parse_timeouts_by_executable(timeouts)
        bad_keys = [k for k in (timeouts if isinstance(timeouts, Mapping) else {}) if not is_id(k)
                    or not k.startswith(("app-", "applet-"))]
        if bad_keys:
            raise InvalidInput("Expected key `timeoutPolicyByExecutable.*` of input to match "
                               "/^(app|applet)-[0-9A-Za-z]{24}$/")
        if problems:
            raise InvalidInput(str(problems[0]))
    rank = body.get("rank", 0)
    if isinstance(rank, bool) or not isinstance(rank, int) or not rank_in_range(rank):
        raise InvalidInput(f"Expected key 'rank' of input to be an integer in range {RANK_RANGE}")
    depends = check.depends_on(body)
    check_dependencies(call, depends)
    reuse = body.get("reuse")
    if reuse is not None and not isinstance(reuse, bool):
        raise InvalidInput("Expected key 'reuse' of input to be a boolean")
    return RunRequest(
        input=dict(given), original_input=original, project=project, folder=folder_arg(body),
        name=check.optional_str(body, "name"), tags=tuple(check.string_list(body, "tags")),
        properties=check.properties(body), details=body.get("details"), depends_on=tuple(depends),
        system_requirements=check.optional_mapping(body, "systemRequirements"),
        system_requirements_by_executable=check.optional_mapping(body, "systemRequirementsByExecutable"),
        timeout_policy_by_executable=timeouts, execution_policy=check.optional_mapping(body, "executionPolicy"),
        delay_workspace_destruction=check.optional_bool(body, "delayWorkspaceDestruction"), rank=rank, detach=detach,
        reuse=reuse, ignore_reuse=check.optional_bool(body, "ignoreReuse"), debug_on=_debug_on(body),
        allow_ssh=tuple(check.string_list(body, "allowSSH")), cost_limit=_cost_limit(body),
        entry_point=entry, rerun_of=rerun_of,
    )


def _checked_input(db: Database, applet: Mapping[str, Any], given: Mapping[str, Any],
                   entry: str) -> dict[str, Any]:
    """The run's input with defaults filled in: checked against the inputSpec when it starts at `main`; at
    another entry point, as /job/new checks a subjob's (links only: the inputSpec is main's)."""
    if entry == MAIN:
        original = dict(check_run_input(stored_io_spec(applet, "inputSpec"), given, _types_of(db)))
    else:
        problem = link_problem(dict(given))
        if problem is not None:
            raise InvalidInput(f"an invalid link syntax appears in the input: expected {problem}",
                               {"field": "input", "expected": problem})
        original = dict(given)
    for value in original.values():
        _check_closed(db, value)
    return original


def _cost_limit(body: Mapping[str, Any]) -> float | None:
    """The run's `costLimit`: recorded on the job (nothing is billed locally)."""
    limit = body.get("costLimit")
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, (int, float)) or limit < 0:
        raise InvalidInput("Expected key 'costLimit' of input to be a non-negative number")
    return float(limit)


def _debug_on(body: Mapping[str, Any]) -> tuple[str, ...]:
    """The run's `debug.debugOn`: failure reasons that hold a failed job for debugging ("All": every one)."""
    debug = check.optional_mapping(body, "debug") or {}
    listed = debug.get("debugOn", [])
    if not isinstance(listed, list) or not all(isinstance(r, str) and r in DEBUG_ON_CHOICES for r in listed):
        raise InvalidInput("Expected key 'debug.debugOn' of input to be an array of "
                           f"{', '.join(DEBUG_ON_CHOICES)}")
    return tuple(dict.fromkeys(listed))


def _require_detach(call: Call, project: str) -> None:
    """A job launches a detached job only where it has CONTRIBUTE access (its project context: VIEW, unless
    its applet's access.project asks for more; its workspace is no project)."""
    if not call.caller.may_write(project):
        level = call.caller.level(project) or "no"
        raise PermissionDenied(f"{call.caller.job_id} may not launch a detached job in {project}: that needs "
                               f"CONTRIBUTE access to the project, and the job has {level} access there (ask "
                               "for it with access.project in dxapp.json)")


@routes.on("applet", "run", Access.ANY)
async def run(call: Call) -> dict[str, Any]:
    """/applet-xxxx/run: validate the input and create the master job."""
    applet = _applet(call)

    async def create() -> str:
        invoker = get_job(call.db, call.caller.job_id) if call.caller.is_job and call.caller.job_id else None
        request = run_request(call, applet, invoker)
        priority = priority_arg(call.body)
        if invoker is None:
            call.caller.require_write(request.project)
        elif request.detach:
            _require_detach(call, request.project)
        head_on_demand = check.optional_bool(call.body, "headJobOnDemand")
        job_id = str(call.services.engine.run(applet, request, invoker)["id"])
        # Recorded for describe: the engine schedules by rank, with no spot or on-demand instances.
        shown = {"headJobOnDemand": head_on_demand, **({"priority": priority} if priority is not None else {})}
        update_job(call.db, job_id, shown)
        return job_id

    return await once_per_nonce(call, create)


@routes.on("applet", "validateBatch", Access.ANY)
async def validate_batch(call: Call) -> dict[str, Any]:
    """/applet-xxxx/validateBatch: expand batch and common inputs into one input per run, checking each."""
    from runner.api.executables.batch import expand_batch

    applet = _applet(call)
    spec = stored_io_spec(applet, "inputSpec")
    if spec is None:
        raise InvalidInput("`inputSpec` must be specified for the applet")
    return {"expandedBatch": expand_batch(spec, call.body)}
