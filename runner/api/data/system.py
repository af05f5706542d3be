"""/system/resolveDataObjects, /system/findDataObjects and /system/describeDataObjects (and
/system/findGlobalWorkflows, which finds none: there are no global workflows here).

Data objects of any class are found here; each is described by its class's registered describer. An
object cloned into several containers is found once per container, and a job finds only what is in
its workspace and its project context.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping
from typing import Any

from runner.api.core import checks as check
from runner.api.core.routing import Access, Call, Routes
from runner.api.data.describers import describe_object
from runner.api.data.objects import folder_arg, links_in, readable_object
from runner.errors import InvalidInput, PermissionDenied, ResourceNotFound
from runner.spec.ids import is_id
from runner.store.objects import find_objects, object_containers

routes = Routes()

MAX_RESULTS = 1000
VISIBILITIES = ("visible", "hidden", "either")


def _mapping_list(body: Mapping[str, Any], key: str) -> list[Any]:
    value = body.get(key)
    if not isinstance(value, list) or len(value) > MAX_RESULTS:
        raise InvalidInput(f"Expected key {key!r} of input to be an array of at most {MAX_RESULTS} entries")
    return value


def _resolve_one(call: Call, spec: Any, project: Any, folder: str) -> list[dict[str, str]]:
    if not isinstance(spec, Mapping):
        raise InvalidInput("each entry of objects must be a JSON object: {project, folder?, name} or {id, project?}")
    project = spec.get("project", project)
    if "id" in spec:
        if not is_id(spec["id"]):
            raise InvalidInput(f"{spec['id']!r} is not an object ID")
        containers = object_containers(call.db, spec["id"])
        chosen = [project] if project in containers else [] if project else containers
        return [{"project": c, "id": spec["id"]} for c in chosen if call.caller.may_read(c)]
    name = spec.get("name")
    if not isinstance(name, str) or not isinstance(project, str):
        raise InvalidInput("an entry of objects without an id needs a name and a project")
    call.caller.require_read(project)
    found = find_objects(call.db, container=project, folder=folder_arg(spec, default=folder), name=name)
    return [{"project": o["project"], "id": o["id"]} for o in found]


@routes.static("system", "resolveDataObjects", Access.ANY)
async def resolve_data_objects(call: Call) -> dict[str, Any]:
    """/system/resolveDataObjects {objects: [{project, folder?, name} | {id, project?}], project?, folder?}."""
    folder = folder_arg(call.body)
    return {"results": [_resolve_one(call, spec, call.body.get("project"), folder)
                        for spec in _mapping_list(call.body, "objects")]}


def matches_set(values: set[str], condition: Any) -> bool:
    """A tag or type condition: a string, or `{"$and": [...]}` / `{"$or": [...]}` of conditions."""
    if isinstance(condition, str):
        return condition in values
    if isinstance(condition, Mapping) and len(condition) == 1:
        (operator, items), = condition.items()
        if operator in ("$and", "$or") and isinstance(items, list):
            combine = all if operator == "$and" else any
            return combine(matches_set(values, item) for item in items)
    raise InvalidInput(f"{condition!r} is not a condition: give a string or {{\"$and\"|\"$or\": [...]}}")


def matches_properties(properties: Mapping[str, Any], condition: Any) -> bool:
    """`{key: value | true}` (each must hold), or `{"$and"|"$or": [conditions]}`."""
    if not isinstance(condition, Mapping):
        raise InvalidInput("properties must be a JSON object")
    if set(condition) in ({"$and"}, {"$or"}) and isinstance(next(iter(condition.values())), list):
        combine = all if "$and" in condition else any
        return combine(matches_properties(properties, item) for item in next(iter(condition.values())))
    return all(key in properties if wanted is True else properties.get(key) == wanted
               for key, wanted in condition.items())


def name_test(value: Any) -> Callable[[str], bool]:
    """A test of names: the name itself, `{"glob": pattern}` or `{"regexp": pattern, "flags"?}`."""
    if isinstance(value, str):
        return lambda name: name == value
    if isinstance(value, Mapping) and isinstance(value.get("glob"), str):
        return lambda name: fnmatch.fnmatchcase(name, value["glob"])
    if isinstance(value, Mapping) and isinstance(value.get("regexp"), str):
        try:
            pattern = re.compile(value["regexp"], re.IGNORECASE if "i" in str(value.get("flags", "")) else 0)
        except re.error as exc:
            raise InvalidInput(f"name.regexp is not a regular expression: {exc}") from None
        return lambda name: pattern.search(name) is not None
    raise InvalidInput("name must be a string, {\"glob\": pattern} or {\"regexp\": pattern, \"flags\"?}")


def within(value: int, bounds: Any, key: str) -> bool:
    """Whether a timestamp is within `{after?, before?}` (no bounds: always)."""
    if bounds is None:
        return True
    after, before = (bounds.get(k, value) if isinstance(bounds, Mapping) else None for k in ("after", "before"))
    if not isinstance(after, int) or not isinstance(before, int):
        raise InvalidInput(f"{key} must be a JSON object {{after?, before?}} of timestamps in milliseconds")
    return after <= value <= before


def _object_test(body: Mapping[str, Any]) -> Callable[[dict[str, Any]], bool]:
    """Whether a found object passes every filter of the body that the store does not apply."""
    names = name_test(body["name"]) if "name" in body else None
    visibility = body.get("visibility", "visible")
    if visibility not in VISIBILITIES:
        raise InvalidInput(f"visibility must be one of {', '.join(VISIBILITIES)}")
    tag_condition = body.get("tags", body.get("tag"))
    type_condition = body.get("types", body.get("type"))

    def test(obj: dict[str, Any]) -> bool:
        hidden = bool(obj.get("hidden"))
        return ((names is None or names(obj["name"]))
                and (visibility == "either" or hidden == (visibility == "hidden"))
                and (tag_condition is None or matches_set(set(obj.get("tags") or []), tag_condition))
                and (type_condition is None or matches_set(set(obj.get("types") or []), type_condition))
                and ("properties" not in body or matches_properties(obj.get("properties") or {}, body["properties"]))
                and ("link" not in body or body["link"] in links_in(obj.get("details")))
                and within(obj["modified"], body.get("modified"), "modified")
                and within(obj["created"], body.get("created"), "created"))

    return test


def _candidates(call: Call, body: Mapping[str, Any]) -> list[dict[str, Any]]:
    scope = body.get("scope")
    state = body.get("state", "any")
    if state not in ("open", "closing", "closed", "any"):
        raise InvalidInput("state must be one of open, closing, closed or any")
    klass = check.optional_str(body, "class")
    ids = check.string_list(body, "id") if "id" in body else None
    common: dict[str, Any] = {"klass": klass, "state": None if state == "any" else state, "ids": ids}
    if scope is None:
        return [o for o in find_objects(call.db, **common) if call.caller.may_read(o["project"])]
    if not isinstance(scope, Mapping) or not isinstance(scope.get("project"), str):
        raise InvalidInput("scope must be a JSON object with a project, and optionally folder and recurse")
    call.caller.require_read(scope["project"])
    recurse = check.optional_bool(scope, "recurse", default=True)
    return find_objects(call.db, container=scope["project"], folder=folder_arg(scope), recurse=recurse, **common)


def _limit(body: Mapping[str, Any]) -> int:
    limit = body.get("limit", MAX_RESULTS)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_RESULTS:
        raise InvalidInput(f"limit must be an integer from 1 to {MAX_RESULTS}")
    return limit


def _start_at(found: list[dict[str, Any]], starting: Any) -> list[dict[str, Any]]:
    if starting is None:
        return found
    if not isinstance(starting, Mapping):
        raise InvalidInput("starting must be the `next` of an earlier answer")
    for position, obj in enumerate(found):
        if obj["project"] == starting.get("project") and obj["id"] == starting.get("id"):
            return found[position:]
    return []


@routes.static("system", "findDataObjects", Access.ANY)
async def find_data_objects(call: Call) -> dict[str, Any]:
    """/system/findDataObjects: objects by class, name, id, state, visibility, scope, tags, types, properties."""
    body = call.body
    test = _object_test(body)
    found = _start_at([o for o in _candidates(call, body) if test(o)], body.get("starting"))
    limit = _limit(body)
    option = body.get("describe", False)
    if not isinstance(option, (bool, Mapping)):
        raise InvalidInput("describe must be a boolean or a JSON object of describe options")
    results = []
    for obj in found[:limit]:
        entry: dict[str, Any] = {"project": obj["project"], "id": obj["id"]}
        if option is not False:
            entry["describe"] = describe_object(call, obj, option if isinstance(option, Mapping) else {})
        results.append(entry)
    after = found[limit] if len(found) > limit else None
    return {"results": results, "next": {"project": after["project"], "id": after["id"]} if after else None}


def _describe_entry(call: Call, item: Any, class_options: Mapping[str, Any]) -> dict[str, Any]:
    spec = {"id": item} if isinstance(item, str) else item
    if not isinstance(spec, Mapping) or not is_id(spec.get("id")):
        raise InvalidInput("each entry of objects must be an object ID or {id, project?, describe?}")
    try:
        obj = readable_object(call, spec["id"], spec.get("project"))
    except (ResourceNotFound, PermissionDenied):
        return {}
    options = spec.get("describe", class_options.get(obj["class"], class_options.get("*", {})))
    return {"describe": describe_object(call, obj, options if isinstance(options, Mapping) else {})}


@routes.static("system", "describeDataObjects", Access.ANY)
async def describe_data_objects(call: Call) -> dict[str, Any]:
    """/system/describeDataObjects {objects: [id | {id, project?, describe?}], classDescribeOptions?}."""
    class_options = check.optional_mapping(call.body, "classDescribeOptions") or {}
    return {"results": [_describe_entry(call, item, class_options) for item in _mapping_list(call.body, "objects")]}


@routes.static("system", "findGlobalWorkflows", Access.ANY)
async def find_global_workflows(call: Call) -> dict[str, Any]:
    """/system/findGlobalWorkflows: none, ever (the engine has no global workflows); `dx describe NAME` and
    `dx find globalworkflows` search them, and must hear "no matches" rather than a missing route."""
    return {"results": [], "next": None}
