"""What the data-object routes share: request checks, finding an object where the caller may see it,
creating one from a `/{class}/new` body, and the describe fields every data object has."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from runner.api.core import checks as check
from runner.api.core.fields import wanted_fields
from runner.api.core.routing import Call
from runner.errors import InvalidInput, PermissionDenied, ResourceNotFound
from runner.spec.ids import is_id, new_id
from runner.spec.links import data_link_id
from runner.store.jobs import JobNotFound, get_job
from runner.store.objects import (
    ObjectNotFound,
    create_object,
    get_container,
    get_object,
    normalize_folder,
    object_containers,
)

BASE_FIELDS = ("id", "project", "class", "sponsored", "name", "types", "state", "hidden", "links", "folder", "tags",
               "created", "modified", "createdBy")
ASKED_FIELDS = ("properties", "details")  # only when asked for: in `fields`, or the old `properties: true`
LOCAL_USER = "user-local"


def folder_arg(body: Mapping[str, Any], key: str = "folder", default: str | None = "/") -> str:
    """A folder path of the input, normalized; InvalidInput when it is not an absolute path."""
    value = body.get(key, default)
    if not isinstance(value, str):
        raise InvalidInput(f"Expected key {key!r} of input to be a string (a folder path)")
    try:
        return normalize_folder(value)
    except ValueError:
        raise InvalidInput(f"{key} {value!r} is not a folder path: it must start with '/'") from None


def container_arg(call: Call, key: str = "project", default: str | None = None) -> str:
    """The ID of an existing project or container named by `key` (or `default`); ResourceNotFound otherwise."""
    value = call.body.get(key, default)
    if value is None:
        raise InvalidInput(f"the key {key!r} is missing")
    if not is_id(value, "project") and not is_id(value, "container"):
        raise InvalidInput(f"Expected key {key!r} of input to be the ID of a project or container")
    try:
        get_container(call.db, value)
    except ObjectNotFound:
        raise ResourceNotFound(f"the project or container {value} does not exist") from None
    return str(value)


def own_container(call: Call) -> str:
    """Where a new object goes when no project is named: the job's workspace, or the default project."""
    return call.caller.workspace if call.caller.is_job and call.caller.workspace else call.services.default_project


def id_list(body: Mapping[str, Any], key: str) -> list[str]:
    """`body[key]` as a list of object IDs."""
    ids = check.string_list(body, key)
    for item in ids:
        if not is_id(item):
            raise InvalidInput(f"{key}: {item!r} is not an object ID")
    return ids


def _containers(call: Call, object_id: str) -> list[str]:
    containers = object_containers(call.db, object_id)
    if not containers:
        raise ResourceNotFound(f"the data object {object_id} does not exist")
    return containers


def readable_object(call: Call, object_id: str, hint: str | None = None, *, strict: bool = False) -> dict[str, Any]:
    """The object as seen in `hint` when it is there and readable, else in the first container the caller reads.

    With `strict`, the object must be in `hint` (ResourceNotFound otherwise).
    """
    containers = _containers(call, object_id)
    if hint is not None and strict and hint not in containers:
        raise ResourceNotFound(f"the data object {object_id} is not in {hint}")
    if hint is not None and hint in containers and (strict or call.caller.may_read(hint)):
        call.caller.require_read(hint)
        return get_object(call.db, object_id, project_hint=hint)
    readable = [c for c in containers if call.caller.may_read(c)]
    if not readable:
        raise PermissionDenied(f"{call.caller.job_id} may not read {object_id}: it is in none of the containers "
                               f"the job reads ({call.caller.workspace}, {call.caller.project})")
    return get_object(call.db, object_id, project_hint=readable[0])


def writable_object(call: Call, object_id: str, project: str | None = None) -> dict[str, Any]:
    """The object as seen in `project` (which must hold it), else in the first container the caller writes."""
    containers = _containers(call, object_id)
    if project is not None:
        if project not in containers:
            raise ResourceNotFound(f"the data object {object_id} is not in {project}")
        call.caller.require_write(project)
        return get_object(call.db, object_id, project_hint=project)
    writable = [c for c in containers if call.caller.may_write(c)]
    if not writable:
        call.caller.require_write(containers[0])
    return get_object(call.db, object_id, project_hint=writable[0])


def created_by(call: Call) -> dict[str, Any]:
    """The `createdBy` of an object made by this call: the user, and the job (and its executable) if any."""
    made: dict[str, Any] = {"user": LOCAL_USER}
    if call.caller.is_job and call.caller.job_id:
        made["job"] = call.caller.job_id
        try:
            executable = get_job(call.db, call.caller.job_id).get("applet")
        except JobNotFound:
            executable = None
        if executable:
            made["executable"] = executable
    return made


def details_arg(body: Mapping[str, Any], key: str = "details") -> Any:
    """`details`: a JSON object or array (default `{}`)."""
    value = body.get(key, {})
    if not isinstance(value, (Mapping, list)):
        raise InvalidInput(f"Expected key {key!r} of input to be a JSON object or array")
    return value


def new_object(call: Call, klass: str, *, state: str, doc: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Create the object a `/{klass}/new` body describes (the caller must write the project)."""
    body = call.body
    project = container_arg(call, default=own_container(call))
    call.caller.require_write(project)
    object_id = new_id(klass)
    fields = {
        "types": check.string_list(body, "types"), "tags": list(dict.fromkeys(check.string_list(body, "tags"))),
        "properties": check.properties(body), "hidden": check.optional_bool(body, "hidden"),
        "details": details_arg(body), "createdBy": created_by(call), "sponsored": False, **dict(doc or {}),
    }
    return create_object(call.db, klass, project, name=check.optional_str(body, "name") or object_id,
                         folder=folder_arg(body), parents=check.optional_bool(body, "parents"), state=state,
                         doc=fields, object_id=object_id)


def links_in(value: Any) -> list[str]:
    """The IDs of the data objects `value` links to (`$dnanexus_link`s at any depth), once each."""
    found: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        link = data_link_id(item)
        if link is not None:
            found.append(link)
        elif isinstance(item, Mapping):
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return list(dict.fromkeys(found))


def base_view(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The describe fields every data object has (the asked-only ones included), in DNAnexus's order."""
    return {
        "id": obj["id"], "project": obj["project"], "class": obj["class"],
        "sponsored": obj.get("sponsored", False), "name": obj["name"], "types": list(obj.get("types") or []),
        "state": obj["state"], "hidden": bool(obj.get("hidden", False)), "links": links_in(obj.get("details")),
        "folder": obj["folder"], "tags": list(obj.get("tags") or []), "created": obj["created"],
        "modified": obj["modified"], "createdBy": obj.get("createdBy") or {"user": LOCAL_USER},
        "properties": dict(obj.get("properties") or {}), "details": obj.get("details", {}),
    }


def chosen_fields(body: Mapping[str, Any], defaults: Collection[str], asked: Collection[str]) -> set[str]:
    """The fields a describe answers with: `fields`/`defaultFields`, and the old `properties: true` flags."""
    names = wanted_fields(body, (*defaults, *asked), defaults)
    if "fields" not in body:
        names |= {key for key in asked if body.get(key) is True}
    return names
