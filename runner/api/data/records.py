"""/record/new (initializeFrom too) and /record-xxxx/{describe, close, and the metadata routes (getDetails, ...)}."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from runner.api.core import checks as check
from runner.api.core.fields import select
from runner.api.core.routing import Access, Call, Routes, once_per_nonce
from runner.api.data.describers import register
from runner.api.data.metadata import add_metadata_routes
from runner.api.data.objects import (
    ASKED_FIELDS,
    BASE_FIELDS,
    base_view,
    chosen_fields,
    new_object,
    readable_object,
    writable_object,
)
from runner.errors import InvalidInput, InvalidState
from runner.spec.ids import is_id
from runner.store.objects import update_object

routes = Routes()
add_metadata_routes(routes, "record")


INITIALIZED_FIELDS = ("name", "types", "details", "tags", "properties", "hidden")


def _initialized(call: Call) -> Call:
    """The call with the fields of `initializeFrom`'s record that the request itself does not give."""
    source = call.body.get("initializeFrom")
    if source is None:
        return call
    if not isinstance(source, Mapping) or not is_id(source.get("id"), "record"):
        raise InvalidInput("Expected key 'initializeFrom' of input to be a JSON object {id: a record ID, project?}",
                           {"field": "initializeFrom"})
    project = source.get("project")
    if project is not None and not isinstance(project, str):
        raise InvalidInput("Expected key 'initializeFrom.project' of input to be a project ID",
                           {"field": "initializeFrom.project"})
    record = readable_object(call, source["id"], project, strict=project is not None)
    inherited = {key: record[key] for key in INITIALIZED_FIELDS if key in record}
    return replace(call, body={**inherited, **call.body})


@routes.static("record", "new", Access.ANY)
async def new_record(call: Call) -> dict[str, Any]:
    """/record/new {project, name?, folder?, parents?, details?, types?, tags?, properties?, hidden?, close?,
    initializeFrom?}: `initializeFrom` {id, project?} gives the fields the request leaves out."""
    async def create() -> str:
        made = _initialized(call)
        closed = check.optional_bool(made.body, "close")
        return str(new_object(made, "record", state="closed" if closed else "open")["id"])

    return await once_per_nonce(call, create)


@register("record")
def describe_record(call: Call, record: dict[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
    """A record's describe, honouring fields / defaultFields (`properties`, `details` when asked)."""
    return select(base_view(record), chosen_fields(body, BASE_FIELDS, ASKED_FIELDS))


@routes.on("record", "describe", Access.ANY)
async def describe(call: Call) -> dict[str, Any]:
    """/record-xxxx/describe {project?, fields?, defaultFields?, properties?, details?}."""
    record = readable_object(call, call.target, check.optional_str(call.body, "project"))
    return describe_record(call, record, call.body)


@routes.on("record", "close", Access.ANY)
async def close(call: Call) -> dict[str, Any]:
    """/record-xxxx/close: an open record becomes closed (its details and types fixed from then on)."""
    record = writable_object(call, call.target)
    if record["state"] != "open":
        raise InvalidState(f"{record['id']} is {record['state']}: only an open record can be closed")
    update_object(call.db, record["id"], state="closed")
    if call.services.engine is not None:
        call.services.engine.wake()
    return {"id": record["id"]}
