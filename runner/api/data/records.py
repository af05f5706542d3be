"""/record/new and /record-xxxx/{describe, close, and the metadata routes (getDetails, setDetails, ...)}."""

from __future__ import annotations

from collections.abc import Mapping
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
from runner.errors import InvalidState
from runner.store.objects import update_object

routes = Routes()
add_metadata_routes(routes, "record")


@routes.static("record", "new", Access.ANY)
async def new_record(call: Call) -> dict[str, Any]:
    """/record/new {project, name?, folder?, parents?, details?, types?, tags?, properties?, hidden?, close?}."""
    async def create() -> str:
        closed = check.optional_bool(call.body, "close")
        return str(new_object(call, "record", state="closed" if closed else "open")["id"])

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
