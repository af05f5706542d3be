"""/project/new, /project-xxxx/{update, destroy, addTags, removeTags, setProperties}, /system/findProjects, and
/{class}-xxxx/listProjects.

The engine's default project (where runs without a project go) cannot be destroyed: the engine would
have nowhere to put them. Destroying a project in which jobs still run is refused unless `terminateJobs`
is given, as on the platform; with it, their trees are terminated first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from runner.api.core import checks as check
from runner.api.core.routing import Access, Call, Routes
from runner.api.data.containers import FLAGS, describe_container
from runner.api.data.objects import LOCAL_USER
from runner.api.data.system import MAX_RESULTS, matches_properties, matches_set, name_test, within
from runner.errors import InvalidInput, InvalidState, PermissionDenied, ResourceNotFound
from runner.store.files import release_blobs
from runner.store.objects import ObjectNotFound, create_container, get_container, object_containers
from runner.store.projects import active_jobs, destroy_container, list_projects, update_container

routes = Routes()

LEVELS = ("VIEW", "UPLOAD", "CONTRIBUTE", "ADMINISTER")
TEXT_FIELDS = ("summary", "description")
# What CONTRIBUTE may change; every other field needs ADMINISTER, as on the platform.
CONTRIBUTOR_FIELDS = ("name", *TEXT_FIELDS, "version")


def _project(call: Call) -> dict[str, Any]:
    try:
        project = get_container(call.db, call.target)
    except ObjectNotFound:
        raise ResourceNotFound(f"the project {call.target} does not exist") from None
    call.caller.require_read(project["id"])
    return project


def _require_level(call: Call, project_id: str, level: str, what: str) -> None:
    held = call.caller.level(project_id)
    if held is None or LEVELS.index(held) < LEVELS.index(level):
        raise PermissionDenied(f"{what} needs {level} in {project_id}; the caller has {held or 'no access'}")


def project_settings(body: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """The project fields of a /project/new or /project-xxxx/update body, checked (None: unset)."""
    changes: dict[str, Any] = {}
    for key in TEXT_FIELDS:
        if key in body:
            changes[key] = check.optional_str(body, key) or ""
    for key in FLAGS:
        if key in body:
            changes[key] = check.optional_bool(body, key)
    if "allowedExecutables" in body:
        value = body["allowedExecutables"]
        if value is not None:
            value = check.string_list(body, "allowedExecutables")
        changes["allowedExecutables"] = value
    if "databaseResultsRestricted" in body:
        value = body["databaseResultsRestricted"]
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise InvalidInput("Expected key 'databaseResultsRestricted' of input to be a positive integer or null")
        changes["databaseResultsRestricted"] = value
    if current.get("containsPHI") and changes.get("containsPHI") is False:
        raise InvalidInput("containsPHI cannot be unset once a project contains PHI")
    return _with_preview_rule({**current, **changes}, changes)


def _with_preview_rule(merged: Mapping[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """downloadRestricted turns previewViewerRestricted on; it can be turned off only once that is off."""
    if changes.get("downloadRestricted") is True and "previewViewerRestricted" not in changes:
        changes["previewViewerRestricted"] = True
    if changes.get("downloadRestricted") is False and merged.get("previewViewerRestricted"):
        raise InvalidInput("previewViewerRestricted must be turned off before downloadRestricted can be")
    return changes


@routes.static("project", "new", Access.USER)
async def new_project(call: Call) -> dict[str, Any]:
    """/project/new {name, summary?, description?, tags?, properties?, protected?, restricted?, ...} (the user)."""
    name = check.optional_str(call.body, "name")
    if not name:
        raise InvalidInput("the key 'name' is missing or empty")
    doc = {"summary": "", "description": "", **project_settings(call.body, {}),
           "tags": check.string_list(call.body, "tags"), "properties": check.properties(call.body)}
    return {"id": create_container(call.db, "project", name, {k: v for k, v in doc.items() if v is not None})}


@routes.on("project", "update", Access.ANY)
async def update(call: Call) -> dict[str, Any]:
    """/project-xxxx/update {name?, summary?, description?, protected?, restricted?, downloadRestricted?, ...}."""
    project = _project(call)
    admin_keys = sorted(set(call.body) - set(CONTRIBUTOR_FIELDS) - {"nonce"})
    _require_level(call, project["id"], "ADMINISTER" if admin_keys else "CONTRIBUTE",
                   f"changing {', '.join(admin_keys) or 'the name or description'}")
    name = None
    if "name" in call.body:
        name = check.optional_str(call.body, "name")
        if not name:
            raise InvalidInput("Expected key 'name' of input to be a non-empty string")
    update_container(call.db, project["id"], name=name, changes=project_settings(call.body, project))
    return {"id": project["id"]}


@routes.on("project", "addTags", Access.ANY)
async def add_tags(call: Call) -> dict[str, Any]:
    """/project-xxxx/addTags {tags} (CONTRIBUTE, as on the platform)."""
    project = _project(call)
    _require_level(call, project["id"], "CONTRIBUTE", "tagging a project")
    added = check.string_list(call.body, "tags", required=True)
    update_container(call.db, project["id"], changes={"tags": list(dict.fromkeys([*project.get("tags", []),
                                                                                   *added]))})
    return {"id": project["id"]}


@routes.on("project", "removeTags", Access.ANY)
async def remove_tags(call: Call) -> dict[str, Any]:
    """/project-xxxx/removeTags {tags} (CONTRIBUTE)."""
    project = _project(call)
    _require_level(call, project["id"], "CONTRIBUTE", "untagging a project")
    gone = set(check.string_list(call.body, "tags", required=True))
    update_container(call.db, project["id"], changes={"tags": [t for t in project.get("tags", []) if t not in gone]})
    return {"id": project["id"]}


@routes.on("project", "setProperties", Access.ANY)
async def set_properties(call: Call) -> dict[str, Any]:
    """/project-xxxx/setProperties {properties} (CONTRIBUTE): a null value removes the property."""
    project = _project(call)
    _require_level(call, project["id"], "CONTRIBUTE", "setting a project's properties")
    if "properties" not in call.body:
        raise InvalidInput("the key 'properties' is missing", {"field": "properties", "expected": "a JSON object"})
    merged = {**project.get("properties", {}), **check.properties(call.body, allow_null=True)}
    update_container(call.db, project["id"], changes={"properties": {k: v for k, v in merged.items()
                                                                     if v is not None}})
    return {"id": project["id"]}


@routes.on("project", "destroy", Access.ANY)
async def destroy(call: Call) -> dict[str, Any]:
    """/project-xxxx/destroy {terminateJobs?}: the project and what is only in it; its running jobs refuse it."""
    project = _project(call)
    _require_level(call, project["id"], "ADMINISTER", "destroying a project")
    if project["id"] == call.services.default_project:
        raise InvalidState(f"{project['id']} is the engine's default project (runs without a project go there): "
                           "it cannot be destroyed")
    running = active_jobs(call.db, project["id"])
    if running and not check.optional_bool(call.body, "terminateJobs"):
        raise InvalidState(f"{project['id']} has jobs that have not ended ({', '.join(running)}): "
                           "give terminateJobs: true to terminate them")
    for job_id in running:
        if call.services.engine is not None:
            call.services.engine.terminate(job_id)
    release_blobs(call.db, call.services.home, destroy_container(call.db, project["id"]))
    return {}


def _project_test(call: Call, body: Mapping[str, Any]) -> Callable[[dict[str, Any]], bool]:
    names = name_test(body["name"]) if "name" in body else None
    level = body.get("level", "VIEW")
    if level not in LEVELS:
        raise InvalidInput(f"level must be one of {', '.join(LEVELS)}")
    ids = set(check.string_list(body, "id")) if "id" in body else None
    bill_to = body.get("billTo")
    bill_to = [bill_to] if isinstance(bill_to, str) else bill_to
    if bill_to is not None and not isinstance(bill_to, list):
        raise InvalidInput("billTo must be a user or org ID, or an array of them")
    phi = body.get("containsPHI")
    if phi is not None and not isinstance(phi, bool):
        raise InvalidInput("Expected key 'containsPHI' of input to be a boolean",
                           {"field": "containsPHI", "expected": "a boolean"})

    def test(project: dict[str, Any]) -> bool:
        held = call.caller.level(project["id"])
        return (held is not None and LEVELS.index(held) >= LEVELS.index(level)
                and (names is None or names(project["name"])) and (ids is None or project["id"] in ids)
                and (bill_to is None or LOCAL_USER in bill_to)
                and (phi is None or bool(project.get("containsPHI")) == phi)
                and ("tags" not in body or matches_set(set(project.get("tags") or []), body["tags"]))
                and ("properties" not in body or matches_properties(project.get("properties") or {},
                                                                    body["properties"]))
                and within(project["created"], body.get("created"), "created")
                and within(project["modified"], body.get("modified"), "modified"))

    return test


@routes.static("system", "findProjects", Access.ANY)
async def find_projects(call: Call) -> dict[str, Any]:
    """/system/findProjects {name?, id?, level?, tags?, properties?, billTo?, containsPHI?, created?, modified?,
    describe?, limit?, starting?}: `{results: [{id, level, permissionSources, public, describe?}], next}`."""
    body = call.body
    test = _project_test(call, body)
    found = [p for p in list_projects(call.db) if test(p)]
    starting = body.get("starting")
    if starting is not None:
        position = next((i for i, p in enumerate(found) if p["id"] == starting), None)
        if not isinstance(starting, str) or position is None:
            raise InvalidInput("starting must be the `next` of an earlier answer")
        found = found[position:]
    limit = body.get("limit", MAX_RESULTS)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_RESULTS:
        raise InvalidInput(f"limit must be an integer from 1 to {MAX_RESULTS}")
    option = body.get("describe", False)
    if not isinstance(option, (bool, Mapping)):
        raise InvalidInput("describe must be a boolean or a JSON object of describe options")
    results = []
    for project in found[:limit]:
        entry: dict[str, Any] = {"id": project["id"], "level": call.caller.level(project["id"]),
                                 "permissionSources": [LOCAL_USER], "public": False}
        if option is not False:
            entry["describe"] = describe_container(call, project, option if isinstance(option, Mapping) else {})
        results.append(entry)
    return {"results": results, "next": found[limit]["id"] if len(found) > limit else None}


async def list_object_projects(call: Call) -> dict[str, Any]:
    """/{class}-xxxx/listProjects: `{container: level}` for each container the caller sees the object in."""
    containers = object_containers(call.db, call.target)
    if not containers:
        raise ResourceNotFound(f"the data object {call.target} does not exist")
    seen = {c: call.caller.level(c) for c in containers if call.caller.may_read(c)}
    if not seen:
        raise PermissionDenied(f"{call.caller.job_id} may not read {call.target}: it is in none of the containers "
                               "the job reads")
    return seen


for _klass in ("file", "record", "applet"):
    routes.on(_klass, "listProjects", Access.ANY)(list_object_projects)
