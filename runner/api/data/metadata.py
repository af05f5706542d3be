"""The metadata routes files and records share: tags, properties, name, visibility, details, types.

Name, tags, properties and visibility belong to the object as seen in one project (`project` in the
body; else the first container the caller may write); details and types belong to the object and
change only while it is open, and so does a record's visibility, as on the platform. setDetails takes
the details as its whole body, as dxpy sends them.
"""

from __future__ import annotations

from typing import Any

from runner.api.core import checks as check
from runner.api.core.routing import Access, Call, Routes
from runner.api.data.objects import readable_object, writable_object
from runner.api.server import WHOLE_BODY
from runner.errors import InvalidInput, InvalidState
from runner.store.objects import update_object


def _target(call: Call) -> dict[str, Any]:
    return writable_object(call, call.target, check.optional_str(call.body, "project"))


def require_open(obj: dict[str, Any], what: str) -> None:
    """InvalidState, in the platform's words, unless the object is open."""
    if obj["state"] != "open":
        raise InvalidState(f"{obj['id']} is not in the open state (it is {obj['state']}): its {what} can change "
                           "only while it is open")


def _open_target(call: Call, what: str) -> dict[str, Any]:
    obj = _target(call)
    require_open(obj, what)
    return obj


def _change(call: Call, obj: dict[str, Any], **changes: Any) -> dict[str, Any]:
    update_object(call.db, obj["id"], changes=changes, project=obj["project"])
    return {"id": obj["id"]}


async def add_tags(call: Call) -> dict[str, Any]:
    """/{class}-xxxx/addTags {project?, tags}."""
    obj = _target(call)
    return _change(call, obj, tags=list(dict.fromkeys([*obj.get("tags", []),
                                                        *check.string_list(call.body, "tags", required=True)])))


async def remove_tags(call: Call) -> dict[str, Any]:
    """/{class}-xxxx/removeTags {project?, tags}."""
    obj = _target(call)
    gone = set(check.string_list(call.body, "tags", required=True))
    return _change(call, obj, tags=[t for t in obj.get("tags", []) if t not in gone])


async def set_properties(call: Call) -> dict[str, Any]:
    """/{class}-xxxx/setProperties {project?, properties}: a null value removes the property."""
    obj = _target(call)
    if "properties" not in call.body:
        raise InvalidInput("the key 'properties' is missing")
    merged = {**obj.get("properties", {}), **check.properties(call.body, allow_null=True)}
    return _change(call, obj, properties={k: v for k, v in merged.items() if v is not None})


async def rename(call: Call) -> dict[str, Any]:
    """/{class}-xxxx/rename {project?, name}."""
    obj = _target(call)
    name = check.optional_str(call.body, "name")
    if not name:
        raise InvalidInput("the key 'name' is missing or empty")
    update_object(call.db, obj["id"], name=name, project=obj["project"])
    return {"id": obj["id"]}


async def set_visibility(call: Call) -> dict[str, Any]:
    """/{class}-xxxx/setVisibility {project?, hidden}."""
    obj = _target(call)
    if not isinstance(call.body.get("hidden"), bool):
        raise InvalidInput("Expected key 'hidden' of input to be a boolean")
    if obj["class"] == "record":
        require_open(obj, "visibility")
    return _change(call, obj, hidden=call.body["hidden"])


async def set_details(call: Call) -> dict[str, Any]:
    """/{class}-xxxx/setDetails: the whole body is the new details, a hash or an array (only while open)."""
    obj = writable_object(call, call.target)
    require_open(obj, "details")
    return _change(call, obj, details=call.request.get(WHOLE_BODY, dict(call.body)))


async def get_details(call: Call) -> Any:
    """/{class}-xxxx/getDetails: the details themselves."""
    return readable_object(call, call.target, check.optional_str(call.body, "project")).get("details", {})


async def add_types(call: Call) -> dict[str, Any]:
    """/{class}-xxxx/addTypes {types} (only while open)."""
    obj = _open_target(call, "types")
    return _change(call, obj, types=list(dict.fromkeys([*obj.get("types", []),
                                                         *check.string_list(call.body, "types", required=True)])))


async def remove_types(call: Call) -> dict[str, Any]:
    """/{class}-xxxx/removeTypes {types} (only while open)."""
    obj = _open_target(call, "types")
    gone = set(check.string_list(call.body, "types", required=True))
    return _change(call, obj, types=[t for t in obj.get("types", []) if t not in gone])


METADATA_ROUTES = {
    "addTags": add_tags, "removeTags": remove_tags, "setProperties": set_properties, "rename": rename,
    "setVisibility": set_visibility, "setDetails": set_details, "getDetails": get_details, "addTypes": add_types,
    "removeTypes": remove_types,
}


def add_metadata_routes(routes: Routes, klass: str) -> None:
    """Register every metadata route for `klass` on `routes`."""
    for method, handler in METADATA_ROUTES.items():
        routes.on(klass, method, Access.ANY)(handler)
